"""Fixtures that bring a real sandbox up once per test session."""
from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from typing import Iterator

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


@contextlib.contextmanager
def running_sandbox(tmp_path_factory, name: str,
                    *up_args: str) -> Iterator[sb_state.SandboxState]:
    """A sandbox of its own (``tricircle-sandbox up *up_args``), taken
    down again whatever happens."""
    state_dir = str(tmp_path_factory.mktemp(name) / 'state')
    try:
        up = sandbox_cmd('up', *up_args, '--state-dir', state_dir)
        print(up.stdout)
        yield sb_state.SandboxState.load(state_dir)
    finally:
        sandbox_cmd('down', '--state-dir', state_dir, check=False)


@pytest.fixture(scope='session')
def sandbox(tmp_path_factory) -> sb_state.SandboxState:
    """central + RegionOne + RegionTwo + Admin API on SQLite."""
    with running_sandbox(tmp_path_factory, 'sandbox',
                         '--regions', '2') as state:
        yield state


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
    with running_sandbox(tmp_path_factory, 'pg-sandbox', '--regions', '2',
                         '--db', 'postgresql') as state:
        yield state
