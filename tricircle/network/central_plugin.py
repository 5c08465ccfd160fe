"""Core plugin of the central Neutron server.

The central Neutron owns IPAM, MAC addresses and segment ids for every
region. It is ML2 underneath (type drivers allocate segments globally),
with the regions (pods of the Tricircle DB) as its availability zones.
Regions fetch what they use from here (see the local plugin); each fetch
is recorded as a resource routing, so that updates and deletes reach
exactly the regions that hold a copy.
"""
from __future__ import annotations

import concurrent.futures
import contextlib

from neutron.common import ipv6_utils
from neutron.plugins.ml2 import plugin as ml2_plugin
from neutron_lib.api.definitions import portbindings
from neutron_lib import constants as n_const
from neutron_lib import exceptions as n_exc
from oslo_config import cfg
from oslo_log import log as logging
from oslo_utils import excutils

from tricircle.common import config
from tricircle.common import exceptions as common_exc
from tricircle.common import neutron_client
from tricircle.db import api as db_api
from tricircle.db import creation_lock
from tricircle.db import sqlite_busy
from tricircle.network import bottom
from tricircle.network import exceptions as t_exc
from tricircle.network import host_mech_driver as host_mech
from tricircle.network import request_source
from tricircle.xjob import api as xjob_api

LOG = logging.getLogger(__name__)


