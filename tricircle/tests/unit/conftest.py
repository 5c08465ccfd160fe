"""Fixtures: a Tricircle DB on SQLite or a private PostgreSQL server."""
from __future__ import annotations

import os
import sys
import uuid

import pytest
import sqlalchemy as sa
from oslo_config import cfg

from tricircle.api import policy
from tricircle.common import config
from tricircle.db import api as db_api
from tricircle.db import core
from tricircle.db.migration import cli as migration
from tricircle.xjob import head_starts

BIN_DIR = os.path.dirname(sys.executable)
BACKENDS = ['sqlite', pytest.param('postgresql',
                                   marks=pytest.mark.postgresql)]


@pytest.fixture(scope='session', autouse=True)
def parsed_conf():
    """cfg.CONF parsed without files, as a server's main() would do."""
    config.register_api_opts(cfg.CONF)
    config.register_xjob_opts(cfg.CONF)
    cfg.CONF([], project='tricircle', default_config_files=[])
    yield cfg.CONF
    cfg.CONF.reset()


@pytest.fixture(autouse=True)
def fresh_head_starts(monkeypatch):
    """What head starts recorded lives in the process: no test sees
    another's."""
    for name in ('_routers', 'floatingips'):
        monkeypatch.setattr(head_starts, name, head_starts.Records())
    monkeypatch.setattr(head_starts, 'gateways', head_starts.Records(
        head_starts.GATEWAY_VALID_FOR))


@pytest.fixture(params=BACKENDS)
def db_url(request, tmp_path):
    """URL of a new, empty database on each backend."""
    if request.param == 'sqlite':
        yield 'sqlite:///%s' % (tmp_path / 'tricircle.sqlite')
        return
    server = request.getfixturevalue('postgres_server')
    name = 'tricircle_%s' % uuid.uuid4().hex[:12]
    url = server.create_database(name)
    try:
        yield url
    finally:
        core.reset()  # drop our connections before the database
        server.drop_database(name)


def _use_db(url: str):
    config.register_db_opts(cfg.CONF)
    migration.upgrade(url)
    cfg.CONF.set_override('tricircle_db_connection', url)
    core.reset()
    try:
        yield url
    finally:
        core.reset()
        cfg.CONF.clear_override('tricircle_db_connection')


@pytest.fixture
def db(db_url):
    """A migrated Tricircle DB (both backends) behind tricircle.db.core."""
    yield from _use_db(db_url)


@pytest.fixture
def sqlite_db(tmp_path):
    """A migrated Tricircle DB on SQLite only."""
    yield from _use_db('sqlite:///%s' % (tmp_path / 'tricircle.sqlite'))


def snapshot() -> dict[str, list]:
    """Every row of every table: to prove a request changed nothing."""
    engine = core.get_engine()
    with engine.connect() as conn:
        metadata = sa.MetaData()
        metadata.reflect(conn)
        return {name: sorted(map(tuple, conn.execute(table.select())),
                             key=repr)
                for name, table in sorted(metadata.tables.items())}


@pytest.fixture
def api_app(sqlite_db):
    """The Admin API in noauth mode on a SQLite DB."""
    from tricircle.api import app as api_app_mod
    config.register_api_opts(cfg.CONF)
    cfg.CONF.set_override('auth_strategy', 'noauth')
    try:
        yield api_app_mod.setup_app(cfg.CONF)
    finally:
        cfg.CONF.clear_override('auth_strategy')
        policy.reset()


@pytest.fixture
def region_pods(sqlite_db):
    """Pods R1 and R2 in a SQLite Tricircle DB."""
    for region in ('R1', 'R2'):
        db_api.create_pod({'region_name': region, 'az_name': region,
                           'pod_az_name': region, 'dc_name': 'dc'})
