"""Async jobs in the Tricircle DB: durable requests, one runner per key.

A *key* is (job type, resource id). Each request is a NEW row. A runner
claims a key by inserting its RUNNING row (the unique constraint on
type/status/resource_id/extra_id admits one), remembers which request rows
its run covers, and on success deletes exactly those rows and writes one
log row: requests that arrived during the run stay NEW and get a run of
their own, older ones are satisfied without one. A failed run leaves one
FAIL row (attempts, last error, when to retry). A run may also defer its
requests: they stay NEW, due at a later time. A RUNNING row older than
the expiry belongs to a dead runner and may be taken over.
"""
from __future__ import annotations

import dataclasses
import datetime
from typing import Any

from oslo_db import exception as db_exc
from oslo_utils import timeutils
from oslo_utils import uuidutils
import sqlalchemy as sa

from tricircle.common import exceptions as t_exc
from tricircle.db import core
from tricircle.db import models

NEW, RUNNING, SUCCESS, FAIL = 'NEW', 'RUNNING', 'SUCCESS', 'FAIL'
# extra_id of every RUNNING row: with the unique constraint, the lock.
RUNNING_LOCK = '00000000-0000-0000-0000-000000000000'

Job = models.AsyncJob
JobLog = models.AsyncJobLog


@dataclasses.dataclass
class Claim:
    """A runner's hold on a key and the requests its run satisfies."""
    type: str
    resource_id: str
    lock_id: str
    covers: list[str]
    newest_id: str
    project_id: str | None
    attempts: int
    # The hint of the one request the run covers, on its first try; None
    # when it covers several (a later one changed what the hint shows) or
    # after a failure (the hint may be why it failed).
    hint: dict | None = None


def submit(job_type: str, resource_id: str, project_id: str | None,
           hint: dict | None = None) -> dict[str, Any]:
    """Write a NEW request; it is durable before anything else happens.
    ``hint``: what the submitter had in hand, see Claim.hint."""
    with core.session_scope() as session:
        job = Job(id=uuidutils.generate_uuid(), type=job_type,
                  resource_id=resource_id, project_id=project_id,
                  status=NEW, timestamp=timeutils.utcnow(), attempts=0,
                  hint=hint)
        session.add(job)
        session.flush()
        return job.to_dict()


def runnable_keys(expire: float, limit: int = 20) -> list[tuple[str, str]]:
    """Keys with work due: NEW requests (not deferred, or whose time
    came), FAILs whose retry time came, and RUNNING rows older than
    ``expire`` seconds; oldest first."""
    now = timeutils.utcnow()
    stale = now - datetime.timedelta(seconds=expire)
    due = sa.or_(
        sa.and_(Job.status == NEW,
                sa.or_(Job.next_run_at.is_(None), Job.next_run_at <= now)),
        sa.and_(Job.status == FAIL, Job.next_run_at <= now),
        sa.and_(Job.status == RUNNING, Job.timestamp < stale))
    running = sa.orm.aliased(Job)
    held = (sa.select(running.id)
            .where(running.type == Job.type,
                   running.resource_id == Job.resource_id,
                   running.status == RUNNING, running.timestamp >= stale)
            .exists())
    stmt = (sa.select(Job.type, Job.resource_id,
                      sa.func.min(Job.timestamp).label('oldest'))
            .where(due, ~held).group_by(Job.type, Job.resource_id)
            .order_by('oldest').limit(limit))
    with core.session_scope() as session:
        return [(row.type, row.resource_id) for row in session.execute(stmt)]


