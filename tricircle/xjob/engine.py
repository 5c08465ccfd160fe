"""Run due jobs: claim a key, run its handler, record the outcome."""
from __future__ import annotations

import os
import socket
import threading
import traceback
from typing import Callable

from oslo_config import cfg
from oslo_log import log as logging

from tricircle.db import api as db_api
from tricircle.db import jobs
from tricircle.db import pod_health
from tricircle.resources import jobs as job_shapes
from tricircle.resources import neutron_client
from tricircle.resources import regions
from tricircle.xjob import registry

LOG = logging.getLogger(__name__)


class JobContext:
    """What a handler may use: region clients, central, more jobs."""

    def __init__(self, engine: Engine, claim: jobs.Claim,
                 worker: str = '') -> None:
        self._engine = engine
        self.claim = claim
        self.project_id = claim.project_id
        self.worker = engine.name + worker
        # What the submitter had in hand (jobs.Claim.hint), or None.
        self.hint = claim.hint

    def region_client(self, region: str) -> neutron_client.NeutronClient:
        return self._engine.region_client(region)

    def central_client(self) -> neutron_client.NeutronClient:
        return self._engine.central_client()

    def region_of_pod(self, pod_id: str) -> str:
        return db_api.get_pod(pod_id)['region_name']

    def submit(self, job_type: str, resource: dict) -> dict:
        return job_shapes.submit(registry.get(job_type), resource,
                                 self.project_id)

    def heartbeat(self) -> None:
        """Refresh the run's hold on its key (the engine does it too)."""
        jobs.heartbeat(self.claim)

    def run_due(self) -> bool:
        """Run one other due job in this thread (a job waiting for the
        jobs it submitted need not count on a free worker)."""
        return self._engine.run_once(self.worker[len(self._engine.name):]
                                     + '+')


class Engine:
    def __init__(self, conf: cfg.ConfigOpts = cfg.CONF,
                 name: str | None = None) -> None:
        self.conf = conf
        self.name = name or '%s:%d' % (socket.gethostname(), os.getpid())
        self.region_client = regions.RegionClients(conf)
        self._central: neutron_client.NeutronClient | None = None
        self._lock = threading.Lock()

    @property
    def _expire(self) -> float:
        return self.conf.xjob.job_run_expire

    def run_once(self, worker: str = '',
                 more_due: Callable[[], None] | None = None) -> bool:
        """Run one due job if there is one; True if a job ran.

        A job of one region (keyed by its pod) waits while the pod is
        down: it would only hold a worker until its calls time out, and
        the other regions' jobs would wait behind it. ``more_due()`` is
        called when other jobs are due beside the one this run takes
        (one change often queues a job per region): idle workers can
        take them now rather than at their next poll.
        """
        down = pod_health.down_pods()
        keys = jobs.runnable_keys(self._expire)
        for index, (job_type, res_id) in enumerate(keys):
            if down and self._pod_of(job_type, res_id) in down:
                continue
            claim = jobs.claim(job_type, res_id, self.name + worker,
                               self._expire)
            if claim is not None:
                if more_due is not None and index + 1 < len(keys):
                    more_due()
                self.run(claim, worker)
                return True
        return False

    @staticmethod
    def _pod_of(job_type: str, res_id: str) -> str | None:
        try:
            shape = registry.get(job_type)
        except Exception:  # an unknown type fails when it runs
            return None
        return registry.resource_of(shape, res_id).get('pod_id')

    def run(self, claim: jobs.Claim, worker: str = '') -> None:
        beating = _Heartbeat(claim, self._expire / 3)
        try:
            job_type = registry.get(claim.type)
            resource = registry.resource_of(job_type, claim.resource_id)
            LOG.info('running %s %s (%d requests, %d failures before%s)',
                     claim.type, resource, len(claim.covers),
                     claim.attempts, ', with its hint' if claim.hint else '')
            beating.start()
            job_type.handler(JobContext(self, claim, worker), resource)
        except registry.Defer as defer:
            LOG.info('job %s %s put off for %.1fs: %s', claim.type,
                     claim.resource_id, defer.seconds, defer.reason)
            jobs.defer(claim, defer.seconds)
        except Exception as exc:  # any failure is recorded and retried
            delay = self.retry_delay(claim.attempts)
            LOG.warning('job %s %s failed (attempt %d), retry in %.0fs: %s',
                        claim.type, claim.resource_id, claim.attempts + 1,
                        delay, exc)
            LOG.debug('%s', traceback.format_exc())
            jobs.fail(claim, '%s: %s' % (type(exc).__name__, exc), delay)
        else:
            jobs.succeed(claim)
            LOG.info('job %s %s succeeded', claim.type, claim.resource_id)
        finally:
            beating.stop()

    def retry_delay(self, attempts: int) -> float:
        group = self.conf.xjob
        return min(group.retry_max_interval,
                   group.retry_interval * (2 ** attempts))

    def central_client(self) -> neutron_client.NeutronClient:
        with self._lock:
            if self._central is None:
                self._central = regions.central_client(conf=self.conf)
            return self._central


class _Heartbeat(threading.Thread):
    """Refresh a run's RUNNING row while its handler works: a run that
    takes longer than the expiry (a slow region) is not taken over while
    its daemon lives, and one whose daemon died is, after the expiry."""

    def __init__(self, claim: jobs.Claim, every: float) -> None:
        super().__init__(name='xjob-heartbeat', daemon=True)
        self._claim = claim
        self._every = every
        self._stop = threading.Event()

    def run(self) -> None:
        while not self._stop.wait(self._every):
            try:
                jobs.heartbeat(self._claim)
            except Exception:  # the DB may be briefly unavailable
                LOG.warning('heartbeat of %s %s failed', self._claim.type,
                            self._claim.resource_id, exc_info=True)

    def stop(self) -> None:
        self._stop.set()
