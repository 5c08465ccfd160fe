"""The job engine on SQLite and PostgreSQL, in one process."""
from __future__ import annotations

import json

import pytest
from oslo_config import cfg
from oslo_utils import timeutils

from tricircle.common import config
from tricircle.common import exceptions as t_exc
from tricircle.db import jobs
from tricircle.resources import jobs as job_shapes
from tricircle.tests import xjob_probe
from tricircle.xjob import api as xjob_api
from tricircle.xjob import engine as xjob_engine
from tricircle.xjob import registry


@pytest.fixture
def engine(db, tmp_path, monkeypatch):
    config.register_xjob_opts(cfg.CONF)
    cfg.CONF.set_override('retry_interval', 0, group='xjob')
    monkeypatch.setenv('TRICIRCLE_PROBE_LOG', str(tmp_path / 'probe.log'))
    monkeypatch.setenv('TRICIRCLE_PROBE_SLEEP', '0')
    registry.register(xjob_probe.JOB)
    yield xjob_engine.Engine(cfg.CONF, name='test')
    cfg.CONF.clear_override('retry_interval', group='xjob')


def _events(tmp_path) -> list[dict]:
    with open(tmp_path / 'probe.log') as f:
        return [json.loads(line) for line in f]


def _drain(engine) -> int:
    runs = 0
    while engine.run_once():
        runs += 1
    return runs


def test_queued_requests_coalesce_into_one_run(engine, tmp_path):
    for _ in range(10):
        xjob_api.submit('probe', {'name': 'a'}, 'p1')
    xjob_api.submit('probe', {'name': 'b'}, 'p1')
    assert _drain(engine) == 2
    starts = [e for e in _events(tmp_path) if e['event'] == 'start']
    assert sorted((e['name'], e['covers']) for e in starts) == [
        ('a', 10), ('b', 1)]
    assert jobs.list_all({'status': 'NEW'}) == []
    logged = jobs.list_all({'status': 'SUCCESS'})
    assert sorted(j['resource_id'] for j in logged) == ['a', 'b']


def test_only_a_first_run_of_one_request_has_its_hint(engine, tmp_path):
    """What the submitter had in hand reaches the run covering its
    request alone, on its first try; a run covering a later request too
    (which may have changed what the hint shows), or one after a failure,
    has none: it reads what it needs."""
    shape = registry.get('probe')
    hint = {'floatingip': {'id': 'f1'}, 'region': 'R1'}
    job_shapes.submit(shape, {'name': 'alone'}, 'p1', hint)
    job_shapes.submit(shape, {'name': 'two'}, 'p1', hint)
    job_shapes.submit(shape, {'name': 'two'}, 'p1', {'region': 'R2'})
    job_shapes.submit(shape, {'name': 'flaky-h'}, 'p1', hint)
    assert _drain(engine) == 6  # flaky-h fails 3 times
    starts = [(e['name'], e['hint']) for e in _events(tmp_path)
              if e['event'] == 'start']
    assert sorted(starts[:3]) == [('alone', hint), ('flaky-h', hint),
                                  ('two', None)]
    assert starts[3:] == [('flaky-h', None)] * 3


def test_a_run_with_more_jobs_due_calls_the_idle_workers(engine):
    """One change queues a job per region: the worker taking the first
    says so, and an idle worker can take the next at once."""
    xjob_api.submit('probe', {'name': 'r1'}, 'p1')
    xjob_api.submit('probe', {'name': 'r2'}, 'p1')
    calls = []
    assert engine.run_once(more_due=lambda: calls.append('wake'))
    assert calls == ['wake']
    # The last one due: nobody else to call.
    assert engine.run_once(more_due=lambda: calls.append('wake'))
    assert calls == ['wake']
    assert not engine.run_once(more_due=lambda: calls.append('wake'))


def test_failing_job_is_retried_until_success(engine, tmp_path):
    job = xjob_api.submit('probe', {'name': 'flaky-1'}, 'p1')
    assert engine.run_once()
    failed = jobs.get(job['id'])
    assert failed['status'] == 'FAIL' and failed['attempts'] == 1
    assert 'probe failure 1' in failed['last_error']
    assert _drain(engine) == 3  # two more failures, then success
    done = jobs.get(job['id'])
    # Attempts count runs: three failed, one succeeded.
    assert done['status'] == 'SUCCESS' and done['attempts'] == 4


def test_running_key_is_not_claimed_twice(engine):
    xjob_api.submit('probe', {'name': 'c'}, 'p1')
    held = jobs.claim('probe', 'c', 'w1', expire=60)
    assert held is not None
    assert jobs.claim('probe', 'c', 'w2', expire=60) is None
    assert not engine.run_once()
    jobs.succeed(held)
    assert jobs.list_all({'status': 'NEW'}) == []


