"""sync_resource: bring one region's copy of one resource in line.

Reads the resource on central and its copy in the region, and applies
what the resource's spec says differs. Spec-driven cases:

- both exist: update the copy with ``spec.diff(central, regional)``;
- central has it, the region does not: nothing to bring up to date, and
  the routing is wrong; it is removed (the region copies the resource
  again the next time it uses it, and that records it again);
- the region has it, central does not: the copy is an orphan, deleted
  when the spec says so (``delete_orphans``).

It is idempotent, so one run satisfies any number of requests (XJob
coalesces them per key).
"""
from __future__ import annotations

from oslo_log import log as logging

from tricircle.db import sync_states
from tricircle import resources
from tricircle.resources import jobs as job_shapes
from tricircle.resources import regions
from tricircle.xjob import registry
from tricircle.xjob import security_group_copy

LOG = logging.getLogger(__name__)


def sync_resource(ctx, resource: dict) -> None:
    """Run ``_sync`` and record the copy's sync state either way."""
    try:
        _sync(ctx, resource)
    except Exception as exc:  # recorded for operators, then retried
        sync_states.mark_failed(resource['resource_type'],
                                resource['resource_id'],
                                resource['pod_id'],
                                '%s: %s' % (type(exc).__name__, exc))
        raise


def _sync(ctx, resource: dict) -> None:
    spec = resources.get(resource['resource_type'])
    res_id = resource['resource_id']
    pod_id = resource['pod_id']
    region = ctx.region_of_pod(pod_id)
    client = ctx.region_client(region)
    central = ctx.central_client().get(spec.name, res_id)
    regional = client.get(spec.name, res_id)
    if regional is None:
        regions.forget(pod_id, spec.name, res_id)
        LOG.info('%s %s: no copy in %s; its routing is removed', spec.name,
                 res_id, region)
        return
    if central is None:
        if spec.delete_orphans:
            client.delete(spec.name, res_id)
            regions.forget(pod_id, spec.name, res_id)
            LOG.info('%s %s: deleted its copy in %s (gone from central)',
                     spec.name, res_id, region)
        else:  # another job removes it (a router's: router_setup)
            sync_states.forget(spec.name, res_id, pod_id)
        return
    changes = spec.diff(central, regional)
    if changes:
        for dep_type, dep_id in spec.depends_on(central):
            # What the new values name (a port's new groups) must be in
            # the region first: it copies them as for a user.
            client.get(dep_type, dep_id, headers=regions.AS_USER)
        client.update(spec.name, res_id, changes)
        LOG.info('%s %s: updated %s in %s', spec.name, res_id,
                 ', '.join(sorted(changes)), region)
    if spec.name == resources.SECURITY_GROUP:
        done = security_group_copy.converge_rules(client, central, regional)
        if done:
            LOG.info('%s %s in %s: %s', spec.name, res_id, region,
                     '; '.join(done))
    sync_states.mark_in_sync(spec.name, res_id, pod_id,
                             central.get('revision_number'))


JOB = registry.JobType.of(job_shapes.SYNC_RESOURCE, sync_resource)
