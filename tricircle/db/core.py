"""Engine and sessions for the Tricircle DB.

Engines come from oslo.db so that driver errors are translated the same
way on SQLite and PostgreSQL: unique violations raise
``oslo_db.exception.DBDuplicateEntry``, foreign key violations
``DBReferenceError``.
"""
from __future__ import annotations

import contextlib
import threading
from typing import Iterator

import sqlalchemy as sa
from oslo_config import cfg
from oslo_db.sqlalchemy import engines
from sqlalchemy import orm

from tricircle.common import config

# Several processes (central Neutron, Admin API, XJob) share a SQLite file.
SQLITE_BUSY_TIMEOUT_MS = 30000

_lock = threading.Lock()
_engine: sa.Engine | None = None
_sessionmaker: orm.sessionmaker | None = None


def _tune_sqlite(engine: sa.Engine) -> None:
    @sa.event.listens_for(engine, 'connect')
    def _busy_timeout(dbapi_con, con_record):
        dbapi_con.execute('PRAGMA busy_timeout = %d' % SQLITE_BUSY_TIMEOUT_MS)

    # A deferred BEGIN that reads and then writes can fail at once with
    # "database is locked" (lock upgrade deadlock: the busy timeout does
    # not apply). BEGIN IMMEDIATE takes the write lock up front, so
    # concurrent transactions wait for each other instead. It replaces
    # oslo.db's plain BEGIN (SQLAlchemy ignores insert=True for engine
    # events, so ours cannot simply run first).
    for listener in list(engine.dispatch.begin):
        if getattr(listener, '__name__', '') == '_sqlite_emit_begin':
            sa.event.remove(engine, 'begin', listener)

    @sa.event.listens_for(engine, 'begin')
    def _begin_immediate(conn):
        if 'in_transaction' not in conn.info:  # oslo.db's marker
            conn.exec_driver_sql('BEGIN IMMEDIATE')
            conn.info['in_transaction'] = True


def create_engine(url: str) -> sa.Engine:
    """A new engine for ``url`` (also used by the migrations)."""
    engine = engines.create_engine(url, sqlite_fk=True, max_retries=5,
                                   retry_interval=2)
    if engine.dialect.name == 'sqlite':
        _tune_sqlite(engine)
    return engine


def get_engine() -> sa.Engine:
    """The process-wide engine for ``[DEFAULT] tricircle_db_connection``."""
    global _engine, _sessionmaker
    with _lock:
        if _engine is None:
            config.register_db_opts(cfg.CONF)
            url = cfg.CONF.tricircle_db_connection
            if not url:
                raise RuntimeError('[DEFAULT] tricircle_db_connection is '
                                   'not set')
            _engine = create_engine(url)
            _sessionmaker = orm.sessionmaker(bind=_engine,
                                             expire_on_commit=False)
        return _engine


@contextlib.contextmanager
def session_scope() -> Iterator[orm.Session]:
    """A session in one transaction: commit on success, else rollback."""
    get_engine()
    session = _sessionmaker()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def reset() -> None:
    """Forget the engine (tests, or after the connection URL changed)."""
    global _engine, _sessionmaker
    with _lock:
        if _engine is not None:
            _engine.dispose()
        _engine = None
        _sessionmaker = None
