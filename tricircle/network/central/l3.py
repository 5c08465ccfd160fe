"""L3 service plugin of the central Neutron server.

Neutron's own router plugin, minus what only makes sense with L3 agents:
the central server has none (see the central plugin), so the DVR
callbacks that look up L3 agents and ARP entries on every port created,
updated or deleted here would only cost time. Routers keep their API.
"""
from __future__ import annotations

from neutron.db import l3_dvrscheduler_db
from neutron.services.l3_router import l3_router_plugin
from neutron_lib.callbacks import events
from neutron_lib.callbacks import registry
from neutron_lib.callbacks import resources

# The port callbacks l3_dvrscheduler_db.subscribe() registers.
_AGENT_PORT_CALLBACKS = (
    (l3_dvrscheduler_db._notify_l3_agent_new_port, events.AFTER_CREATE),
    (l3_dvrscheduler_db._notify_l3_agent_port_update, events.AFTER_UPDATE),
    (l3_dvrscheduler_db._notify_port_delete, events.AFTER_DELETE),
)


class CentralL3Plugin(l3_router_plugin.L3RouterPlugin):
    """Routers on a Neutron server without L3 agents."""

    def __init__(self) -> None:
        super().__init__()
        for callback, event in _AGENT_PORT_CALLBACKS:
            registry.unsubscribe(callback, resources.PORT, event)
