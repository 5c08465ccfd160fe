"""tricircle.sandbox.postgres: what the sandbox relies on."""
from __future__ import annotations

import os
import shutil
import tempfile

import psutil
import pytest
import sqlalchemy as sa

from tricircle.sandbox import postgres
from tricircle.tests.conftest import free_port

pytestmark = pytest.mark.postgresql


@pytest.fixture
def base_dir():
    if postgres.find_bin_dir() is None:
        pytest.skip('PostgreSQL binaries not found')
    base = tempfile.mkdtemp(prefix='tricircle-pg-')
    os.chmod(base, 0o755)
    yield base
    shutil.rmtree(base, ignore_errors=True)


def test_lifecycle_and_stop_from_another_instance(base_dir):
    data_dir = os.path.join(base_dir, 'data')
    server = postgres.PostgresServer(data_dir, free_port())
    assert server.pid is None
    server.init()
    pid = server.start()
    try:
        # Known at once: the sandbox saves it before waiting.
        assert pid and server.pid == pid
        server.wait_ready(60)
        assert psutil.Process(pid).username() == 'postgres'
        url = server.create_database('tricircle_x')
        assert url == ('postgresql+psycopg2://postgres@127.0.0.1:%d/'
                       'tricircle_x' % server.port)
        engine = sa.create_engine(url)
        with engine.connect() as conn:
            assert conn.scalar(sa.text('SELECT 1')) == 1
        engine.dispose()
        with pytest.raises(ValueError):
            server.create_database('bad name; DROP')
        with pytest.raises(postgres.PostgresError):
            server.start()  # already running
        # `tricircle-sandbox down` knows only the data dir and the port.
        postgres.PostgresServer(data_dir, server.port).stop()
        assert not psutil.pid_exists(pid) or (
            psutil.Process(pid).status() == psutil.STATUS_ZOMBIE)
        assert server.pid is None
    finally:
        server.stop()


def test_init_refuses_a_used_directory(base_dir):
    data_dir = os.path.join(base_dir, 'data')
    os.makedirs(data_dir)
    open(os.path.join(data_dir, 'junk'), 'w').close()
    with pytest.raises(postgres.PostgresError):
        postgres.PostgresServer(data_dir, free_port()).init()