def claim(job_type: str, resource_id: str, worker: str,
          expire: float) -> Claim | None:
    """Take the key, or None if another runner holds it (or no work)."""
    lock_id = uuidutils.generate_uuid()
    try:
        with core.session_scope() as session:
            session.add(Job(id=lock_id, type=job_type,
                            resource_id=resource_id, status=RUNNING,
                            extra_id=RUNNING_LOCK, worker=worker,
                            timestamp=timeutils.utcnow(), attempts=0))
    except db_exc.DBDuplicateEntry:
        if not _expire_running(job_type, resource_id, expire):
            return None
        return claim(job_type, resource_id, worker, expire)
    with core.session_scope() as session:
        pending = session.scalars(
            sa.select(Job).where(Job.type == job_type,
                                 Job.resource_id == resource_id,
                                 Job.status.in_((NEW, FAIL)))
            .order_by(Job.timestamp, Job.id)).all()
        if not pending:
            session.execute(sa.delete(Job).where(Job.id == lock_id))
            return None
        newest = pending[-1]
        alone = len(pending) == 1 and newest.status == NEW
        return Claim(job_type, resource_id, lock_id,
                     [j.id for j in pending], newest.id, newest.project_id,
                     max(j.attempts or 0 for j in pending),
                     newest.hint if alone else None)


def _expire_running(job_type: str, resource_id: str, expire: float) -> bool:
    """Remove the RUNNING row if its runner is overdue; True if removed."""
    stale = timeutils.utcnow() - datetime.timedelta(seconds=expire)
    with core.session_scope() as session:
        result = session.execute(sa.delete(Job).where(
            Job.type == job_type, Job.resource_id == resource_id,
            Job.status == RUNNING, Job.timestamp < stale))
        return result.rowcount > 0


def heartbeat(claim_: Claim) -> None:
    """A long run refreshes its RUNNING row so it is not taken over."""
    with core.session_scope() as session:
        session.execute(sa.update(Job).where(Job.id == claim_.lock_id)
                        .values(timestamp=timeutils.utcnow()))


def succeed(claim_: Claim) -> None:
    """Retire every request the run covered and log one success."""
    with core.session_scope() as session:
        newest = session.get(Job, claim_.newest_id)
        session.add(JobLog(
            id=claim_.newest_id, type=claim_.type,
            resource_id=claim_.resource_id, project_id=claim_.project_id,
            timestamp=newest.timestamp if newest else timeutils.utcnow(),
            # Runs made: the failed ones and this one.
            attempts=claim_.attempts + 1))
        session.execute(sa.delete(Job).where(
            Job.id.in_(claim_.covers + [claim_.lock_id])))


def fail(claim_: Claim, error: str, retry_in: float) -> None:
    """Keep one FAIL row (the newest request) with the error; drop the
    older requests it supersedes; release the key."""
    with core.session_scope() as session:
        older = [i for i in claim_.covers if i != claim_.newest_id]
        session.execute(sa.delete(Job).where(
            Job.id.in_(older + [claim_.lock_id])))
        session.execute(sa.update(Job).where(Job.id == claim_.newest_id)
                        .values(status=FAIL, attempts=claim_.attempts + 1,
                                last_error=error[:2000],
                                next_run_at=timeutils.utcnow() +
                                datetime.timedelta(seconds=retry_in)))


def defer(claim_: Claim, run_in: float) -> None:
    """Put the run off: the requests it covers stay as they are, due in
    ``run_in`` seconds (a request that comes meanwhile is due at once,
    and its run covers them); release the key."""
    with core.session_scope() as session:
        session.execute(sa.update(Job).where(Job.id.in_(claim_.covers))
                        .values(next_run_at=timeutils.utcnow() +
                                datetime.timedelta(seconds=run_in)))
        session.execute(sa.delete(Job).where(Job.id == claim_.lock_id))


def release(claim_: Claim) -> None:
    """Give the key back without running (shutting down)."""
    with core.session_scope() as session:
        session.execute(sa.delete(Job).where(Job.id == claim_.lock_id))


