"""sync_resource: bring one region's copy of one resource in line.

Reads the resource on central and its copy in the region, and applies
what the resource's spec says differs. Spec-driven cases:

- both exist: update the copy with ``spec.diff(central, regional)``, and
  record the routing if it was lost;
- central has it, the region does not: a type the region copies on
  demand (``RECREATED``) is copied again, asked for as a user would; for
  the others, or when the region will not hold it any more, the routing
  is wrong and is removed (the region copies the resource again the next
  time it uses it, and that records it again); a router's copy is its
  router_setup job's to make;
- the region has it, central does not: the copy is an orphan, deleted
  when the spec says so (``delete_orphans``), else by its own job.

The drift audit (tricircle.xjob.jobs.drift_audit) repairs through this
job too, so that audit and change are one path.

It is idempotent, so one run satisfies any number of requests (XJob
coalesces them per key).
"""
from __future__ import annotations


from neutron_lib import constants as n_const
from oslo_log import log as logging

from tricircle.db import api as db_api
from tricircle.db import sync_states
from tricircle import resources
from tricircle.resources import jobs as job_shapes
from tricircle.resources import neutron_client
from tricircle.resources import regions
from tricircle.resources import router as router_res
from tricircle.xjob import copy_parts
from tricircle.xjob import registry

LOG = logging.getLogger(__name__)

# A router copy's own ports: router_setup's, not this job's.
ROUTER_PORT_OWNERS = frozenset(router_res.INTERFACE_OWNERS) | {
    n_const.DEVICE_OWNER_ROUTER_GW}
# Types a region copies whole on a lookup by id (with what they need):
# a lost copy of one of them is made again.
RECREATED = (resources.NETWORK, resources.SUBNET, resources.SECURITY_GROUP,
             resources.ADDRESS_GROUP)


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
    regional, central = regions.at_once(
        lambda: client.get(spec.name, res_id),
        lambda: ctx.central_client().get(spec.name, res_id))
    if spec.name == resources.ROUTER and (regional is None or
                                          central is None):
        # Which regions hold a router's copy, with its interfaces and
        # routes, is router_setup's to decide.
        ctx.submit(job_shapes.ROUTER_SETUP.name, {'router_id': res_id})
        if central is None:
            sync_states.forget(spec.name, res_id, pod_id)
        return
    if regional is None and central is not None and \
            spec.name in RECREATED:
        regional = _recreate(client, spec.name, res_id, region)
    if regional is None:
        regions.forget(pod_id, spec.name, res_id)
        LOG.info('%s %s: no copy in %s; its routing is removed', spec.name,
                 res_id, region)
        return
    if central is None:
        if spec.name == resources.PORT and \
                regional.get('device_owner') in ROUTER_PORT_OWNERS:
            # A router copy's own port goes with its interface or gateway
            # (router_setup); Neutron refuses to delete it as a port.
            regions.forget(pod_id, spec.name, res_id)
            LOG.info('port %s: left to the router copy %s in %s', res_id,
                     regional.get('device_id'), region)
        elif spec.delete_orphans:
            client.delete(spec.name, res_id)
            regions.forget(pod_id, spec.name, res_id)
            LOG.info('%s %s: deleted its copy in %s (gone from central)',
                     spec.name, res_id, region)
        else:
            sync_states.forget(spec.name, res_id, pod_id)
        return
    changes = spec.diff(central, regional)
    if changes:
        # What the new values name (a port's new groups) must be in the
        # region first.
        regional = regions.with_dependencies(
            client, pod_id, spec.depends_on(central),
            lambda: client.update(spec.name, res_id, changes))
        LOG.info('%s %s: updated %s in %s', spec.name, res_id,
                 ', '.join(sorted(changes)), region)
    regional_revision = regional.get('revision_number')
    done = copy_parts.converge(client, pod_id, spec.name, central, regional)
    if done:
        LOG.info('%s %s in %s: %s', spec.name, res_id, region,
                 '; '.join(done))
        # A group's rules and addresses bump its revision there too. Not
        # read back here (a change queued for this copy waits for this
        # run to end): the drift audit reads the copy once, as one whose
        # revision moved, and records it.
        regional_revision = None
    db_api.ensure_routing(top_id=res_id, bottom_id=res_id, pod_id=pod_id,
                          project_id=central.get('project_id'),
                          resource_type=spec.name)
    sync_states.mark_in_sync(spec.name, res_id, pod_id,
                             central.get('revision_number'),
                             regional_revision)


def _recreate(client, resource_type: str, res_id: str,
              region: str) -> dict | None:
    """The region copies the resource again, as when a user first uses
    it there; its copy, or None if the region will not hold it."""
    try:
        regional = client.get(resource_type, res_id, headers=regions.AS_USER)
    except (neutron_client.RemoteBadRequest,
            neutron_client.RemoteConflict) as exc:
        LOG.warning('%s %s: %s refuses a copy: %s', resource_type, res_id,
                    region, exc)
        return None
    if regional is not None:
        LOG.info('%s %s: its lost copy in %s is made again', resource_type,
                 res_id, region)
    return regional


JOB = registry.JobType.of(job_shapes.SYNC_RESOURCE, sync_resource)
