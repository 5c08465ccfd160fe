"""Core plugin of a regional ("local") Neutron server: a shim over ML2.

Central owns ids, addresses and segments. A region creates a network,
subnet, port or security group with the central id the first time it is
used here (a GET by id, a list by id, a port create on it); port addresses
and MACs always come from central; bindings are reported back to central.
The work is in this package's modules; this class routes Neutron's calls.
"""
from __future__ import annotations

from neutron.plugins.ml2 import plugin as ml2_plugin
from neutron_lib.api.definitions import portbindings
from oslo_config import cfg
from oslo_log import log as logging

from tricircle.common import config
from tricircle.db import sqlite_busy
from tricircle.network import device_owners
from tricircle.network import exceptions as t_exc
from tricircle.network.local import copies
from tricircle.network.local import networks
from tricircle.network.local import port_create
from tricircle.network.local import ports
from tricircle.network.local import security_groups
from tricircle.network import request_source
from tricircle.network import revision_listing
from tricircle.network import segment_deletes
from tricircle import resources
from tricircle.resources import floatingip as fip_res
from tricircle.resources import neutron_client
from tricircle.resources import regions
from tricircle.resources import shadow

LOG = logging.getLogger(__name__)


def _ids(filters) -> list[str]:
    ids = (filters or {}).get('id') or []
    return [ids] if isinstance(ids, str) else list(ids)


