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

A run first waits (briefly) for a head start of the router's interface
still running (router_interface_ahead), which adds what this run would.

A region that fails (down) fails the job, which is retried with backoff;
the other regions' parts are done meanwhile. Idempotent: one run
satisfies any number of requests (XJob coalesces them per router).
"""
from __future__ import annotations

from concurrent import futures
import contextlib
import threading
import time
from typing import Any

from neutron_lib.api.definitions import portbindings
from oslo_config import cfg
from oslo_log import log as logging

from tricircle.db import jobs as db_jobs
from tricircle.db import sync_states
from tricircle import resources
from tricircle.resources import binding
from tricircle.resources import jobs as job_shapes
from tricircle.resources import neutron_client
from tricircle.resources import regions
from tricircle.resources import router as router_res
from tricircle.resources import transit as transit_res
from tricircle.xjob import registry
from tricircle.xjob import router_copy

LOG = logging.getLogger(__name__)


def _subnets(central, router: dict) -> list[router_res.Subnet]:
    """The router's subnets on central, with the regions of each, and
    the interface port of those it joined by a port of its own."""
    ports = central.list(resources.PORT, device_id=router['id'])
    # subnet id -> the addresses of the router's interfaces on it
    interfaces: dict[str, dict[str, str]] = {}
    for port in ports:
        if port['device_owner'] in router_res.INTERFACE_OWNERS:
            for ip in port['fixed_ips']:
                interfaces.setdefault(ip['subnet_id'], {})[
                    ip['ip_address']] = port['id']
    subnets = []
    for subnet in (central.list(resources.SUBNET, id=sorted(interfaces))
                   if interfaces else []):
        held = frozenset(regions.holding(resources.NETWORK,
                                         subnet['network_id']))
        # A port is one region's: a network stretched over several keeps
        # one interface per region on that region's gateway address.
        by_port = (subnet.get('gateway_ip') not in interfaces[subnet['id']]
                   and len(held) <= 1)
        subnets.append(router_res.Subnet(
            id=subnet['id'], cidr=subnet['cidr'],
            ip_version=subnet['ip_version'],
            network_id=subnet['network_id'], regions=held,
            port_id=sorted(interfaces[subnet['id']].values())[0]
            if by_port else None))
    return subnets


def _gateway(central, router: dict) -> router_res.Gateway | None:
    """The router's external gateway and the region of its network."""
    network_id = router_res.external_gateway_network(router)
    if network_id is None:
        return None
    network = central.get(resources.NETWORK, network_id)
    hinted = regions.of_hints(network.get('availability_zone_hints') or []
                              if network else [])
    if len(hinted) != 1:
        # Central refuses such external networks; one made before that
        # (or whose pod is gone) has no region to take the gateway.
        LOG.error('router %s: external network %s is in no single region '
                  '(hints %s): no copy takes the gateway', router['id'],
                  network_id, hinted)
        return None
    return router_res.Gateway.of(router, hinted[0])


def _transit_network(central, router_id: str) -> dict | None:
    nets = central.list(resources.NETWORK,
                        name=transit_res.network_name(router_id))
    return nets[0] if nets else None


def _transit_ports(central, router_id: str, network_id: str
                   ) -> dict[str, dict]:
    ports = {}
    for port in central.list(resources.PORT, network_id=network_id):
        region = transit_res.region_of_port(router_id, port['name'])
        if region:
            ports[region] = port
    return ports


def _tidy_transit(central, router_id: str, wanted: set[str]) -> None:
    """Delete the transit ports of regions not wanted, and the network
    once no region is."""
    net = _transit_network(central, router_id)
    if net is None:
        return
    for region, port in _transit_ports(central, router_id,
                                       net['id']).items():
        if region not in wanted or not router_res.needs_transit(wanted):
            central.delete(resources.PORT, port['id'])
    if not router_res.needs_transit(wanted):
        central.delete(resources.NETWORK, net['id'])
        LOG.info('router %s: transit network %s deleted', router_id,
                 net['id'])


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


