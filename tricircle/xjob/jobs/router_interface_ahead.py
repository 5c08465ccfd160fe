"""router_interface_ahead: a router's copies in the regions, made with
the interface central is adding, while central makes its own.

Central submits this job once Neutron's checks of ``router add subnet``
have passed, before it creates its interface port (most of the
request's time). The region's interface needs nothing of central's new
port: it goes on the region's own gateway address of the subnet. So this
job plans the copies from central's state plus that subnet
(tricircle.xjob.router_state) and converges every region of the plan
without removing anything: the copy where missing, the interface, the
transit when the router comes to span regions, and the routes to the new
subnet. The L3 agents start seconds sooner than after central's change.

router_setup, submitted once central has committed the interface (or
failed to: then it removes what went ahead), has the last word. When
this job made its plan in every region, it says so
(tricircle.xjob.head_starts): a run finding central's view the same
then reads no region. The two
never work on a router at once: router_setup waits for a head start
still running, and a head start waits a little for a router_setup run
(which may be removing the very copy it would add to). It is skipped
when router_setup still runs then, or is queued already (central's
change is in: that run does the work, and would only wait for the head
start).

A head start is best effort: a region's failure is logged, the job
succeeds and router_setup does the work. Regions XJob's probe finds down
are skipped.
"""
from __future__ import annotations

from concurrent import futures
import contextlib

from oslo_log import log as logging

from tricircle import resources
from tricircle.resources import jobs as job_shapes
from tricircle.resources import neutron_client
from tricircle.resources import regions
from tricircle.xjob import head_starts
from tricircle.xjob import registry
from tricircle.xjob import router_copy
from tricircle.xjob import router_state

LOG = logging.getLogger(__name__)


def router_interface_ahead(ctx, resource: dict) -> None:
    router_id, subnet_id = resource['router_id'], resource['subnet_id']
    head_starts.forget(router_id)
    start = head_starts.clear_to_start(router_id)
    if start is head_starts.Start.SKIP:
        LOG.info('router %s: router_setup runs or is queued, no head start '
                 'for subnet %s', router_id, subnet_id)
        return
    try:
        _head_start(ctx, router_id, subnet_id)
    finally:
        head_starts.done(router_id, start, ctx.project_id)


def _head_start(ctx, router_id: str, subnet_id: str) -> None:
    central = ctx.central_client()
    subnet = central.get(resources.SUBNET, subnet_id)
    if subnet is None:
        return  # central's change failed or was undone: router_setup's
    # Where the region holds the copy and the network already, the
    # interface goes first, alone: on 2 loaded cores, reading the rest
    # meanwhile slowed that add (and the L3 agent's start) more than it
    # saved.
    direct = set(regions.holding(resources.ROUTER, router_id)) & set(
        regions.holding(resources.NETWORK, subnet['network_id'])) - \
        regions.down_regions()
    added = {}
    if direct:
        with futures.ThreadPoolExecutor(len(direct)) as pool:
            added = dict(zip(direct, pool.map(
                lambda region: _add_at_once(ctx, region, router_id,
                                            subnet_id), direct)))
    view = router_state.read(central, router_id, adding=subnet)
    if view.router is None:
        return
    transit = view.transit(ctx, central)

    def ahead_in(region: str) -> bool:
        """True once the region holds the plan, nothing left over."""
        changes, left = added.get(region, []), []
        try:
            changes += router_copy.converge(
                ctx.region_client(region), region, router_id, view.router,
                view.plans[region], transit, add_only=True, left=left)
        except neutron_client.RemoteNeutronError as exc:
            # Not an error: router_setup does it (and reports failures).
            LOG.info('router %s in %s: no head start for subnet %s (%s)',
                     router_id, region, subnet_id, exc)
            return False
        if changes:
            LOG.info('router %s in %s, ahead of central: %s', router_id,
                     region, '; '.join(changes))
        if left:
            LOG.info('router %s in %s: %s left for router_setup',
                     router_id, region, ', '.join(left))
        return not left

    with transit or contextlib.nullcontext():
        outcome = regions.in_parallel(
            view.wanted, ahead_in, 'router %s head start' % router_id,
            skip_down=True)
    # A region using the transit fails too if central's part did.
    if not outcome.errors and all(outcome.results.get(region)
                                  for region in view.wanted):
        head_starts.record(router_id, view.fingerprint(), view.wanted)
    else:
        head_starts.forget(router_id)


def _add_at_once(ctx, region: str, router_id: str,
                 subnet_id: str) -> list[str]:
    """The interface in a region holding the copy, before reading it."""
    try:
        if router_copy.add_subnet_interface(ctx.region_client(region),
                                            router_id, subnet_id):
            return ['interface on subnet %s added' % subnet_id]
    except neutron_client.RemoteNeutronError as exc:
        # converge reads the copy and tries again
        LOG.info('router %s in %s: interface on subnet %s not added at '
                 'once (%s)', router_id, region, subnet_id, exc)
    return []


JOB = registry.JobType.of(job_shapes.ROUTER_INTERFACE_AHEAD,
                          router_interface_ahead)
