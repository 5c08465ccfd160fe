"""What differs between central and one region, for one resource type.

Cheap by design: both sides are listed in pages with a few fields (id,
``revision_number``, and what tells a port's kind); attributes are read
only for the copies whose revision numbers moved since they were last
found in line (``sync_states``), in batches of ids, never one GET each.

What Tricircle put in a region is what its routings say. A routed copy
central no longer has is an orphan; a region's own resources (its DHCP
and router ports, an admin's local network, a shadow port) are never
routed and so never touched, except the copies of networks, subnets and
security groups that lost their routing: only central makes those.
"""
from __future__ import annotations

import dataclasses
from typing import Any, Iterator

from tricircle.db import audits
from tricircle import resources
from tricircle.resources import base
from tricircle.resources import neutron_client
from tricircle.resources import regions
from tricircle.resources import reserved
from tricircle.resources import shadow
from tricircle.xjob import copy_parts

REVISION = 'revision_number'
# Fields each listing asks for, per type (a port's kind decides whether
# the audit looks at it).
_PORT_KIND = ('device_owner', 'device_id')
# Types whose region copies only central makes: a copy without routing
# lost it, and gets it back.
ROUTED_BY_CENTRAL = (resources.NETWORK, resources.SUBNET,
                     resources.SECURITY_GROUP, resources.ADDRESS_GROUP)
# Servers running our plugins answer from the tables directly
# (tricircle.network.revision_listing); others list as usual.
REVISIONS_ONLY = {regions.LISTING_HEADER: 'revisions'}
# Ids per list request when attributes are read.
BATCH = 50


def list_fields(resource_type: str) -> tuple[str, ...]:
    extra = _PORT_KIND if resource_type == resources.PORT else ()
    return ('id', REVISION) + extra


def pages(client: neutron_client.NeutronClient, resource_type: str,
          page_size: int, fields: tuple[str, ...]) -> Iterator[dict]:
    """Every resource of a type, ``page_size`` per request, by id."""
    marker = None
    while True:
        params: dict[str, Any] = {'limit': page_size, 'fields': list(fields),
                                  'sort_key': 'id', 'sort_dir': 'asc'}
        if marker:
            params['marker'] = marker
        page = client.list(resource_type, headers=REVISIONS_ONLY, **params)
        yield from page
        if len(page) < page_size:
            return
        marker = page[-1]['id']


def ignored(resource_type: str, resource: dict) -> bool:
    """Not a copy the audit compares: central's reserved ports (a DHCP
    copy and its central reservation differ by design) and shadows."""
    return resource_type == resources.PORT and (
        reserved.is_reserved(resource) or shadow.is_shadow(resource))


def revisions(listing: Iterator[dict], resource_type: str
              ) -> tuple[dict[str, int | None], set[str]]:
    """(id -> revision of what the audit compares, ids it ignores)."""
    seen, skip = {}, set()
    for resource in listing:
        if ignored(resource_type, resource):
            skip.add(resource['id'])
        else:
            seen[resource['id']] = resource.get(REVISION)
    return seen, skip


@dataclasses.dataclass
class Classified:
    """One step's findings before attributes are read."""
    found: dict[str, list[str]]
    # In both, revisions moved: read and compare their attributes.
    to_compare: list[str]
    checked: int


def classify(resource_type: str, central: dict[str, int | None],
             regional: dict[str, int | None], routed: set[str],
             states: dict[str, dict], busy: set[str]) -> Classified:
    """Sort one region's copies of a type by kind of drift.

    ``routed``: ids the routings place in the region; ``states``: their
    sync states; ``busy``: ids with a sync job queued or running for the
    region, left to that job.
    """
    found: dict[str, list[str]] = {kind: [] for kind in audits.KINDS}
    to_compare = []
    for res_id in sorted(routed - busy):
        if res_id not in regional:
            kind = audits.MISSING if res_id in central else \
                audits.STALE_ROUTING
            found[kind].append(res_id)
        elif res_id not in central:
            found[audits.ORPHAN].append(res_id)
        elif _moved(states.get(res_id), central[res_id], regional[res_id]):
            to_compare.append(res_id)
    if resource_type in ROUTED_BY_CENTRAL:
        found[audits.UNROUTED] = sorted(
            (set(regional) & set(central)) - routed - busy)
    return Classified(found, to_compare,
                      checked=len(routed | (set(regional) & set(central))))


def _moved(state: dict | None, central_rev: int | None,
           regional_rev: int | None) -> bool:
    """Whether either side changed since the copy was found in line."""
    if state is None or central_rev is None or regional_rev is None:
        return True
    return (state.get('revision_number') != central_rev or
            state.get('regional_revision') != regional_rev)


def batches(ids: list[str], size: int = BATCH) -> Iterator[list[str]]:
    for start in range(0, len(ids), size):
        yield ids[start:start + size]


def by_ids(client: neutron_client.NeutronClient, resource_type: str,
           ids: list[str]) -> dict[str, dict]:
    """The resources of ``ids`` that exist, read in batches."""
    found = {}
    for chunk in batches(ids):
        for resource in client.list(resource_type, id=chunk):
            found[resource['id']] = resource
    return found


def differs(spec: base.ResourceSpec, central: dict, regional: dict) -> bool:
    """Whether the copy needs a sync: an attribute central pushes, or
    a part (a group's rules, an address group's addresses)."""
    return bool(spec.diff(central, regional)) or \
        copy_parts.differs(spec.name, central, regional)
