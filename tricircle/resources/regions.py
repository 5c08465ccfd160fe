"""Reaching the other Neutron servers: clients, source headers, fan-out.

The central plugin and XJob call regional Neutrons; the local plugin calls
central. Each call names its sender in ``X-Tricircle-Source`` so that the
receiver knows a Tricircle peer is asking (see
tricircle.network.request_source). Calls to several regions run in
parallel, and each region's failure is kept apart: one region down must
not hide, or block, the others.
"""
from __future__ import annotations

import concurrent.futures
import dataclasses
import threading
from typing import Any, Callable

from oslo_config import cfg
from oslo_log import log as logging

from tricircle.db import api as db_api
from tricircle.db import pod_health
from tricircle.db import sync_states
from tricircle.resources import neutron_client

LOG = logging.getLogger(__name__)

# The region (or central region) sending a request.
SOURCE_HEADER = 'X-Tricircle-Source'
# The id a peer gives what it creates: a region's port created on central
# at once, XJob's copy of a central router in a region.
RESOURCE_ID_HEADER = 'X-Tricircle-Resource-Id'
# The project a region fetches a resource for: central answers 404 unless
# that project may see it, and records no routing.
REQUESTER_HEADER = 'X-Tricircle-Requester-Project'
# A region takes a port made on central beforehand as its own: central
# refuses when another region holds it already.
CLAIM_HEADER = 'X-Tricircle-Claim'
# A region reports the status its agents gave a copy (a floating IP's).
STATUS_HEADER = 'X-Tricircle-Status'
# XJob's drift audit lists ids and revisions only (value: 'revisions').
LISTING_HEADER = 'X-Tricircle-Listing'
# Sent by XJob with an empty source: the region serves the call as an
# admin user's, so it copies from central what the call needs.
AS_USER = {SOURCE_HEADER: ''}


def central_client(source: str | None = None,
                   conf: cfg.ConfigOpts = cfg.CONF
                   ) -> neutron_client.NeutronClient:
    """A client of the central Neutron; ``source``: the calling region
    (XJob calls as no region: central records nothing for it)."""
    return neutron_client.NeutronClient.from_conf(
        'central Neutron', endpoint=conf.client.central_neutron_url,
        region_name=conf.client.central_region_name,
        headers={SOURCE_HEADER: source} if source else None, conf=conf)


class RegionClients:
    """Clients of the regional Neutrons, as central calls them."""

    def __init__(self, conf: cfg.ConfigOpts = cfg.CONF) -> None:
        self._conf = conf
        self._clients: dict[str, neutron_client.NeutronClient] = {}
        self._lock = threading.Lock()

    def __call__(self, region: str) -> neutron_client.NeutronClient:
        with self._lock:
            if region not in self._clients:
                client = self._conf.client
                self._clients[region] = neutron_client.NeutronClient.from_conf(
                    '%s Neutron' % region,
                    endpoint=client.region_endpoints.get(region),
                    region_name=region,
                    headers={SOURCE_HEADER: client.central_region_name},
                    conf=self._conf)
            return self._clients[region]


def forget(pod_id: str, resource_type: str, res_id: str) -> None:
    """The region of ``pod_id`` holds no copy (any more)."""
    db_api.delete_routings({'top_id': res_id, 'pod_id': pod_id,
                            'resource_type': resource_type})
    sync_states.forget(resource_type, res_id, pod_id)


def ensure_held(client: neutron_client.NeutronClient, pod_id: str,
                deps, force: bool = False) -> None:
    """Make sure the region of ``pod_id`` holds what ``deps`` ((type, id)
    pairs) name: each one its routings do not show there (``force``:
    each one) is asked for as a user would, which makes the region copy
    it. A routing saves that round trip on every change."""
    for dep_type, dep_id in dict.fromkeys(deps):
        if force or not db_api.list_routings({'top_id': dep_id,
                                              'pod_id': pod_id,
                                              'resource_type': dep_type}):
            client.get(dep_type, dep_id, headers=AS_USER)


