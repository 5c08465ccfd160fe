"""Core plugin of a regional ("local") Neutron server: a shim over ML2.

Central owns ids, addresses and segments. A region creates a network,
subnet, port or security group with the central id the first time it is
used here (a GET by id, a list by id, a port create on it); port addresses
and MACs always come from central; bindings are reported back to central.
"""
from __future__ import annotations

import contextlib
import threading

from neutron.common import ipv6_utils
from neutron.extensions import securitygroup as sg_exc
from neutron.objects import network as network_obj
from neutron.objects import ports as port_obj
from neutron.objects import securitygroup as sg_obj
from neutron.objects import subnet as subnet_obj
from neutron.plugins.ml2 import plugin as ml2_plugin
from neutron_lib.api import attributes
from neutron_lib.api.definitions import portbindings
from neutron_lib import constants as n_const
from neutron_lib import exceptions as n_exc
from oslo_concurrency import lockutils
from oslo_config import cfg
from oslo_context import context as oslo_context
from oslo_db import exception as db_exc
from oslo_log import log as logging

from tricircle.common import config
from tricircle.common import neutron_client
from tricircle.db import sqlite_busy
from tricircle.network import bottom
from tricircle.network import exceptions as t_exc
from tricircle.network import local_ports
from tricircle.network import request_source
from tricircle.network import shadow

LOG = logging.getLogger(__name__)


def _ids(filters) -> list[str]:
    ids = (filters or {}).get('id') or []
    return [ids] if isinstance(ids, str) else list(ids)


def _visible(context, central: dict | None,
             network: dict | None = None) -> bool:
    """Whether the requester may see this central resource.

    Central is read with the service user's token, which sees every
    project's resources: without this check a project could make a region
    copy (and then probe) another project's network by its id. Shared
    networks are visible to all.
    """
    if central is None:
        return False
    context = _requester(context)
    if context.is_admin or not context.project_id:
        return True  # an admin, or a noauth deployment
    if central.get('project_id') == context.project_id:
        return True
    return bool(network and network.get('shared'))


def _requester(context):
    """The context of the API request being served.

    Neutron's policy engine looks a port's network up with an anonymous
    admin context (``get_admin_context()``) to check who owns it; the
    request's own context is then the current one of this thread.
    """
    if context.is_admin and context.project_id is None:
        current = oslo_context.get_current()
        if current is not None and current is not context:
            return current
    return context


def _is_vm_port(port: dict) -> bool:
    owner = port.get('device_owner') or ''
    return owner.startswith('compute:') and not shadow.is_shadow(port)


