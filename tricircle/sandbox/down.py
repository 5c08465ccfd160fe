"""``tricircle-sandbox down``: stop a sandbox, keep its logs.

Everything is stopped by PID (a PID counts only while its command line
names the sandbox, so a reused PID is never hit) and every namespace and
link is removed by name. Then the sandbox's own files go; the logs are
moved to ``<state dir>-logs/<time>/`` (the newest ``KEEP_RUNS`` are
kept) unless ``--purge``. The state dir itself goes only once it is
empty: files the sandbox did not make stay where they are.
"""
from __future__ import annotations

import concurrent.futures
import os
import shutil
import time
from typing import Callable

from tricircle.sandbox import processes
from tricircle.sandbox import state as sb_state

KEEP_RUNS = 5
# What a sandbox writes in its state dir (vms.json: vm.py; etc, data:
# up.py; *.tmp: an interrupted save).
OWN_ENTRIES = ('etc', 'data', sb_state.LOGS_DIR, sb_state.STATE_FILE,
               sb_state.CLOUDS_FILE, 'vms.json')

Out = Callable[[str], None]


def archive_root(state_dir: str) -> str:
    """Where ``down`` keeps the logs of the sandboxes of ``state_dir``."""
    state_dir = os.path.abspath(state_dir)
    return state_dir.rstrip('/') + '-logs'


def running(state: sb_state.SandboxState) -> dict[str, int]:
    """The sandbox's processes that still run (name -> PID)."""
    return {name: pid for name, pid in state.pids.items()
            if processes.owned_by(pid, state.pid_marker(name))
            and processes.is_running(pid)}


def down(state_dir: str, out: Out = print, purge: bool = False) -> None:
    """Stop every process the sandbox started, by PID; remove its files."""
    state_dir = os.path.abspath(state_dir)
    state = sb_state.SandboxState.load(state_dir)
    if state is not None:
        alive = running(state)
        # postgres last: the servers hold connections. The rest at once:
        # an OVS agent ignores SIGTERM for longer than the 10 s that
        # processes.stop gives it before SIGKILL.
        todo = [(n, p) for n, p in reversed(list(state.pids.items()))
                if n != 'postgres' and n in alive]
        for name, pid in todo:
            out('stopping %s (pid %d)' % (name, pid))
        if todo:
            with concurrent.futures.ThreadPoolExecutor(len(todo)) as pool:
                list(pool.map(lambda item: processes.stop(item[1]), todo))
        if state.postgres:
            _stop_postgres(state, 'postgres' in alive, out)
        if not state.plain or state.agents == 'ovs':
            # (a plain sandbox has hosts when Neutron's agents run)
            _destroy_fabric(state, out)
    logs = os.path.join(state_dir, sb_state.LOGS_DIR)
    if not purge and _has_files(logs):
        kept = _keep_logs(state_dir, logs)
        out('logs kept in %s ("down --purge" removes them)' % kept)
    _remove_own_files(state_dir, out)


def _stop_postgres(state: sb_state.SandboxState, alive: bool,
                   out: Out) -> None:
    from tricircle.sandbox import postgres
    if alive:
        out('stopping postgres (pid %d)' % state.pids['postgres'])
        postgres.PostgresServer(state.postgres['data_dir'],
                                state.postgres['port']).stop()
    # Its log lives beside its data, outside the state dir: keep it too.
    pg_log = state.postgres['data_dir'] + '.log'
    if os.path.exists(pg_log) and os.path.isdir(state.logs_dir):
        shutil.copyfile(pg_log, os.path.join(state.logs_dir,
                                             'postgres.log'))
    root = state.postgres.get('root')
    if root and os.path.basename(root).startswith('tricircle-pg-'):
        shutil.rmtree(root, ignore_errors=True)


def _destroy_fabric(state: sb_state.SandboxState, out: Out) -> None:
    """Every namespace and link of the sandbox's hosts and VMs, by name."""
    from tricircle.sandbox import hosts
    from tricircle.sandbox.dataplane import fabric
    fab = fabric.Fabric(hosts.fabric_tag(state))
    if fab.remove_outside():
        out('removed the outside namespace %s' % fab.outside_ns())
    left = fab.list_namespaces()
    fab.destroy()
    if left:
        out('removed %d namespaces of the sandbox hosts and VMs' % len(left))


def _has_files(path: str) -> bool:
    return any(files for _root, _dirs, files in os.walk(path))


def _keep_logs(state_dir: str, logs: str) -> str:
    """Move ``logs`` to a new dir under the archive; prune old ones."""
    root = archive_root(state_dir)
    os.makedirs(root, exist_ok=True)
    # Not in the project's "git status" when the state dir is in a clone.
    with open(os.path.join(root, '.gitignore'), 'w') as f:
        f.write('*\n')
    stamp = time.strftime('%Y%m%d-%H%M%S')
    dest, n = os.path.join(root, stamp), 1
    while os.path.exists(dest):
        n += 1
        dest = os.path.join(root, '%s-%d' % (stamp, n))
    shutil.move(logs, dest)
    runs = sorted(d for d in os.listdir(root)
                  if d[:8].isdigit() and d[8:9] == '-')
    for old in runs[:-KEEP_RUNS]:
        shutil.rmtree(os.path.join(root, old), ignore_errors=True)
    return dest


def _remove_own_files(state_dir: str, out: Out) -> None:
    if not os.path.isdir(state_dir):
        return
    for entry in os.listdir(state_dir):
        path = os.path.join(state_dir, entry)
        if entry in OWN_ENTRIES or entry.endswith('.tmp'):
            if os.path.isdir(path) and not os.path.islink(path):
                shutil.rmtree(path)
            else:
                os.unlink(path)
    left = os.listdir(state_dir)
    if left:
        out('left %s in place: it holds files the sandbox did not make '
            '(%s)' % (state_dir, ', '.join(sorted(left)[:5])))
    else:
        os.rmdir(state_dir)
        out('removed %s' % state_dir)
