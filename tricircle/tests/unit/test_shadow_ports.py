"""The logic of shadow ports: bodies, and one region's convergence."""
from __future__ import annotations

import pytest

from tricircle.resources import binding
from tricircle.resources import neutron_client
from tricircle.resources import shadow
from tricircle.xjob.jobs import shadow_port_setup as job


def central_port(pid: str, region: str, host: str, ip: str = '10.0.0.5',
                 tunnel: str = '172.30.1.1') -> dict:
    return {'id': pid, 'network_id': 'net', 'project_id': 'p',
            'mac_address': 'fa:16:3e:00:00:%s' % pid[-2:],
            'fixed_ips': [{'subnet_id': 's', 'ip_address': ip}],
            'device_owner': 'compute:nova', 'device_id': 'vm',
            'binding:host_id': host,
            'binding:profile': {'region': region, 'tunnel_ip': tunnel}}


def test_shadow_body_carries_id_mac_ip_and_remote_host():
    port = central_port('port-01', 'RegionTwo', 'RegionTwo-h1')
    body = shadow.port_body(port)
    assert shadow.port_id_of(body['name']) == 'port-01'
    assert body['mac_address'] == port['mac_address']
    assert body['fixed_ips'] == [{'subnet_id': 's',
                                  'ip_address': '10.0.0.5'}]
    assert body['binding:host_id'] == 'RegionTwo-h1'
    assert body['binding:profile'] == {'region': 'RegionTwo',
                                       'tunnel_ip': '172.30.1.1'}
    assert body['device_owner'] == shadow.SHADOW_DEVICE_OWNER


def test_shadow_body_keeps_the_ports_security_groups():
    """A remote-group rule admits the remote VM only if its shadow is a
    member of the group."""
    port = dict(central_port('port-01', 'RegionTwo', 'h'),
                security_groups=['sg-1', 'sg-2'],
                port_security_enabled=True)
    body = shadow.port_body(port)
    assert body['security_groups'] == ['sg-1', 'sg-2']
    assert body['port_security_enabled'] is True
    assert shadow.port_body(dict(port, security_groups=[],
                                 port_security_enabled=False))[
        'port_security_enabled'] is False


def test_binding_report_carries_the_status_central_shows():
    port = {'binding:host_id': 'h', 'binding:vif_type': 'ovs',
            'status': 'ACTIVE'}
    report = binding.report('RegionOne', port, '172.30.1.1')
    attrs, status = binding.split_status(report)
    assert status == 'ACTIVE'
    assert 'status' not in attrs['binding:profile']
    assert 'status' in report['binding:profile']  # not changed in place
    assert binding.split_status({'binding:profile': {}}) == (
        {'binding:profile': {}}, None)
    # The status is no part of where the port is bound.
    assert binding.remote_binding(dict(attrs, device_owner='compute:nova')
                                  ) == ('RegionOne', 'h', '172.30.1.1')


def test_shadow_agent_configuration_is_what_l2_population_reads():
    """Neutron's l2pop finds a host's VTEP as ``tunneling_ip`` and the
    types it tunnels as ``tunnel_types``: the OVS agent's own keys."""
    assert shadow.TUNNEL_IP == 'tunneling_ip'
    assert shadow.TUNNEL_TYPES == 'tunnel_types'


def test_remote_binding_needs_region_host_and_tunnel():
    port = central_port('port-01', 'RegionTwo', 'h')
    assert binding.remote_binding(port) == ('RegionTwo', 'h', '172.30.1.1')
    for change in ({'binding:host_id': ''},
                   {'binding:profile': {'region': 'RegionTwo'}},
                   {'device_owner': shadow.SHADOW_DEVICE_OWNER}):
        assert binding.remote_binding(dict(port, **change)) is None
    assert shadow.port_id_of('other') is None


