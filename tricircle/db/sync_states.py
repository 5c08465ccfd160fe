"""Sync state per (resource, region): is a region's copy in line?

Every path that changes a regional copy writes here: a region's first
fetch (the lazy copy), central queueing a sync, XJob's ``sync_resource``
run and its failures, central deleting the copies. Revisions are central's
``revision_number``: ``target_revision`` is the newest one central has
queued for the copy, ``revision_number`` the one the copy was last brought
to. A copy is in sync when it has reached its target.
"""
from __future__ import annotations

from typing import Any, Callable

import sqlalchemy as sa
from oslo_db import exception as db_exc
from oslo_log import log as logging

from tricircle.db import core
from tricircle.db import models

LOG = logging.getLogger(__name__)

PENDING, IN_SYNC, FAILED, DELETING = 'pending', 'in_sync', 'failed', \
    'deleting'
STATES = (PENDING, IN_SYNC, FAILED, DELETING)
FIELDS = ('resource_type', 'resource_id', 'pod_id', 'state',
          'revision_number', 'target_revision', 'regional_revision',
          'last_error', 'created_at', 'updated_at')
# An error is kept for operators, not as a log: its first characters.
ERROR_LIMIT = 2000

State = models.SyncState


def _change(resource_type: str, resource_id: str, pod_id: str,
            apply: Callable[[models.SyncState], None]) -> dict[str, Any]:
    """``apply`` to the row of the key, made (pending) if missing."""
    key = (State.resource_type == resource_type,
           State.resource_id == resource_id, State.pod_id == pod_id)
    for _attempt in range(2):  # a concurrent insert wins the first time
        try:
            with core.session_scope() as session:
                row = session.scalars(
                    sa.select(State).where(*key).with_for_update()
                ).one_or_none()
                if row is None:
                    row = State(resource_type=resource_type,
                                resource_id=resource_id, pod_id=pod_id,
                                state=PENDING)
                    session.add(row)
                apply(row)
                session.flush()
                return row.to_dict()
        except db_exc.DBDuplicateEntry:
            continue
    raise db_exc.DBDuplicateEntry(columns=['resource_type', 'resource_id',
                                           'pod_id'])


def _newest(*revisions: int | None) -> int | None:
    known = [r for r in revisions if r is not None]
    return max(known) if known else None


def mark_pending(resource_type: str, resource_id: str, pod_id: str,
                 target_revision: int | None = None) -> dict[str, Any]:
    """Central has queued a change of the copy (to ``target_revision``)."""
    def apply(row: models.SyncState) -> None:
        row.target_revision = _newest(row.target_revision, target_revision)
        if row.state != DELETING:
            row.state = PENDING
    return _change(resource_type, resource_id, pod_id, apply)


def mark_in_sync(resource_type: str, resource_id: str, pod_id: str,
                 revision: int | None,
                 regional_revision: int | None = None) -> dict[str, Any]:
    """The copy now reflects central at ``revision``; it stays pending if
    central has queued a newer change meanwhile. ``regional_revision``:
    the copy's own revision number then (what the drift audit compares
    next time)."""
    def apply(row: models.SyncState) -> None:
        if regional_revision is not None:
            row.regional_revision = regional_revision
        row.revision_number = _newest(row.revision_number, revision)
        row.target_revision = _newest(row.target_revision, revision)
        row.last_error = None
        reached = (row.target_revision is None or
                   (row.revision_number is not None and
                    row.revision_number >= row.target_revision))
        row.state = IN_SYNC if reached else PENDING
    return _change(resource_type, resource_id, pod_id, apply)


def mark_failed(resource_type: str, resource_id: str, pod_id: str,
                error: str) -> dict[str, Any]:
    """The last attempt to bring the copy in line failed (it is retried).
    A copy being deleted stays ``deleting``, with the error."""
    def apply(row: models.SyncState) -> None:
        row.last_error = error[:ERROR_LIMIT]
        if row.state != DELETING:
            row.state = FAILED
    return _change(resource_type, resource_id, pod_id, apply)


def mark_deleting(resource_type: str, resource_id: str,
                  pod_id: str) -> dict[str, Any]:
    """Central has deleted the resource; the copy is to go."""
    def apply(row: models.SyncState) -> None:
        row.state = DELETING
    return _change(resource_type, resource_id, pod_id, apply)


def forget(resource_type: str, resource_id: str,
           pod_id: str | None = None) -> int:
    """The region (every region if None) holds no copy any more."""
    stmt = sa.delete(State).where(State.resource_type == resource_type,
                                  State.resource_id == resource_id)
    if pod_id is not None:
        stmt = stmt.where(State.pod_id == pod_id)
    with core.session_scope() as session:
        return session.execute(stmt).rowcount


def list_states(resource_type: str, resource_id: str
                ) -> list[dict[str, Any]]:
    """Every region's state of one resource, by pod id."""
    stmt = (sa.select(State).where(State.resource_type == resource_type,
                                   State.resource_id == resource_id)
            .order_by(State.pod_id))
    with core.session_scope() as session:
        return [row.to_dict() for row in session.scalars(stmt)]


def mark_copied(resource_type: str, resource_id: str, pod_id: str,
                revision: int | None) -> None:
    """A region fetched the resource to copy it: a first copy is in sync
    at the served revision; a known copy keeps its state (a region also
    lists what it holds already, and a sync may be underway)."""
    try:
        with core.session_scope() as session:
            if session.get(State, (resource_type, resource_id, pod_id)):
                return
            session.add(State(resource_type=resource_type,
                              resource_id=resource_id, pod_id=pod_id,
                              state=IN_SYNC, revision_number=revision,
                              target_revision=revision))
    except db_exc.DBDuplicateEntry:
        pass  # a concurrent fetch recorded it first


def of_pod(resource_type: str, pod_id: str) -> dict[str, dict[str, Any]]:
    """Resource id -> state row, of one type in one region."""
    stmt = sa.select(State).where(State.resource_type == resource_type,
                                  State.pod_id == pod_id)
    with core.session_scope() as session:
        return {row.resource_id: row.to_dict()
                for row in session.scalars(stmt)}
