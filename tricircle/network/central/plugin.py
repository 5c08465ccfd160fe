"""Core plugin of the central Neutron server.

The central Neutron owns IPAM, MAC addresses and segment ids for every
region. It is ML2 underneath (type drivers allocate segments globally),
with the regions (pods of the Tricircle DB) as its availability zones.
Regions fetch what they use from here (see the local plugin); each fetch
is recorded as a resource routing, so that updates and deletes reach
exactly the regions that hold a copy. The work per resource type is in
this package's modules; this class only routes Neutron's calls to them.
"""
from __future__ import annotations

from neutron.plugins.ml2 import plugin as ml2_plugin
from oslo_config import cfg
from oslo_log import log as logging

from tricircle.common import config
from tricircle.db import sqlite_busy
from tricircle.network.central import availability_zones
from tricircle.network.central import networks
from tricircle.network.central import ports
from tricircle.network.central import security_groups
from tricircle.network.central import uses
from tricircle.network import request_source
from tricircle.network import revision_listing
from tricircle.network import segment_deletes
from tricircle import resources
from tricircle.resources import regions

LOG = logging.getLogger(__name__)


class CentralPlugin(revision_listing.RevisionListing,
                    ml2_plugin.Ml2Plugin):
    """ML2 whose availability zones are the registered regions."""

    # Neutron looks these up under the plugin class's own (mangled) name:
    # without them a paged list loads every resource for each page and
    # sorts in Python. ML2 pages and sorts in the database.
    __native_pagination_support = True
    __native_sorting_support = True

    def __init__(self) -> None:
        config.register_central_plugin_opts(cfg.CONF)
        config.register_xjob_opts(cfg.CONF)
        config.apply_central_type_options(cfg.CONF)
        sqlite_busy.register()
        super().__init__()
        # ML2's own operations, below this class's overrides.
        ml2 = super()
        self.region_client = regions.RegionClients()
        self._networks = networks.CentralNetworks(ml2, self.region_client)
        self._ports = ports.CentralPorts(ml2)
        security_groups.subscribe()
        segment_deletes.install()
        LOG.info('Tricircle central plugin started (Tricircle DB: %s)',
                 _safe_url(cfg.CONF.tricircle_db_connection))

    @property
    def _rpc_workers(self) -> int:
        # The central Neutron has no agents: ML2 then starts no RPC or OVO
        # push notifiers and no DHCP scheduling (regions do all of that),
        # which also spares every port create their work.
        return 0

    def validate_availability_zones(self, context, resource_type,
                                    availability_zones_):
        availability_zones.validate(availability_zones_)

    # -- networks and subnets ---------------------------------------------
    def create_network(self, context, network):
        return self._networks.create_network(context, network)

    def get_network(self, context, id, fields=None, net_db=None):
        return self._networks.get_network(context, id, fields, net_db)

    def update_network(self, context, id, network):
        return self._networks.update_network(context, id, network)

    def delete_network(self, context, id):
        return self._networks.delete_network(context, id)

    def create_subnet(self, context, subnet):
        return self._networks.create_subnet(context, subnet)

    def get_subnet(self, context, id, fields=None):
        return self._networks.get_subnet(context, id, fields)

    def get_subnets(self, context, filters=None, fields=None, sorts=None,
                    limit=None, marker=None, page_reverse=False):
        return self._networks.get_subnets(context, filters, fields, sorts,
                                          limit, marker, page_reverse)

    def update_subnet(self, context, id, subnet):
        return self._networks.update_subnet(context, id, subnet)

    def delete_subnet(self, context, id):
        return self._networks.delete_subnet(context, id)

    # -- ports --------------------------------------------------------------
    def create_port(self, context, port):
        return self._ports.create_port(context, port)

    def get_port(self, context, id, fields=None):
        return self._ports.get_port(context, id, fields)

    def update_port(self, context, id, port):
        return self._ports.update_port(context, id, port)

    def delete_port(self, context, id, l3_port_check=True):
        return self._ports.delete_port(context, id, l3_port_check)

    # -- security groups ----------------------------------------------------
    def get_security_group(self, context, id, fields=None, project_id=None):
        uses.refuse_if_hidden(
            context, resources.SECURITY_GROUP, id,
            lambda ctx: super(CentralPlugin, self).get_security_group(
                ctx, id, fields=['id']))
        sg = super().get_security_group(context, id, fields=fields,
                                        project_id=project_id)
        if request_source.requesting_peer(context):
            uses.record(context, resources.SECURITY_GROUP, id,
                        sg.get('project_id'), sg.get('revision_number'))
        return sg

    def get_address_group(self, context, id, fields=None):
        uses.refuse_if_hidden(
            context, resources.ADDRESS_GROUP, id,
            lambda ctx: super(CentralPlugin, self).get_address_group(
                ctx, id, fields=['id']))
        ag = super().get_address_group(context, id, fields=fields)
        if request_source.requesting_peer(context):
            uses.record(context, resources.ADDRESS_GROUP, id,
                        ag.get('project_id'), ag.get('revision_number'))
        return ag


def _safe_url(url: str | None) -> str:
    if not url:
        return '(not configured)'
    scheme, _, rest = url.partition('://')
    return '%s://%s' % (scheme, rest.rsplit('@', 1)[-1])
