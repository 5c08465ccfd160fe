"""A network delete without Neutron's segments plugin running beside ML2.

When the ``segments`` service plugin is not configured, Neutron still
deletes a network's segments through it: the first network delete makes
an instance of the plugin (neutron.services.segments.db,
``_delete_segments_for_network``). That instance's ``__init__`` starts the
plugin's Nova notifier and host routes, which then act on every port and
subnet change of the server's life: DB reads for routed-network inventory
on each port update, and, on each later network delete (its segments), a
thread that calls Placement and fails with a traceback (no credentials
are configured for it).

Tricircle deletes networks all the time (a router's transit network, a
floating IP's proxy), so every server got this within minutes. Here the
segments of a deleted network are deleted by the plugin's segment calls
alone, as before, with neither of the two.
"""
from __future__ import annotations

from neutron.services.segments import db as segments_db
from neutron.services.segments import plugin as segments_plugin
from oslo_config import cfg

_CONFIGURED_NAMES = ('segments', 'neutron.services.segments.plugin.Plugin')


class SegmentDeleter(segments_plugin.Plugin):
    """Neutron's segments plugin as a network delete uses it (its
    segment reads and deletes, its checks on segment delete), without its
    Nova notifier and host routes."""

    def __init__(self) -> None:
        # Not the plugin's own: that starts the notifier and host routes.
        pass


def install() -> None:
    """Network deletes use a SegmentDeleter unless the operator configured
    the segments plugin (its notifier is then wanted)."""
    if any(name in cfg.CONF.service_plugins for name in _CONFIGURED_NAMES):
        return
    if segments_db.segments_plugin is None:
        segments_db.segments_plugin = SegmentDeleter()
