"""The ``tricircle-xjob`` daemon: worker threads running due jobs."""
from __future__ import annotations

import signal
import threading
import time

from oslo_config import cfg
from oslo_log import log as logging

from tricircle.common import wakeup
from tricircle.db import audits
from tricircle.db import jobs as db_jobs
from tricircle.resources import jobs as job_shapes
from tricircle.xjob import engine as xjob_engine
from tricircle.xjob import probe
from tricircle.xjob import registry
from tricircle.xjob import workers

LOG = logging.getLogger(__name__)


class XJobService:
    def __init__(self, conf: cfg.ConfigOpts = cfg.CONF) -> None:
        self.conf = conf
        registry.load(conf.xjob.job_modules)
        self.engine = xjob_engine.Engine(conf)
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._threads: list[threading.Thread] = []
        self._listener = None
        self._workers = workers.WorkerPool(
            self._run_once, conf.xjob.workers, conf.xjob.spare_workers,
            self._idle_wait, self._stop)

    def start(self) -> None:
        self._listener = wakeup.start_listener(self.conf, self._wake,
                                               self.engine.name)
        if self.conf.xjob.pod_probe_interval:
            thread = threading.Thread(target=self._probe_loop,
                                      name='xjob-probe', daemon=True)
            thread.start()
            self._threads.append(thread)
        if self.conf.xjob.audit_interval:
            thread = threading.Thread(target=self._audit_loop,
                                      name='xjob-audit', daemon=True)
            thread.start()
            self._threads.append(thread)
        self._workers.start()
        LOG.info('tricircle-xjob %s started: %d workers, job types %s, %s',
                 self.engine.name, self.conf.xjob.workers,
                 ', '.join(t.name for t in registry.all_types()),
                 'woken by messages' if self._listener else
                 'polling every %.2fs' % self.conf.xjob.poll_interval)

    def _probe_loop(self) -> None:
        pods = probe.PodProbe(self.engine, self.conf,
                              on_return=self._wake.set)
        while not self._stop.is_set():
            try:
                pods.run_once()
                self._workers.rebalance(pods.calls_to_down_pods())
            except Exception:  # the DB may be briefly unavailable
                LOG.exception('pod probe failed; retrying')
            self._stop.wait(self.conf.xjob.pod_probe_interval)

    def _audit_loop(self) -> None:
        """Queue a drift audit pass when one is due. Every daemon looks;
        requests made at once share one run (one key)."""
        interval = self.conf.xjob.audit_interval
        while not self._stop.wait(min(interval, 5.0)):
            try:
                if audits.due(interval) and not db_jobs.count_live(
                        job_shapes.DRIFT_AUDIT.name):
                    job_shapes.audit_drift()
            except Exception:  # the DB may be briefly unavailable
                LOG.exception('drift audit not queued; retrying')

    def _run_once(self, worker: str) -> bool:
        return self.engine.run_once(worker, more_due=self._wake.set)

    def _idle_wait(self) -> None:
        self._wake.wait(self.conf.xjob.poll_interval)
        self._wake.clear()

    def stop(self, timeout: float = 30.0) -> None:
        """Finish the jobs in hand, then return (``timeout`` seconds at
        most)."""
        self._stop.set()
        self._wake.set()
        if self._listener is not None:
            self._listener.stop()
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        self._workers.join(deadline)
        LOG.info('tricircle-xjob %s stopped', self.engine.name)

    def wait(self) -> None:
        done = threading.Event()

        def _signal(signum, frame):
            LOG.info('signal %d received', signum)
            done.set()
        signal.signal(signal.SIGTERM, _signal)
        signal.signal(signal.SIGINT, _signal)
        done.wait()
        self.stop()
