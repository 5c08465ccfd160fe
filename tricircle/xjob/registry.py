"""Job types: their names, the keys that name the resource, their handler.

Each job type lives in its own module under ``tricircle.xjob.jobs`` (or a
module named in ``[xjob] job_modules``) and exposes ``JOB``. A job's
resource id is its key values joined by ``#``, in key order.
"""
from __future__ import annotations

import dataclasses
import importlib
from typing import Any, Callable

from tricircle.common import exceptions as t_exc

SEPARATOR = '#'
BUILTIN_MODULES = (
    'tricircle.xjob.jobs.update_network',
    'tricircle.xjob.jobs.update_subnet',
    'tricircle.xjob.jobs.update_port',
    'tricircle.xjob.jobs.port_delete',
    'tricircle.xjob.jobs.shadow_port_setup',
)


@dataclasses.dataclass(frozen=True)
class JobType:
    name: str
    resource_keys: tuple[str, ...]
    # handler(ctx: tricircle.xjob.engine.JobContext, resource: dict)
    handler: Callable[[Any, dict], None]
    description: str = ''


_TYPES: dict[str, JobType] = {}


def load(extra_modules: list[str] | tuple[str, ...] = ()) -> None:
    """Import the built-in job modules and any extra ones."""
    for name in (*BUILTIN_MODULES, *extra_modules):
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
    """The resource id of a job; exactly the type's keys are accepted."""
    given, wanted = set(resource), set(job_type.resource_keys)
    if given != wanted:
        raise t_exc.InvalidInput(reason='job type %s needs resource keys %s'
                                 ' (missing: %s, unknown: %s)' % (
                                     job_type.name,
                                     ', '.join(job_type.resource_keys),
                                     ', '.join(sorted(wanted - given)) or '-',
                                     ', '.join(sorted(given - wanted)) or
                                     '-'))
    values = [resource[k] for k in job_type.resource_keys]
    for key, value in zip(job_type.resource_keys, values):
        if not isinstance(value, str) or not value.strip() or \
                SEPARATOR in value:
            raise t_exc.InvalidInput(reason='resource %s must be a '
                                     'non-blank string without "%s"' % (
                                         key, SEPARATOR))
    return SEPARATOR.join(values)


def resource_of(job_type: JobType, res_id: str) -> dict[str, str]:
    return dict(zip(job_type.resource_keys, res_id.split(SEPARATOR)))
