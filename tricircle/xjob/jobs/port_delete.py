"""port_delete: remove a port's copy from one region."""
from __future__ import annotations

from tricircle.xjob import registry


def port_delete(ctx, resource: dict) -> None:
    region = ctx.region_of_pod(resource['pod_id'])
    # Already gone counts as done: deletes are idempotent.
    ctx.region_client(region).delete('port', resource['port_id'])


JOB = registry.JobType(
    name='port_delete', resource_keys=('pod_id', 'port_id'),
    handler=port_delete,
    description="Delete a central port's copy in one region.")
