"""Routers: where a central router has copies, and what each copy holds.

A central router is copied into every region that holds one of its
networks (a local router, hinted to one region, only there). Each copy has
the central id and:

- an interface on each of the router's subnets present in its region, on
  that region's own gateway address of the subnet;
- when the router spans regions, an interface on the router's transit
  network (see tricircle.resources.transit);
- one route per subnet of the router that its region lacks, via the
  transit address of a region that has it. A stretched network needs no
  route: L2 already reaches it. A user's extra route goes to the copies
  that reach its next hop.

A router with an external gateway also has a copy in the gateway's
region (an external network lives in exactly one region): that copy takes
the gateway, with central's addresses and SNAT setting, so north-south
crosses one SNAT; every other copy routes its default traffic over the
transit network to it.

The plan is computed here from central's view, without I/O, so that XJob
only applies it (and tests can check it alone).
"""
from __future__ import annotations

import dataclasses

import netaddr
from neutron_lib import constants as n_const

from tricircle.resources import base

RESOURCE_NAME = 'router'
COLLECTION_NAME = 'routers'

UPDATABLE = ('name', 'description', 'admin_state_up')
_COPIED = ('id', 'name', 'project_id', 'description', 'admin_state_up')
INTERFACE_OWNERS = n_const.ROUTER_INTERFACE_OWNERS


def regional_body(central_router: dict) -> dict:
    """A region's copy: no gateway (north-south is set apart), no hints
    (the copy is where it is), no routes (the plan sets them)."""
    return base.pick(central_router, _COPIED)


DEFAULT_DESTINATION = '0.0.0.0/0'


@dataclasses.dataclass(frozen=True)
class Gateway:
    """A router's external gateway, as the plan needs it."""
    network_id: str
    # The one region holding the external network.
    region: str
    enable_snat: bool
    # [{'subnet_id', 'ip_address'}]: central's gateway addresses.
    fixed_ips: tuple[tuple[str, str], ...]

    @classmethod
    def of(cls, central_router: dict, region: str) -> 'Gateway | None':
        info = central_router.get('external_gateway_info') or {}
        if not info.get('network_id'):
            return None
        return cls(network_id=info['network_id'], region=region,
                   enable_snat=bool(info.get('enable_snat', True)),
                   fixed_ips=tuple(sorted(
                       (ip['subnet_id'], ip['ip_address'])
                       for ip in info.get('external_fixed_ips') or [])))

    def info(self) -> dict:
        """The copy's ``external_gateway_info``."""
        return {'network_id': self.network_id,
                'enable_snat': self.enable_snat,
                'external_fixed_ips': [
                    {'subnet_id': s, 'ip_address': ip}
                    for s, ip in self.fixed_ips]}

    def matches(self, copy_info: dict | None) -> bool:
        """Whether a copy's ``external_gateway_info`` is this gateway."""
        copy_info = copy_info or {}
        return (copy_info.get('network_id') == self.network_id and
                bool(copy_info.get('enable_snat', True)) ==
                self.enable_snat and
                {(ip['subnet_id'], ip['ip_address']) for ip in
                 copy_info.get('external_fixed_ips') or []} ==
                set(self.fixed_ips))


def external_gateway_network(central_router: dict) -> str | None:
    return (central_router.get('external_gateway_info') or {}).get(
        'network_id')


def hinted_regions(central_router: dict) -> list[str]:
    return list(central_router.get('availability_zone_hints') or [])


def is_local(central_router: dict) -> bool:
    """A router hinted to exactly one region exists only there."""
    return len(hinted_regions(central_router)) == 1


@dataclasses.dataclass(frozen=True)
class Subnet:
    """One subnet of a router, as the plan needs it."""
    id: str
    cidr: str
    ip_version: int
    network_id: str
    # The regions holding the subnet's network.
    regions: frozenset[str]
    # The router's interface port on it, when not on the subnet's gateway
    # address ("router add port"): the copies take that port.
    port_id: str | None = None


