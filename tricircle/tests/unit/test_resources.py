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


def test_security_group_rules_are_compared_by_id():
    from tricircle.xjob import security_group_copy as sgc
    central = {'id': 'g', 'security_group_rules': [
        {'id': 'r1'}, {'id': 'r2'}, {'id': 'r3'}]}
    regional = {'id': 'g', 'security_group_rules': [
        {'id': 'r2'}, {'id': 'r9'}]}
    missing, stale = sgc.rule_changes(central, regional)
    assert [r['id'] for r in missing] == ['r1', 'r3']
    assert stale == ['r9']
    assert sgc.rule_changes(central, central) == ([], [])


def test_a_missing_rule_is_made_with_centrals_id_after_its_remote_group(
        monkeypatch):
    from tricircle.db import api as db_api
    from tricircle.resources import regions
    monkeypatch.setattr(db_api, 'list_routings', lambda filters: [])
    from tricircle.xjob import security_group_copy as sgc
    calls = []

    class Region:
        def get(self, resource, res_id, headers=None):
            calls.append(('copy', resource, res_id, headers))

        def request(self, method, path, body=None, headers=None):
            calls.append((method, path, body, headers))

    rule = {'id': 'r1', 'security_group_id': 'web', 'direction': 'ingress',
            'ethertype': 'IPv4', 'protocol': 'tcp', 'port_range_min': 80,
            'port_range_max': 80, 'remote_group_id': 'client',
            'project_id': 'p', 'created_at': 'x', 'revision_number': 3}
    done = sgc.converge(Region(), 'pod', {'id': 'web',
                                          'security_group_rules': [rule]},
                        {'id': 'web', 'security_group_rules': [
                            {'id': 'old'}]})
    assert done == ['rule old deleted', 'rule r1 created']
    assert calls[0][:2] == ('DELETE', '/v2.0/security-group-rules/old')
    assert calls[1] == ('copy', 'security_group', 'client', regions.AS_USER)
    method, path, body, headers = calls[2]
    assert (method, path) == ('POST', '/v2.0/security-group-rules')
    assert headers == {regions.RESOURCE_ID_HEADER: 'r1'}
    # No id in the body (the API refuses one), nothing Neutron sets itself.
    assert 'id' not in body['security_group_rule']
    assert 'revision_number' not in body['security_group_rule']
    assert body['security_group_rule']['remote_group_id'] == 'client'


def test_a_router_interface_port_is_copied_free_for_the_routers_copy():
    from tricircle.resources import port as port_res
    central = {'id': 'p', 'name': '', 'project_id': 'x', 'network_id': 'n',
               'mac_address': 'fa:16:3e:00:00:01', 'admin_state_up': True,
               'description': '', 'device_owner': 'network:router_interface',
               'device_id': 'r', 'fixed_ips': [{'subnet_id': 's',
                                               'ip_address': '10.0.0.5'}]}
    body = port_res.regional_body(central)
    assert body['device_owner'] == '' and body['device_id'] == ''
    vm = dict(central, device_owner='compute:nova', device_id='vm')
    assert port_res.regional_body(vm)['device_id'] == 'vm'


def test_a_rule_naming_an_address_group_makes_the_region_copy_it_first(
        monkeypatch):
    from tricircle.db import api as db_api
    from tricircle.resources import regions
    from tricircle.xjob import security_group_copy as sgc
    calls = []

    class Region:
        def get(self, resource, res_id, headers=None):
            calls.append(('copy', resource, res_id, headers))

        def request(self, method, path, body=None, headers=None):
            calls.append((method, path))

    rule = {'id': 'r1', 'security_group_id': 'web', 'direction': 'ingress',
            'ethertype': 'IPv6', 'remote_address_group_id': 'partners'}
    central = {'id': 'web', 'security_group_rules': [rule]}
    assert resources.get(resources.SECURITY_GROUP).depends_on(central) == [
        (resources.ADDRESS_GROUP, 'partners')]
    # Not held in the region (no routing): asked for first.
    monkeypatch.setattr(db_api, 'list_routings', lambda filters: [])
    sgc.converge(Region(), 'pod', central, {'id': 'web'})
    assert calls == [('copy', resources.ADDRESS_GROUP, 'partners',
                      regions.AS_USER),
                     ('POST', '/v2.0/security-group-rules')]
    # Held (a routing in that pod): no round trip before the rule.
    calls.clear()
    seen = []
    monkeypatch.setattr(db_api, 'list_routings',
                        lambda filters: seen.append(filters) or [filters])
    sgc.converge(Region(), 'pod', central, {'id': 'web'})
    assert calls == [('POST', '/v2.0/security-group-rules')]
    assert seen == [{'top_id': 'partners', 'pod_id': 'pod',
                     'resource_type': resources.ADDRESS_GROUP}]


def test_a_routing_that_outlived_its_copy_costs_one_more_try(monkeypatch):
    """The region says a dependency is missing although its routing is
    there: it is asked for, and the write runs again."""
    from tricircle.db import api as db_api
    from tricircle.resources import neutron_client
    from tricircle.resources import regions
    monkeypatch.setattr(db_api, 'list_routings', lambda filters: [filters])
    calls = []

    class Region:
        def get(self, resource, res_id, headers=None):
            calls.append(('copy', res_id))

    def write():
        calls.append('write')
        if calls.count('write') == 1:
            raise neutron_client.RemoteNotFound(
                server='RegionOne Neutron', status=404,
                reason='SecurityGroupNotFound')
        return 'done'

    deps = [(resources.SECURITY_GROUP, 'client')]
    assert regions.with_dependencies(Region(), 'pod', deps, write) == 'done'
    assert calls == ['write', ('copy', 'client'), 'write']
    # With nothing to copy, a missing resource is the write's own error.
    calls.clear()
    with pytest.raises(neutron_client.RemoteNotFound):
        regions.with_dependencies(Region(), 'pod', [], write)


def test_address_group_addresses_converge_through_its_actions():
    from tricircle.xjob import copy_parts
    calls = []

    class Region:
        def action(self, resource, res_id, action, body):
            calls.append((resource, res_id, action, body))

    central = {'id': 'ag', 'name': 'partners',
               'addresses': ['10.0.0.0/24', '2001:db8::/64']}
    regional = {'id': 'ag', 'name': 'partners',
                'addresses': ['10.0.0.0/24', '192.0.2.1/32']}
    assert copy_parts.differs(resources.ADDRESS_GROUP, central, regional)
    assert not copy_parts.differs(resources.ADDRESS_GROUP, central,
                                  dict(central, addresses=list(
                                      reversed(central['addresses']))))
    done = copy_parts.converge(Region(), 'pod', resources.ADDRESS_GROUP,
                               central, regional)
    assert calls == [
        (resources.ADDRESS_GROUP, 'ag', 'remove_addresses',
         {'addresses': ['192.0.2.1/32']}),
        (resources.ADDRESS_GROUP, 'ag', 'add_addresses',
         {'addresses': ['2001:db8::/64']})]
    assert done == ['removed 192.0.2.1/32', 'added 2001:db8::/64']
    # Types without parts: nothing to converge, nothing differs.
    assert copy_parts.converge(Region(), 'pod', resources.NETWORK, central,
                               regional) == []
    assert not copy_parts.differs(resources.NETWORK, central, regional)
    # The name is an attribute a PUT sets; the addresses are not.
    spec = resources.get(resources.ADDRESS_GROUP)
    assert spec.diff(central, dict(regional, name='old')) == {
        'name': 'partners'}
