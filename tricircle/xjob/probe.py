"""Pod health: a periodic look at every pod's Neutron.

Each pass sends one quick request to each pod's Neutron (central's too)
at once, with a short timeout and no retries, and records ``up`` or
``down`` with the time last seen (tricircle.db.pod_health; ``pod show``
shows it). A pod that comes back makes the failed jobs due at once: what
failed while it was away converges without waiting out its backoff.
"""
from __future__ import annotations

import concurrent.futures
from typing import Callable

from oslo_config import cfg
from oslo_log import log as logging

from tricircle.db import api as db_api
from tricircle.db import jobs as db_jobs
from tricircle.db import pod_health

LOG = logging.getLogger(__name__)


class PodProbe:
    def __init__(self, engine, conf: cfg.ConfigOpts = cfg.CONF,
                 on_return: Callable[[], None] = lambda: None) -> None:
        self._engine = engine
        self._conf = conf
        self._on_return = on_return
        self._down: list[dict] = []

    def _client(self, pod: dict):
        if not pod['az_name']:
            return self._engine.central_client()
        return self._engine.region_client(pod['region_name'])

    def _probe(self, pod: dict) -> str | None:
        """None if the pod's Neutron answered, else why not."""
        try:
            self._client(pod).probe(self._conf.xjob.pod_probe_timeout)
        except Exception as exc:  # any failure means "down"
            return '%s: %s' % (type(exc).__name__, exc)
        return None

    def run_once(self) -> dict[str, str]:
        """Probe every pod; returns region name -> state."""
        pods = db_api.list_pods()
        if not pods:
            return {}
        with concurrent.futures.ThreadPoolExecutor(len(pods)) as pool:
            errors = dict(zip([p['pod_id'] for p in pods],
                              pool.map(self._probe, pods)))
        self._down = [p for p in pods if errors[p['pod_id']]]
        states, returned = {}, []
        for pod in pods:
            error = errors[pod['pod_id']]
            before = pod_health.record(pod['pod_id'], error)
            states[pod['region_name']] = pod_health.DOWN if error \
                else pod_health.UP
            if error and before != pod_health.DOWN:
                LOG.warning('pod %s (%s) is down: %s', pod['pod_id'],
                            pod['region_name'], error)
            elif not error and before == pod_health.DOWN:
                LOG.info('pod %s (%s) is up again', pod['pod_id'],
                         pod['region_name'])
                returned.append(pod['region_name'])
        if returned:
            count = db_jobs.retry_failed_now()
            LOG.info('%s back: %d failed jobs made due now',
                     ', '.join(returned), count)
            self._on_return()
        return states

    def calls_to_down_pods(self) -> int:
        """Calls of this daemon now waiting on the pods the last pass
        found down."""
        return sum(self._client(pod).calls_in_flight for pod in self._down)
