"""A router's ``distributed`` and ``ha`` flags, read alone.

Neutron's L3 code loads the whole router (every port, every extension)
where it needs only these flags: to notify its L3 agents, to schedule
it, and, on every floating IP create and association, in the DVR
handler that makes a floating IP agent gateway port for a distributed
router. Tricircle's routers (central's and their regional copies) are
not distributed; reading the flags alone spares each of those a router
load, a tenth of a second or more on a loaded server (before a region's
L3 agent hears of a new floating IP, among others).
"""
from __future__ import annotations

from neutron.objects import router as l3_obj
from neutron_lib.callbacks import events
from neutron_lib.callbacks import registry
from neutron_lib.callbacks import resources


class RouterFlagsMixin:
    """Mixed in before Neutron's L3 router plugin."""

    @staticmethod
    def _router_flags(context, router_id: str):
        """The router's extra attributes (``distributed``, ``ha``);
        None if the router is not found."""
        return l3_obj.RouterExtraAttributes.get_object(
            context.elevated(), router_id=router_id)

    def _is_distributed(self, context, router_id: str) -> bool | None:
        """The router's DVR flag; None if the router is not found."""
        flags = self._router_flags(context, router_id)
        return None if flags is None else bool(flags.distributed)

    # Subscribed in place of Neutron's handler of the same name (Neutron
    # subscribes the class's member of each decorated name).
    @registry.receives(resources.FLOATING_IP, [events.AFTER_CREATE,
                                               events.AFTER_UPDATE])
    def _create_dvr_floating_gw_port(self, rtype, event, trigger, payload):
        router_id = (payload.latest_state or {}).get('router_id')
        if router_id and self._is_distributed(payload.context,
                                              router_id) is False:
            return  # no agent gateway port for a legacy router
        super()._create_dvr_floating_gw_port(rtype, event, trigger, payload)