class LocalPlugin(revision_listing.RevisionListing,
                  ml2_plugin.Ml2Plugin):
    """ML2 plus same-id copies of central resources."""

    # Neutron looks these up under the plugin class's own (mangled) name:
    # without them a paged list loads every resource for each page and
    # sorts in Python. ML2 pages and sorts in the database.
    __native_pagination_support = True
    __native_sorting_support = True

    def __init__(self) -> None:
        config.register_local_plugin_opts(cfg.CONF)
        sqlite_busy.register()
        super().__init__()
        segment_deletes.install()
        self.region_name = (cfg.CONF.tricircle.local_region_name or
                            _nova_region_name())
        if not self.region_name:
            raise t_exc.RegionNotConfigured()
        self._central: neutron_client.NeutronClient | None = None
        # ML2's own operations, below this class's overrides.
        ml2 = super()
        self.copies = copies.Copies(lambda: self.central, self.region_name)
        self._ports = ports.PortCopies(self, ml2, self.copies,
                                       lambda: self.central)
        self._networks = networks.NetworkCopies(
            ml2, self.copies, lambda: self.central, self._ports.create_port)
        self._security_groups = security_groups.SecurityGroupCopies(
            ml2, self.copies, lambda: self.central)
        security_groups.AddressGroupCopies(ml2, self.copies)
        self._port_creator = port_create.PortCreator(
            ml2, self.copies, self._ports, lambda: self.central)
        LOG.info('Tricircle local plugin serving region %s, central '
                 'Neutron at %s', self.region_name,
                 cfg.CONF.client.central_neutron_url or
                 '(Keystone catalog)')

    @property
    def central(self) -> neutron_client.NeutronClient:
        if self._central is None:
            self._central = regions.central_client(source=self.region_name)
        return self._central

    def _get(self, context, resource_type: str, res_id: str) -> None:
        self.copies.ensure(context, resource_type, res_id)

    def _list(self, context, resource_type: str, filters) -> None:
        for res_id in _ids(filters):
            self.copies.ensure(context, resource_type, res_id,
                               missing_ok=True)

    def _copy_named(self, context, filters) -> None:
        """A lookup by name finds central's networks of that name that the
        requester may see and that may be here, as a lookup by id does
        (``openstack network show NAME``)."""
        names = (filters or {}).get('name')
        if not names or _ids(filters) or self.copies.ml2_busy or \
                request_source.requesting_peer(context):
            return
        for name in [names] if isinstance(names, str) else names:
            for central_net in self.central.list(resources.NETWORK,
                                                 name=name):
                self.copies.ensure(context, resources.NETWORK,
                                   central_net['id'], missing_ok=True)

    def _refuse_member(self, context, what: str,
                       error=t_exc.CreateOnCentral) -> None:
        """Members create (and change) networks, subnets, security
        groups and address groups on central: one made here would bypass
        central's IPAM and could collide with central's. The peers and
        admins may. ``error``: CreateOnCentral or ChangeOnCentral."""
        if request_source.requesting_peer(context) or \
                copies.requester(context).is_admin:
            return
        raise error(
            resource=what, region=self.region_name,
            central=cfg.CONF.client.central_neutron_url or 'region %s' %
            cfg.CONF.client.central_region_name)

    # -- networks ---------------------------------------------------------
    def create_network(self, context, network):
        self._refuse_member(context, 'Networks')
        return super().create_network(context, network)

    def get_network(self, context, id, fields=None, net_db=None):
        if net_db is None:
            self._get(context, resources.NETWORK, id)
        return super().get_network(context, id, fields=fields, net_db=net_db)

    def get_networks(self, context, filters=None, fields=None, sorts=None,
                     limit=None, marker=None, page_reverse=False):
        self._list(context, resources.NETWORK, filters)
        self._copy_named(context, filters)
        return super().get_networks(context, filters, fields, sorts, limit,
                                    marker, page_reverse)

    def delete_network(self, context, id):
        with self.copies.deleting_here(id), self.copies.ml2_at_work():
            if request_source.requesting_peer(context):
                # Central deletes the network: the shadows of other
                # regions' ports on it (a router's gateway, say) go too.
                for port in super().get_ports(context, filters={
                        'network_id': [id],
                        'device_owner': [shadow.SHADOW_DEVICE_OWNER]},
                        fields=['id']):
                    super().delete_port(context, port['id'],
                                        l3_port_check=False)
            return super().delete_network(context, id)

    # -- subnets ----------------------------------------------------------
    def create_subnet(self, context, subnet):
        self._refuse_member(context, 'Subnets')
        return super().create_subnet(context, subnet)

    def get_subnet(self, context, id, fields=None):
        self._get(context, resources.SUBNET, id)
        return super().get_subnet(context, id, fields=fields)

    def get_subnets(self, context, filters=None, fields=None, sorts=None,
                    limit=None, marker=None, page_reverse=False):
        self._list(context, resources.SUBNET, filters)
        return super().get_subnets(context, filters, fields, sorts, limit,
                                   marker, page_reverse)

    def delete_subnet(self, context, id):
        with self.copies.deleting_here(id), self.copies.ml2_at_work():
            return super().delete_subnet(context, id)

    # -- security groups --------------------------------------------------
    def create_security_group(self, context, security_group,
                              default_sg=False):
        if not default_sg:  # a project's default group is made as needed
            self._refuse_member(context, 'Security groups')
        return super().create_security_group(context, security_group,
                                             default_sg=default_sg)

    def create_security_group_rule(self, context, security_group_rule):
        self._refuse_member(context, 'Security group rules')
        rule_id = request_source.proposed_id(context)
        if rule_id and request_source.requesting_peer(context):
            # XJob syncing a rule made on central: the copy has its id.
            security_group_rule = {'security_group_rule': dict(
                security_group_rule['security_group_rule'], id=rule_id)}
        return super().create_security_group_rule(context,
                                                  security_group_rule)

    def get_security_group(self, context, id, fields=None, project_id=None):
        self._get(context, resources.SECURITY_GROUP, id)
        return super().get_security_group(context, id, fields=fields,
                                          project_id=project_id)

    def get_security_groups(self, context, filters=None, fields=None,
                            sorts=None, limit=None, marker=None,
                            page_reverse=False, default_sg=False):
        self._list(context, resources.SECURITY_GROUP, filters)
        return super().get_security_groups(
            context, filters, fields, sorts, limit, marker, page_reverse,
            default_sg=default_sg)

    def delete_security_group(self, context, id):
        with self.copies.deleting_here(id), self.copies.ml2_at_work():
            return super().delete_security_group(context, id)

    def _ensure_default_security_group(self, context, project_id):
        """A project's default group here is a copy of central's."""
        return self._security_groups.default_group(context, project_id)

    # -- address groups -----------------------------------------------------
    def create_address_group(self, context, address_group):
        self._refuse_member(context, 'Address groups')
        return super().create_address_group(context, address_group)

    def get_address_group(self, context, id, fields=None):
        self._get(context, resources.ADDRESS_GROUP, id)
        return super().get_address_group(context, id, fields=fields)

    def get_address_groups(self, context, filters=None, fields=None,
                           sorts=None, limit=None, marker=None,
                           page_reverse=False):
        self._list(context, resources.ADDRESS_GROUP, filters)
        return super().get_address_groups(context, filters, fields, sorts,
                                          limit, marker, page_reverse)

    # A copy's name and addresses are central's: a member widening a
    # copy here would widen this region's firewall beyond central's.
    def update_address_group(self, context, id, address_group):
        self._refuse_member(context, 'Address groups',
                                 t_exc.ChangeOnCentral)
        return super().update_address_group(context, id, address_group)

    def add_addresses(self, context, address_group_id, addresses):
        self._refuse_member(context, 'Address groups',
                                 t_exc.ChangeOnCentral)
        return super().add_addresses(context, address_group_id, addresses)

    def remove_addresses(self, context, address_group_id, addresses):
        self._refuse_member(context, 'Address groups',
                                 t_exc.ChangeOnCentral)
        return super().remove_addresses(context, address_group_id,
                                        addresses)

    def delete_address_group(self, context, id):
        with self.copies.deleting_here(id), self.copies.ml2_at_work():
            return super().delete_address_group(context, id)

    # -- ports ------------------------------------------------------------
    def get_port(self, context, id, fields=None):
        self._get(context, resources.PORT, id)
        return super().get_port(context, id, fields=fields)

    def get_ports(self, context, filters=None, fields=None, sorts=None,
                  limit=None, marker=None, page_reverse=False):
        self._list(context, resources.PORT, filters)
        return super().get_ports(context, filters, fields, sorts, limit,
                                 marker, page_reverse)

    def create_port(self, context, port):
        attrs = port['port']
        device_owners.refuse_proxy_owner(context, attrs)
        if request_source.requesting_peer(context) and \
                shadow.is_shadow(attrs):
            return self._ports.create_shadow(context, attrs)
        if request_source.requesting_peer(context) and \
                fip_res.is_proxy(attrs):
            # A floating IP's proxy is this region's alone (XJob's), on a
            # network central does not have.
            with self.copies.ml2_at_work():
                return self._ports.create_port(context, port)
        self._get(context, resources.NETWORK, attrs['network_id'])
        created = self._port_creator.create_port(context, attrs)
        if created.get(portbindings.HOST_ID):
            self._ports.report_binding(context, created)
        return created

    def update_port(self, context, id, port):
        device_owners.refuse_proxy_owner(context, port['port'])
        return self._ports.update_port(context, id, port)

    def delete_port(self, context, id, l3_port_check=True):
        return self._ports.delete_port(context, id, l3_port_check)

    # Agents (over RPC, in neutron-rpc-server) set a port ACTIVE once
    # they wired it and DOWN when they unwired it. Central is told each
    # time (in the background); it ignores a status it already has.
    def update_port_status(self, context, port_id, status, host=None):
        result = super().update_port_status(context, port_id, status,
                                            host=host)
        if result:
            self._ports.report_status(context, result)
        return result

    def update_port_statuses(self, context, port_id_to_status, host=None):
        result = super().update_port_statuses(context, port_id_to_status,
                                              host=host)
        for port_id in port_id_to_status:
            self._ports.report_status(context, port_id)
        return result



def _nova_region_name() -> str | None:
    try:
        return cfg.CONF.nova.region_name
    except cfg.NoSuchOptError:
        return None
