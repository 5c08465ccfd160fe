"""Fixtures that bring a real sandbox up once per test session."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tricircle.sandbox import state as sb_state

SANDBOX_BIN = os.path.join(os.path.dirname(sys.executable),
                           'tricircle-sandbox')


def sandbox_cmd(*args: str, check: bool = True,
                timeout: float = 300) -> subprocess.CompletedProcess:
    """Run the real ``tricircle-sandbox`` command."""
    proc = subprocess.run([SANDBOX_BIN, *args], capture_output=True,
                          text=True, timeout=timeout)
    if check and proc.returncode != 0:
        raise AssertionError('tricircle-sandbox %s failed (%d):\n%s\n%s' % (
            ' '.join(args), proc.returncode, proc.stdout, proc.stderr))
    return proc


@pytest.fixture(scope='session')
def sandbox(tmp_path_factory) -> sb_state.SandboxState:
    """central + RegionOne + RegionTwo + Admin API on SQLite."""
    state_dir = str(tmp_path_factory.mktemp('sandbox') / 'state')
    try:
        up = sandbox_cmd('up', '--regions', '2', '--state-dir', state_dir)
        print(up.stdout)
        yield sb_state.SandboxState.load(state_dir)
    finally:
        sandbox_cmd('down', '--state-dir', state_dir, check=False)


@pytest.fixture(scope='session')
def central(sandbox):
    from tricircle.sandbox import demo
    return demo.connect(sandbox, 'central')


@pytest.fixture(scope='session')
def regions(sandbox):
    from tricircle.sandbox import demo
    return {name: demo.connect(sandbox, name) for name in sandbox.regions}


@pytest.fixture(scope='module')
def pg_sandbox(tmp_path_factory) -> sb_state.SandboxState:
    """The same sandbox on a private PostgreSQL: concurrency is real."""
    state_dir = str(tmp_path_factory.mktemp('pg-sandbox') / 'state')
    try:
        sandbox_cmd('up', '--regions', '2', '--db', 'postgresql',
                    '--state-dir', state_dir)
        yield sb_state.SandboxState.load(state_dir)
    finally:
        sandbox_cmd('down', '--state-dir', state_dir, check=False)