class TricirclePlugin(local_ports.PortCreateMixin,
                      ml2_plugin.Ml2Plugin):
    """ML2 plus same-id copies of central resources."""

    def __init__(self) -> None:
        config.register_local_plugin_opts(cfg.CONF)
        sqlite_busy.register()
        super().__init__()
        self.region_name = (cfg.CONF.tricircle.local_region_name or
                            _nova_region_name())
        if not self.region_name:
            raise t_exc.RegionNotConfigured()
        self._central = None
        self._setup_port_create()
        # Ids this thread is deleting: lookups must not bring them back.
        self._local = threading.local()
        LOG.info('Tricircle local plugin serving region %s, central '
                 'Neutron at %s', self.region_name,
                 cfg.CONF.client.central_neutron_url or
                 '(Keystone catalog)')

    @property
    def central(self) -> neutron_client.NeutronClient:
        if self._central is None:
            self._central = neutron_client.NeutronClient.from_conf(
                'central Neutron',
                endpoint=cfg.CONF.client.central_neutron_url,
                region_name=cfg.CONF.client.central_region_name,
                headers={request_source.SOURCE_HEADER: self.region_name})
        return self._central

    # -- networks ---------------------------------------------------------
    def get_network(self, context, id, fields=None, net_db=None):
        if net_db is None:
            self._ensure(context, 'network', id)
        return super().get_network(context, id, fields=fields, net_db=net_db)

    def get_networks(self, context, filters=None, fields=None, sorts=None,
                     limit=None, marker=None, page_reverse=False):
        for net_id in _ids(filters):
            self._ensure(context, 'network', net_id, missing_ok=True)
        return super().get_networks(context, filters, fields, sorts, limit,
                                    marker, page_reverse)

    def delete_network(self, context, id):
        with self._deleting(id), self._internal():
            return super().delete_network(context, id)

    def _copy_network(self, context, net_id: str) -> bool:
        """Copy the network and all its subnets (one copier at a time)."""
        central_net = self.central.get('network', net_id)
        if not _visible(context, central_net, central_net):
            return False
        hints = central_net.get('availability_zone_hints') or []
        if hints and self.region_name not in hints:
            raise t_exc.NetworkNotInRegion(network_id=net_id,
                                           region=self.region_name,
                                           hints=', '.join(hints))
        with self._copy_lock(net_id):
            copied = [subnet for subnet in
                      self.central.list('subnet', network_id=net_id)
                      if not self._exists(context, 'subnet', subnet['id'])]
            # This region's gateways first: until the network is here,
            # other requests of the region wait for this copy instead of
            # taking central addresses the gateways need.
            gateways = {subnet['id']: self._reserve_gateway(subnet)
                        for subnet in copied if subnet.get('gateway_ip')}
            if not self._exists(context, 'network', net_id):
                self._create_copy(context, 'network',
                                  bottom.network_body(central_net))
            for subnet in copied:
                self._create_copy(context, 'subnet', bottom.subnet_body(
                    subnet, gateways.get(subnet['id'])))
            # A DHCP port may hold addresses of every subnet of the network
            # (IPv6 SLAAC adds its own): copy them once all subnets exist.
            for subnet in copied:
                if subnet.get('enable_dhcp'):
                    self._copy_dhcp_port(context, subnet)
        return True

    # -- subnets ----------------------------------------------------------
    def get_subnet(self, context, id, fields=None):
        self._ensure(context, 'subnet', id)
        return super().get_subnet(context, id, fields=fields)

    def get_subnets(self, context, filters=None, fields=None, sorts=None,
                    limit=None, marker=None, page_reverse=False):
        for subnet_id in _ids(filters):
            self._ensure(context, 'subnet', subnet_id, missing_ok=True)
        return super().get_subnets(context, filters, fields, sorts, limit,
                                   marker, page_reverse)

    def delete_subnet(self, context, id):
        with self._deleting(id), self._internal():
            return super().delete_subnet(context, id)

    def _copy_subnet(self, context, subnet_id: str) -> bool:
        central_subnet = self.central.get('subnet', subnet_id)
        if central_subnet is None:
            return False
        # Copying the network copies all its subnets, this one included;
        # the network decides who may see them.
        return self._copy_network(context, central_subnet['network_id'])

    def _reserve_gateway(self, central_subnet: dict) -> str:
        """This region's own gateway address, reserved on central."""
        port = self.central.create('port', {
            'name': bottom.GATEWAY_PORT_NAME % (self.region_name,
                                                central_subnet['id']),
            'network_id': central_subnet['network_id'],
            'project_id': central_subnet['project_id'],
            'fixed_ips': [{'subnet_id': central_subnet['id']}],
            'device_id': bottom.RESERVED_GATEWAY_DEVICE,
            'device_owner': '',
            'security_groups': []})
        return port['fixed_ips'][0]['ip_address']

    def _copy_dhcp_port(self, context, central_subnet: dict) -> None:
        ports = self.central.list(
            'port', name=bottom.DHCP_PORT_NAME % central_subnet['id'],
            device_id=bottom.RESERVED_DHCP_DEVICE)
        if ports:
            self._create_copy(context, 'port',
                              bottom.dhcp_port_body(ports[0]))

    # -- security groups --------------------------------------------------
    def get_security_group(self, context, id, fields=None, project_id=None):
        self._ensure(context, 'security_group', id)
        return super().get_security_group(context, id, fields=fields,
                                          project_id=project_id)

    def get_security_groups(self, context, filters=None, fields=None,
                            sorts=None, limit=None, marker=None,
                            page_reverse=False, default_sg=False):
        for sg_id in _ids(filters):
            self._ensure(context, 'security_group', sg_id, missing_ok=True)
        return super().get_security_groups(
            context, filters, fields, sorts, limit, marker, page_reverse,
            default_sg=default_sg)

    def delete_security_group(self, context, id):
        with self._deleting(id), self._internal():
            return super().delete_security_group(context, id)

    def _ensure_default_security_group(self, context, project_id):
        """A project's default group here is a copy of central's."""
        existing = self._get_default_sg_id(context, project_id)
        if existing or not project_id or request_source.source_of(context):
            # Serving central's own request: never call central back.
            return existing
        central_sgs = self.central.list('security_group', name='default',
                                        project_id=project_id)
        if not central_sgs:
            return super()._ensure_default_security_group(context,
                                                          project_id)
        with self._copy_lock(central_sgs[0]['id']):
            if not self._get_default_sg_id(context, project_id):
                self._copy_security_group_from(context, central_sgs[0],
                                               default=True)
        return self._get_default_sg_id(context, project_id)

    def _copy_security_group(self, context, sg_id: str) -> bool:
        central_sg = self.central.get('security_group', sg_id)
        if not _visible(context, central_sg):
            return False
        with self._copy_lock(sg_id):
            if not self._exists(context, 'security_group', sg_id):
                self._copy_security_group_from(
                    context, central_sg,
                    default=central_sg['name'] == 'default')
        return True

    def _copy_security_group_from(self, context, central_sg: dict,
                                  default: bool) -> None:
        # Groups the rules refer to come first; then ML2 works inside.
        for rule in central_sg.get('security_group_rules', []):
            remote = rule.get('remote_group_id')
            if remote and remote != central_sg['id']:
                self._ensure(context, 'security_group', remote)
        with self._internal():
            self._create_security_group_copy(context, central_sg, default)

    def _create_security_group_copy(self, context, central_sg: dict,
                                    default: bool) -> None:
        admin = context.elevated()
        body = bottom.security_group_body(central_sg)
        try:
            created = super().create_security_group(
                admin, {'security_group': self._with_defaults(
                    'security_groups', body)}, default_sg=default)
        except (db_exc.DBDuplicateEntry, sg_exc.SecurityGroupConflict):
            return  # a concurrent request made the same copy
        if created['id'] != central_sg['id']:
            return  # the project already had another default group here
        # The copy gets the central rules, not this region's templates.
        for rule in created.get('security_group_rules', []):
            super().delete_security_group_rule(admin, rule['id'])
        for rule in central_sg.get('security_group_rules', []):
            super().create_security_group_rule(admin, {
                'security_group_rule': self._with_defaults(
                    'security_group_rules',
                    bottom.security_group_rule_body(rule))})
        LOG.info('copied security group %s from central into %s',
                 central_sg['id'], self.region_name)

    # -- ports ------------------------------------------------------------
    def get_port(self, context, id, fields=None):
        self._ensure(context, 'port', id)
        return super().get_port(context, id, fields=fields)

    def get_ports(self, context, filters=None, fields=None, sorts=None,
                  limit=None, marker=None, page_reverse=False):
        for port_id in _ids(filters):
            self._ensure(context, 'port', port_id, missing_ok=True)
        return super().get_ports(context, filters, fields, sorts, limit,
                                 marker, page_reverse)

    def _copy_port(self, context, port_id: str) -> bool:
        central_port = self.central.get('port', port_id)
        if not _visible(context, central_port):
            return False
        self._ensure_port_dependencies(context, central_port)
        with self._copy_lock(port_id):
            if not self._exists(context, 'port', port_id):
                self._create_copy(context, 'port',
                                  bottom.port_body(central_port))
        return True

    def _ensure_port_dependencies(self, context, central_port: dict,
                                  network_ready: bool = False) -> None:
        if not network_ready:
            self._ensure(context, 'network', central_port['network_id'])
        self._ensure_all(context, 'subnet',
                         [ip['subnet_id'] for ip in central_port['fixed_ips']])
        self._ensure_all(context, 'security_group',
                         central_port.get('security_groups') or [])

    def create_port(self, context, port):
        attrs = port['port']
        if request_source.source_of(context) and shadow.is_shadow(attrs):
            with self._internal():
                return shadow.create_shadow_port(
                    self, context, attrs, self._ml2_create_port)
        self._ensure(context, 'network', attrs['network_id'])
        created = self._create_port_here(context, attrs)
        if created.get(portbindings.HOST_ID):
            self._report_binding(context, created)
        return created

    def _ml2_create_port(self, context, port: dict) -> dict:
        """ML2's create_port for a port carrying central's addresses.

        Addresses on IPv6 SLAAC and DHCPv6-stateless subnets come from the
        MAC (EUI-64): ML2 adds them itself and refuses them given twice.
        """
        attrs = port['port']
        fixed_ips = attrs.get('fixed_ips')
        if fixed_ips and fixed_ips is not n_const.ATTR_NOT_SPECIFIED and \
                any(':' in (ip.get('ip_address') or '') for ip in fixed_ips) \
                and attrs.get('device_owner') not in \
                n_const.ROUTER_INTERFACE_OWNERS_SNAT:
            auto = {s.id for s in subnet_obj.Subnet.get_objects(
                context.elevated(), network_id=attrs['network_id'])
                if ipv6_utils.is_auto_address_subnet(
                    {'ipv6_address_mode': s.ipv6_address_mode,
                     'ipv6_ra_mode': s.ipv6_ra_mode})}
            attrs = dict(attrs, fixed_ips=[
                ip for ip in fixed_ips if ip.get('subnet_id') not in auto])
        return super().create_port(context, {'port': attrs})

    def update_port(self, context, id, port):
        self._ensure(context, 'port', id)
        with self._internal():
            original = super().get_port(context, id)
            updated = super().update_port(context, id, port)
        if shadow.is_shadow(updated):
            return updated
        if (original.get(portbindings.HOST_ID) !=
                updated.get(portbindings.HOST_ID) or
                original.get(portbindings.VIF_TYPE) !=
                updated.get(portbindings.VIF_TYPE)):
            self._report_binding(context, updated)
        return updated

    def _report_binding(self, context, port: dict) -> None:
        host = port.get(portbindings.HOST_ID)
        tunnel_ip = host and shadow.agent_tunnel_ip(self, context, host)
        try:
            self.central.update('port', port['id'], bottom.binding_report(
                self.region_name, port, tunnel_ip))
        except n_exc.NeutronException as exc:
            # The local change stands; central shows the old binding
            # until the next report.
            LOG.error('could not report the binding of port %s to '
                      'central: %s', port['id'], exc)

    def delete_port(self, context, id, l3_port_check=True):
        with self._deleting(id), self._internal():
            try:
                port = super().get_port(context, id)
            except n_exc.PortNotFound:
                port = None
            super().delete_port(context, id, l3_port_check=l3_port_check)
        if port and _is_vm_port(port):
            # A VM's port lives and dies with the VM, everywhere.
            self.central.delete('port', id)

    # -- copying ----------------------------------------------------------
    _OBJECTS = {'network': network_obj.Network, 'subnet': subnet_obj.Subnet,
                'port': port_obj.Port,
                'security_group': sg_obj.SecurityGroup}
    # resource -> (its NotFound error, the error's id argument)
    _NOT_FOUND = {'network': (n_exc.NetworkNotFound, 'net_id'),
                  'subnet': (n_exc.SubnetNotFound, 'subnet_id'),
                  'port': (n_exc.PortNotFound, 'port_id'),
                  'security_group': (sg_exc.SecurityGroupNotFound, 'id')}

    def _ensure(self, context, resource: str, res_id: str,
                missing_ok: bool = False) -> None:
        """Make sure the central ``resource`` exists here, same id."""
        if (getattr(self._local, 'internal', 0) or
                request_source.source_of(context) or
                self._is_deleting(res_id) or
                self._exists(context, resource, res_id)):
            # ML2's own lookups inside an operation, and central's own
            # requests, never trigger a call to central.
            return
        copier = getattr(self, '_copy_' + resource)
        if not copier(context, res_id) and not missing_ok:
            not_found, arg = self._NOT_FOUND[resource]
            raise not_found(**{arg: res_id})

    def _ensure_all(self, context, resource: str, res_ids: list) -> None:
        """``_ensure`` for several ids; one query when all are here."""
        res_ids = set(res_ids)
        if not res_ids or self._OBJECTS[resource].count(
                context.elevated(), id=list(res_ids)) == len(res_ids):
            return
        for res_id in sorted(res_ids):
            self._ensure(context, resource, res_id)

    def _exists(self, context, resource: str, res_id: str) -> bool:
        return self._OBJECTS[resource].objects_exist(context.elevated(),
                                                     id=res_id)

    _COLLECTIONS = {'network': 'networks', 'subnet': 'subnets',
                    'port': 'ports'}

    def _create_copy(self, context, resource: str, body: dict) -> None:
        creator = (self._ml2_create_port if resource == 'port'
                   else getattr(super(), 'create_' + resource))
        try:
            with self._internal():
                creator(context.elevated(), {resource: self._with_defaults(
                    self._COLLECTIONS[resource], body)})
        except db_exc.DBDuplicateEntry:
            LOG.debug('%s %s was copied concurrently', resource, body['id'])
            return
        LOG.info('copied %s %s from central into %s', resource, body['id'],
                 self.region_name)

    @staticmethod
    def _with_defaults(collection: str, body: dict) -> dict:
        attributes.populate_project_info(body)
        attributes.AttributeInfo(attributes.RESOURCES[collection]) \
            .fill_post_defaults(body, check_allow_post=False)
        return body

    @contextlib.contextmanager
    def _internal(self):
        """ML2 works on what is already here: no lazy copies inside."""
        self._local.internal = getattr(self._local, 'internal', 0) + 1
        try:
            yield
        finally:
            self._local.internal -= 1

    @contextlib.contextmanager
    def _copy_lock(self, res_id: str):
        """One copier per central resource in this region's servers."""
        with lockutils.lock('tricircle-copy-%s' % res_id, external=True,
                            lock_path=cfg.CONF.oslo_concurrency.lock_path):
            yield

    # -- deleting guard ---------------------------------------------------
    def _is_deleting(self, res_id: str) -> bool:
        return res_id in getattr(self._local, 'deleting', ())

    @contextlib.contextmanager
    def _deleting(self, res_id: str):
        deleting = getattr(self._local, 'deleting', None)
        if deleting is None:
            deleting = self._local.deleting = set()
        deleting.add(res_id)
        try:
            yield
        finally:
            deleting.discard(res_id)


def _nova_region_name() -> str | None:
    try:
        return cfg.CONF.nova.region_name
    except cfg.NoSuchOptError:
        return None
