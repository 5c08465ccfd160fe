"""router_setup: a central router's copies in the regions, exact.

From central's view of the router (its subnets, and the regions holding
their networks) tricircle.resources.router plans each region's copy.
This job makes it so:

1. central: the router's transit network, subnet and one transit port per
   region when it spans regions (tricircle.resources.transit), while the
   regions make their copies, subnet interfaces and gateway, which need
   no transit;
2. every region at once (tricircle.xjob.router_copy): the copy with the
   central id, its interfaces, its transit interface and routes; a region
   no longer wanted loses its copy;
3. central again, once every region is done: transit ports (and network)
   no region uses any more are deleted.

A run first waits for a head start of the router still running: of an
interface (router_interface_ahead), which made the same copies from
central's state with the new interface while central made it, so that
this run usually finds little left to do (when the head start made
central's view in every region, tricircle.xjob.head_starts, the run
reads no region and is done); or of a gateway (router_gateway_ahead:
when it set the gateway central shows, the run is put off until
``[xjob] gateway_setup_delay`` seconds after, while the region's agents
build it). Then, where the gateway's region holds the copy and the
external network, a gateway the copy lacks is set at once, before the
rest is read (central asks for a run as soon as its gateway is
committed, before the end of its request).

A region that fails (down) fails the job, which is retried with backoff;
the other regions' parts are done meanwhile. Idempotent: one run
satisfies any number of requests (XJob coalesces them per router).
"""
from __future__ import annotations

import contextlib
import time

from oslo_config import cfg
from oslo_log import log as logging

from tricircle.db import jobs as db_jobs
from tricircle.db import sync_states
from tricircle import resources
from tricircle.resources import jobs as job_shapes
from tricircle.resources import neutron_client
from tricircle.resources import regions
from tricircle.resources import router as router_res
from tricircle.xjob import head_starts
from tricircle.xjob import registry
from tricircle.xjob import router_copy
from tricircle.xjob import router_state

LOG = logging.getLogger(__name__)


def _timed(func):
    """``func(region)`` -> (its changes, seconds it took)."""
    def timed(region: str):
        start = time.monotonic()
        return func(region), time.monotonic() - start
    return timed


def _log_changes(router_id: str, outcome: regions.Outcome) -> None:
    for region, result in outcome.results.items():
        if result and result[0]:
            LOG.info('router %s in %s (%.1f s): %s', router_id, region,
                     result[1], '; '.join(result[0]))


def _record_states(router_id: str, router: dict | None,
                   outcome: regions.Outcome) -> None:
    """Each region still holding a copy: in sync at the router's central
    revision, or failed (a copy removed took its state with it)."""
    for region, pod_id in regions.holding(resources.ROUTER,
                                          router_id).items():
        error = outcome.errors.get(region)
        if error is not None:
            sync_states.mark_failed(resources.ROUTER, router_id, pod_id,
                                    '%s: %s' % (type(error).__name__, error))
        elif router is not None and region in outcome.results:
            sync_states.mark_in_sync(resources.ROUTER, router_id, pod_id,
                                     router.get('revision_number'))


# How long a run waits for a head start (router_interface_ahead,
# router_gateway_ahead) still making what this run would make too (the
# transit among it, which two runs at once could make twice). It began
# while central made its own change; a first add into a region takes it
# a few seconds.
HEAD_START_WAIT = 30.0


def _head_start_running(router_id: str) -> bool:
    return bool(db_jobs.live_resource_ids(
        job_shapes.ROUTER_INTERFACE_AHEAD.name,
        router_id + job_shapes.SEPARATOR, status=db_jobs.RUNNING)) or \
        db_jobs.RUNNING in db_jobs.live_statuses(
            job_shapes.ROUTER_GATEWAY_AHEAD.name, router_id)


def _wait_for_head_starts(router_id: str) -> None:
    end = time.monotonic() + HEAD_START_WAIT
    while _head_start_running(router_id):
        if time.monotonic() > end:
            LOG.info('router %s: a head start is still running; going on '
                     'beside it', router_id)
            return
        time.sleep(0.05)


