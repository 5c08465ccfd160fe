"""How a regional Neutron creates a port: its id, MAC and addresses are
central's, either proposed by the region and granted by central while both
create the port (see address_proposal), or asked of central first.
"""
from __future__ import annotations

import concurrent.futures

from neutron.ipam import exceptions as ipam_exc
from neutron_lib.api.definitions import portbindings
from neutron_lib import constants as n_const
from neutron_lib import exceptions as n_exc
from oslo_config import cfg
from oslo_utils import excutils
import tenacity

from tricircle.network import exceptions as t_exc
from tricircle.network.local import address_proposal
from tricircle.network.local import copies as copies_mod
from tricircle.network.local import ports as ports_mod
from tricircle.network import request_source
from tricircle import resources
from tricircle.resources import binding
from tricircle.resources import port as port_res
from tricircle.resources import regions
from tricircle.resources import reserved


def _proposal_gone_within() -> float:
    """Seconds a central-first create waits for a proposal here to give
    back the address central granted to it: the proposal's request waits
    for central's refusal (a call bounded by the client's timeout), then
    deletes its port. A loaded machine took longer than a fixed 5 s.
    (The plugin's central client registered the option.)"""
    return cfg.CONF.client.neutron_timeout


class PortCreator:
    """The local plugin's port create, once the network is here.

    ``ml2``: ML2's own plugin API; ``central()``: the central client.
    """

    # Central creates of proposed ports run here, beside the local create.
    _CENTRAL_CALLS = 16

    def __init__(self, ml2, copies: copies_mod.Copies,
                 port_copies: ports_mod.PortCopies, central) -> None:
        self._ml2 = ml2
        self._copies = copies
        self._port_copies = port_copies
        self._central = central
        self._central_pool = concurrent.futures.ThreadPoolExecutor(
            max_workers=self._CENTRAL_CALLS,
            thread_name_prefix='tricircle-central')
        self._proposer = address_proposal.Proposer(
            cfg.CONF.tricircle.proposal_min_free_addresses,
            central_gateway=self._central_gateway)

    @property
    def central(self):
        return self._central()

    @property
    def region_name(self) -> str:
        return self._copies.region_name

    def create_port(self, context, attrs: dict) -> dict:
        """A new port of this region, the network being here already."""
        created = self._create_port_as_proposed(context, attrs)
        if created is None:
            created = self._create_port_central_first(context, attrs)
        return created

    def _create_port_central_first(self, context, attrs: dict) -> dict:
        central_port, created_on_central = self._central_port_for(context,
                                                                  attrs)
        try:
            # The network is here: its subnets and groups may not be.
            for dep_type, dep_ids in (
                    (resources.SUBNET, [ip['subnet_id'] for ip in
                                        central_port['fixed_ips']]),
                    (resources.SECURITY_GROUP,
                     central_port.get('security_groups') or [])):
                self._copies.ensure_all(context, dep_type, dep_ids)
            local = dict(attrs)
            local.update(port_res.regional_body(central_port))
            # What uses the port is said here (a VM, a router), whatever
            # central reserved it as.
            local.update({k: attrs[k] for k in ('device_owner', 'device_id')
                          if attrs.get(k)})
            for attempt in tenacity.Retrying(
                    retry=tenacity.retry_if_exception_type(
                        ipam_exc.IpAddressAlreadyAllocated),
                    stop=tenacity.stop_after_delay(_proposal_gone_within()),
                    wait=tenacity.wait_exponential(multiplier=0.05, max=0.5),
                    reraise=True):
                with attempt, self._copies.ml2_at_work():
                    # Central's address may still be held here by a
                    # concurrent proposal of it, which central refuses:
                    # that request deletes its port in a moment.
                    return self._port_copies.create_port(context,
                                                         {'port': local})
        except Exception:
            with excutils.save_and_reraise_exception():
                if created_on_central:
                    self.central.delete(resources.PORT, central_port['id'])

    def _create_port_as_proposed(self, context, attrs: dict) -> dict | None:
        """Create the port here and on central at the same time (see
        address_proposal); None if not proposed or refused."""
        proposed = self._proposal_for(context, attrs)
        if proposed is None:
            return None
        proposal, body = proposed
        grant = address_proposal.Grant(proposal, self._central_pool.submit(
            self.central.create, resources.PORT, body,
            headers={regions.RESOURCE_ID_HEADER: proposal.port_id}))
        local = dict(attrs, id=proposal.port_id,
                     mac_address=proposal.mac_address,
                     fixed_ips=proposal.fixed_ips)
        try:
            with self._copies.ml2_at_work():
                created = self._port_copies.create_port(context,
                                                        {'port': local})
        except (ipam_exc.IpAddressAlreadyAllocated, n_exc.MacAddressInUse):
            # A concurrent request here took the proposal.
            self._proposer.refused(proposal)
            self._withdraw(grant)
            return None
        except Exception:
            with excutils.save_and_reraise_exception():
                self._withdraw(grant)
        try:
            grant.wait(created)
        except Exception as exc:
            # Like a mechanism driver failing after the commit: the port
            # goes again.
            with self._copies.ml2_at_work():
                self._ml2.delete_port(context, created['id'],
                                      l3_port_check=False)
            self._withdraw(grant)
            if not isinstance(exc, address_proposal.Refused):
                raise
            if exc.address_taken:
                self._proposer.refused(proposal)
            return None  # central is asked first
        return created

    def _proposal_for(self, context, attrs: dict
                      ) -> tuple[address_proposal.Proposal, dict] | None:
        """A proposal for a new port and central's create body, or None
        when central is to be asked first."""
        def given(key):
            return attrs.get(key) not in (None, '',
                                          n_const.ATTR_NOT_SPECIFIED)

        owner = attrs.get('device_owner') or ''
        # A port bound at create is not proposed: its agent could wire it
        # and report it before central has the port.
        if (not cfg.CONF.tricircle.propose_port_addresses or
                given('fixed_ips') or given(portbindings.HOST_ID) or
                not (owner == '' or owner.startswith('compute:'))):
            return None
        if given('security_groups'):
            self._copies.ensure_all(context, resources.SECURITY_GROUP,
                                    attrs['security_groups'])
        elif not self._ml2._get_default_sg_id(context, attrs['project_id']):
            # The project's default group (central's, same id here) is
            # copied by the first port create that asks central first.
            return None
        mac = (attrs['mac_address'] if given('mac_address')
               else self._ml2._generate_macs()[0])
        proposal = self._proposer.propose(context.elevated(),
                                          attrs['network_id'], mac)
        if proposal is None:
            return None
        body = self._central_port_body(attrs)
        body.update(mac_address=proposal.mac_address,
                    fixed_ips=proposal.fixed_ips)
        return proposal, body

    def _central_gateway(self, subnet_id: str) -> str | None:
        subnet = self.central.get(resources.SUBNET, subnet_id)
        if subnet is None:
            raise KeyError(subnet_id)
        return subnet.get('gateway_ip')

    def _withdraw(self, grant: address_proposal.Grant) -> None:
        """Delete central's port of a proposal that is not used here."""
        port = grant.created_port()
        if port is not None:
            self.central.delete(resources.PORT, port['id'])

    def _central_port_for(self, context, attrs: dict) -> tuple[dict, bool]:
        """The central port a new local port copies, and whether it was
        created for it (rather than reserved on central beforehand)."""
        fixed_ips = attrs.get('fixed_ips')
        if fixed_ips is n_const.ATTR_NOT_SPECIFIED:
            fixed_ips = None
        if fixed_ips and all(ip.get('ip_address') for ip in fixed_ips):
            made_before = self._port_made_before(context, attrs, fixed_ips)
            if made_before is not None:
                return made_before, False
        body = self._central_port_body(attrs)
        if fixed_ips:
            # Central IPAM grants the addresses or refuses them (409).
            body['fixed_ips'] = fixed_ips
        return self.central.create(resources.PORT, body), True

    @staticmethod
    def _central_port_body(attrs: dict) -> dict:
        return {k: attrs[k] for k in (
            'network_id', 'project_id', 'name', 'description',
            'admin_state_up', 'device_owner', 'device_id', 'mac_address',
            'security_groups', 'allowed_address_pairs',
            'port_security_enabled') if attrs.get(k) not in (
                None, n_const.ATTR_NOT_SPECIFIED)}

    def _is_own_gateway(self, central_port: dict, attrs: dict) -> bool:
        if attrs.get('device_owner') not in n_const.ROUTER_INTERFACE_OWNERS:
            return False
        return any(central_port['name'] == reserved.gateway_port_name(
            self.region_name, ip['subnet_id'])
            for ip in central_port['fixed_ips'])

    @staticmethod
    def _is_copied_router_port(context, central_port: dict,
                               attrs: dict) -> bool:
        """XJob's copy of a router's external gateway or of a floating
        IP takes central's port of it (its id, MAC and address)."""
        owner = attrs.get('device_owner')
        if not request_source.requesting_peer(context) or \
                owner != central_port['device_owner']:
            return False
        if owner == n_const.DEVICE_OWNER_ROUTER_GW:
            return central_port['device_id'] == attrs.get('device_id')
        # Neutron names the floating IP only once its port exists.
        return owner == n_const.DEVICE_OWNER_FLOATINGIP

    def _port_made_before(self, context, attrs: dict,
                          fixed_ips: list) -> dict | None:
        """A central port made beforehand with exactly these addresses
        (``nova boot --nic port-id`` style), claimed for this region; None
        if there is none."""
        ip = fixed_ips[0]['ip_address']
        ports = self.central.list(resources.PORT,
                                  network_id=attrs['network_id'],
                                  fixed_ips='ip_address=%s' % ip)
        wanted = {i['ip_address'] for i in fixed_ips}
        for candidate in ports:
            if not wanted <= {i['ip_address']
                              for i in candidate['fixed_ips']}:
                continue
            in_use = n_exc.IpAddressInUse(net_id=attrs['network_id'],
                                          ip_address=ip)
            if self._is_own_gateway(candidate, attrs) or \
                    self._is_copied_router_port(context, candidate, attrs):
                # A router's interface on this region's gateway address:
                # the port central reserved for it.
                return candidate
            if not reserved.is_user_port(candidate):
                # Another region's gateway, a DHCP address, a router's port.
                raise in_use
            bound = binding.remote_binding(candidate)
            if bound and bound[0] != self.region_name:
                raise t_exc.AddressInUseInRegion(
                    ip_address=', '.join(sorted(wanted)),
                    network_id=attrs['network_id'], region=bound[0])
            # Claiming it records this region's copy; central refuses a
            # port of another project (404) or held by another region.
            claimed = self.central.get(
                resources.PORT, candidate['id'],
                headers={**copies_mod.requester_headers(context),
                         regions.CLAIM_HEADER: 'port'})
            if claimed is None:
                raise in_use
            return claimed
        return None
