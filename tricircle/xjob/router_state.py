"""A central router as the jobs that copy it see it: its subnets, gateway
and regions (tricircle.resources.router plans each region's copy from
them), and its transit on central, made while the regions work.

router_setup reads central's state as it is; a head start reads it with
the subnet (router_interface_ahead) or the gateway (router_gateway_ahead)
central is adding.
"""
from __future__ import annotations

from concurrent import futures
import dataclasses
import threading
from typing import Any

from neutron_lib.api.definitions import portbindings
from oslo_config import cfg
from oslo_log import log as logging

from tricircle import resources
from tricircle.resources import binding
from tricircle.resources import neutron_client
from tricircle.resources import regions
from tricircle.resources import router as router_res
from tricircle.resources import transit as transit_res
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
        planned = _subnet(subnet)
        # A port is one region's: a network stretched over several keeps
        # one interface per region on that region's gateway address.
        if (subnet.get('gateway_ip') not in interfaces[subnet['id']] and
                len(planned.regions) <= 1):
            planned = dataclasses.replace(planned, port_id=sorted(
                interfaces[subnet['id']].values())[0])
        subnets.append(planned)
    return subnets


def _subnet(subnet: dict) -> router_res.Subnet:
    """A central subnet as the plan takes it, with the regions holding
    its network (joined on the region's gateway address)."""
    return router_res.Subnet(
        id=subnet['id'], cidr=subnet['cidr'],
        ip_version=subnet['ip_version'], network_id=subnet['network_id'],
        regions=frozenset(regions.holding(resources.NETWORK,
                                          subnet['network_id'])))


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


def transit_addresses(central: neutron_client.NeutronClient,
                      router_id: str) -> dict[str, str]:
    """Region -> the copy's transit address, of the transit central has
    now (none is made: router_setup's)."""
    net = _transit_network(central, router_id)
    if net is None:
        return {}
    return {region: port['fixed_ips'][0]['ip_address']
            for region, port in _transit_ports(central, router_id,
                                               net['id']).items()
            if port.get('fixed_ips')}


def tidy_transit(central, router_id: str, wanted: set[str]) -> None:
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


class CentralTransit:
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

    def __enter__(self) -> 'CentralTransit':
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


@dataclasses.dataclass
class View:
    """The router on central (None: gone) and each region's plan for its
    copy, without routes (they need the transit addresses)."""
    router: dict | None
    subnets: list[router_res.Subnet]
    gateway: router_res.Gateway | None
    plans: dict[str, router_res.RegionalRouter]

    @property
    def wanted(self) -> set[str]:
        return set(self.plans)

    def fingerprint(self) -> tuple:
        """What the copies are planned from: two views with the same
        fingerprint plan the same copies (tricircle.xjob.head_starts)."""
        if self.router is None:
            return ()
        return (
            tuple(sorted(router_res.regional_body(self.router).items())),
            tuple(sorted((r['destination'], r['nexthop'])
                         for r in self.router.get('routes') or [])),
            tuple(sorted(self.subnets, key=lambda s: s.id)),
            self.gateway, tuple(sorted(self.wanted)))

    def transit(self, ctx: Any, central: neutron_client.NeutronClient
                ) -> 'CentralTransit | None':
        """The router's transit, being made, when it spans regions."""
        if self.router is None or not router_res.needs_transit(self.wanted):
            return None
        return CentralTransit(ctx, central, self.router, self.subnets,
                              self.gateway, self.wanted)


def read(central: neutron_client.NeutronClient, router_id: str,
         adding: dict | None = None, router: dict | None = None,
         gateway: router_res.Gateway | None = None) -> View:
    """Central's router and its plans; ``adding``: a subnet (as central
    shows it) the router is being given, counted as one of its own;
    ``router``: central's router, read already; ``gateway``: the gateway
    central is setting, taken for the router's (its network not read)."""
    router = router or central.get(resources.ROUTER, router_id)
    if router is None:
        return View(None, [], None, {})
    # Hints may name availability zones: the plan wants regions.
    router = dict(router, availability_zone_hints=regions.of_hints(
        router_res.hinted_regions(router)))
    subnets = _subnets(central, router)
    if adding is not None and adding['id'] not in {s.id for s in subnets}:
        subnets.append(_subnet(adding))
    gateway = gateway or _gateway(central, router)
    return View(router, subnets, gateway,
                router_res.plan(router, subnets, {}, gateway))
