"""One region's copy of a central router, brought in line with its plan.

The steps run in an order Neutron accepts: the subnets are copied into
the region first (asked as a user would, so the region copies what it
lacks from central), then the router with the central id, the missing
subnet interfaces and the external gateway (in the gateway's region
only, on central's addresses). When the router spans regions, the
transit subnet and port are copied the same way meanwhile (they need no
router), then the transit interface is added; then the routes (whose
next hops need the interfaces), and last the interfaces no longer wanted
(which no route uses any more). A region that should hold no copy loses
it, interfaces first.

A head start (router_interface_ahead) converges ``add_only`` before
central has the new interface: it removes nothing. Either run takes an
interface the other added meanwhile as added.
"""
from __future__ import annotations

from concurrent import futures
from typing import NamedTuple
from typing import Protocol

from neutron_lib.api.definitions import portbindings
from neutron_lib import constants as n_const

from tricircle.db import api as db_api
from tricircle import resources
from tricircle.resources import neutron_client
from tricircle.resources import regions
from tricircle.resources import router as router_res
from tricircle.resources import shadow
from tricircle.resources import transit as transit_res
from tricircle.xjob import floatingip_proxies

SPEC = resources.get(resources.ROUTER)


def _action(client: neutron_client.NeutronClient, router_id: str,
            action: str, body: dict) -> None:
    client.request('PUT', '/v2.0/routers/%s/%s' % (router_id, action),
                   body=body)


def _interfaces(client, router_id: str) -> list[dict]:
    return [p for p in client.list(resources.PORT, device_id=router_id)
            if p['device_owner'] in router_res.INTERFACE_OWNERS]


def _pod_id(region: str) -> str:
    pod = db_api.get_pod_by_region(region)
    if pod is None:
        raise neutron_client.RemoteNotFound(
            server=region, status=404, reason='region %s is no pod' % region)
    return pod['pod_id']


def remove(client, region: str, router_id: str) -> list[str]:
    """The region keeps no copy of the router."""
    changes = []
    copy = client.get(resources.ROUTER, router_id)
    if copy is not None:
        if copy.get('routes'):  # their next hops hold the interfaces
            client.update(resources.ROUTER, router_id, {'routes': []})
        for port in _interfaces(client, router_id):
            _action(client, router_id, 'remove_router_interface',
                    {'port_id': port['id']})
        client.delete(resources.ROUTER, router_id)
        changes.append('copy deleted')
    _remove_proxies(client, router_id, changes)
    regions.forget(_pod_id(region), resources.ROUTER, router_id)
    return changes


def _copy_subnets(client, region: str,
                  plan: router_res.RegionalRouter) -> None:
    # Copies the region lacks are made as for a user of the router (a
    # few asked at once).
    ids = sorted(plan.subnet_ids)
    with futures.ThreadPoolExecutor(min(4, max(1, len(ids)))) as pool:
        found = list(pool.map(lambda subnet_id: client.get(
            resources.SUBNET, subnet_id, headers=regions.AS_USER), ids))
    for subnet_id, subnet in zip(ids, found):
        if subnet is None:
            raise neutron_client.RemoteNotFound(
                server=region, status=404,
                reason='subnet %s is not copied there' % subnet_id)


def _ensure_copy(client, region: str, router: dict, copy: dict | None,
                 changes: list[str]) -> dict:
    """The copy (``copy``: as read from the region, None if none)."""
    router_id = router['id']
    if copy is None:
        # The API takes no id in a POST: the header carries it.
        body = {k: v for k, v in SPEC.regional_body(router).items()
                if k != 'id'}
        copy = client.create(resources.ROUTER, body,
                             headers={regions.RESOURCE_ID_HEADER: router_id})
        changes.append('copy created')
    else:
        diff = SPEC.diff(router, copy)
        if diff:
            client.update(resources.ROUTER, router_id, diff)
            changes.append('updated %s' % ', '.join(sorted(diff)))
    db_api.ensure_routing(top_id=router_id, bottom_id=router_id,
                          pod_id=_pod_id(region),
                          project_id=router['project_id'],
                          resource_type=resources.ROUTER)
    return copy


def _add_subnet_interfaces(client, router_id: str, interfaces: list[dict],
                           plan: router_res.RegionalRouter,
                           changes: list[str]) -> None:
    have = {ip['subnet_id'] for port in interfaces
            for ip in port['fixed_ips']}
    for subnet_id in sorted(plan.subnet_ids - have):
        port_id = plan.interface_ports.get(subnet_id)
        if port_id is None:
            if _add_interface(client, router_id, subnet_id,
                              {'subnet_id': subnet_id}):
                changes.append('interface on subnet %s added' % subnet_id)
            continue
        # The router's own port on central (not on the gateway address),
        # copied here as for a user.
        client.get(resources.PORT, port_id, headers=regions.AS_USER)
        if _add_interface(client, router_id, subnet_id,
                          {'port_id': port_id}):
            changes.append('interface port %s on subnet %s added' % (
                port_id, subnet_id))


