"""The plan of a router's copies: regions, interfaces, routes."""
import pytest

from tricircle.resources import router as router_res
from tricircle.resources import transit


def _subnet(sid, cidr, *regions, version=4):
    return router_res.Subnet(id=sid, cidr=cidr, ip_version=version,
                             network_id='net-' + sid,
                             regions=frozenset(regions))


ROUTER = {'id': 'r', 'project_id': 'p', 'routes': []}
TRANSIT = {'R1': '100.64.0.2', 'R2': '100.64.0.3', 'R3': '100.64.0.4'}


def test_one_route_per_remote_subnet_via_the_region_holding_it():
    subnets = [_subnet('a', '10.0.1.0/24', 'R1'),
               _subnet('b', '10.0.2.0/24', 'R2'),
               _subnet('c', '10.0.3.0/24', 'R3')]
    plan = router_res.plan(ROUTER, subnets, TRANSIT)
    assert set(plan) == {'R1', 'R2', 'R3'}
    assert plan['R1'].subnet_ids == {'a'}
    assert plan['R1'].routes == [
        {'destination': '10.0.2.0/24', 'nexthop': '100.64.0.3'},
        {'destination': '10.0.3.0/24', 'nexthop': '100.64.0.4'}]
    assert plan['R3'].routes == [
        {'destination': '10.0.1.0/24', 'nexthop': '100.64.0.2'},
        {'destination': '10.0.2.0/24', 'nexthop': '100.64.0.3'}]


def test_a_stretched_network_needs_no_route_and_has_an_interface_everywhere():
    subnets = [_subnet('s', '10.0.1.0/24', 'R1', 'R2'),
               _subnet('b', '10.0.2.0/24', 'R2')]
    plan = router_res.plan(ROUTER, subnets, TRANSIT)
    assert plan['R1'].subnet_ids == {'s'}
    assert plan['R2'].subnet_ids == {'s', 'b'}
    assert plan['R1'].routes == [{'destination': '10.0.2.0/24',
                                  'nexthop': '100.64.0.3'}]
    assert plan['R2'].routes == []


def test_a_router_in_one_region_has_no_transit_need():
    subnets = [_subnet('a', '10.0.1.0/24', 'R1'),
               _subnet('b', '10.0.2.0/24', 'R1')]
    regions = router_res.regions_of(ROUTER, subnets)
    assert regions == {'R1'}
    assert not router_res.needs_transit(regions)
    plan = router_res.plan(ROUTER, subnets, {})
    assert plan['R1'].subnet_ids == {'a', 'b'} and plan['R1'].routes == []


def test_a_local_router_is_only_in_its_region_with_all_its_subnets():
    local = dict(ROUTER, availability_zone_hints=['R2'])
    # The network is not copied to R2 yet: the router brings it there.
    subnets = [_subnet('a', '10.0.1.0/24')]
    plan = router_res.plan(local, subnets, {})
    assert set(plan) == {'R2'}
    assert plan['R2'].subnet_ids == {'a'}


def test_user_routes_go_where_their_next_hop_is_connected():
    with_routes = dict(ROUTER, routes=[
        {'destination': '192.168.0.0/16', 'nexthop': '10.0.1.254'}])
    subnets = [_subnet('a', '10.0.1.0/24', 'R1'),
               _subnet('b', '10.0.2.0/24', 'R2')]
    plan = router_res.plan(with_routes, subnets, TRANSIT)
    assert {'destination': '192.168.0.0/16',
            'nexthop': '10.0.1.254'} in plan['R1'].routes
    assert all(r['destination'] != '192.168.0.0/16'
               for r in plan['R2'].routes)


def test_ipv6_subnets_get_no_transit_route():
    subnets = [_subnet('a', '10.0.1.0/24', 'R1'),
               _subnet('v6', 'fd00::/64', 'R2', version=6)]
    plan = router_res.plan(ROUTER, subnets, TRANSIT)
    assert plan['R1'].routes == []
    assert plan['R2'].subnet_ids == {'v6'}


def test_same_routes_ignores_order():
    a = [{'destination': '10.0.1.0/24', 'nexthop': '1.1.1.1'},
         {'destination': '10.0.2.0/24', 'nexthop': '1.1.1.2'}]
    assert router_res.same_routes(a, list(reversed(a)))
    assert not router_res.same_routes(a, a[:1])