class _Transit:
    """The router's transit on central (router_copy.Transit), made where
    missing while the regions work: first the network and subnet, then
    one port per region, at once. Each region waits only for the part it
    needs next. A context: leaving it waits for central's part, so that
    nothing outlives the run."""

    def __init__(self, ctx: Any, central: neutron_client.NeutronClient,
                 router: dict, subnets: list[router_res.Subnet],
                 gateway: router_res.Gateway | None,
                 wanted: set[str]) -> None:
        self._ctx, self._central, self._router = ctx, central, router
        self._subnets, self._gateway = subnets, gateway
        self._wanted = wanted
        self._plans: dict[str, router_res.RegionalRouter] | None = None
        self._lock = threading.Lock()
        pool = futures.ThreadPoolExecutor(1)
        self._network = pool.submit(self._ensure_network)
        self._ports = pool.submit(self._ensure_ports)
        pool.shutdown(wait=False)

    def __enter__(self) -> '_Transit':
        return self

    def __exit__(self, *exc_info) -> None:
        futures.wait([self._network, self._ports])

    def _ensure_network(self) -> tuple[dict, dict]:
        central, router_id = self._central, self._router['id']
        project = cfg.CONF.xjob.service_project_id
        net = _transit_network(central, router_id)
        if net is None:
            net = central.create(resources.NETWORK,
                                 transit_res.network_body(router_id,
                                                          project))
            LOG.info('router %s: transit network %s created', router_id,
                     net['id'])
        found = central.list(resources.SUBNET, network_id=net['id'])
        if found:
            return net, found[0]
        cidr = transit_res.choose_cidr(cfg.CONF.xjob.transit_cidr,
                                       cfg.CONF.xjob.transit_prefixlen,
                                       [s.cidr for s in self._subnets])
        return net, central.create(resources.SUBNET, transit_res.subnet_body(
            router_id, net['id'], cidr, project))

    def _ensure_ports(self) -> dict[str, dict]:
        """Region -> transit port (stale ones too)."""
        net = self._network.result()[0]
        central, router_id = self._central, self._router['id']
        project = cfg.CONF.xjob.service_project_id
        ports = _transit_ports(central, router_id, net['id'])
        missing = sorted(self._wanted - set(ports))
        if missing:
            with futures.ThreadPoolExecutor(len(missing)) as pool:
                made = pool.map(lambda region: central.create(
                    resources.PORT, transit_res.port_body(
                        router_id, region, net['id'], project)), missing)
                ports.update(zip(missing, made))
        return ports

    @staticmethod
    def _central_part(future: futures.Future) -> Any:
        """Central's part; a 404 there (the transit deleted meanwhile)
        must not read as a region's "nothing left to do"."""
        try:
            return future.result()
        except neutron_client.RemoteNotFound as exc:
            raise neutron_client.RemoteConflict(
                server='central Neutron', status=409,
                reason='the transit changed meanwhile: %s' % exc) from exc

    def all_ports(self) -> dict[str, dict]:
        """Region -> transit port; raises what making them raised."""
        return self._central_part(self._ports)

    def subnet_id(self) -> str:
        return self._central_part(self._network)[1]['id']

    def port(self, region: str) -> dict:
        return self.all_ports()[region]

    def plan(self, region: str) -> router_res.RegionalRouter:
        """The region's plan with its routes, from every region's
        transit address (planned once, for all regions)."""
        with self._lock:
            if self._plans is None:
                self._plans = router_res.plan(
                    self._router, self._subnets, {
                        region: port['fixed_ips'][0]['ip_address']
                        for region, port in self.all_ports().items()
                        if region in self._wanted}, self._gateway)
        return self._plans[region]

    def announce(self, region: str) -> bool:
        """Tell central where the region's transit port will be bound,
        as the region itself will once its L3 agent has plugged it:
        central then has the other regions make its shadow now, while
        the region works, instead of after (that report comes seconds
        later). False while that is not known (the copy is not scheduled
        yet): ask again later. A failure only loses the head start (the
        region's report comes anyway): True, nothing to ask again."""
        port = self.port(region)
        if binding.remote_binding(port):
            return True  # reported already
        router_id = self._router['id']
        try:
            found = router_copy.transit_host(
                self._ctx.region_client(region), router_id)
            if found is None:
                return False
            host, tunnel_ip, vif_type = found
            # With the VIF type the host's agent will bind it with,
            # central binds it at once (without, ML2 there tries and
            # fails to bind it until the region's report).
            self._central.update(resources.PORT, port['id'], binding.report(
                region, {portbindings.HOST_ID: host,
                         portbindings.VIF_TYPE: vif_type}, tunnel_ip),
                headers={regions.SOURCE_HEADER: region})
        except neutron_client.RemoteNeutronError as exc:
            LOG.warning('router %s: transit port %s of %s not announced: '
                        '%s', router_id, port['id'], region, exc)
            return True
        LOG.info('router %s: transit port %s of %s announced on host %s '
                 '(%s)', router_id, port['id'], region, host, tunnel_ip)
        return True


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


# How long a run waits for a head start (router_interface_ahead) still
# adding an interface it would add too. Normally done by then: it began
# while central made its own interface.
HEAD_START_WAIT = 5.0


def _wait_for_head_starts(router_id: str) -> None:
    end = time.monotonic() + HEAD_START_WAIT
    while db_jobs.live_resource_ids(
            job_shapes.ROUTER_INTERFACE_AHEAD.name,
            router_id + job_shapes.SEPARATOR, status=db_jobs.RUNNING):
        if time.monotonic() > end:
            LOG.info('router %s: a head start is still running; going on '
                     'beside it', router_id)
            return
        time.sleep(0.05)


def router_setup(ctx, resource: dict) -> None:
    router_id = resource['router_id']
    _wait_for_head_starts(router_id)
    central = ctx.central_client()
    router = central.get(resources.ROUTER, router_id)
    held = regions.holding(resources.ROUTER, router_id)
    plans: dict[str, router_res.RegionalRouter] = {}
    transit: _Transit | None = None
    if router is not None:
        # Hints may name availability zones: the plan wants regions.
        router = dict(router, availability_zone_hints=regions.of_hints(
            router_res.hinted_regions(router)))
        subnets = _subnets(central, router)
        gateway = _gateway(central, router)
        wanted = router_res.regions_of(router, subnets, gateway)
        # Without transit addresses: interfaces and gateway (the routes
        # come from the transit, once central has made it).
        plans = router_res.plan(router, subnets, {}, gateway)
        if router_res.needs_transit(wanted):
            transit = _Transit(ctx, central, router, subnets, gateway,
                               wanted)
    with transit or contextlib.nullcontext():
        outcome = regions.in_parallel(
            set(plans) | set(held), _timed(
                lambda region: router_copy.converge(
                    ctx.region_client(region), region, router_id, router,
                    plans.get(region),
                    transit if region in plans else None)),
            'router %s' % router_id, skip_down=True)
        _log_changes(router_id, outcome)
        _record_states(router_id, router, outcome)
        if transit is not None:
            transit.all_ports()  # central's own failure fails the job too
    outcome.raise_first()  # retried with backoff; the rest is done
    _tidy_transit(central, router_id, set(plans))


JOB = registry.JobType.of(job_shapes.ROUTER_SETUP, router_setup)