def _add_interface(client, router_id: str, subnet_id: str,
                   body: dict) -> bool:
    """Add an interface; False if another run (a head start) added one
    on the subnet meanwhile, which is what Neutron's refusal then means."""
    try:
        _action(client, router_id, 'add_router_interface', body)
    except (neutron_client.RemoteBadRequest, neutron_client.RemoteConflict):
        if any(ip['subnet_id'] == subnet_id
               for port in _interfaces(client, router_id)
               for ip in port['fixed_ips']):
            return False
        raise
    return True


def add_subnet_interface(client: neutron_client.NeutronClient,
                         router_id: str, subnet_id: str) -> bool:
    """The copy's interface on the region's gateway address of the
    subnet, added at once, with nothing read first (a head start into a
    copy the region holds: its L3 agent starts that much sooner). False
    if one was there; a refusal for any other reason (the copy or the
    subnet's copy missing) is raised."""
    return _add_interface(client, router_id, subnet_id,
                          {'subnet_id': subnet_id})


def set_gateway(client: neutron_client.NeutronClient, router_id: str,
                gateway: router_res.Gateway) -> bool:
    """The copy's gateway set at once, with only the copy read first
    (router_setup, where the gateway's region holds the copy and the
    external network): that region's L3 agent, with the gateway's NAT to
    build, starts sooner. False if the copy is missing or has it."""
    copy = client.get(resources.ROUTER, router_id)
    if copy is None or gateway.matches(copy.get('external_gateway_info')):
        return False
    client.update(resources.ROUTER, router_id,
                  {'external_gateway_info': gateway.info()})
    return True


def add_routes(client: neutron_client.NeutronClient, router_id: str,
               routes: list[dict]) -> tuple[list[dict], bool]:
    """Those of ``routes`` whose destination the copy has no route to,
    added to its routes, with only the copy read first
    (router_gateway_ahead: the default route to the gateway's region).
    Nothing is removed: a head start beside it may have added a route
    central's plan does not know yet. Returns what was added ([] if
    nothing) and whether the copy now has every one of ``routes`` (not
    when it is missing, or reaches a destination by another next hop,
    which router_setup settles)."""
    copy = client.get(resources.ROUTER, router_id)
    if copy is None:
        return [], False
    have = copy.get('routes') or []
    reached = {r['destination'] for r in have}
    new = [r for r in routes if r['destination'] not in reached]
    if new:
        client.update(resources.ROUTER, router_id, {'routes': have + new})
    held = {(r['destination'], r['nexthop']) for r in have + new}
    return new, all((r['destination'], r['nexthop']) in held
                    for r in routes)


def _remove_proxies(client, router_id: str, changes: list[str]) -> None:
    # Kept for the router's next floating IPs while it has the gateway.
    if floatingip_proxies.remove(client, router_id):
        changes.append('floating IP proxy removed')


def _ensure_gateway(client, region: str, router_id: str, copy: dict,
                    plan: router_res.RegionalRouter,
                    changes: list[str]) -> None:
    have = copy.get('external_gateway_info')
    if plan.gateway is None:
        if have:
            # First: a run that fails on them finds the gateway still
            # there, and removes both.
            _remove_proxies(client, router_id, changes)
            client.update(resources.ROUTER, router_id,
                          {'external_gateway_info': {}})
            changes.append('gateway removed')
        return
    if plan.gateway.matches(have):
        return
    # The external network is copied here as for a user of the router.
    if client.get(resources.NETWORK, plan.gateway.network_id,
                  headers=regions.AS_USER) is None:
        raise neutron_client.RemoteNotFound(
            server=region, status=404, reason='external network %s is not '
            'copied there' % plan.gateway.network_id)
    client.update(resources.ROUTER, router_id,
                  {'external_gateway_info': plan.gateway.info()})
    changes.append('gateway set on %s (%s)' % (
        plan.gateway.network_id,
        ', '.join(ip for _s, ip in plan.gateway.fixed_ips)))


class TransitHost(NamedTuple):
    """Where a copy's transit port will be bound."""
    host: str
    tunnel_ip: str
    vif_type: str | None  # as the host's L2 agent binds its ports


# The VIF type each L2 agent's mechanism driver binds a port with.
_VIF_TYPES = {n_const.AGENT_TYPE_OVS: portbindings.VIF_TYPE_OVS,
              n_const.AGENT_TYPE_LINUXBRIDGE: portbindings.VIF_TYPE_BRIDGE}


