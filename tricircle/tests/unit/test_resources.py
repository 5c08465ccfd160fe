"""Resource specs: what a regional copy of a central resource carries."""
import pytest

from tricircle.common import exceptions as t_exc
from tricircle import resources
from tricircle.resources import network
from tricircle.resources import port
from tricircle.resources import security_group
from tricircle.resources import subnet


def test_region_pools_swap_central_gateway_for_region_gateway():
    pools = [{'start': '10.0.0.2', 'end': '10.0.0.254'}]
    assert subnet.allocation_pools(pools, '10.0.0.1', '10.0.0.7',
                                   '10.0.0.0/24') == [
        {'start': '10.0.0.1', 'end': '10.0.0.6'},
        {'start': '10.0.0.8', 'end': '10.0.0.254'}]


def test_region_pools_unchanged_without_gateways():
    pools = [{'start': '10.0.0.10', 'end': '10.0.0.20'}]
    assert subnet.allocation_pools(pools, None, None, '10.0.0.0/24') == pools


def test_region_pools_never_hold_the_ipv6_subnet_router_anycast():
    # Neutron makes the anycast address (::) the gateway of a SLAAC subnet;
    # it is no address a region may allocate.
    pools = [{'start': '2001:db8::1', 'end': '2001:db8::ffff:ffff:ffff:ffff'}]
    assert subnet.allocation_pools(pools, '2001:db8::', '2001:db8::5',
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
    body = network.regional_body(central)
    assert body['provider:segmentation_id'] == 101
    assert 'availability_zone_hints' not in body
    local = dict(central, **{'provider:network_type': 'local',
                             'provider:segmentation_id': None})
    body = network.regional_body(local)
    assert body['provider:network_type'] == 'local'
    assert 'provider:segmentation_id' not in body


def test_port_body_copies_identity_and_addresses():
    central = {'id': 'p1', 'network_id': 'n1', 'mac_address': 'fa:16:3e:1:2:3',
               'fixed_ips': [{'subnet_id': 's1', 'ip_address': '10.0.0.5'}],
               'status': 'ACTIVE', 'binding:host_id': 'h'}
    body = port.regional_body(central)
    assert body == {'id': 'p1', 'network_id': 'n1',
                    'mac_address': 'fa:16:3e:1:2:3',
                    'fixed_ips': [{'subnet_id': 's1',
                                   'ip_address': '10.0.0.5'}]}


def test_changed_only_reports_updatable_changes():
    before = {'name': 'a', 'description': 'x', 'admin_state_up': True,
              'status': 'DOWN'}
    after = {'name': 'a', 'description': 'y', 'admin_state_up': True,
             'status': 'ACTIVE'}
    assert network.SPEC.changed(before, after) == {'description': 'y'}


def test_diff_is_what_the_copy_must_set():
    central = {'id': 'p1', 'name': 'new', 'security_groups': ['b', 'a'],
               'allowed_address_pairs': [], 'mac_address': 'm'}
    regional = {'id': 'p1', 'name': 'old', 'security_groups': ['a', 'b'],
                'allowed_address_pairs': [], 'mac_address': 'other'}
    # Lists in another order are no drift; MACs are not updatable.
    assert port.SPEC.diff(central, regional) == {'name': 'new'}
    assert port.SPEC.diff(central, central) == {}


def test_dependencies_of_a_port_and_of_a_group():
    central_port = {'network_id': 'n1', 'security_groups': ['sg1'],
                    'fixed_ips': [{'subnet_id': 's1', 'ip_address': 'x'}]}
    assert port.SPEC.depends_on(central_port) == [
        (resources.NETWORK, 'n1'), (resources.SUBNET, 's1'),
        (resources.SECURITY_GROUP, 'sg1')]
    sg = {'id': 'g1', 'security_group_rules': [
        {'remote_group_id': 'g1'}, {'remote_group_id': 'g2'},
        {'remote_group_id': None}]}
    assert security_group.SPEC.depends_on(sg) == [
        (resources.SECURITY_GROUP, 'g2')]
    assert subnet.SPEC.depends_on({'network_id': 'n1'}) == [
        (resources.NETWORK, 'n1')]


def test_every_spec_names_its_collection_and_not_found_error():
    for name, spec in resources.SPECS.items():
        assert spec.name == name
        assert resources.COLLECTIONS[name] == spec.collection
        error = spec.not_found('some-id')
        assert error.__class__.__name__.endswith('NotFound')
        assert 'some-id' in str(error)
    with pytest.raises(t_exc.InvalidInput):
        resources.get('no_such_type')
