"""drift_audit: compare central with every region and repair the drift.

One pass walks each region that is up, resource type by type (every type
with a spec), and sorts what it finds (tricircle.xjob.drift):

- a routed copy missing from its region: made again;
- a copy whose attributes drifted from central's: updated;
- a routed copy whose central resource is gone (an orphan): deleted;
- a routing of a copy no region holds, or a copy without its routing:
  the routing is repaired.

Every repair is a ``sync_resource`` job, so audit and change are one
path, and a job's key is held by one runner at a time. The pass runs the
due jobs itself while it waits for its repairs (so it does not depend on
another worker being free), then records the step's counts
(tricircle.db.audits). The pass is the single key ``drift_audit/all``:
one runs at a time across daemons, and a pass whose daemon died is taken
over and resumes after its last recorded step.
"""
from __future__ import annotations

import time

from oslo_config import cfg
from oslo_log import log as logging

from tricircle.db import api as db_api
from tricircle.db import audits
from tricircle.db import jobs as db_jobs
from tricircle.db import pod_health
from tricircle.db import models
from tricircle.db import sync_states
from tricircle import resources
from tricircle.resources import jobs as job_shapes
from tricircle.xjob import drift
from tricircle.xjob import registry

LOG = logging.getLogger(__name__)
# A routing this young may belong to a copy being made right now (a
# port is created on central just before its region makes the copy).
ROUTING_GRACE = 10.0
SEP = job_shapes.SEPARATOR


def drift_audit(ctx, resource: dict) -> None:
    audit = audits.resume_or_start(ctx.worker)
    if audit['done']:
        LOG.info('drift audit %s resumed after %d steps', audit['id'],
                 len(audit['done']))
    conf = cfg.CONF.xjob
    central = ctx.central_client()
    down = pod_health.down_pods()
    listed: dict[str, tuple[dict, set]] = {}  # type -> central listing
    for pod in db_api.list_pods():
        if not pod['az_name']:
            continue  # central's own pod
        if pod['pod_id'] in down:
            audits.skip_pod(audit['id'], pod['pod_id'])
            LOG.info('drift audit %s: %s is down, left for the next pass',
                     audit['id'], pod['region_name'])
            continue
        for spec in resources.SPECS.values():
            step = '%s/%s' % (pod['pod_id'], spec.name)
            if step in audit['done']:
                continue
            if spec.name not in listed:
                listed[spec.name] = drift.revisions(
                    drift.pages(central, spec.name, conf.audit_page_size,
                                drift.list_fields(spec.name)), spec.name)
            _step(ctx, audit['id'], step, pod, spec, listed[spec.name])
            ctx.heartbeat()
    done = audits.finish(audit['id'])
    LOG.info('drift audit %s finished: %d copies checked, found %s, '
             'repaired %s%s', done['id'], done['checked'],
             _counts(done['found']), _counts(done['repaired']),
             ', skipped (down): %s' % ', '.join(done['skipped_pods'])
             if done['skipped_pods'] else '')


def _counts(by_kind: dict[str, int]) -> str:
    return ', '.join('%s %d' % kv for kv in by_kind.items() if kv[1]) or \
        'nothing'


def _step(ctx, audit_id: str, step: str, pod: dict, spec,
          central_listing: tuple[dict, set]) -> None:
    conf = cfg.CONF.xjob
    pod_id, region = pod['pod_id'], pod['region_name']
    client = ctx.region_client(region)
    central, central_skip = central_listing
    regional, regional_skip = drift.revisions(
        drift.pages(client, spec.name, conf.audit_page_size,
                    drift.list_fields(spec.name)), spec.name)
    skip = central_skip | regional_skip
    young = models.utcnow().timestamp() - ROUTING_GRACE
    routed, fresh = set(), set()
    for routing in db_api.list_routings({'pod_id': pod_id,
                                         'resource_type': spec.name}):
        created = routing.get('created_at')
        if created is not None and created.timestamp() > young:
            fresh.add(routing['top_id'])
        routed.add(routing['top_id'])
    prefix = SEP.join((pod_id, spec.name, ''))
    busy = _live_syncs(prefix)
    states = sync_states.of_pod(spec.name, pod_id)
    central = {k: v for k, v in central.items() if k not in skip}
    regional = {k: v for k, v in regional.items() if k not in skip}
    found = drift.classify(spec.name, central, regional, routed - skip,
                           states, busy)
    for kind in (audits.MISSING, audits.STALE_ROUTING):
        found.found[kind] = [i for i in found.found[kind] if i not in fresh]
    found.found[audits.DRIFTED] = _compare(ctx, client, spec, pod_id,
                                           found.to_compare,
                                           central, regional)
    repairs = {kind: ids for kind, ids in found.found.items() if ids}
    for kind, ids in repairs.items():
        LOG.info('drift audit %s, %s %ss in %s: %s', audit_id, kind,
                 spec.name, region, ', '.join(ids))
        for res_id in ids:
            job_shapes.sync(pod_id, spec.name, res_id, None)
    repaired = _wait_for(ctx, prefix, repairs, conf.audit_repair_wait)
    audits.step_done(audit_id, step, found.checked,
                     {k: len(v) for k, v in repairs.items()}, repaired)


def _compare(ctx, client, spec, pod_id: str, ids: list[str],
             central_revs: dict, regional_revs: dict) -> list[str]:
    """Of copies whose revisions moved, those that drifted; the others
    are recorded in line at their new revisions."""
    drifted = []
    for chunk in drift.batches(ids):
        central = drift.by_ids(ctx.central_client(), spec.name, chunk)
        regional = drift.by_ids(client, spec.name, chunk)
        for res_id in chunk:
            if res_id not in central or res_id not in regional:
                continue  # changed meanwhile: the next pass sees it
            if drift.differs(spec, central[res_id], regional[res_id]):
                drifted.append(res_id)
            else:
                sync_states.mark_in_sync(
                    spec.name, res_id, pod_id,
                    central[res_id].get(drift.REVISION),
                    regional[res_id].get(drift.REVISION))
        ctx.heartbeat()
    return drifted


def _live_syncs(prefix: str) -> set[str]:
    """Ids of the resources of ``prefix`` (pod, type) whose sync job is
    queued or running."""
    return {key[len(prefix):] for key in db_jobs.live_resource_ids(
        job_shapes.SYNC_RESOURCE.name, prefix)}


def _wait_for(ctx, prefix: str, repairs: dict[str, list[str]],
              timeout: float) -> dict[str, int]:
    """Run due jobs until the repairs are done (or ``timeout``); the
    count of done repairs by kind."""
    keys = {res_id for ids in repairs.values() for res_id in ids}
    deadline = time.monotonic() + timeout
    live = keys
    while keys:
        live = _live_syncs(prefix) & keys
        if not live or time.monotonic() > deadline:
            break
        if not ctx.run_due():
            time.sleep(0.2)
        ctx.heartbeat()
    return {kind: len([i for i in ids if i not in live])
            for kind, ids in repairs.items()}


JOB = registry.JobType.of(job_shapes.DRIFT_AUDIT, drift_audit)
