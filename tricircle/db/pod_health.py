"""Pod health: what XJob's periodic probe of each pod's Neutron found."""
from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from oslo_db import exception as db_exc

from tricircle.db import core
from tricircle.db import models
from tricircle.db import sync_states

UP, DOWN, UNKNOWN = 'up', 'down', 'unknown'
STATES = (UP, DOWN, UNKNOWN)
Health = models.PodHealth


def record(pod_id: str, error: str | None) -> str:
    """Record one probe (``error`` None: it answered); returns the state
    before it (UNKNOWN for a pod never probed)."""
    now = models.utcnow()
    for _attempt in range(2):  # another daemon's first probe may win
        try:
            with core.session_scope() as session:
                row = session.scalars(sa.select(Health).where(
                    Health.pod_id == pod_id).with_for_update()
                ).one_or_none()
                before = row.state if row is not None else UNKNOWN
                if row is None:
                    row = Health(pod_id=pod_id)
                    session.add(row)
                row.state = DOWN if error else UP
                row.checked_at = now
                row.last_error = (error[:sync_states.ERROR_LIMIT] if error
                                  else None)
                if not error:
                    row.last_seen = now
            return before
        except db_exc.DBDuplicateEntry:
            continue
    raise db_exc.DBDuplicateEntry(columns=['pod_id'])


def down_pods() -> set[str]:
    """Pods the last probe found down."""
    with core.session_scope() as session:
        return set(session.scalars(sa.select(Health.pod_id).where(
            Health.state == DOWN)))


def all_health() -> dict[str, dict[str, Any]]:
    """pod id -> its health row."""
    with core.session_scope() as session:
        return {row.pod_id: row.to_dict()
                for row in session.scalars(sa.select(Health))}


def view(health: dict[str, Any] | None) -> dict[str, Any]:
    """The health fields of a pod as the Admin API shows them."""
    if health is None:
        return {'health': UNKNOWN, 'last_seen': None}
    return {'health': health['state'], 'last_seen': health['last_seen']}
