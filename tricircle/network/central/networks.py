"""Networks and subnets on central: regions copy them; updates and
deletes reach every copy."""
from __future__ import annotations

from neutron.common import ipv6_utils
from neutron_lib.api.definitions import availability_zone as az_def
from neutron_lib.api.definitions import external_net
from neutron_lib import constants as n_const
from neutron_lib import exceptions as n_exc
from oslo_config import cfg
from oslo_log import log as logging
from oslo_utils import excutils

from tricircle.db import pod_health
from tricircle.network.central import availability_zones
from tricircle.network.central import reserved_ports
from tricircle.network.central import uses
from tricircle.network import exceptions as t_exc
from tricircle.network import request_source
from tricircle import resources
from tricircle.resources import neutron_client
from tricircle.resources import regions
from tricircle.resources import reserved

LOG = logging.getLogger(__name__)
NETWORK_SPEC = resources.get(resources.NETWORK)
SUBNET_SPEC = resources.get(resources.SUBNET)


def _refuse_if_not_one_region(net_id: str | None, hints) -> None:
    """An external network lives in one region: its gateway routers and
    floating IPs are there (see tricircle.resources.router)."""
    hints = hints if isinstance(hints, list) else []
    if len(hints) != 1 or len(availability_zones.regions_of(hints)) != 1:
        raise t_exc.ExternalNetworkNotInOneRegion(
            network_id=net_id or '(new)', hints=', '.join(hints) or 'none')