class FakeRegion:
    """Records what the job asks of a region's Neutron."""

    def __init__(self, ports: list[dict], conflict: set[str] = (),
                 network_copied: bool = True):
        self.ports = {p['id']: p for p in ports}
        self.conflict = conflict
        # False: the network's copy is still being made (not committed)
        self.network_copied = network_copied
        self.calls: list[tuple[str, str]] = []

    def list(self, resource, **filters):
        return [p for p in self.ports.values()
                if all(p.get(k) == v for k, v in filters.items())]

    def create(self, resource, attrs):
        port_id = shadow.port_id_of(attrs['name'])
        if port_id in self.conflict:
            raise neutron_client.RemoteConflict(message='in use')
        if not self.network_copied:
            raise neutron_client.RemoteNotFound(message='no network')
        self.calls.append(('create', port_id))
        self.ports[port_id] = dict(attrs, id=port_id)
        return self.ports[port_id]

    def get(self, resource, res_id, headers=None):
        self.calls.append(('copy', res_id))  # the region copies a group
        if resource == 'network':  # ... or waits for its copy
            self.network_copied = True
        return {'id': res_id}

    def update(self, resource, res_id, attrs):
        self.calls.append(('update', res_id))
        self.ports[res_id].update(attrs)
        return self.ports[res_id]

    def delete(self, resource, res_id):
        self.calls.append(('delete', res_id))
        return self.ports.pop(res_id, None) is not None


class Ctx:
    def __init__(self, region: FakeRegion):
        self.region = region

    def region_client(self, name):
        return self.region


def shadow_of(port: dict) -> dict:
    return dict(shadow.port_body(port), id=port['id'])


@pytest.fixture
def pod1(sqlite_db) -> str:
    from tricircle.db import api as db_api
    pod_id = db_api.create_pod({'region_name': 'RegionOne',
                                'az_name': 'az1'})['pod_id']
    # The job runs for the regions holding the network.
    db_api.ensure_routing(top_id='net', bottom_id='net', pod_id=pod_id,
                          project_id='p', resource_type='network')
    return pod_id


def test_converge_creates_missing_and_removes_stale_only(pod1):
    here = central_port('p-11', 'RegionOne', 'RegionOne-h1')
    there = central_port('p-21', 'RegionTwo', 'RegionTwo-h1')
    remade = central_port('p-22', 'RegionTwo', 'RegionTwo-h2')
    # (Neutron lets a port's MAC change only while it is unbound.)
    stale_mac = shadow_of(dict(remade, mac_address='fa:16:3e:00:00:99'))
    gone = shadow_of(central_port('p-23', 'RegionTwo', 'RegionTwo-h1'))
    region = FakeRegion([shadow_of(there), stale_mac, gone])
    bound = {p['id']: p for p in (here, there, remade)}
    created, removed = job.converge_region(Ctx(region), 'RegionOne',
                                           pod1, 'net', bound)
    assert (created, removed) == (1, 2)
    assert sorted(region.calls) == [('create', 'p-22'), ('delete', 'p-22'),
                                    ('delete', 'p-23')]
    assert set(region.ports) == {'p-21', 'p-22'}  # never its own port
    # Each shadow made or kept has its port's state in this region.
    from tricircle.db import sync_states
    assert {k: v['state'] for k, v in sync_states.of_pod(
        'port', pod1).items()} == {'p-21': 'in_sync', 'p-22': 'in_sync'}
    assert region.ports['p-22']['mac_address'] == remade['mac_address']
    # Converged: a second run changes nothing.
    region.calls.clear()
    assert job.converge_region(Ctx(region), 'RegionOne', pod1, 'net',
                               bound) == (0, 0)
    assert region.calls == []