def _gateway_at_once(ctx, router: dict) -> None:
    """The gateway, on the copy in its region, before anything else is
    read: that region's L3 agent, with the most to build, starts sooner.
    Best effort: the run's own part for the region does it otherwise."""
    network_id = router_res.external_gateway_network(router)
    if network_id is None:
        return
    # An external network is held by the one region it is hinted to.
    here = (set(regions.holding(resources.NETWORK, network_id)) &
            set(regions.holding(resources.ROUTER, router['id'])) -
            regions.down_regions())
    if len(here) != 1:
        return
    region = here.pop()
    gateway = router_res.Gateway.of(router, region)
    try:
        if router_copy.set_gateway(ctx.region_client(region), router['id'],
                                   gateway):
            LOG.info('router %s in %s: gateway set on %s (%s), before the '
                     'rest was read', router['id'], region, network_id,
                     ', '.join(ip for _s, ip in gateway.fixed_ips))
    except neutron_client.RemoteNeutronError as exc:
        LOG.info('router %s in %s: gateway not set at once (%s)',
                 router['id'], region, exc)


def _made_ahead(ctx, made: head_starts.Made | None,
                view: router_state.View, held: dict[str, str]) -> bool:
    """A head start made central's view in every region holding or
    wanting a copy, all up, and this run retries no failure."""
    return made is not None and bool(made.regions) and \
        ctx.claim.attempts == 0 and view.router is not None and \
        made.fingerprint == view.fingerprint() and \
        made.regions == view.wanted and set(held) <= view.wanted and \
        not view.wanted & regions.down_regions()


def _put_off_after_gateway(ctx, router_id: str,
                           router: dict | None) -> None:
    """Raise registry.Defer when a gateway head start set the gateway
    central's ``router`` shows, and this run, a first try, covers only
    the request central made for it: the region's agents build the
    gateway first. The run is due ``[xjob] gateway_setup_delay`` seconds
    after the gateway was set."""
    made = head_starts.gateways.take(router_id)
    if made is None or router is None or ctx.claim.attempts or \
            len(ctx.claim.covers) != 1 or \
            not made.gateway.matches(router.get('external_gateway_info')):
        return
    wait = cfg.CONF.xjob.gateway_setup_delay - (time.monotonic() - made.at)
    if wait > 0:
        raise registry.Defer(wait, 'its head start set the gateway on %s; '
                             'the region\'s agents build it meanwhile'
                             % made.gateway.network_id)


def router_setup(ctx, resource: dict) -> None:
    router_id = resource['router_id']
    _wait_for_head_starts(router_id)
    central = ctx.central_client()
    router = central.get(resources.ROUTER, router_id)
    _put_off_after_gateway(ctx, router_id, router)
    made = head_starts.take(router_id)
    if router is not None and made is None:
        _gateway_at_once(ctx, router)
    view = router_state.read(central, router_id, router=router)
    held = regions.holding(resources.ROUTER, router_id)
    if _made_ahead(ctx, made, view, held):
        LOG.info('router %s: its head start made it in %s already; no '
                 'region read', router_id, ', '.join(sorted(view.wanted)))
        _record_states(router_id, view.router, regions.Outcome(
            {region: ([], 0.0) for region in view.wanted}, {}))
        return
    transit = view.transit(ctx, central)
    with transit or contextlib.nullcontext():
        outcome = regions.in_parallel(
            view.wanted | set(held), _timed(
                lambda region: router_copy.converge(
                    ctx.region_client(region), region, router_id,
                    view.router, view.plans.get(region),
                    transit if region in view.plans else None)),
            'router %s' % router_id, skip_down=True)
        _log_changes(router_id, outcome)
        _record_states(router_id, view.router, outcome)
        if transit is not None:
            transit.all_ports()  # central's own failure fails the job too
    outcome.raise_first()  # retried with backoff; the rest is done
    router_state.tidy_transit(central, router_id, view.wanted)


JOB = registry.JobType.of(job_shapes.ROUTER_SETUP, router_setup)
