"""router_copy: where a copy's transit port will be bound, and its
gateway and route steps."""
from __future__ import annotations

import pytest

from tricircle.resources import floatingip as fip_res
from tricircle.resources import neutron_client
from tricircle.resources import router as router_res
from tricircle.resources import shadow
from tricircle.xjob import router_copy


class FakeRegion:
    """Answers the two GETs transit_host makes."""

    def __init__(self, l3_agents: list[dict], agents: list[dict]) -> None:
        self.l3_agents = l3_agents
        self.agents = agents
        self.asked: list[tuple[str, dict | None]] = []

    def request(self, method: str, path: str, params=None, **_kw):
        assert method == 'GET'
        self.asked.append((path, params))
        if path.endswith('/l3-agents'):
            return {'agents': self.l3_agents}
        hosts = (params or {}).get('host')
        return {'agents': [a for a in self.agents if a['host'] == hosts]}


def _ovs(host: str, ip: str | None, binary='neutron-openvswitch-agent',
         agent_type='Open vSwitch agent'):
    return {'host': host, 'binary': binary, 'agent_type': agent_type,
            'configurations': {shadow.TUNNEL_IP: ip} if ip else {}}


def test_the_scheduled_hosts_tunnel_endpoint():
    region = FakeRegion([{'host': 'h1', 'alive': True}],
                        [_ovs('h1', None, binary='neutron-l3-agent'),
                         _ovs('h1', '172.30.1.1'), _ovs('h2', '172.30.1.2')])
    assert router_copy.transit_host(region, 'r1') == (
        'h1', '172.30.1.1', 'ovs')
    assert region.asked[0][0] == '/v2.0/routers/r1/l3-agents'


def test_an_agent_of_unknown_type_leaves_the_vif_type_to_the_region():
    region = FakeRegion([{'host': 'h1', 'alive': True}],
                        [_ovs('h1', '172.30.1.1', agent_type='Other')])
    assert router_copy.transit_host(region, 'r1') == (
        'h1', '172.30.1.1', None)


def test_unscheduled_or_ha_routers_wait_for_the_report():
    assert router_copy.transit_host(FakeRegion([], []), 'r1') is None
    two = FakeRegion([{'host': 'h1'}, {'host': 'h2'}],
                     [_ovs('h1', '1.1.1.1'), _ovs('h2', '1.1.1.2')])
    assert router_copy.transit_host(two, 'r1') is None


def test_a_dead_agent_or_a_shadow_agent_is_no_answer():
    dead = FakeRegion([{'host': 'h1', 'alive': False}],
                      [_ovs('h1', '1.1.1.1')])
    assert router_copy.transit_host(dead, 'r1') is None
    shadowed = FakeRegion([{'host': 'h9'}], [
        _ovs('h9', '172.30.2.1', binary=shadow.SHADOW_AGENT_BINARY)])
    assert router_copy.transit_host(shadowed, 'r1') is None


class FakeCopies:
    """Records the router updates of _ensure_gateway; holds the router's
    floating IP proxy networks (``proxies``, with no ports)."""

    def __init__(self, networks=('ext',), proxies=()) -> None:
        self.networks = set(networks)
        self.proxies = set(proxies)
        self.updates: list[dict] = []

    def list(self, resource, **filters):
        if resource == 'port':
            return []
        assert resource == 'network' and \
            filters == {'name': fip_res.proxy_name('r')}
        return [{'id': net, 'provider:network_type': 'local'}
                for net in sorted(self.proxies)]

    def delete(self, resource, res_id):
        assert resource == 'network'
        self.proxies.remove(res_id)
        return True

    def get(self, resource, res_id, headers=None):
        assert resource == 'network'
        return {'id': res_id} if res_id in self.networks else None

    def update(self, resource, res_id, attrs, headers=None):
        assert resource == 'router'
        self.updates.append(attrs)


GATEWAY = router_res.Gateway('ext', 'R1', True,
                             (('ext-s', '203.0.113.10'),))


def _gateway_step(client, copy: dict, gateway) -> list[str]:
    changes: list[str] = []
    plan = router_res.RegionalRouter('R1', gateway=gateway)
    router_copy._ensure_gateway(client, 'R1', 'r', copy, plan, changes)
    return changes


def test_the_gateway_is_set_on_centrals_address_once():
    client = FakeCopies()
    assert _gateway_step(client, {}, GATEWAY) == [
        'gateway set on ext (203.0.113.10)']
    assert client.updates == [{'external_gateway_info': GATEWAY.info()}]
    # A copy that has it already is left alone.
    assert _gateway_step(client, {'external_gateway_info': GATEWAY.info()},
                         GATEWAY) == []
    assert len(client.updates) == 1


def test_a_gateway_no_longer_planned_is_removed():
    client = FakeCopies()
    assert _gateway_step(client, {'external_gateway_info': GATEWAY.info()},
                         None) == ['gateway removed']
    assert client.updates == [{'external_gateway_info': {}}]
    assert _gateway_step(client, {'external_gateway_info': None}, None) == []


def test_the_gateway_removed_takes_the_routers_floating_ip_proxies():
    client = FakeCopies(proxies=['proxy-net'])
    assert _gateway_step(client, {'external_gateway_info': GATEWAY.info()},
                         None) == ['floating IP proxy removed',
                                   'gateway removed']
    assert client.proxies == set()
    assert _gateway_step(client, {'external_gateway_info': None}, None) == []


def test_an_external_network_the_region_cannot_copy_fails_the_step():
    client = FakeCopies(networks=())
    with pytest.raises(neutron_client.RemoteNotFound):
        _gateway_step(client, {}, GATEWAY)
    assert client.updates == []



class FakeRoutes:
    """A copy with routes, as add_routes reads and updates it."""

    def __init__(self, routes: list[dict] | None) -> None:
        self.copy = None if routes is None else {'id': 'r', 'routes': routes}
        self.updates: list[dict] = []

    def get(self, resource, res_id, headers=None):
        assert (resource, res_id) == ('router', 'r')
        return self.copy

    def update(self, resource, res_id, attrs, headers=None):
        self.updates.append(attrs)
        self.copy = dict(self.copy, **attrs)


def _route(destination: str, nexthop: str = '100.64.0.2') -> dict:
    return {'destination': destination, 'nexthop': nexthop}


def test_routes_are_added_to_what_the_copy_has_and_nothing_is_removed():
    client = FakeRoutes([_route('10.0.9.0/24')])
    added = router_copy.add_routes(client, 'r', [_route('0.0.0.0/0'),
                                                 _route('10.0.1.0/24')])
    assert added == ([_route('0.0.0.0/0'), _route('10.0.1.0/24')], True)
    assert client.copy['routes'] == [_route('10.0.9.0/24'),
                                     _route('0.0.0.0/0'),
                                     _route('10.0.1.0/24')]
    assert router_copy.add_routes(client, 'r', [_route('0.0.0.0/0')]) == \
        ([], True)
    # A destination the copy reaches already (by another next hop, which
    # router_setup settles) is not given a second route, and the copy
    # does not have the route asked for.
    assert router_copy.add_routes(client, 'r', [
        _route('0.0.0.0/0', '100.64.0.9')]) == ([], False)
    assert len(client.updates) == 1


def test_no_copy_no_routes():
    client = FakeRoutes(None)
    assert router_copy.add_routes(client, 'r', [_route('0.0.0.0/0')]) == \
        ([], False)
    assert client.updates == []
