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