def transit_host(client: neutron_client.NeutronClient,
                 router_id: str) -> TransitHost | None:
    """The L3 agent's host the region scheduled the copy to, with the
    tunnel endpoint of that host's L2 agent: where its transit port will
    be bound. None if not scheduled yet or the host's L2 agent reports no
    tunnel endpoint."""
    agents = client.request('GET', '/v2.0/routers/%s/l3-agents'
                            % router_id).get('agents') or []
    hosts = sorted(a['host'] for a in agents if a.get('alive', True))
    if len(hosts) != 1:
        return None  # unscheduled, or HA: the binding report will say
    for agent in client.request('GET', '/v2.0/agents', params={
            'host': hosts[0]}).get('agents') or []:
        tunnel_ip = (agent.get('configurations') or {}).get(
            shadow.TUNNEL_IP)
        if tunnel_ip and agent.get('binary') != shadow.SHADOW_AGENT_BINARY:
            return TransitHost(hosts[0], tunnel_ip,
                               _VIF_TYPES.get(agent.get('agent_type')))
    return None


class Transit(Protocol):
    """The router's transit on central, as the regions' converge needs
    it; each call waits for central's part it needs."""

    def subnet_id(self) -> str:
        """The transit subnet (made first)."""

    def port(self, region: str) -> dict:
        """The region's transit port (made next)."""

    def plan(self, region: str) -> router_res.RegionalRouter:
        """The region copy's plan with its routes (they need every
        region's transit address)."""

    def announce(self, region: str) -> bool:
        """Tell central where the region's port will be bound; False
        while that is not known yet (ask again later)."""


def _read(client, region: str, router_id: str,
          plan: router_res.RegionalRouter) -> tuple[dict | None, list[dict]]:
    """The copy (None if none) and its interfaces, once the plan's
    subnets are copied here."""
    _none, copy, interfaces = regions.at_once(
        lambda: _copy_subnets(client, region, plan),
        lambda: client.get(resources.ROUTER, router_id),
        lambda: _interfaces(client, router_id))
    return copy, interfaces


def _copy_transit(client, region: str, transit: Transit) -> None:
    """The transit subnet and the region's transit port, copied here as
    for a user (each as soon as central has it)."""
    client.get(resources.SUBNET, transit.subnet_id(),
               headers=regions.AS_USER)
    client.get(resources.PORT, transit.port(region)['id'],
               headers=regions.AS_USER)


def _link_transit(client, router_id: str, transit_id: str,
                  linked: list[str], changes: list[str]) -> None:
    if transit_id not in linked:
        _action(client, router_id, 'add_router_interface',
                {'port_id': transit_id})
        changes.append('transit interface added')


def converge(client: neutron_client.NeutronClient, region: str,
             router_id: str, router: dict | None,
             plan: router_res.RegionalRouter | None,
             transit: Transit | None = None,
             add_only: bool = False,
             left: list[str] | None = None) -> list[str]:
    """Bring the region's copy in line; what changed, for the log.

    ``plan``: the copy's interfaces and gateway (its routes come from
    ``transit`` when the router spans regions). What needs no transit is
    done first, while central makes the transit and the region copies
    the transit subnet and its port; the port is announced once the copy
    is scheduled, while it is added, so the other regions make its
    shadow while this one plugs it. ``add_only``: no interface nor
    gateway is removed (a head start's plan may be ahead of central);
    what a full run would remove is appended to ``left``.
    """
    if router is None or plan is None:
        return remove(client, region, router_id)
    changes: list[str] = []
    copy, interfaces = _read(client, region, router_id, plan)
    linked = [p['id'] for p in interfaces
              if p['name'] == transit_res.port_name(router_id, region)]
    with futures.ThreadPoolExecutor(1) as side:
        # The transit's copies here need no router: made meanwhile.
        copied = side.submit(_copy_transit, client, region, transit) \
            if transit is not None and not linked else None
        copy = _ensure_copy(client, region, router, copy, changes)
        _add_subnet_interfaces(client, router_id, interfaces, plan, changes)
        if plan.gateway is not None or not add_only:
            _ensure_gateway(client, region, router_id, copy, plan, changes)
        elif (copy or {}).get('external_gateway_info'):
            _note(left, 'gateway')
        transit_id = None
        if transit is not None:
            if copied is not None:
                copied.result()
            transit_id = transit.port(region)['id']
            # The copy is scheduled now (it has an interface): where its
            # transit port goes is known while the port is plugged.
            announced, _none = regions.at_once(
                lambda: transit.announce(region),
                lambda: _link_transit(client, router_id, transit_id,
                                      linked, changes))
            if not announced:  # where it goes was not known before
                transit.announce(region)
            plan = transit.plan(region)

    if not router_res.same_routes(copy.get('routes') or [], plan.routes):
        client.update(resources.ROUTER, router_id, {'routes': plan.routes})
        changes.append('routes set to %s' % router_res.describe_routes(
            plan.routes) if plan.routes else 'routes cleared')

    for port in interfaces:
        subnets = {ip['subnet_id'] for ip in port['fixed_ips']}
        if port['id'] == transit_id or subnets & plan.subnet_ids:
            continue
        if add_only:
            _note(left, 'interface %s' % port['id'])
            continue
        _action(client, router_id, 'remove_router_interface',
                {'port_id': port['id']})
        changes.append('interface %s removed' % port['id'])
    return changes


def _note(left: list[str] | None, what: str) -> None:
    if left is not None:
        left.append(what)
