"""What a regional copy of a central resource carries."""
from tricircle.network import bottom


def test_region_pools_swap_central_gateway_for_region_gateway():
    pools = [{'start': '10.0.0.2', 'end': '10.0.0.254'}]
    assert bottom.allocation_pools(pools, '10.0.0.1', '10.0.0.7',
                                   '10.0.0.0/24') == [
        {'start': '10.0.0.1', 'end': '10.0.0.6'},
        {'start': '10.0.0.8', 'end': '10.0.0.254'}]


def test_region_pools_unchanged_without_gateways():
    pools = [{'start': '10.0.0.10', 'end': '10.0.0.20'}]
    assert bottom.allocation_pools(pools, None, None, '10.0.0.0/24') == pools


def test_region_pools_never_hold_the_ipv6_subnet_router_anycast():
    # Neutron makes the anycast address (::) the gateway of a SLAAC subnet;
    # it is no address a region may allocate.
    pools = [{'start': '2001:db8::1', 'end': '2001:db8::ffff:ffff:ffff:ffff'}]
    assert bottom.allocation_pools(pools, '2001:db8::', '2001:db8::5',
                                   '2001:db8::/64') == [
        {'start': '2001:db8::1', 'end': '2001:db8::4'},
        {'start': '2001:db8::6', 'end': '2001:db8::ffff:ffff:ffff:ffff'}]


def test_network_body_keeps_segment_unless_local():
    central = {'id': 'n1', 'name': 'net', 'project_id': 'p',
               'admin_state_up': True, 'shared': False,
               'availability_zone_hints': ['RegionOne'],
               'provider:network_type': 'vlan',
               'provider:physical_network': 'physnet1',
               'provider:segmentation_id': 101}
    body = bottom.network_body(central)
    assert body['provider:segmentation_id'] == 101
    assert 'availability_zone_hints' not in body
    local = dict(central, **{'provider:network_type': 'local',
                             'provider:segmentation_id': None})
    body = bottom.network_body(local)
    assert body['provider:network_type'] == 'local'
    assert 'provider:segmentation_id' not in body


def test_port_body_copies_identity_and_addresses():
    central = {'id': 'p1', 'network_id': 'n1', 'mac_address': 'fa:16:3e:1:2:3',
               'fixed_ips': [{'subnet_id': 's1', 'ip_address': '10.0.0.5'}],
               'status': 'ACTIVE', 'binding:host_id': 'h'}
    body = bottom.port_body(central)
    assert body == {'id': 'p1', 'network_id': 'n1',
                    'mac_address': 'fa:16:3e:1:2:3',
                    'fixed_ips': [{'subnet_id': 's1',
                                   'ip_address': '10.0.0.5'}]}


def test_updated_attrs_only_reports_changes():
    before = {'name': 'a', 'description': 'x', 'admin_state_up': True}
    after = {'name': 'a', 'description': 'y', 'admin_state_up': True}
    assert bottom.updated_attrs(before, after, bottom.NETWORK_UPDATABLE) == {
        'description': 'y'}
