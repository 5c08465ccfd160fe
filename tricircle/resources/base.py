"""What a resource spec is: one resource type's regional shape, as data.

A spec says, for a resource type that central owns and regions copy:
its name and collection, its not-found error, how a region's copy is
built from the central resource, which attributes may change in a region
(and are pushed there), and what a copy needs in the region first. The
plugins and XJob are driven by specs; they hold no per-type tables.
"""
from __future__ import annotations

import dataclasses
from typing import Any, Callable

# A dependency of a copy: (resource type, id) that must be in the region.
Dependency = tuple[str, str]


def pick(resource: dict, keys) -> dict:
    """The attributes among ``keys`` that ``resource`` has."""
    return {k: resource[k] for k in keys if k in resource}


def _as_comparable(value: Any) -> Any:
    # Neutron returns lists (security groups, address pairs, DNS servers)
    # in no guaranteed order: a region's copy in another order is no drift.
    if isinstance(value, list):
        return sorted(repr(_as_comparable(v)) for v in value)
    if isinstance(value, dict):
        return {k: _as_comparable(v) for k, v in value.items()}
    return value


def _no_dependencies(central: dict) -> list[Dependency]:
    return []


@dataclasses.dataclass(frozen=True)
class ResourceSpec:
    """One resource type, as the plugins and XJob see it."""
    # Singular name, as in the API body ('security_group') and in routings.
    name: str
    # The API collection, as neutron-lib names it ('security_groups').
    collection: str
    # ``not_found(id)``: the Neutron error for a missing resource.
    not_found: Callable[[str], Exception]
    # ``regional_body(central)``: the body of the region's copy.
    regional_body: Callable[[dict], dict]
    # Attributes whose change on central is pushed to every copy.
    updatable: tuple[str, ...] = ()
    # ``depends_on(central)``: what must be in the region before the copy.
    depends_on: Callable[[dict], list[Dependency]] = _no_dependencies
    # A copy in a region whose central resource is gone is deleted.
    delete_orphans: bool = True

    def changed(self, original: dict, updated: dict) -> dict:
        """The updatable attributes an update on central changed."""
        return {k: updated[k] for k in self.updatable
                if k in updated and
                _as_comparable(original.get(k)) != _as_comparable(updated[k])}

    def diff(self, central: dict, regional: dict) -> dict:
        """The updatable attributes in which a region's copy differs from
        central: what an update of the copy must set."""
        return self.changed(regional, central)
