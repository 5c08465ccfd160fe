"""Fixtures shared by unit and functional tests."""
from __future__ import annotations

import os
import shutil
import socket
import tempfile

import pytest

from tricircle.sandbox import postgres


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


@pytest.fixture(scope='session')
def postgres_server():
    """One throwaway PostgreSQL server for the whole session."""
    if postgres.find_bin_dir() is None:
        pytest.skip('PostgreSQL binaries not found in '
                    '/usr/lib/postgresql/*/bin')
    # Not under pytest's tmp dirs: those are private to root, and the
    # server runs as the postgres user.
    base = tempfile.mkdtemp(prefix='tricircle-pg-')
    os.chmod(base, 0o755)
    server = postgres.PostgresServer(os.path.join(base, 'data'), free_port())
    try:
        server.init()
        server.start()
        server.wait_ready(60)
        yield server
    finally:
        server.stop()
        shutil.rmtree(base, ignore_errors=True)


# The session's shared sandbox (tests/sandbox/conftest.py) runs from its
# first user to the end of the session, and its agents, servers and drift
# audit keep two cores busy meanwhile. Its modules run last, after the
# unit tests and the modules with sandboxes of their own, so that nothing
# else shares the machine with it. A module moves as a whole: its module
# fixtures are set up once.
SHARED_SANDBOX = 'sandbox'


def pytest_collection_modifyitems(session, config, items) -> None:
    shared = {item.module for item in items
              if SHARED_SANDBOX in getattr(item, 'fixturenames', ())}
    items.sort(key=lambda item: item.module in shared)