class CentralNetworks:
    """``ml2``: ML2's own plugin API; ``clients``: regional Neutrons."""

    def __init__(self, ml2, clients: regions.RegionClients) -> None:
        self._ml2 = ml2
        self._clients = clients

    # -- networks ---------------------------------------------------------
    def create_network(self, context, network: dict) -> dict:
        attrs = network['network']
        if attrs.get(external_net.EXTERNAL) is True:
            _refuse_if_not_one_region(
                None, attrs.get(az_def.AZ_HINTS) or [])
        return self._ml2.create_network(context, network)

    def get_network(self, context, net_id: str, fields=None,
                    net_db=None) -> dict:
        uses.refuse_if_deleting(context, resources.NETWORK, net_id)
        uses.refuse_if_hidden(context, resources.NETWORK, net_id,
                              lambda ctx: self._ml2.get_network(ctx, net_id))
        net = self._ml2.get_network(context, net_id, fields=fields,
                                    net_db=net_db)
        if request_source.requesting_peer(context):
            uses.record(context, resources.NETWORK, net_id,
                        net.get('project_id'), net.get('revision_number'))
            if net.get('availability_zone_hints'):
                # Regions compare hints with their own name.
                net['availability_zone_hints'] = (
                    availability_zones.regions_of(
                        net['availability_zone_hints']))
        return net

    def update_network(self, context, net_id: str, network: dict) -> dict:
        original = self._ml2.get_network(context, net_id)
        if network['network'].get(external_net.EXTERNAL) is True and \
                not original.get(external_net.EXTERNAL):
            _refuse_if_not_one_region(
                net_id, original.get(az_def.AZ_HINTS) or [])
        updated = self._ml2.update_network(context, net_id, network)
        if NETWORK_SPEC.changed(original, updated):
            uses.sync_copies(resources.NETWORK, net_id,
                             updated['project_id'],
                             updated.get('revision_number'))
        return updated

    def delete_network(self, context, net_id: str) -> None:
        network = self._refuse_if_in_use(context, net_id)
        subnet_ids = [s['id'] for s in self._ml2.get_subnets(
            context.elevated(), filters={'network_id': [net_id]},
            fields=['id'])]
        with uses.deleting_on_central(resources.NETWORK, net_id):
            reserved_ports.delete_on_network(self._ml2, context, net_id)
            later = self._delete_copies(resources.NETWORK, net_id)
            self._ml2.delete_network(context, net_id)
            # A subnet's copy goes with its network's.
            for subnet_id in subnet_ids:
                uses.forget(resources.SUBNET, subnet_id)
            uses.delete_later(resources.NETWORK, net_id, later,
                              network['project_id'])
        LOG.info('network %s deleted on central%s', net_id, _later_text(later))

    def _refuse_if_in_use(self, context, net_id: str) -> dict:
        """Refuse before any region is touched if users' ports remain;
        the network."""
        network = self._ml2.get_network(context, net_id)
        ports = self._ml2.get_ports(context.elevated(),
                                    filters={'network_id': [net_id]})
        if any(reserved.is_user_port(p) for p in ports):
            raise n_exc.NetworkInUse(net_id=net_id)
        return network

    def _delete_copies(self, resource_type: str, res_id: str
                       ) -> dict[str, str]:
        """Delete the regions' copies, waiting [tricircle] copy_delete_wait
        seconds at most. A region that refuses fails the delete (nothing
        is deleted on central); those still busy, unreachable or down are
        left to XJob: region name -> pod id of those."""
        holding = regions.holding(resource_type, res_id)
        for pod_id in holding.values():
            uses.mark_deleting(resource_type, res_id, pod_id)
        down = pod_health.down_pods()
        outcome = regions.in_parallel(
            [region for region, pod_id in holding.items()
             if pod_id not in down],
            lambda region: self._clients(region).delete(resource_type,
                                                        res_id),
            'delete %s %s' % (resource_type, res_id),
            within=cfg.CONF.tricircle.copy_delete_wait)
        refused = {region: exc for region, exc in outcome.errors.items()
                   if not isinstance(exc, neutron_client.RemoteUnavailable)}
        regions.Outcome({}, refused).raise_first()
        for region in outcome.results:
            regions.forget(holding[region], resource_type, res_id)
        return {region: pod_id for region, pod_id in holding.items()
                if region not in outcome.results}

    # -- subnets ----------------------------------------------------------
    def create_subnet(self, context, subnet: dict) -> dict:
        created = self._ml2.create_subnet(context, subnet)
        if created['enable_dhcp']:
            try:
                reserved_ports.reserve_dhcp_port(self._ml2, context, created)
            except Exception:
                with excutils.save_and_reraise_exception():
                    self._ml2.delete_subnet(context, created['id'])
        return created

    def get_subnet(self, context, subnet_id: str, fields=None) -> dict:
        uses.refuse_if_deleting(context, resources.SUBNET, subnet_id)
        uses.refuse_if_hidden(context, resources.SUBNET, subnet_id,
                              lambda ctx: self._ml2.get_subnet(ctx, subnet_id))
        subnet = self._ml2.get_subnet(context, subnet_id, fields=fields)
        if request_source.requesting_peer(context):
            uses.record(context, resources.SUBNET, subnet_id,
                        subnet.get('project_id'),
                        subnet.get('revision_number'))
        return subnet

    def get_subnets(self, context, *args, **kwargs) -> list[dict]:
        subnets = self._ml2.get_subnets(context, *args, **kwargs)
        if not request_source.requesting_peer(context):
            return subnets
        # A region lists a network's subnets to copy them all: each one it
        # gets is a copy to delete later, unless central is deleting it.
        listed = []
        for subnet in subnets:
            if 'id' in subnet and uses.is_deleting(resources.SUBNET,
                                                   subnet['id']):
                continue
            if 'id' in subnet:
                uses.record(context, resources.SUBNET, subnet['id'],
                            subnet.get('project_id'),
                            subnet.get('revision_number'))
            listed.append(subnet)
        return listed

    def update_subnet(self, context, subnet_id: str, subnet: dict) -> dict:
        original = self._ml2.get_subnet(context, subnet_id)
        updated = self._ml2.update_subnet(context, subnet_id, subnet)
        if updated['enable_dhcp'] and not original['enable_dhcp'] and \
                not reserved_ports.on_subnet(self._ml2, context, subnet_id,
                                             reserved.RESERVED_DHCP_DEVICE):
            reserved_ports.reserve_dhcp_port(self._ml2, context, updated)
        if SUBNET_SPEC.changed(original, updated):
            uses.sync_copies(resources.SUBNET, subnet_id,
                             updated['project_id'],
                             updated.get('revision_number'))
        return updated

    def delete_subnet(self, context, subnet_id: str) -> None:
        subnet = self._refuse_if_subnet_in_use(context, subnet_id)
        with uses.deleting_on_central(resources.SUBNET, subnet_id):
            later = self._delete_copies(resources.SUBNET, subnet_id)
            for port in reserved_ports.on_subnet(self._ml2, context,
                                                 subnet_id):
                reserved_ports.delete(self._ml2, context, port)
            self._ml2.delete_subnet(context, subnet_id)
            uses.delete_later(resources.SUBNET, subnet_id, later,
                              subnet['project_id'])
        if later:
            LOG.info('subnet %s deleted on central%s', subnet_id,
                     _later_text(later))

    def _refuse_if_subnet_in_use(self, context, subnet_id: str) -> None:
        """Refuse before any region is touched if users' ports remain.

        As in Neutron, addresses of an IPv6 SLAAC or DHCPv6-stateless
        subnet go with it; only router interfaces keep it in use.
        """
        subnet = self._ml2.get_subnet(context, subnet_id)
        ports = self._ml2.get_ports(context.elevated(), filters={
            'fixed_ips': {'subnet_id': [subnet_id]}})
        if ipv6_utils.is_auto_address_subnet(subnet):
            in_use = [p for p in ports if p['device_owner'] in
                      n_const.ROUTER_INTERFACE_OWNERS]
        else:
            in_use = [p for p in ports if reserved.is_user_port(p)]
        if in_use:
            raise n_exc.SubnetInUse(subnet_id=subnet_id)
        return subnet


def _later_text(later: dict[str, str]) -> str:
    if not later:
        return ' and in every region'
    return '; XJob deletes the copies in %s' % ', '.join(sorted(later))