def test_transit_block_avoids_the_routers_subnets():
    assert transit.choose_cidr('100.64.0.0/10', 28, []) == '100.64.0.0/28'
    assert transit.choose_cidr('100.64.0.0/10', 28, [
        '100.64.0.0/27', 'fd00::/64']) == '100.64.0.32/28'
    with pytest.raises(transit.NoTransitBlock):
        transit.choose_cidr('100.64.0.0/28', 28, ['100.64.0.0/24'])


def test_transit_port_names_carry_the_region():
    name = transit.port_name('r1', 'RegionOne')
    assert transit.region_of_port('r1', name) == 'RegionOne'
    assert transit.region_of_port('r2', name) is None


def test_regional_body_has_no_gateway_hints_or_routes():
    body = router_res.regional_body(dict(
        ROUTER, name='n', admin_state_up=True, description='',
        external_gateway_info={'network_id': 'x'},
        availability_zone_hints=['R1'],
        routes=[{'destination': '0.0.0.0/0', 'nexthop': '1.1.1.1'}]))
    assert body == {'id': 'r', 'name': 'n', 'project_id': 'p',
                    'admin_state_up': True, 'description': ''}


GATEWAY_INFO = {'network_id': 'ext', 'enable_snat': True,
                'external_fixed_ips': [{'subnet_id': 'ext-s',
                                        'ip_address': '203.0.113.10'}]}


def test_a_gateway_brings_a_copy_to_its_region_and_a_default_route_to_it():
    router = dict(ROUTER, external_gateway_info=GATEWAY_INFO)
    gateway = router_res.Gateway.of(router, 'R1')
    subnets = [_subnet('b', '10.0.2.0/24', 'R2')]
    # The subnet is only in R2: the gateway alone brings R1 in.
    assert router_res.regions_of(router, subnets, gateway) == {'R1', 'R2'}
    plan = router_res.plan(router, subnets, TRANSIT, gateway)
    assert plan['R1'].gateway.info() == GATEWAY_INFO
    assert plan['R1'].subnet_ids == set()
    assert plan['R1'].routes == [{'destination': '10.0.2.0/24',
                                  'nexthop': '100.64.0.3'}]
    assert plan['R2'].gateway is None
    assert plan['R2'].routes == [{'destination': '0.0.0.0/0',
                                  'nexthop': '100.64.0.2'}]
    assert gateway.matches(GATEWAY_INFO)
    assert not gateway.matches(dict(GATEWAY_INFO, enable_snat=False))
    assert not gateway.matches({})


def test_no_gateway_means_no_default_route_and_none_without_transit():
    subnets = [_subnet('a', '10.0.1.0/24', 'R1'),
               _subnet('b', '10.0.2.0/24', 'R2')]
    assert router_res.Gateway.of(ROUTER, 'R1') is None
    plan = router_res.plan(ROUTER, subnets, TRANSIT)
    assert all(r['destination'] != '0.0.0.0/0'
               for copy in plan.values() for r in copy.routes)
    # Before the transit exists (the early pass), no default route either.
    router = dict(ROUTER, external_gateway_info=GATEWAY_INFO)
    early = router_res.plan(router, subnets, {},
                            router_res.Gateway.of(router, 'R1'))
    assert early['R1'].gateway.info() == GATEWAY_INFO and early['R2'].routes == []


def test_a_local_router_takes_its_own_regions_gateway():
    local = dict(ROUTER, availability_zone_hints=['R2'],
                 external_gateway_info=GATEWAY_INFO)
    plan = router_res.plan(local, [_subnet('a', '10.0.1.0/24', 'R2')], {},
                           router_res.Gateway.of(local, 'R2'))
    assert set(plan) == {'R2'} and plan['R2'].gateway.info() == GATEWAY_INFO
    assert plan['R2'].routes == []


def test_a_subnet_joined_by_a_port_is_joined_by_that_port_where_it_is():
    subnets = [router_res.Subnet(id='a', cidr='10.0.1.0/24', ip_version=4,
                                 network_id='net-a',
                                 regions=frozenset({'R1'}), port_id='p-a'),
               _subnet('b', '10.0.2.0/24', 'R2')]
    plan = router_res.plan(ROUTER, subnets, TRANSIT)
    assert plan['R1'].interface_ports == {'a': 'p-a'}
    assert plan['R2'].interface_ports == {}
    assert plan['R1'].routes == [{'destination': '10.0.2.0/24',
                                  'nexthop': '100.64.0.3'}]