class TricirclePlugin(ml2_plugin.Ml2Plugin):
    """ML2 whose availability zones are the registered regions."""

    def __init__(self) -> None:
        config.register_central_plugin_opts(cfg.CONF)
        config.register_xjob_opts(cfg.CONF)
        config.apply_central_type_options(cfg.CONF)
        sqlite_busy.register()
        super().__init__()
        self._clients: dict[str, neutron_client.NeutronClient] = {}
        LOG.info('Tricircle central plugin started (Tricircle DB: %s)',
                 _safe_url(cfg.CONF.tricircle_db_connection))

    @property
    def _rpc_workers(self) -> int:
        # The central Neutron has no agents: ML2 then starts no RPC or OVO
        # push notifiers and no DHCP scheduling (regions do all of that),
        # which also spares every port create their work.
        return 0

    # -- regions ----------------------------------------------------------
    def region_client(self, region: str) -> neutron_client.NeutronClient:
        if region not in self._clients:
            self._clients[region] = neutron_client.NeutronClient.from_conf(
                '%s Neutron' % region,
                endpoint=cfg.CONF.client.region_endpoints.get(region),
                region_name=region,
                headers={request_source.SOURCE_HEADER:
                         cfg.CONF.client.central_region_name})
        return self._clients[region]

    def _record_use(self, context, resource_type: str, res_id: str,
                    project_id: str) -> None:
        """Remember that the asking region now holds a copy."""
        region = request_source.source_of(context)
        if not region:
            return
        pod = db_api.get_pod_by_region(region)
        if pod is None:
            raise t_exc.UnknownRegion(region=region)
        db_api.ensure_routing(top_id=res_id, bottom_id=res_id,
                              pod_id=pod['pod_id'], project_id=project_id,
                              resource_type=resource_type)

    def _submit_per_region(self, job_type: str, resource_type: str,
                           res_id: str, project_id: str) -> None:
        """One job per region holding a copy (durable; retried)."""
        key = resource_type + '_id'
        for routing in db_api.list_routings({'top_id': res_id,
                                             'resource_type': resource_type}):
            xjob_api.submit(job_type, {'pod_id': routing['pod_id'],
                                       key: res_id}, project_id)

    def _regions_holding(self, resource_type: str, res_id: str) -> list[str]:
        routings = db_api.list_routings({'top_id': res_id,
                                         'resource_type': resource_type})
        pods = {p['pod_id']: p['region_name'] for p in db_api.list_pods()}
        return sorted({pods[r['pod_id']] for r in routings
                       if r['pod_id'] in pods})

    def _in_every_region(self, resource_type: str, res_id: str, func,
                         what: str) -> None:
        """Run ``func(client)`` for each region holding the resource, in
        parallel; collect failures and raise the first one."""
        regions = self._regions_holding(resource_type, res_id)
        if not regions:
            return
        with concurrent.futures.ThreadPoolExecutor(len(regions)) as ex:
            futures = {ex.submit(func, self.region_client(r)): r
                       for r in regions}
        errors = []
        for fut, region in futures.items():
            try:
                fut.result()
            except neutron_client.RemoteNotFound:
                LOG.info('%s %s had no copy in %s any more', resource_type,
                         res_id, region)
            except Exception as exc:  # reported below, per region
                LOG.error('%s %s %s in %s failed: %s', what, resource_type,
                          res_id, region, exc)
                errors.append(exc)
        if errors:
            raise errors[0]

    def _check_not_deleting(self, context, resource_type: str,
                            res_id: str, not_found) -> None:
        # A region must not resurrect what central is deleting.
        if (request_source.source_of(context) and
                db_api.is_deleting(res_id, resource_type)):
            raise not_found

    # -- availability zones = pods ----------------------------------------
    def validate_availability_zones(self, context, resource_type,
                                    availability_zones):
        """Every hint must be a pod's region name or availability zone."""
        if not availability_zones:
            return
        known = set()
        for pod in db_api.list_pods():
            if pod['az_name']:  # the central pod hosts nothing
                known.update((pod['region_name'], pod['az_name']))
        for hint in availability_zones:
            if hint not in known:
                raise t_exc.AvailabilityZoneHintNotFound(hint=hint)

    def _hint_regions(self, hints: list[str]) -> list[str]:
        """Region names for hints that may be AZ or region names."""
        regions = []
        for pod in db_api.list_pods():
            if pod['az_name'] and (pod['region_name'] in hints or
                                   pod['az_name'] in hints):
                regions.append(pod['region_name'])
        return regions

    # -- networks ---------------------------------------------------------
    def get_network(self, context, id, fields=None, net_db=None):
        self._check_not_deleting(context, 'network', id,
                                 n_exc.NetworkNotFound(net_id=id))
        net = super().get_network(context, id, fields=fields, net_db=net_db)
        if request_source.source_of(context):
            self._record_use(context, 'network', id, net.get('project_id'))
            if net.get('availability_zone_hints'):
                # Regions compare hints with their own name.
                net['availability_zone_hints'] = self._hint_regions(
                    net['availability_zone_hints'])
        return net

    def update_network(self, context, id, network):
        original = super().get_network(context, id)
        updated = super().update_network(context, id, network)
        if bottom.updated_attrs(original, updated, bottom.NETWORK_UPDATABLE):
            self._submit_per_region('update_network', 'network', id,
                                    updated['project_id'])
        return updated

    def delete_network(self, context, id):
        self._ensure_network_deletable(context, id)
        subnet_ids = [s['id'] for s in super().get_subnets(
            context.elevated(), filters={'network_id': [id]}, fields=['id'])]
        with _deleting(id, 'network'):
            self._delete_reserved_ports(context, network_id=id)
            self._in_every_region('network', id,
                                  lambda c: c.delete('network', id),
                                  'delete')
            super().delete_network(context, id)
            db_api.delete_routings({'top_id': id, 'resource_type': 'network'})
            for subnet_id in subnet_ids:
                db_api.delete_routings({'top_id': subnet_id,
                                        'resource_type': 'subnet'})
        LOG.info('network %s deleted on central and in every region', id)

    def _ensure_network_deletable(self, context, net_id: str) -> None:
        """Refuse before any region is touched if users' ports remain."""
        super().get_network(context, net_id)
        ports = super().get_ports(context.elevated(),
                                  filters={'network_id': [net_id]})
        if any(_is_user_port(p) for p in ports):
            raise n_exc.NetworkInUse(net_id=net_id)

    def _delete_reserved_ports(self, context, **filters) -> None:
        for port in super().get_ports(
                context.elevated(),
                filters={**{k: [v] for k, v in filters.items()},
                         'device_id': list(bottom.RESERVED_DEVICES)}):
            self._delete_reserved_port(context, port)

    def _delete_reserved_port(self, context, port: dict) -> None:
        super().delete_port(context.elevated(), port['id'])
        if port['name']:
            db_api.delete_routings({'top_id': port['name'],
                                    'resource_type': 'port'})

    # -- subnets ----------------------------------------------------------
    def create_subnet(self, context, subnet):
        created = super().create_subnet(context, subnet)
        if created['enable_dhcp']:
            try:
                self._reserve_dhcp_port(context, created)
            except Exception:
                with excutils.save_and_reraise_exception():
                    super().delete_subnet(context, created['id'])
        return created

    def _reserve_dhcp_port(self, context, subnet: dict) -> dict:
        """One DHCP address per subnet, the same in every region."""
        return super().create_port(context.elevated(), {'port': {
            'name': bottom.DHCP_PORT_NAME % subnet['id'],
            'network_id': subnet['network_id'],
            'project_id': subnet['project_id'],
            'fixed_ips': [{'subnet_id': subnet['id']}],
            'device_id': bottom.RESERVED_DHCP_DEVICE,
            'device_owner': n_const.DEVICE_OWNER_DHCP,
            'admin_state_up': True,
            'mac_address': n_const.ATTR_NOT_SPECIFIED,
            'security_groups': []}})

    def get_subnet(self, context, id, fields=None):
        self._check_not_deleting(context, 'subnet', id,
                                 n_exc.SubnetNotFound(subnet_id=id))
        subnet = super().get_subnet(context, id, fields=fields)
        if request_source.source_of(context):
            self._record_use(context, 'subnet', id, subnet.get('project_id'))
        return subnet

    def get_subnets(self, context, filters=None, fields=None, sorts=None,
                    limit=None, marker=None, page_reverse=False):
        subnets = super().get_subnets(context, filters, fields, sorts, limit,
                                      marker, page_reverse)
        if not request_source.source_of(context):
            return subnets
        # A region lists a network's subnets to copy them all: each one it
        # gets is a copy to delete later, unless central is deleting it.
        listed = []
        for subnet in subnets:
            if 'id' in subnet and db_api.is_deleting(subnet['id'], 'subnet'):
                continue
            if 'id' in subnet:
                self._record_use(context, 'subnet', subnet['id'],
                                 subnet.get('project_id'))
            listed.append(subnet)
        return listed

    def update_subnet(self, context, id, subnet):
        original = super().get_subnet(context, id)
        updated = super().update_subnet(context, id, subnet)
        if updated['enable_dhcp'] and not original['enable_dhcp'] and \
                not self._reserved_ports(context, id,
                                         bottom.RESERVED_DHCP_DEVICE):
            self._reserve_dhcp_port(context, updated)
        if bottom.updated_attrs(original, updated, bottom.SUBNET_UPDATABLE):
            self._submit_per_region('update_subnet', 'subnet', id,
                                    updated['project_id'])
        return updated

    def delete_subnet(self, context, id):
        self._ensure_subnet_deletable(context, id)
        with _deleting(id, 'subnet'):
            self._in_every_region('subnet', id,
                                  lambda c: c.delete('subnet', id), 'delete')
            for port in self._reserved_ports(context, id,
                                             *bottom.RESERVED_DEVICES):
                self._delete_reserved_port(context, port)
            super().delete_subnet(context, id)
            db_api.delete_routings({'top_id': id, 'resource_type': 'subnet'})

    def _ensure_subnet_deletable(self, context, subnet_id: str) -> None:
        """Refuse before any region is touched if users' ports remain.

        As in Neutron, addresses of an IPv6 SLAAC or DHCPv6-stateless
        subnet go with it; only router interfaces keep it in use.
        """
        subnet = super().get_subnet(context, subnet_id)
        ports = super().get_ports(context.elevated(), filters={
            'fixed_ips': {'subnet_id': [subnet_id]}})
        if ipv6_utils.is_auto_address_subnet(subnet):
            in_use = [p for p in ports if p['device_owner'] in
                      n_const.ROUTER_INTERFACE_OWNERS]
        else:
            in_use = [p for p in ports if _is_user_port(p)]
        if in_use:
            raise n_exc.SubnetInUse(subnet_id=subnet_id)

    def _reserved_ports(self, context, subnet_id: str, *devices) -> list:
        return super().get_ports(context.elevated(), filters={
            'fixed_ips': {'subnet_id': [subnet_id]},
            'device_id': list(devices)})

    # -- ports ------------------------------------------------------------
    def create_port(self, context, port):
        attrs = port['port']
        if attrs.get('device_id') == bottom.RESERVED_GATEWAY_DEVICE:
            return self._get_or_create_gateway_port(context, attrs)
        self._check_not_deleting(
            context, 'network', attrs['network_id'],
            n_exc.NetworkNotFound(net_id=attrs['network_id']))
        proposed_id = request_source.proposed_port_id(context)
        if proposed_id:
            # The region creates its copy at the same time, with this id.
            port = {'port': dict(attrs, id=proposed_id)}
        with request_source.inner_calls(context):
            created = super().create_port(context, port)
        self._record_use(context, 'port', created['id'],
                         created['project_id'])
        return created

    def _get_or_create_gateway_port(self, context, attrs: dict) -> dict:
        """A region's own gateway address on a subnet, reserved once even
        when several requests of the region ask at the same time."""
        name = attrs.get('name') or ''
        admin = context.elevated()

        def find():
            ports = super(TricirclePlugin, self).get_ports(admin, filters={
                'name': [name],
                'device_id': [bottom.RESERVED_GATEWAY_DEVICE]})
            return ports[0]['id'] if ports else None

        def create():
            return super(TricirclePlugin, self).create_port(
                context, {'port': attrs})['id']

        top_pod = db_api.get_top_pod()
        if top_pod is None:
            raise common_exc.CentralPodNotRegistered()
        _created, port_id = creation_lock.get_or_create(
            name, top_pod['pod_id'], 'port', attrs.get('project_id'),
            create, find)
        return super().get_port(admin, port_id)

    def get_port(self, context, id, fields=None):
        port = super().get_port(context, id, fields=fields)
        if request_source.source_of(context):
            self._record_use(context, 'port', id, port.get('project_id'))
        return port

    def update_port(self, context, id, port):
        attrs = port['port']
        region = request_source.source_of(context)
        original = super().get_port(context, id)
        with request_source.inner_calls(context):
            updated = super().update_port(context, id, port)
        if region:
            LOG.info('port %s bound in %s on host %r', id, region,
                     attrs.get(portbindings.HOST_ID))
            self._binding_changed(original, updated)
            return updated
        if bottom.updated_attrs(original, updated, bottom.PORT_UPDATABLE):
            self._submit_per_region('update_port', 'port', id,
                                    updated['project_id'])
        return updated

    def delete_port(self, context, id, l3_port_check=True):
        # Central first: a region deleting its copy of a VM port deletes
        # the central port too, and must find it gone.
        caller = request_source.source_of(context)
        port = super().get_port(context, id)
        pods = [r['pod_id'] for r in db_api.list_routings(
            {'top_id': id, 'resource_type': 'port'})]
        caller_pod = db_api.get_pod_by_region(caller) if caller else None
        super().delete_port(context, id, l3_port_check=l3_port_check)
        db_api.delete_routings({'top_id': id, 'resource_type': 'port'})
        if bottom.remote_binding(port):
            # Its shadows in other regions go too.
            self._submit_shadow_setup(port['network_id'], port['project_id'])
        for pod_id in pods:
            if caller_pod is None or pod_id != caller_pod['pod_id']:
                # Durable: a region that is down now gets it later.
                xjob_api.submit('port_delete',
                                {'pod_id': pod_id, 'port_id': id},
                                port['project_id'])

    def _binding_changed(self, original: dict, updated: dict) -> None:
        """A region bound (or unbound, or moved) a port: record the host's
        tunnel endpoint and bring every region's shadows in line."""
        binding = bottom.remote_binding(updated)
        if binding:
            region, host, tunnel_ip = binding
            pod = db_api.get_pod_by_region(region)
            if pod is None:
                raise t_exc.UnknownRegion(region=region)
            db_api.ensure_shadow_agent(pod['pod_id'], host,
                                       host_mech.AGENT_TYPE, tunnel_ip)
        if binding or bottom.remote_binding(original):
            self._submit_shadow_setup(updated['network_id'],
                                      updated['project_id'])

    def _submit_shadow_setup(self, network_id: str, project_id: str) -> None:
        xjob_api.submit('shadow_port_setup', {'network_id': network_id},
                        project_id)

    # -- security groups --------------------------------------------------
    def get_security_group(self, context, id, fields=None, project_id=None):
        sg = super().get_security_group(context, id, fields=fields,
                                        project_id=project_id)
        if request_source.source_of(context):
            self._record_use(context, 'security_group', id,
                             sg.get('project_id'))
        return sg


@contextlib.contextmanager
def _deleting(res_id: str, res_type: str):
    """Mark a resource as being deleted for the duration of a block."""
    db_api.add_deleting(res_id, res_type)
    try:
        yield
    finally:
        db_api.remove_deleting(res_id, res_type)


def _is_user_port(port: dict) -> bool:
    """Not one of the ports Tricircle or Neutron itself reserves."""
    return (port['device_id'] not in bottom.RESERVED_DEVICES and
            not port['device_owner'].startswith('network:'))


def _safe_url(url: str | None) -> str:
    if not url:
        return '(not configured)'
    scheme, _, rest = url.partition('://')
    return '%s://%s' % (scheme, rest.rsplit('@', 1)[-1])
