"""Core plugin of a regional ("local") Neutron server: a shim over ML2.

Everything is ML2's, except that a network the central Neutron owns is
created here, with the central id, the first time this region uses it.
"""
from __future__ import annotations

import contextlib
import threading

from neutron.plugins.ml2 import plugin as ml2_plugin
from neutron_lib.api.definitions import external_net
from neutron_lib.api.definitions import provider_net
from neutron_lib import exceptions as n_exc
from oslo_config import cfg
from oslo_db import exception as db_exc
from oslo_log import log as logging

from tricircle.common import config
from tricircle.network import exceptions as t_exc
from tricircle.common import neutron_client

LOG = logging.getLogger(__name__)

# Attributes a regional copy of a central network keeps.
_NETWORK_COPY_ATTRS = ('id', 'name', 'project_id', 'admin_state_up',
                       'shared', 'description', external_net.EXTERNAL)
_PROVIDER_ATTRS = (provider_net.NETWORK_TYPE, provider_net.PHYSICAL_NETWORK,
                   provider_net.SEGMENTATION_ID)


class TricirclePlugin(ml2_plugin.Ml2Plugin):
    """ML2 plus lazy creation of central resources with the same ids."""

    def __init__(self) -> None:
        config.register_local_plugin_opts(cfg.CONF)
        super().__init__()
        self.region_name = (cfg.CONF.tricircle.local_region_name or
                            _nova_region_name())
        self._central = None
        # While this thread deletes a resource, lookups must not bring it
        # back from central.
        self._local = threading.local()
        LOG.info('Tricircle local plugin serving region %s, central '
                 'Neutron at %s', self.region_name,
                 cfg.CONF.tricircle.central_neutron_url or
                 '(Keystone catalog)')

    @property
    def central(self) -> neutron_client.NeutronClient:
        if self._central is None:
            self._central = neutron_client.NeutronClient.from_conf(
                'central Neutron',
                endpoint=cfg.CONF.tricircle.central_neutron_url,
                region_name=cfg.CONF.client.central_region_name)
        return self._central

    # -- networks ---------------------------------------------------------
    def get_network(self, context, id, fields=None, net_db=None):
        try:
            return super().get_network(context, id, fields=fields,
                                       net_db=net_db)
        except n_exc.NetworkNotFound:
            if net_db is not None or self._deleting(id):
                raise
            if not self._ensure_network(context, id):
                raise
        return super().get_network(context, id, fields=fields)

    def delete_network(self, context, id):
        with self._suppress_lazy_create(id):
            return super().delete_network(context, id)

    def _ensure_network(self, context, net_id: str) -> bool:
        """Create the central network ``net_id`` here; False if unknown."""
        central_net = self.central.get('network', net_id)
        if central_net is None:
            return False
        self._check_region_allowed(central_net)
        body = {k: central_net[k] for k in _NETWORK_COPY_ATTRS
                if k in central_net}
        if central_net.get(provider_net.NETWORK_TYPE) != 'local':
            body.update({k: central_net.get(k) for k in _PROVIDER_ATTRS})
        try:
            super().create_network(context.elevated(), {'network': body})
        except db_exc.DBDuplicateEntry:
            # Another request created it first; theirs is the same copy.
            LOG.debug('network %s was created concurrently', net_id)
        else:
            LOG.info('created network %s from central in region %s',
                     net_id, self.region_name)
        return True

    def _check_region_allowed(self, central_net: dict) -> None:
        hints = central_net.get('availability_zone_hints') or []
        if hints and self.region_name not in hints:
            raise t_exc.NetworkNotInRegion(network_id=central_net['id'],
                                           region=self.region_name,
                                           hints=', '.join(hints))

    # -- helpers ----------------------------------------------------------
    def _deleting(self, res_id: str) -> bool:
        return res_id in getattr(self._local, 'deleting', ())

    @contextlib.contextmanager
    def _suppress_lazy_create(self, res_id: str):
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
