"""router_interface_ahead: a router's interface in the regions, made
while central makes its own.

Central submits this job once Neutron's checks of ``router add subnet``
have passed, before it creates its interface port (most of the
request's time). The regions holding the subnet's network then make the
router's copy if they lack it and add their interface, on their own
gateway address of the subnet, which needs nothing of central's new
port: their L3 agents start about a second sooner than after central's
change (tricircle.xjob.router_copy.add_interfaces).

It only adds. router_setup, submitted once central has committed the
interface (or failed to: then it removes what went ahead), has the last
word. The two never work on a router at once: router_setup waits a
little for a head start still running, and a head start waits a little
for a router_setup run (which may be removing the very copy it would add
to). It is skipped when router_setup still runs then, or is queued
already (central's change is in: that run does the work, and would only
wait for the head start).

A head start is best effort: a failure is logged, the job succeeds and
router_setup does the work. Regions XJob's probe finds down are skipped.
"""
from __future__ import annotations

import time

from oslo_log import log as logging

from tricircle.db import jobs as db_jobs
from tricircle import resources
from tricircle.resources import jobs as job_shapes
from tricircle.resources import neutron_client
from tricircle.resources import regions
from tricircle.resources import router as router_res
from tricircle.xjob import registry
from tricircle.xjob import router_copy

LOG = logging.getLogger(__name__)


def target_regions(router: dict, network_regions: set[str]) -> set[str]:
    """Where the interface goes: the regions holding the network, those
    of its hint only for a router local to a region."""
    if router_res.is_local(router):
        return network_regions & set(regions.of_hints(
            router_res.hinted_regions(router)))
    return set(network_regions)


# How long a head start waits for a router_setup run of its router to
# end (a run for the change before, often still tidying up).
SETUP_WAIT = 5.0


def _clear_to_start(router_id: str) -> bool:
    """True once no router_setup runs for the router (waiting a little
    for one that does) and none is queued. A run works from central's
    state before this change (it may be removing the copy this would add
    to); a queued one means central's change is in already, and that run
    adds the interface without waiting for this one."""
    end = time.monotonic() + SETUP_WAIT
    while True:
        live = db_jobs.live_statuses(job_shapes.ROUTER_SETUP.name,
                                     router_id)
        if db_jobs.RUNNING not in live:
            return db_jobs.NEW not in live
        if time.monotonic() > end:
            return False
        time.sleep(0.05)


def router_interface_ahead(ctx, resource: dict) -> None:
    router_id, subnet_id = resource['router_id'], resource['subnet_id']
    if not _clear_to_start(router_id):
        LOG.info('router %s: router_setup runs or is queued, no head start '
                 'for subnet %s', router_id, subnet_id)
        return
    central = ctx.central_client()
    router, subnet = regions.at_once(
        lambda: central.get(resources.ROUTER, router_id),
        lambda: central.get(resources.SUBNET, subnet_id))
    if router is None or subnet is None:
        return  # central's change failed or was undone: router_setup's
    wanted = target_regions(router, set(regions.holding(
        resources.NETWORK, subnet['network_id'])))

    def ahead_in(region: str) -> None:
        try:
            changes = router_copy.add_interfaces(
                ctx.region_client(region), region, router,
                router_res.RegionalRouter(region, {subnet_id}))
        except neutron_client.RemoteNeutronError as exc:
            # Not an error: router_setup does it (and reports failures).
            LOG.info('router %s in %s: no head start for subnet %s (%s)',
                     router_id, region, subnet_id, exc)
            return
        if changes:
            LOG.info('router %s in %s, ahead of central: %s', router_id,
                     region, '; '.join(changes))

    regions.in_parallel(wanted, ahead_in, 'router %s head start'
                        % router_id, skip_down=True)


JOB = registry.JobType.of(job_shapes.ROUTER_INTERFACE_AHEAD,
                          router_interface_ahead)
