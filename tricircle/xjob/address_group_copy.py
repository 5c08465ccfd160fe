"""One region's copy of a central address group: its addresses made exact.

Neutron changes an address group's addresses only through its
``add_addresses`` and ``remove_addresses`` actions, so the copy gets the
difference through them.
"""
from __future__ import annotations

from tricircle import resources
from tricircle.resources import address_group as ag_res
from tricircle.resources import neutron_client


def differs(central_ag: dict, regional_ag: dict) -> bool:
    return any(ag_res.address_changes(central_ag, regional_ag))


def converge(client: neutron_client.NeutronClient, pod_id: str,
             central_ag: dict, regional_ag: dict) -> list[str]:
    """Apply :func:`address_changes`; what changed, for the log."""
    missing, stale = ag_res.address_changes(central_ag, regional_ag)
    changes = []
    if stale:
        client.action(resources.ADDRESS_GROUP, central_ag['id'],
                      'remove_addresses', {ag_res.ADDRESSES: stale})
        changes.append('removed %s' % ', '.join(stale))
    if missing:
        client.action(resources.ADDRESS_GROUP, central_ag['id'],
                      'add_addresses', {ag_res.ADDRESSES: missing})
        changes.append('added %s' % ', '.join(missing))
    return changes