def with_dependencies(client: neutron_client.NeutronClient, pod_id: str,
                      deps, call: Callable[[], Any]) -> Any:
    """``call()`` once the region holds what ``deps`` name. If the region
    finds one missing after all (its routing outlived its copy), every
    one is asked for and ``call()`` runs once more."""
    deps = list(deps)
    ensure_held(client, pod_id, deps)
    try:
        return call()
    except neutron_client.RemoteNotFound:
        if not deps:
            raise
        ensure_held(client, pod_id, deps, force=True)
        return call()


def of_hints(hints: list[str]) -> list[str]:
    """Region names for availability zone hints, which may name regions
    or their pods' availability zones."""
    return [pod['region_name'] for pod in db_api.list_pods()
            if pod['az_name'] and (pod['region_name'] in hints or
                                   pod['az_name'] in hints)]


def only_region(hints: list[str]) -> str | None:
    """The one region availability zone hints name (an external
    network's), or None if they name none or several."""
    found = of_hints(hints)
    return found[0] if len(found) == 1 else None


def holding(resource_type: str, res_id: str) -> dict[str, str]:
    """Region name -> pod id of every region holding a copy."""
    pods = {p['pod_id']: p['region_name'] for p in db_api.list_pods()}
    return {pods[r['pod_id']]: r['pod_id'] for r in db_api.list_routings(
        {'top_id': res_id, 'resource_type': resource_type})
        if r['pod_id'] in pods}


@dataclasses.dataclass
class Outcome:
    """What a fan-out gave, region by region."""
    results: dict[str, Any]
    errors: dict[str, Exception]

    def raise_first(self) -> None:
        """Fail as the first failed region did (sorted by name)."""
        if self.errors:
            raise self.errors[sorted(self.errors)[0]]


def down_regions() -> set[str]:
    """Regions whose pod XJob's probe last found down."""
    down = pod_health.down_pods()
    return {p['region_name'] for p in db_api.list_pods()
            if p['pod_id'] in down} if down else set()


def at_once(*calls: Callable[[], Any]) -> list[Any]:
    """Each call at once, the first in this thread: reads that are a
    job's wait before its first write. Their results, in order, once
    every call is over; the first error in call order is raised."""
    if not calls:
        return []
    with concurrent.futures.ThreadPoolExecutor(
            max(1, len(calls) - 1)) as pool:
        others = [pool.submit(call) for call in calls[1:]]
        here: concurrent.futures.Future = concurrent.futures.Future()
        try:
            here.set_result(calls[0]())
        except Exception as exc:  # raised below, once the others are over
            here.set_exception(exc)
    return [future.result() for future in (here, *others)]


def in_parallel(regions, func: Callable[[str], Any], what: str,
                within: float | None = None,
                skip_down: bool = False) -> Outcome:
    """``func(region)`` for each region at once; ``what`` names the work
    in the logs. A region whose copy is already gone counts as done.

    ``within``: wait that many seconds at most; a region not done by then
    is in neither results nor errors (its call goes on meanwhile).
    ``skip_down``: a region found down is not called (its calls would
    only wait for their timeouts): it fails at once, so that a job is
    retried for it once it is back, with the others' part done.
    """
    regions = sorted(regions)
    outcome = Outcome({}, {})
    if skip_down and regions:
        for region in down_regions() & set(regions):
            LOG.info('%s: %s is down, left for later', what, region)
            outcome.errors[region] = neutron_client.RemoteUnavailable(
                server='%s Neutron' % region, status='down',
                reason='its pod is down (XJob\'s probe); retried when it '
                       'is back')
        regions = [r for r in regions if r not in outcome.errors]
    if not regions:
        return outcome
    pool = concurrent.futures.ThreadPoolExecutor(len(regions))
    futures = {region: pool.submit(func, region) for region in regions}
    pool.shutdown(wait=within is None)
    concurrent.futures.wait(futures.values(), timeout=within)
    for region, future in futures.items():
        if not future.done():
            LOG.warning('%s in %s: not done within %.1f s', what, region,
                        within)
            continue
        try:
            outcome.results[region] = future.result()
        except neutron_client.RemoteNotFound:
            LOG.info('%s: nothing (left) to do in %s', what, region)
            outcome.results[region] = None
        except Exception as exc:  # kept per region, reported by the caller
            LOG.error('%s in %s failed: %s', what, region, exc)
            outcome.errors[region] = exc
    return outcome