def test_expired_runner_is_taken_over(engine):
    xjob_api.submit('probe', {'name': 'd'}, 'p1')
    dead = jobs.claim('probe', 'd', 'w1', expire=60)
    assert dead is not None
    assert jobs.claim('probe', 'd', 'w2', expire=60) is None
    taken = jobs.claim('probe', 'd', 'w2', expire=0)
    assert taken is not None and taken.covers == dead.covers


def test_request_during_a_run_gets_its_own_run(engine):
    xjob_api.submit('probe', {'name': 'e'}, 'p1')
    claim = jobs.claim('probe', 'e', 'w1', expire=60)
    later = xjob_api.submit('probe', {'name': 'e'}, 'p1')
    jobs.succeed(claim)
    assert jobs.get(later['id'])['status'] == 'NEW'


def test_submit_validates_type_and_resource(engine):
    with pytest.raises(t_exc.UnknownJobType):
        xjob_api.submit('nope', {'name': 'x'}, 'p1')
    with pytest.raises(t_exc.InvalidInput):
        xjob_api.submit('probe', {'name': 'x', 'other': 'y'}, 'p1')
    with pytest.raises(t_exc.InvalidInput):
        xjob_api.submit('probe', {'name': 'a#b'}, 'p1')
    assert jobs.list_all({}) == []


def test_delete_and_redo_rules(engine):
    job = xjob_api.submit('probe', {'name': 'flaky-2'}, 'p1')
    engine.run_once()
    assert jobs.redo(job['id'])['status'] == 'FAIL'
    claim = jobs.claim('probe', 'flaky-2', 'w1', expire=60)
    running = [j for j in jobs.list_all({'status': 'RUNNING'})]
    with pytest.raises(t_exc.JobNotDeletable):
        jobs.delete(running[0]['id'])
    with pytest.raises(t_exc.JobNotRedoable):
        jobs.redo(running[0]['id'])
    jobs.release(claim)
    jobs.delete(job['id'])
    with pytest.raises(t_exc.JobNotFound):
        jobs.get(job['id'])


class _PutOff:
    """A job type that defers its first run by ``seconds``."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.runs: list[int] = []   # requests covered, per run done

    def __call__(self, ctx, resource: dict) -> None:
        if not self.runs and self.seconds is not None:
            seconds, self.seconds = self.seconds, None
            raise registry.Defer(seconds, 'not yet')
        self.runs.append(len(ctx.claim.covers))


@pytest.fixture
def put_off(engine):
    def register(seconds: float) -> _PutOff:
        handler = _PutOff(seconds)
        registry.register(registry.JobType('put-off', ('name',), handler))
        return handler
    return register


def test_a_deferred_run_waits_for_its_time_and_fails_nothing(
        engine, put_off):
    handler = put_off(60)
    job = xjob_api.submit('put-off', {'name': 'x'}, 'p1')
    assert engine.run_once()
    later = jobs.get(job['id'])
    # Still a request, not a failure: no attempt counted, no error.
    assert later['status'] == 'NEW' and later['attempts'] == 0
    assert later['last_error'] is None and later['next_run_at']
    assert not engine.run_once()    # not due yet, and the key is free
    assert jobs.claim('put-off', 'x', 'w', expire=60) is not None
    assert handler.runs == []


def test_a_request_meanwhile_runs_at_once_covering_the_deferred(
        engine, put_off):
    handler = put_off(60)
    xjob_api.submit('put-off', {'name': 'x'}, 'p1')
    assert engine.run_once()
    second = xjob_api.submit('put-off', {'name': 'x'}, 'p1')
    assert engine.run_once()
    assert handler.runs == [2]
    assert jobs.list_all({'status': 'NEW'}) == []
    assert jobs.get(second['id'])['status'] == 'SUCCESS'


def test_a_deferred_run_comes_when_due_or_redone(engine, put_off):
    handler = put_off(60)
    xjob_api.submit('put-off', {'name': 'x'}, 'p1')
    timeutils.set_time_override()
    try:
        assert engine.run_once() and not engine.run_once()
        timeutils.advance_time_seconds(59)
        assert not engine.run_once()
        timeutils.advance_time_seconds(2)
        assert engine.run_once() and handler.runs == [1]
    finally:
        timeutils.clear_time_override()
    handler = put_off(60)
    job = xjob_api.submit('put-off', {'name': 'y'}, 'p1')
    assert engine.run_once() and not engine.run_once()
    jobs.redo(job['id'])
    assert engine.run_once() and handler.runs == [1]
