"""router_gateway_ahead: a router's gateway, set on its copy while central
sets its own.

``router set --external-gateway`` on central makes the gateway port (its
address) first, then loads the router twice more and commits it before
Neutron says the gateway is there (ROUTER_GATEWAY AFTER_CREATE), when
central asks for router_setup. Where the external network's region holds
the router's copy already, central asks for this job once its gateway
port is made, with the gateway (network, SNAT, central's addresses) in
its hint (tricircle.network.central.l3): the region's gateway update,
and its L3 agent, start that much sooner. Meanwhile the other regions
holding a copy get the routes they lack of central's plan with that
gateway (the default route, to the gateway's copy over the transit),
where central has the router's transit ports already (router_setup set
that route only once central had committed, and after this job: it came
last). Nothing is removed.

router_setup, asked for once central has committed the gateway, waits
for a run of this job still at work (tricircle.xjob.head_starts), then
finds the gateway on the copy and has the last word. When this run set
the gateway and the other regions' routes, with nothing beside it, and
central still has its gateway port at the end, that run, finding the
same gateway on central, is put off until ``[xjob] gateway_setup_delay``
seconds after the gateway was set, while the region's agents build it.
A run without a usable hint does nothing: router_setup does the work.

Best effort: a region's refusal is logged and the job succeeds. A
region XJob's probe finds down is skipped. Like router_interface_ahead,
it waits a little for a router_setup run still at work on the router
(it may be removing the very gateway) and then asks for another run
once done (that run may have read the region first, and central's
update may have failed meanwhile), and gives way to one queued
(central's change is in, or failed: that run has the last word).
"""
from __future__ import annotations

from concurrent import futures
import time

from neutron_lib import constants as n_const
from oslo_log import log as logging

from tricircle import resources
from tricircle.resources import jobs as job_shapes
from tricircle.resources import neutron_client
from tricircle.resources import regions
from tricircle.resources import router as router_res
from tricircle.xjob import head_starts
from tricircle.xjob import registry
from tricircle.xjob import router_copy
from tricircle.xjob.jobs import router_setup
from tricircle.xjob import router_state

LOG = logging.getLogger(__name__)


def _hinted(hint: dict | None) -> router_res.Gateway | None:
    if not hint or set(hint) != set(
            job_shapes.ROUTER_GATEWAY_AHEAD_HINT_KEYS) or \
            not hint['region']:
        return None
    return router_res.Gateway.of({'external_gateway_info': hint['gateway']},
                                 hint['region'])


def router_gateway_ahead(ctx, resource: dict) -> None:
    router_id = resource['router_id']
    gateway = _hinted(ctx.hint)
    if gateway is None:
        return
    region = gateway.region
    if region not in regions.holding(resources.ROUTER, router_id) or \
            region in regions.down_regions():
        return
    # A record of an interface's head start no longer tells a run what
    # the copies hold.
    head_starts.forget(router_id)
    start = head_starts.clear_to_start(router_id)
    if start is head_starts.Start.SKIP:
        LOG.info('router %s: router_setup runs or is queued, no head start '
                 'for its gateway', router_id)
        return
    began = time.monotonic()
    gateway_set = routes_set = False
    try:
        with futures.ThreadPoolExecutor(1) as side:
            # The other regions' way out, meanwhile: they work too.
            routes = side.submit(_default_routes, ctx, router_id, gateway)
            gateway_set = _gateway(ctx, router_id, gateway)
            routes_set = routes.result()
    finally:
        head_starts.forget(router_id)
        if start is head_starts.Start.CLEAR and (
                time.monotonic() - began > router_setup.HEAD_START_WAIT or
                not _still_on_central(ctx, router_id, gateway)):
            # A run went on beside this one, or central's update failed
            # (its run may have come before this one's writes): another
            # run removes what central lacks.
            start = head_starts.Start.AFTER_A_RUN
        if gateway_set and routes_set and start is head_starts.Start.CLEAR:
            # router_setup may wait while the region's agents build it.
            head_starts.gateways.put(router_id, head_starts.GatewaySet(
                gateway, time.monotonic()))
        head_starts.done(router_id, start, ctx.project_id)


def _still_on_central(ctx, router_id: str,
                      gateway: router_res.Gateway) -> bool:
    """Central still has the gateway port this head start set: central
    deletes it when its update fails. True when central cannot say."""
    try:
        ports = ctx.central_client().list(
            resources.PORT, device_id=router_id,
            device_owner=n_const.DEVICE_OWNER_ROUTER_GW)
    except neutron_client.RemoteNeutronError:
        return True
    return any({(ip['subnet_id'], ip['ip_address'])
                for ip in port['fixed_ips']} == set(gateway.fixed_ips)
               for port in ports)


def _gateway(ctx, router_id: str, gateway: router_res.Gateway) -> bool:
    """True when this run set the gateway on the region's copy."""
    region = gateway.region
    try:
        if router_copy.set_gateway(ctx.region_client(region), router_id,
                                   gateway):
            LOG.info('router %s in %s, ahead of central: gateway set on %s '
                     '(%s)', router_id, region, gateway.network_id,
                     ', '.join(ip for _s, ip in gateway.fixed_ips))
            return True
    except neutron_client.RemoteNeutronError as exc:
        LOG.info('router %s in %s: no head start for its gateway (%s); '
                 'router_setup sets it', router_id, region, exc)
    return False


def _default_routes(ctx, router_id: str,
                    gateway: router_res.Gateway) -> bool:
    """Each other region holding a copy gets the routes of central's plan
    with the gateway (the default route, to the gateway's copy over the
    transit) that it lacks, where central has the transit's ports
    already: router_setup makes them. Adds only. True when each region
    central plans a copy in holds one with its routes, and no other
    region holds one: router_setup finds nothing left to make."""
    try:
        central = ctx.central_client()
        view = router_state.read(central, router_id, gateway=gateway)
        if view.router is None:
            return False
        held = set(regions.holding(resources.ROUTER, router_id))
        others = (view.wanted & held) - {gateway.region}
        down = others & regions.down_regions()
        complete = view.wanted == held and not down
        others -= down
        if not others:
            return complete
        transit_ips = router_state.transit_addresses(central, router_id)
        if not view.wanted <= set(transit_ips):
            return False  # the transit is router_setup's to make
        plans = router_res.plan(view.router, view.subnets, {
            region: transit_ips[region] for region in view.wanted},
            view.gateway)
        outcome = regions.in_parallel(
            others, lambda region: _add_routes(ctx, router_id, region,
                                               plans[region].routes),
            'router %s routes ahead' % router_id)
        return complete and not outcome.errors and \
            set(outcome.results) == others and all(outcome.results.values())
    except Exception:  # best effort: router_setup sets them
        LOG.warning('router %s: no head start for its default routes',
                    router_id, exc_info=True)
        return False


def _add_routes(ctx, router_id: str, region: str,
                routes: list[dict]) -> bool:
    """True when the copy has ``routes`` now."""
    try:
        added, has_all = router_copy.add_routes(ctx.region_client(region),
                                                router_id, routes)
    except neutron_client.RemoteNeutronError as exc:
        LOG.info('router %s in %s: no head start for its routes (%s); '
                 'router_setup sets them', router_id, region, exc)
        return False
    if added:
        LOG.info('router %s in %s, ahead of central: routes %s added',
                 router_id, region, router_res.describe_routes(added))
    return has_all


JOB = registry.JobType.of(job_shapes.ROUTER_GATEWAY_AHEAD,
                          router_gateway_ahead)
