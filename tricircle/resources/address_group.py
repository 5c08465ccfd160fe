"""Address groups: a region's copy has central's id and addresses.

A rule ``remote_address_group_id = A`` in a region admits A's addresses,
so a group whose rules name A needs A's copy there first. Addresses are
not an attribute a PUT can set (Neutron changes them with the
``add_addresses``/``remove_addresses`` actions); XJob converges them as a
group's rules are converged (tricircle.xjob.copy_parts).
"""
from __future__ import annotations

from tricircle.resources import base

RESOURCE_NAME = 'address_group'
COLLECTION_NAME = 'address_groups'
ADDRESSES = 'addresses'

UPDATABLE = ('name', 'description')


def regional_body(central_ag: dict) -> dict:
    return base.pick(central_ag, ('id', 'name', 'project_id', 'description',
                                  ADDRESSES))


def address_changes(central_ag: dict, regional_ag: dict
                    ) -> tuple[list[str], list[str]]:
    """(addresses the copy lacks, addresses central no longer has).

    Neutron stores them normalized (``10.0.0.0/24``), the same on both
    sides, so they compare as strings.
    """
    want = set(central_ag.get(ADDRESSES) or ())
    have = set(regional_ag.get(ADDRESSES) or ())
    return sorted(want - have), sorted(have - want)


def _not_found(res_id: str) -> Exception:
    from neutron_lib.exceptions import address_group as ag_exc
    return ag_exc.AddressGroupNotFound(address_group_id=res_id)


SPEC = base.ResourceSpec(
    name=RESOURCE_NAME, collection=COLLECTION_NAME, not_found=_not_found,
    regional_body=regional_body, updatable=UPDATABLE)
