"""Job types: what each job does, found through entry points.

Each job type lives in its own module, named in the entry-point namespace
``tricircle.xjob.jobs`` (or in ``[xjob] job_modules``), and exposes
``JOB``. Names and resource keys of the types the plugins submit are in
tricircle.resources.jobs.
"""
from __future__ import annotations

import dataclasses
import importlib
from importlib import metadata
from typing import Any, Callable

from oslo_log import log as logging

from tricircle.common import exceptions as t_exc
from tricircle.resources import jobs as job_shapes

LOG = logging.getLogger(__name__)
ENTRY_POINTS = 'tricircle.xjob.jobs'


@dataclasses.dataclass(frozen=True)
class JobType:
    name: str
    resource_keys: tuple[str, ...]
    # handler(ctx: tricircle.xjob.engine.JobContext, resource: dict)
    handler: Callable[[Any, dict], None]
    description: str = ''

    @classmethod
    def of(cls, shape: job_shapes.JobShape,
           handler: Callable[[Any, dict], None]) -> JobType:
        return cls(shape.name, shape.resource_keys, handler,
                   shape.description)


class Defer(Exception):
    """Raised by a handler to run later: its requests stay, due in
    ``seconds`` (tricircle.db.jobs.defer). Not a failure."""

    def __init__(self, seconds: float, reason: str) -> None:
        super().__init__(reason)
        self.seconds = seconds
        self.reason = reason


_TYPES: dict[str, JobType] = {}


def load(extra_modules: list[str] | tuple[str, ...] = ()) -> None:
    """Register the job types of the entry points and any extra modules."""
    for entry_point in metadata.entry_points(group=ENTRY_POINTS):
        register(entry_point.load().JOB)
    for name in extra_modules:
        register(importlib.import_module(name).JOB)


def register(job_type: JobType) -> None:
    _TYPES[job_type.name] = job_type


def get(name: str) -> JobType:
    if not _TYPES:
        load()
    try:
        return _TYPES[name]
    except KeyError:
        raise t_exc.UnknownJobType(type=name,
                                   known=', '.join(sorted(_TYPES)))


def all_types() -> list[JobType]:
    if not _TYPES:
        load()
    return sorted(_TYPES.values(), key=lambda t: t.name)


def resource_id(job_type: JobType, resource: dict[str, str]) -> str:
    return job_shapes.resource_id(job_type, resource)


def resource_of(job_type: JobType, res_id: str) -> dict[str, str]:
    return job_shapes.resource_of(job_type, res_id)
