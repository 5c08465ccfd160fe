"""SQLite's immediate "database is locked" becomes a retriable deadlock."""
from __future__ import annotations

import sqlite3

import pytest
import sqlalchemy as sa
from oslo_db import exception as db_exc
from oslo_db.sqlalchemy import engines

from tricircle.db import sqlite_busy


def _locked_write(path) -> None:
    engine = engines.create_engine('sqlite:///%s' % path)
    with engine.connect() as conn:
        conn.exec_driver_sql('CREATE TABLE IF NOT EXISTS t (x INTEGER)')
        conn.commit()
    holder = sqlite3.connect(str(path))
    holder.execute('BEGIN EXCLUSIVE')  # another process is committing
    try:
        with engine.connect() as conn:
            conn.exec_driver_sql('PRAGMA busy_timeout = 0')
            conn.execute(sa.text('INSERT INTO t VALUES (1)'))
    finally:
        holder.rollback()
        holder.close()
        engine.dispose()


def test_locked_database_is_a_deadlock(tmp_path):
    sqlite_busy.register()
    sqlite_busy.register()  # idempotent
    with pytest.raises(db_exc.DBDeadlock) as caught:
        _locked_write(tmp_path / 'db.sqlite')
    assert 'database is locked' in str(caught.value)


def test_other_operational_errors_stay_what_they_are(tmp_path):
    sqlite_busy.register()
    engine = engines.create_engine('sqlite:///%s' % (tmp_path / 'x.sqlite'))
    with pytest.raises(db_exc.DBError) as caught:
        with engine.connect() as conn:
            conn.execute(sa.text('SELECT * FROM no_such_table'))
    assert not isinstance(caught.value, db_exc.DBDeadlock)