@dataclasses.dataclass
class RegionalRouter:
    """What one region's copy must hold."""
    region: str
    subnet_ids: set[str] = dataclasses.field(default_factory=set)
    # subnet id -> the interface port the copy takes on it (by port);
    # the other subnets' interfaces are on the region's gateway address.
    interface_ports: dict[str, str] = dataclasses.field(default_factory=dict)
    routes: list[dict] = dataclasses.field(default_factory=list)
    # The copy's external gateway; None: none.
    gateway: Gateway | None = None


def regions_of(central_router: dict, subnets: list[Subnet],
               gateway: Gateway | None = None) -> set[str]:
    """The regions where the router has a copy."""
    if is_local(central_router):
        return set(hinted_regions(central_router))
    found = set().union(*(s.regions for s in subnets)) if subnets else set()
    if gateway is not None:
        found.add(gateway.region)
    return found


def needs_transit(regions: set[str]) -> bool:
    return len(regions) > 1


def plan(central_router: dict, subnets: list[Subnet],
         transit_ips: dict[str, str],
         gateway: Gateway | None = None) -> dict[str, RegionalRouter]:
    """Region -> its copy's interfaces, routes and gateway.

    ``transit_ips``: region -> the copy's transit address (empty when the
    router has no transit network).
    """
    regions = regions_of(central_router, subnets, gateway)
    copies = {region: RegionalRouter(region) for region in regions}
    for region, copy in copies.items():
        if gateway is not None:
            if region == gateway.region:
                copy.gateway = gateway
            elif gateway.region in transit_ips and region in transit_ips:
                # One SNAT, at the gateway's region.
                copy.routes.append({
                    'destination': DEFAULT_DESTINATION,
                    'nexthop': transit_ips[gateway.region]})
        here = [s for s in subnets if region in s.regions or
                is_local(central_router)]
        copy.subnet_ids = {s.id for s in here}
        copy.interface_ports = {s.id: s.port_id for s in here if s.port_id}
        for subnet in subnets:
            if subnet in here or subnet.ip_version != 4:
                # The transit network is IPv4: IPv6 subnets are routed
                # only where they are.
                continue
            via = sorted(r for r in subnet.regions
                         if r in transit_ips and r != region)
            if via and region in transit_ips:
                copy.routes.append({'destination': subnet.cidr,
                                    'nexthop': transit_ips[via[0]]})
        copy.routes.extend(_user_routes_reachable(central_router, here))
        copy.routes.sort(key=lambda r: (r['destination'], r['nexthop']))
    return copies


def _user_routes_reachable(central_router: dict,
                           here: list[Subnet]) -> list[dict]:
    """The router's own extra routes whose next hop is on a subnet this
    copy is connected to (Neutron refuses any other)."""
    nets = [netaddr.IPNetwork(s.cidr) for s in here]
    return [{'destination': r['destination'], 'nexthop': r['nexthop']}
            for r in central_router.get('routes') or []
            if any(netaddr.IPAddress(r['nexthop']) in n for n in nets)]


def describe_routes(routes: list[dict]) -> str:
    """Routes as the logs show them."""
    return ', '.join('%(destination)s via %(nexthop)s' % r for r in routes)


def same_routes(a: list[dict], b: list[dict]) -> bool:
    def key(routes):
        return sorted((r['destination'], r['nexthop']) for r in routes)
    return key(a) == key(b)


def _not_found(res_id: str) -> Exception:
    # Imported when needed: neutron.extensions pulls in the API layer.
    from neutron_lib.exceptions import l3 as l3_exc
    return l3_exc.RouterNotFound(router_id=res_id)


SPEC = base.ResourceSpec(
    name=RESOURCE_NAME, collection=COLLECTION_NAME, not_found=_not_found,
    regional_body=regional_body, updatable=UPDATABLE,
    # A copy whose central router is gone is removed by router_setup,
    # interfaces first; a plain delete would be refused.
    delete_orphans=False)
