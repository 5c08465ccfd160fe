"""A region's copies of central networks and their subnets.

A network is copied with all its subnets (and their DHCP ports); a subnet
added on central later is copied the first time the region looks it up.
Each subnet of the region gets the region's own gateway address, reserved
on central.
"""
from __future__ import annotations

from neutron_lib.api.definitions import external_net

from tricircle.network import exceptions as t_exc
from tricircle.network.local import copies as copies_mod
from tricircle import resources
from tricircle.resources import network as network_res
from tricircle.resources import port as port_res
from tricircle.resources import reserved
from tricircle.resources import subnet as subnet_res


class NetworkCopies:
    """``ml2``: ML2's own plugin API; ``create_port``: ML2's create of a
    port carrying central's addresses (see ports.ml2_create_port)."""

    def __init__(self, ml2, copies: copies_mod.Copies, central,
                 create_port) -> None:
        self._ml2 = ml2
        self._copies = copies
        self._central = central
        self._create_port = create_port
        copies.register(resources.NETWORK, copies_mod.Builder(
            admit=self.admit_network, build=self.copy))
        copies.register(resources.SUBNET, copies_mod.Builder(
            admit=self._admit_subnet, build=self._copy_subnet))

    @property
    def region_name(self) -> str:
        return self._copies.region_name

    def admit_network(self, context, central_net: dict) -> bool:
        if not network_res.allowed_in(central_net, self.region_name):
            raise t_exc.NetworkNotInRegion(
                network_id=central_net['id'], region=self.region_name,
                hints=', '.join(central_net['availability_zone_hints']))
        return True

    def _admit_subnet(self, context, central_subnet: dict) -> bool:
        # The network decides where its subnets may be.
        central_net = self._central().get(resources.NETWORK,
                                          central_subnet['network_id'])
        return central_net is not None and self.admit_network(context,
                                                              central_net)

    def _copy_subnet(self, context, central_subnet: dict) -> None:
        central_net = self._central().get(resources.NETWORK,
                                          central_subnet['network_id'])
        if central_net is not None:
            with self._copies.lock(central_net['id']):
                self.copy(context, central_net)

    def copy(self, context, central_net: dict) -> None:
        """Copy the network if it is not here, and each of its subnets
        that is not (called under the network's copy lock)."""
        missing = [subnet for subnet in
                   self._central().list(resources.SUBNET,
                                        network_id=central_net['id'])
                   if not self._copies.exists(context, resources.SUBNET,
                                              subnet['id'])]
        # This region's gateways first: until the network is here, other
        # requests of the region wait for this copy instead of taking
        # central addresses the gateways need.
        # An external network lives in this region alone: its subnets
        # keep central's gateway, the outside's router.
        external = central_net.get(external_net.EXTERNAL)
        gateways = {subnet['id']: (subnet['gateway_ip'] if external else
                                   self._reserve_gateway(subnet))
                    for subnet in missing if subnet.get('gateway_ip')}
        if not self._copies.exists(context, resources.NETWORK,
                                   central_net['id']):
            self._copies.create(context, resources.NETWORK,
                                network_res.regional_body(central_net),
                                self._ml2.create_network)
        for subnet in missing:
            self._copies.create(context, resources.SUBNET,
                                subnet_res.regional_body(
                                    subnet, gateways.get(subnet['id'])),
                                self._ml2.create_subnet)
        # A DHCP port may hold addresses of every subnet of the network
        # (IPv6 SLAAC adds its own): copy them once all subnets exist.
        for subnet in missing:
            if subnet.get('enable_dhcp'):
                self._copy_dhcp_port(context, subnet)

    def _reserve_gateway(self, central_subnet: dict) -> str:
        """This region's own gateway address, reserved on central."""
        port = self._central().create(resources.PORT,
                                      reserved.gateway_port_body(
                                          self.region_name,
                                          central_subnet['network_id'],
                                          central_subnet['project_id'],
                                          central_subnet['id']))
        return port['fixed_ips'][0]['ip_address']

    def _copy_dhcp_port(self, context, central_subnet: dict) -> None:
        ports = self._central().list(
            resources.PORT, name=reserved.dhcp_port_name(central_subnet['id']),
            device_id=reserved.RESERVED_DHCP_DEVICE)
        if ports:
            self._copies.create(context, resources.PORT,
                                port_res.dhcp_port_body(ports[0]),
                                self._create_port)
