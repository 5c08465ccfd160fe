"""``tricircle-sandbox`` run as a user runs it, without a sandbox: help,
the refusals of ``up``, ``down`` keeping logs, errors as one line."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tricircle.sandbox import down as sb_down

SANDBOX_BIN = os.path.join(os.path.dirname(sys.executable),
                           'tricircle-sandbox')


def run(*args: str, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([SANDBOX_BIN, *args], capture_output=True,
                          text=True, timeout=60, **kwargs)


def one_error_line(proc: subprocess.CompletedProcess) -> str:
    assert proc.returncode != 0, proc.stdout
    assert 'Traceback' not in proc.stdout + proc.stderr, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith('ERROR: '), proc.stderr
    return lines[0]


def fake_sandbox(state_dir, pids: dict[str, int]) -> dict[str, float]:
    """A plain sandbox's files (plain: no namespaces to look for)."""
    os.makedirs(os.path.join(state_dir, 'logs'))
    with open(os.path.join(state_dir, 'sandbox.json'), 'w') as f:
        json.dump({'plain': True, 'pids': pids, 'regions': {}}, f)
    with open(os.path.join(state_dir, 'logs', 'neutron-x.log'), 'w') as f:
        f.write('a log line\n')
    return snapshot(state_dir)


def snapshot(state_dir) -> dict[str, float]:
    return {os.path.join(root, f): os.stat(os.path.join(root, f)).st_mtime_ns
            for root, _dirs, files in os.walk(state_dir) for f in files}


def test_help_explains_every_option_without_rst_markup():
    top = run('--help')
    assert top.returncode == 0 and '``' not in top.stdout
    helps = {cmd: run('help', *cmd.split()) for cmd in (
        'up', 'down', 'status', 'demo', 'tempest', 'vm', 'vm create',
        'vm ping')}
    for cmd, proc in helps.items():
        assert proc.returncode == 0, (cmd, proc.stderr)
        assert '``' not in proc.stdout, cmd
    assert 'postgresql with' in helps['up'].stdout
    assert 'default: ovs' in helps['up'].stdout
    create = ' '.join(helps['vm create'].stdout.split())
    for option, words in (('name', 'name of the new VM'),
                          ('--region REGION', 'the region whose Neutron'),
                          ('--network NETWORK', 'name or id of a network')):
        assert '%s %s' % (option, words) in create, option
    tempest = helps['tempest'].stdout
    assert 'tempest workers' in tempest
    assert run('help').stdout == top.stdout
    assert 'no command' in one_error_line(run('help', 'nosuch'))


def test_up_refuses_a_sandbox_whose_processes_are_gone(tmp_path):
    state_dir = str(tmp_path / 'sb')
    before = fake_sandbox(state_dir, {'neutron-x': 2 ** 22 + 1})
    line = one_error_line(run('up', '--state-dir', state_dir))
    assert 'processes are all gone' in line and 'down' in line
    assert snapshot(state_dir) == before


def test_up_refuses_a_running_sandbox_and_reuse_takes_it(tmp_path):
    state_dir = str(tmp_path / 'sb')
    # A process whose command line names the state dir, as ours do.
    child = subprocess.Popen(['sh', '-c', 'sleep 60', state_dir])
    try:
        before = fake_sandbox(state_dir, {'neutron-x': child.pid})
        line = one_error_line(run('up', '--state-dir', state_dir))
        assert 'already up' in line and 'nothing was changed' in line
        assert child.poll() is None and snapshot(state_dir) == before
        reuse = run('up', '--reuse', '--state-dir', state_dir)
        assert reuse.returncode == 0 and 'reusing' in reuse.stdout
        assert child.poll() is None and snapshot(state_dir) == before
    finally:
        child.kill()
        child.wait()


def test_down_keeps_the_logs_and_the_users_files(tmp_path):
    state_dir = str(tmp_path / 'sb')
    fake_sandbox(state_dir, {})
    with open(os.path.join(state_dir, 'notes.txt'), 'w') as f:
        f.write('mine')
    proc = run('down', '--state-dir', state_dir)
    assert proc.returncode == 0, proc.stderr
    root = sb_down.archive_root(state_dir)
    [kept] = [d for d in os.listdir(root) if not d.startswith('.')]
    assert 'logs kept in %s' % os.path.join(root, kept) in proc.stdout
    with open(os.path.join(root, kept, 'neutron-x.log')) as f:
        assert f.read() == 'a log line\n'
    assert os.listdir(state_dir) == ['notes.txt']
    # --purge: no logs kept; an empty state dir goes.
    os.unlink(os.path.join(state_dir, 'notes.txt'))
    os.rmdir(state_dir)
    fake_sandbox(state_dir, {})
    purge = run('down', '--purge', '--state-dir', state_dir)
    assert purge.returncode == 0 and 'logs kept' not in purge.stdout
    assert not os.path.exists(state_dir)
    assert len([d for d in os.listdir(root) if not d.startswith('.')]) == 1


def test_down_keeps_only_the_newest_runs(tmp_path):
    state_dir = str(tmp_path / 'sb')
    for _ in range(sb_down.KEEP_RUNS + 2):
        fake_sandbox(state_dir, {})
        assert run('down', '--state-dir', state_dir).returncode == 0
    runs = [d for d in os.listdir(sb_down.archive_root(state_dir))
            if not d.startswith('.')]
    assert len(runs) == sb_down.KEEP_RUNS


@pytest.mark.parametrize('args', [
    ('demo',), ('vm', 'list'), ('vm', 'ping', 'a', 'b'),
    ('vm', 'create', 'a', '--region', 'RegionOne', '--network', 'n'),
])
def test_commands_without_a_sandbox_say_so_in_one_line(tmp_path, args):
    line = one_error_line(run(*args, '--state-dir', str(tmp_path / 'no')))
    assert 'no Tricircle sandbox' in line


def test_status_and_down_without_a_sandbox(tmp_path):
    status = run('status', '--state-dir', str(tmp_path / 'no'))
    assert status.returncode == 1 and 'no sandbox' in status.stdout
    assert 'Traceback' not in status.stderr
    down = run('down', '--state-dir', str(tmp_path / 'no'))
    assert down.returncode == 0 and 'nothing to do' in down.stdout


@pytest.mark.parametrize('args', [
    ('--debug', 'demo'), ('vm', 'list', '--debug'), ('--debug', 'vm', 'list')])
def test_debug_shows_the_traceback(tmp_path, args):
    proc = run(*args, '--state-dir', str(tmp_path / 'no'))
    assert proc.returncode != 0
    assert 'Traceback (most recent call last)' in proc.stderr
