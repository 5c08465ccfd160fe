"""Availability zones of the central Neutron: the registered regions."""
from __future__ import annotations

from neutron_lib.api.validators import availability_zone as az_validator
from neutron_lib.plugins import directory

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


def external_network_region(context, network_id: str) -> str | None:
    """The one region an (external) network is hinted to, or None; its
    row alone is read."""
    network = directory.get_plugin()._get_network(context.elevated(),
                                                  network_id)
    return regions.only_region(az_validator.convert_az_string_to_list(
        network.availability_zone_hints))
