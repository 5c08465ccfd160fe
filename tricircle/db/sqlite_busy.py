"""SQLite's "database is locked" is a deadlock: let callers retry it.

When a transaction that has read wants to write while another connection
is committing, SQLite returns SQLITE_BUSY at once instead of waiting (the
wait could never end). With several processes on one SQLite file (the
sandbox: a Neutron server and its host agent) that is a real, transient
conflict. oslo.db reports it as a plain OperationalError, which Neutron
turns into a 500; reported as DBDeadlock, Neutron's and our own retry
decorators run the operation again.
"""
from __future__ import annotations

from oslo_db import exception as db_exc
from oslo_db.sqlalchemy import exc_filters
from sqlalchemy import exc as sqla_exc

_LOCKED = r'.*database is locked.*'
_registered = False


def _locked_is_deadlock(error, match, engine_name, is_disconnect):
    raise db_exc.DBDeadlock(error)


def register() -> None:
    """Install the filter (once per process)."""
    global _registered
    if not _registered:
        exc_filters.filters('sqlite', sqla_exc.OperationalError,
                            _LOCKED)(_locked_is_deadlock)
        _registered = True