# -- what the Admin API shows ----------------------------------------------
def get(job_id: str) -> dict[str, Any]:
    """A live job or a logged success; JobNotFound otherwise."""
    with core.session_scope() as session:
        job = session.get(Job, job_id)
        if job is not None:
            return job.to_dict()
        log = session.get(JobLog, job_id)
        if log is not None:
            return dict(log.to_dict(), status=SUCCESS, last_error=None)
    raise t_exc.JobNotFound(job_id=job_id)


def list_all(filters: dict[str, Any]) -> list[dict[str, Any]]:
    """Live jobs newest first, then logged successes newest first."""
    status = filters.get('status')
    conds_live = [getattr(Job, k) == v for k, v in filters.items()
                  if k != 'status']
    conds_log = [getattr(JobLog, k) == v for k, v in filters.items()
                 if k != 'status']
    rows: list[dict[str, Any]] = []
    with core.session_scope() as session:
        if status != SUCCESS:
            if status:
                conds_live.append(Job.status == status)
            rows += [j.to_dict() for j in session.scalars(
                sa.select(Job).where(*conds_live)
                .order_by(Job.timestamp.desc(), Job.id.desc()))]
        if status in (None, SUCCESS):
            rows += [dict(j.to_dict(), status=SUCCESS, last_error=None)
                     for j in session.scalars(
                         sa.select(JobLog).where(*conds_log)
                         .order_by(JobLog.timestamp.desc(),
                                   JobLog.id.desc()))]
    return rows


def delete(job_id: str) -> None:
    """Delete a NEW or FAIL request; RUNNING and logged ones stay."""
    job = get(job_id)
    if job['status'] in (RUNNING, SUCCESS):
        raise t_exc.JobNotDeletable(job_id=job_id, status=job['status'])
    with core.session_scope() as session:
        session.execute(sa.delete(Job).where(Job.id == job_id))


def redo(job_id: str) -> dict[str, Any]:
    """Run a NEW or FAIL job as soon as a worker is free."""
    job = get(job_id)
    if job['status'] in (RUNNING, SUCCESS):
        raise t_exc.JobNotRedoable(job_id=job_id, status=job['status'])
    with core.session_scope() as session:
        session.execute(sa.update(Job).where(Job.id == job_id).values(
            next_run_at=timeutils.utcnow()))
    return get(job_id)


def retry_failed_now() -> int:
    """Make every FAILed job due at once (a region came back: what failed
    on it need not wait out its backoff); returns how many."""
    stmt = (sa.update(Job).where(Job.status == FAIL)
            .values(next_run_at=timeutils.utcnow()))
    with core.session_scope() as session:
        return session.execute(stmt).rowcount


def count_live(job_type: str, resource_id: str | None = None,
               resource_suffix: str | None = None) -> int:
    """Live (NEW, RUNNING or FAIL) requests of a type, for one resource
    id or the ids ending with ``resource_suffix``."""
    stmt = sa.select(sa.func.count()).select_from(Job).where(
        Job.type == job_type)
    if resource_id is not None:
        stmt = stmt.where(Job.resource_id == resource_id)
    if resource_suffix is not None:
        stmt = stmt.where(Job.resource_id.endswith(resource_suffix,
                                                   autoescape=True))
    with core.session_scope() as session:
        return session.scalar(stmt)


def live_statuses(job_type: str, resource_id: str) -> set[str]:
    """The statuses of the live requests of one key."""
    stmt = sa.select(Job.status).where(
        Job.type == job_type, Job.resource_id == resource_id).distinct()
    with core.session_scope() as session:
        return set(session.scalars(stmt))


def live_resource_ids(job_type: str, prefix: str,
                      status: str | None = None) -> set[str]:
    """Resource ids of the live requests of a type that start with
    ``prefix`` (only those in ``status``, if given)."""
    stmt = sa.select(Job.resource_id).where(
        Job.type == job_type,
        Job.resource_id.startswith(prefix, autoescape=True)).distinct()
    if status is not None:
        stmt = stmt.where(Job.status == status)
    with core.session_scope() as session:
        return set(session.scalars(stmt))

