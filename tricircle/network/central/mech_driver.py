"""ML2 mechanism driver of the central Neutron.

The central Neutron has no agents: a port is bound in a region, and the
local plugin reports the result. This driver records that binding on the
central port so users see where, and how, their port is bound.
"""
from __future__ import annotations

from neutron_lib.api.definitions import portbindings
from neutron_lib.plugins.ml2 import api
from oslo_log import log as logging

from tricircle.network import extensions
from tricircle.resources import binding

LOG = logging.getLogger(__name__)


class CentralMechanismDriver(api.MechanismDriver):
    """Binds a central port as its region reported it bound."""

    def initialize(self) -> None:
        LOG.info('Tricircle central mechanism driver initialized')

    def supported_extensions(self, extensions_: set) -> set:
        return extensions.supported(extensions_)

    def bind_port(self, context) -> None:
        profile = context.current.get(portbindings.PROFILE) or {}
        region = profile.get(binding.PROFILE_REGION)
        vif_type = profile.get(binding.PROFILE_VIF_TYPE)
        if not region or not vif_type or vif_type in (
                portbindings.VIF_TYPE_UNBOUND,
                portbindings.VIF_TYPE_BINDING_FAILED):
            return
        segment = context.segments_to_bind[0]
        context.set_binding(segment[api.ID], vif_type,
                            profile.get(binding.PROFILE_VIF_DETAILS) or {})
        LOG.debug('port %s bound in region %s as %s',
                  context.current['id'], region, vif_type)
