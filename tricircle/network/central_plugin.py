"""Core plugin of the central Neutron server.

The central Neutron owns IPAM, MAC addresses and segment ids for every
region. It is ML2 underneath (type drivers allocate segments globally),
with the regions (pods of the Tricircle DB) as its availability zones.
"""
from __future__ import annotations

from neutron.plugins.ml2 import plugin as ml2_plugin
from oslo_config import cfg
from oslo_log import log as logging

from tricircle.common import config
from tricircle.db import api as db_api
from tricircle.network import exceptions as t_exc

LOG = logging.getLogger(__name__)


class TricirclePlugin(ml2_plugin.Ml2Plugin):
    """ML2 whose availability zones are the registered regions."""

    def __init__(self) -> None:
        config.register_db_opts(cfg.CONF)
        super().__init__()
        LOG.info('Tricircle central plugin started (Tricircle DB: %s)',
                 _safe_url(cfg.CONF.tricircle_db_connection))

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


def _safe_url(url: str | None) -> str:
    if not url:
        return '(not configured)'
    scheme, _, rest = url.partition('://')
    return '%s://%s' % (scheme, rest.rsplit('@', 1)[-1])
