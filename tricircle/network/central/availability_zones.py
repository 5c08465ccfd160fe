"""Availability zones of the central Neutron: the registered regions."""
from __future__ import annotations

from tricircle.db import api as db_api
from tricircle.network import exceptions as t_exc
from tricircle.resources import regions


def validate(hints: list[str] | None) -> None:
    """Every hint must be a pod's region name or availability zone."""
    if not hints:
        return
    known = set()
    for pod in db_api.list_pods():
        if pod['az_name']:  # the central pod hosts nothing
            known.update((pod['region_name'], pod['az_name']))
    for hint in hints:
        if hint not in known:
            raise t_exc.AvailabilityZoneHintNotFound(hint=hint)


def regions_of(hints: list[str]) -> list[str]:
    """Region names for hints that may be AZ or region names."""
    return regions.of_hints(hints)
