"""The parts of a copy that its spec's updatable attributes do not cover.

A security group's rules and an address group's addresses are changed
through their own calls, not a PUT of the copy. Each such type has a
module here with ``differs(central, regional)`` and
``converge(client, pod_id, central, regional) -> [what changed]``; the
sync job and the drift audit go through this table, never through type
checks.
"""
from __future__ import annotations

from tricircle import resources
from tricircle.resources import neutron_client
from tricircle.xjob import address_group_copy
from tricircle.xjob import security_group_copy

_PARTS = {resources.SECURITY_GROUP: security_group_copy,
          resources.ADDRESS_GROUP: address_group_copy}


def differs(resource_type: str, central: dict, regional: dict) -> bool:
    part = _PARTS.get(resource_type)
    return bool(part and part.differs(central, regional))


def converge(client: neutron_client.NeutronClient, pod_id: str,
             resource_type: str, central: dict, regional: dict) -> list[str]:
    """Make the copy's parts central's; what changed (empty: nothing)."""
    part = _PARTS.get(resource_type)
    return part.converge(client, pod_id, central, regional) if part else []
