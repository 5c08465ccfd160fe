"""XJob's worker pool: a worker held by a hung pod does not count."""
from __future__ import annotations

import socket
import threading
import time

from keystoneauth1 import session as ks_session
import pytest

from tricircle.resources import neutron_client
from tricircle.xjob import workers


def _until(predicate, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, 'not within %.0f s' % timeout
        time.sleep(0.01)


class _Jobs:
    """Due jobs as a queue; a job is an event its worker waits on."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.due: list[threading.Event] = []
        self.ran_by: list[str] = []

    def add(self) -> threading.Event:
        job = threading.Event()
        with self.lock:
            self.due.append(job)
        return job

    def work(self, worker: str) -> bool:
        with self.lock:
            if not self.due:
                return False
            job = self.due.pop(0)
            self.ran_by.append(worker)
        job.wait(10)
        return True


@pytest.fixture
def pool():
    jobs = _Jobs()
    stopping = threading.Event()
    made = workers.WorkerPool(jobs.work, 2, 3,
                              lambda: stopping.wait(0.01), stopping)
    made.jobs = jobs
    made.start()
    yield made
    stopping.set()
    for job in jobs.due:
        job.set()


def test_held_workers_get_spares_and_the_next_job_runs(pool):
    held = [pool.jobs.add(), pool.jobs.add()]
    _until(lambda: len(pool.jobs.ran_by) == 2)
    nxt = pool.jobs.add()
    time.sleep(0.1)
    assert len(pool.jobs.ran_by) == 2, 'both workers are held'

    pool.rebalance(stalled=2)
    _until(lambda: len(pool.jobs.ran_by) == 3)
    assert pool.jobs.ran_by[2].startswith('/spare')
    assert pool.spares == 2

    nxt.set()
    for job in held:
        job.set()
    pool.rebalance(stalled=0)
    _until(lambda: pool.spares == 0)


def test_spares_are_no_more_than_the_busy_workers_nor_the_limit(pool):
    pool.rebalance(stalled=5)
    assert pool.spares == 0, 'no worker is busy: none is held'
    held = [pool.jobs.add(), pool.jobs.add()]
    _until(lambda: len(pool.jobs.ran_by) == 2)
    pool.rebalance(stalled=7)  # one job may wait on several calls
    assert pool.spares == 2
    more = [pool.jobs.add() for _ in range(2)]
    _until(lambda: len(pool.jobs.ran_by) == 4)
    pool.rebalance(stalled=7)  # the spares are held too
    assert pool.spares == 3, 'spare_workers is the limit'
    for job in held + more:
        job.set()


def test_the_client_counts_its_calls_waiting_on_a_hung_server():
    """A server that accepts and answers nothing, as a SIGSTOPped
    Neutron does: the call is counted while it waits."""
    listener = socket.socket()
    listener.bind(('127.0.0.1', 0))
    listener.listen(4)
    url = 'http://127.0.0.1:%d' % listener.getsockname()[1]
    client = neutron_client.NeutronClient(
        ks_session.Session(timeout=1.0), url, 'hung Neutron', retries=0)
    errors = []

    def call():
        try:
            client.list('network')
        except neutron_client.RemoteUnavailable as exc:
            errors.append(exc)
    thread = threading.Thread(target=call)
    thread.start()
    try:
        _until(lambda: client.calls_in_flight == 1)
        thread.join(5)
        assert client.calls_in_flight == 0 and len(errors) == 1
    finally:
        listener.close()
