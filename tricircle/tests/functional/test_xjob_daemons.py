"""Two real tricircle-xjob daemons on one PostgreSQL database."""
from __future__ import annotations

import collections
import json
import os
import signal
import sys
import time
import uuid

import pytest
from oslo_config import cfg

from tricircle.common import config
from tricircle.db import core
from tricircle.db import jobs
from tricircle.db.migration import cli as migration
from tricircle.sandbox import processes
from tricircle.xjob import api as xjob_api
from tricircle.xjob import registry
from tricircle.tests import xjob_probe

XJOB = os.path.join(os.path.dirname(sys.executable), 'tricircle-xjob')
pytestmark = pytest.mark.postgresql


@pytest.fixture
def job_db(postgres_server, tmp_path):
    name = 'xjob_%s' % uuid.uuid4().hex[:10]
    url = postgres_server.create_database(name)
    migration.upgrade(url)
    config.register_xjob_opts(cfg.CONF)
    cfg.CONF.set_override('tricircle_db_connection', url)
    core.reset()
    registry.register(xjob_probe.JOB)
    yield url
    core.reset()
    cfg.CONF.clear_override('tricircle_db_connection')
    postgres_server.drop_database(name)


class Daemons:
    def __init__(self, url: str, tmp_path, expire: float = 60.0) -> None:
        self.conf = tmp_path / 'xjob.conf'
        self.conf.write_text(
            '[DEFAULT]\ntricircle_db_connection = %s\n'
            '[xjob]\nworkers = 2\npoll_interval = 0.05\n'
            'job_run_expire = %s\nretry_interval = 0.2\n'
            'job_modules = tricircle.tests.xjob_probe\n' % (url, expire))
        self.log = str(tmp_path / 'probe.log')
        self.tmp_path = tmp_path
        self.pids: list[int] = []

    def start(self, sleep: float = 0.05) -> int:
        pid = processes.launch(
            [XJOB, '--config-file', str(self.conf)],
            str(self.tmp_path / ('xjob-%d.log' % len(self.pids))),
            env={'TRICIRCLE_PROBE_LOG': self.log,
                 'TRICIRCLE_PROBE_SLEEP': str(sleep)})
        self.pids.append(pid)
        return pid

    def events(self) -> list[dict]:
        if not os.path.exists(self.log):
            return []
        with open(self.log) as f:
            return [json.loads(line) for line in f]

    def stop(self) -> None:
        for pid in self.pids:
            processes.stop(pid)


def _wait(predicate, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, 'timed out'
        time.sleep(0.1)


def _open_jobs() -> list:
    return [j for j in jobs.list_all({}) if j['status'] != 'SUCCESS']


def test_two_daemons_200_requests_20_resources(job_db, tmp_path):
    daemons = Daemons(job_db, tmp_path)
    try:
        daemons.start()
        daemons.start()
        started = time.monotonic()
        for i in range(200):
            xjob_api.submit('probe', {'name': 'res-%d' % (i % 20)}, 'p1')
        _wait(lambda: not _open_jobs(), 60)
        elapsed = time.monotonic() - started
    finally:
        daemons.stop()
    events = daemons.events()
    runs = collections.defaultdict(list)
    for e in events:
        runs[e['name']].append(e)
    assert set(runs) == {'res-%d' % i for i in range(20)}
    for name, evs in runs.items():
        # Start/end strictly alternate: no two runs of a key overlapped.
        kinds = [e['event'] for e in sorted(evs, key=lambda e: e['t'])]
        assert kinds == ['start', 'end'] * (len(kinds) // 2), name
    total_runs = sum(1 for e in events if e['event'] == 'start')
    assert total_runs < 200  # superseded requests had no run of their own
    assert {e['pid'] for e in events} == set(daemons.pids)  # both worked
    logged = jobs.list_all({'status': 'SUCCESS'})
    assert {j['resource_id'] for j in logged} == set(runs)
    print('200 requests, 20 keys: %d runs in %.2fs' % (total_runs, elapsed))


def test_killed_daemon_job_completes_on_the_other(job_db, tmp_path):
    daemons = Daemons(job_db, tmp_path, expire=2)
    try:
        first = daemons.start(sleep=0.2)  # a slow-* run lasts 6 s
        xjob_api.submit('probe', {'name': 'slow-1'}, 'p1')
        _wait(lambda: any(e['event'] == 'start' for e in daemons.events()),
              30)
        os.kill(first, signal.SIGKILL)
        daemons.start(sleep=0.05)
        _wait(lambda: not _open_jobs(), 60)
    finally:
        daemons.stop()
    ends = [e for e in daemons.events() if e['event'] == 'end']
    assert [e['pid'] for e in ends] == [daemons.pids[1]]
    assert [j['resource_id'] for j in jobs.list_all(
        {'status': 'SUCCESS'})] == ['slow-1']


def test_flaky_job_succeeds_through_redo_with_failures_visible(job_db,
                                                               tmp_path):
    daemons = Daemons(job_db, tmp_path)
    job = xjob_api.submit('probe', {'name': 'flaky-x'}, 'p1')
    try:
        daemons.start()
        _wait(lambda: jobs.get(job['id'])['status'] == 'SUCCESS', 60)
    finally:
        daemons.stop()
    done = jobs.get(job['id'])
    assert done['attempts'] == 4  # runs: three failed, one succeeded
    fails = [e for e in daemons.events() if e['event'] == 'fail']
    assert len(fails) == 3
