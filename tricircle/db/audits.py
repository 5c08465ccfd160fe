"""Drift audits: each pass of XJob's comparison of central and regions.

A pass is ``running`` until every (region, resource type) step is done,
then ``finished``. One pass runs at a time: XJob runs it as a job with a
single key (tricircle.xjob.jobs.drift_audit), and a pass whose daemon
died is taken over and resumes after its last finished step. Counts are
by kind of drift.
"""
from __future__ import annotations

import datetime
from typing import Any

from oslo_utils import timeutils
from oslo_utils import uuidutils
import sqlalchemy as sa

from tricircle.common import exceptions as t_exc
from tricircle.db import core
from tricircle.db import models

RUNNING, FINISHED = 'running', 'finished'
# Kinds of drift, each with its repair:
MISSING = 'missing'          # routed copy gone from its region: recreate
DRIFTED = 'drifted'          # copy's attributes differ: update
ORPHAN = 'orphan'            # central resource gone: delete the copy
STALE_ROUTING = 'stale_routing'  # routing of a copy nobody holds: remove
UNROUTED = 'unrouted'        # copy with no routing: record the routing
KINDS = (MISSING, DRIFTED, ORPHAN, STALE_ROUTING, UNROUTED)
FIELDS = ('id', 'state', 'worker', 'started_at', 'finished_at', 'checked',
          'found', 'repaired', 'skipped_pods')

Audit = models.DriftAudit


def _zero() -> dict[str, int]:
    return {kind: 0 for kind in KINDS}


def _view(row: models.DriftAudit) -> dict[str, Any]:
    view = {k: getattr(row, k) for k in FIELDS}
    view['found'] = {**_zero(), **(row.found or {})}
    view['repaired'] = {**_zero(), **(row.repaired or {})}
    view['done'] = list(row.done or [])
    return view


def resume_or_start(worker: str) -> dict[str, Any]:
    """The running pass (its daemon died), taken over; else a new one."""
    with core.session_scope() as session:
        row = session.scalars(sa.select(Audit).where(
            Audit.state == RUNNING).order_by(Audit.started_at)
            .with_for_update()).first()
        if row is None:
            row = Audit(id=uuidutils.generate_uuid(), state=RUNNING,
                        started_at=timeutils.utcnow(), checked=0, done=[],
                        found=_zero(), repaired=_zero(), skipped_pods=[])
            session.add(row)
        row.worker = worker
        session.flush()
        return _view(row)


def step_done(audit_id: str, step: str, checked: int,
              found: dict[str, int], repaired: dict[str, int]) -> None:
    """Add one step's counts; a step already recorded is not counted
    twice (a daemon that died after recording it)."""
    with core.session_scope() as session:
        row = session.scalars(sa.select(Audit).where(
            Audit.id == audit_id).with_for_update()).one()
        if step in (row.done or []):
            return
        # JSON columns change by new values, not in place.
        row.done = list(row.done or []) + [step]
        row.checked = (row.checked or 0) + checked
        row.found = {k: (row.found or {}).get(k, 0) + found.get(k, 0)
                     for k in KINDS}
        row.repaired = {k: (row.repaired or {}).get(k, 0) +
                        repaired.get(k, 0) for k in KINDS}


def skip_pod(audit_id: str, pod_id: str) -> None:
    """The pod was down: this pass leaves it for the next."""
    with core.session_scope() as session:
        row = session.scalars(sa.select(Audit).where(
            Audit.id == audit_id).with_for_update()).one()
        if pod_id not in (row.skipped_pods or []):
            row.skipped_pods = list(row.skipped_pods or []) + [pod_id]


def finish(audit_id: str) -> dict[str, Any]:
    with core.session_scope() as session:
        row = session.get(Audit, audit_id)
        row.state = FINISHED
        row.finished_at = timeutils.utcnow()
        session.flush()
        return _view(row)


def due(interval: float) -> bool:
    """No pass is running and none started in the last ``interval``
    seconds."""
    since = timeutils.utcnow() - datetime.timedelta(seconds=interval)
    with core.session_scope() as session:
        recent = session.scalar(sa.select(sa.func.count()).select_from(
            Audit).where(sa.or_(Audit.state == RUNNING,
                                Audit.started_at > since)))
    return not recent


def get(audit_id: str) -> dict[str, Any]:
    with core.session_scope() as session:
        row = session.get(Audit, audit_id)
        if row is None:
            raise t_exc.AuditNotFound(audit_id=audit_id)
        return _view(row)


def list_recent(limit: int = 20) -> list[dict[str, Any]]:
    """The newest passes first."""
    with core.session_scope() as session:
        return [_view(row) for row in session.scalars(
            sa.select(Audit).order_by(Audit.started_at.desc(),
                                      Audit.id.desc()).limit(limit))]


def totals() -> dict[str, dict[str, int]]:
    """Found and repaired over every pass kept."""
    found, repaired = _zero(), _zero()
    with core.session_scope() as session:
        for row in session.scalars(sa.select(Audit)):
            for kind in KINDS:
                found[kind] += (row.found or {}).get(kind, 0)
                repaired[kind] += (row.repaired or {}).get(kind, 0)
    return {'found': found, 'repaired': repaired}
