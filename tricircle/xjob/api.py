"""Jobs as the Admin API sees them: submitting any registered type, and
the public view of a job.

A job is written to the Tricircle DB first (durable), then the daemons are
woken if a message transport is configured; otherwise they find it on
their next poll. The plugins submit through tricircle.resources.jobs.
"""
from __future__ import annotations

from typing import Any

from tricircle.resources import jobs as job_shapes
from tricircle.xjob import registry


def submit(job_type: str, resource: dict[str, str],
           project_id: str | None) -> dict[str, Any]:
    """Register a job request; returns its public view."""
    return public_view(job_shapes.submit(registry.get(job_type), resource,
                                         project_id))


def _iso(value: Any) -> Any:
    return value.isoformat() if hasattr(value, 'isoformat') else value


def public_view(row: dict[str, Any]) -> dict[str, Any]:
    """A job as the Admin API shows it."""
    try:
        resource = registry.resource_of(registry.get(row['type']),
                                        row['resource_id'])
    except Exception:  # a type no longer known still shows its raw id
        resource = {'id': row['resource_id']}
    return {
        'id': row['id'],
        'project_id': row.get('project_id'),
        'type': row['type'],
        'timestamp': _iso(row['timestamp']),
        'status': row['status'],
        'resource': resource,
        'attempts': row.get('attempts') or 0,
        'last_error': row.get('last_error'),
        # When a FAIL job is retried, or a put-off NEW job runs.
        'next_run_at': _iso(row.get('next_run_at')),
    }