def test_a_shadow_follows_its_port_to_another_host_in_place(pod1):
    """A VM moved to another host of its region: the shadow is bound
    there in place. Made again with the same id, the region's agents
    would ignore it (their caches take a deleted id as gone for good)."""
    there = central_port('p-21', 'RegionTwo', 'RegionTwo-h1')
    region = FakeRegion([shadow_of(there)])
    moved = central_port('p-21', 'RegionTwo', 'RegionTwo-h2',
                         ip='10.0.0.7', tunnel='172.30.2.2')
    assert shadow.matches(region.ports['p-21'], moved)
    assert shadow.updates(region.ports['p-21'], moved) == {
        'binding:host_id': 'RegionTwo-h2',
        'binding:profile': {'region': 'RegionTwo',
                            'tunnel_ip': '172.30.2.2'},
        'fixed_ips': [{'subnet_id': 's', 'ip_address': '10.0.0.7'}]}
    assert job.converge_region(Ctx(region), 'RegionOne', pod1, 'net',
                               {'p-21': moved}) == (0, 0)
    # The new address's subnet is in the region before the update.
    assert region.calls == [('copy', 's'), ('update', 'p-21')]
    assert shadow.updates(region.ports['p-21'], moved) == {}
    region.calls.clear()
    assert job.converge_region(Ctx(region), 'RegionOne', pod1, 'net',
                               {'p-21': moved}) == (0, 0)
    assert region.calls == []


def test_a_network_copy_still_being_made_gets_its_shadow(pod1):
    """The routing of a network a region is copying comes before the
    copy is committed: the shadow waits for the copy, and the routing
    stays."""
    there = central_port('p-21', 'RegionTwo', 'RegionTwo-h1')
    region = FakeRegion([], network_copied=False)
    assert job.converge_region(Ctx(region), 'RegionOne', pod1, 'net',
                               {'p-21': there}) == (1, 0)
    assert region.calls == [('copy', 'net'), ('create', 'p-21')]
    from tricircle.resources import regions
    assert regions.holding('network', 'net') == {'RegionOne': pod1}


def test_converge_skips_a_conflicting_address(pod1):
    there = central_port('p-21', 'RegionTwo', 'RegionTwo-h1')
    region = FakeRegion([], conflict={'p-21'})
    assert job.converge_region(Ctx(region), 'RegionOne', pod1, 'net',
                               {'p-21': there}) == (0, 0)


def test_a_shadow_follows_its_ports_groups_and_pairs_in_place(pod1):
    there = dict(central_port('p-21', 'RegionTwo', 'RegionTwo-h1'),
                 security_groups=['sg-a'])
    region = FakeRegion([shadow_of(there)])
    moved_on = dict(there, security_groups=['sg-a', 'sg-b'],
                    allowed_address_pairs=[{'ip_address': '10.0.0.99'}])
    assert shadow.matches(region.ports['p-21'], moved_on)
    assert shadow.updates(region.ports['p-21'], moved_on) == {
        'security_groups': ['sg-a', 'sg-b'],
        'allowed_address_pairs': [{'ip_address': '10.0.0.99',
                                   'mac_address': there['mac_address']}]}
    assert job.converge_region(Ctx(region), 'RegionOne', pod1, 'net',
                               {'p-21': moved_on}) == (0, 0)
    # The new group is copied into the region before the shadow names it;
    # the shadow is updated, not made again (no gap in its tunnel).
    assert region.calls == [('copy', 'sg-a'), ('copy', 'sg-b'),
                            ('update', 'p-21')]
    assert shadow.updates(region.ports['p-21'], moved_on) == {}
    # Port security switched off, and on again: in place too (the
    # agents' caches ignore a port made again with a deleted id).
    off = dict(moved_on, port_security_enabled=False, security_groups=[],
               allowed_address_pairs=[])
    assert shadow.matches(region.ports['p-21'], off)
    assert shadow.updates(region.ports['p-21'], off) == {
        'port_security_enabled': False, 'security_groups': [],
        'allowed_address_pairs': []}
    region.calls.clear()
    assert job.converge_region(Ctx(region), 'RegionOne', pod1, 'net',
                               {'p-21': off}) == (0, 0)
    assert region.calls == [('update', 'p-21')]
    assert shadow.updates(region.ports['p-21'], moved_on) == {
        'port_security_enabled': True, 'security_groups': ['sg-a', 'sg-b'],
        'allowed_address_pairs': [{'ip_address': '10.0.0.99',
                                   'mac_address': there['mac_address']}]}
