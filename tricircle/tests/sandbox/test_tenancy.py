"""Tenancy and reserved resources, probed as a hostile member would.

Two projects (demo, alt_demo) on a sandbox behind a real Keystone. Each
test reproduces a way to make Tricircle record, take or bypass what it
should not, and checks that nothing was left behind on central or in any
region.
"""
from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
import uuid

import pytest

from tricircle.resources import reserved
from tricircle.sandbox import keystone as sb_keystone
from tricircle.tests.sandbox.conftest import connect
from tricircle.tests.sandbox.conftest import running_keystone_sandbox
from tricircle.tests.sandbox.conftest import sandbox_cmd

pytestmark = pytest.mark.sandbox
REGIONS = ('RegionOne', 'RegionTwo')


@pytest.fixture(scope='module')
def ks_sandbox(tmp_path_factory):
    with running_keystone_sandbox(tmp_path_factory, 'tenancy') as state:
        yield state


@pytest.fixture(scope='module')
def admin_api(ks_sandbox):
    """GET on the Admin API with an admin token."""
    ks = sb_keystone.SandboxKeystone.load(ks_sandbox.state_dir)

    def get(path: str) -> dict:
        req = urllib.request.Request(
            ks_sandbox.admin_api + '/v1.0' + path,
            headers={'X-Auth-Token': ks.token('admin'),
                     'Accept': 'application/json'})
        with urllib.request.urlopen(req, timeout=30) as resp:
            return json.loads(resp.read())
    return get


def _routings(admin_api, top_id: str) -> list[dict]:
    return admin_api('/routings?top_id=%s' % top_id)['routings']


def _jobs(admin_api) -> list[dict]:
    return admin_api('/jobs')['jobs']


def _wait(predicate, timeout: float = 30.0, what: str = 'condition'):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError('timed out waiting for %s' % what)


def _ids_in_region(state, region: str, collection: str) -> set[str]:
    """What a region holds, listed without ids (a lookup by id would
    itself make a copy)."""
    admin = connect(state, region)
    return {r['id'] for r in admin.network.get(
        '/' + collection).json()[collection.replace('-', '_')]}


def _error(resp) -> tuple[int, str, str]:
    body = resp.json().get('NeutronError', {})
    return resp.status_code, body.get('type', ''), body.get('message', '')


@pytest.fixture(scope='module')
def demo_net(ks_sandbox):
    """demo's network, subnet and port, made on central as demo."""
    demo = connect(ks_sandbox, 'demo')
    name = 'tenancy-%s' % uuid.uuid4().hex[:6]
    net = demo.network.create_network(name=name)
    subnet = demo.network.create_subnet(network_id=net.id, ip_version=4,
                                        cidr='10.77.0.0/24')
    port = demo.network.create_port(network_id=net.id, name=name + '-p')
    return {'net': net, 'subnet': subnet, 'port': port}


# -- 1. a 404 lookup by another project records nothing ---------------------
def test_lookups_by_another_project_record_no_routing(ks_sandbox, admin_api,
                                                      demo_net):
    ids = {'networks': demo_net['net'].id, 'subnets': demo_net['subnet'].id,
           'ports': demo_net['port'].id}
    for region in REGIONS:
        alt = connect(ks_sandbox, 'alt_demo', region)
        for collection, res_id in ids.items():
            resp = alt.network.get('/%s/%s' % (collection, res_id),
                                   raise_exc=False)
            assert resp.status_code == 404, (region, collection)
            resp = alt.network.get('/%s?id=%s' % (collection, res_id))
            assert resp.json()[collection] == [], (region, collection)
    for res_id in ids.values():
        assert _routings(admin_api, res_id) == []
    for region in REGIONS:
        for collection, res_id in ids.items():
            assert res_id not in _ids_in_region(ks_sandbox, region,
                                                collection)
    # demo's update then queues nothing for regions that hold nothing.
    before = {j['id'] for j in _jobs(admin_api)}
    connect(ks_sandbox, 'demo').network.update_network(
        demo_net['net'], description='after the probes')
    assert {j['id'] for j in _jobs(admin_api)} == before


def test_a_vm_on_the_probed_network_leaves_no_failing_job(ks_sandbox,
                                                          admin_api,
                                                          demo_net):
    net_id = demo_net['net'].id
    sandbox_cmd('vm', 'create', 'tenancy-vm', '--region', 'RegionOne',
                '--network', net_id, '--state-dir', ks_sandbox.state_dir)
    try:
        pods = {r['pod_id'] for r in _routings(admin_api, net_id)}
        assert len(pods) == 1  # RegionOne only

        def shadow_jobs_done():
            jobs = [j for j in _jobs(admin_api)
                    if j['type'] == 'shadow_port_setup' and
                    j['resource'] == {'network_id': net_id}]
            return jobs and all(j['status'] == 'SUCCESS' for j in jobs)
        _wait(shadow_jobs_done, what='shadow_port_setup to succeed')
        assert not [j for j in _jobs(admin_api) if j['status'] == 'FAIL']
    finally:
        sandbox_cmd('vm', 'delete', 'tenancy-vm', '--state-dir',
                    ks_sandbox.state_dir, check=False)


def test_a_job_finding_no_copy_makes_it_again(ks_sandbox, admin_api):
    """A network copy deleted behind central's back (its routing stays)
    is made again by the next sync, with central's values."""
    admin = connect(ks_sandbox, 'central')
    net = admin.network.create_network(name='tenancy-repair')
    r2 = connect(ks_sandbox, 'RegionTwo')
    assert r2.network.get_network(net.id).id == net.id  # copied
    # The copy goes behind central's back (central's own header is not
    # sent by users: the region just deletes its copy).
    for _attempt in range(3):
        r2.network.delete_network(net.id)
        # A drift audit that saw the copy being made may have had it made
        # again at once (it did once in CI): delete it once more.
        if net.id not in _ids_in_region(ks_sandbox, 'RegionTwo',
                                        'networks'):
            break
    else:
        pytest.fail('the copy in RegionTwo came back at once 3 times')
    assert len(_routings(admin_api, net.id)) == 1
    admin.network.update_network(net, description='changed')
    _wait(lambda: net.id in _ids_in_region(ks_sandbox, 'RegionTwo',
                                           'networks'),
          what='the copy to be made again')
    assert len(_routings(admin_api, net.id)) == 1
    _wait(lambda: not [j for j in _jobs(admin_api)
                       if j['type'] == 'sync_resource' and
                       j['resource']['resource_id'] == net.id and
                       j['status'] != 'SUCCESS'],
          what='the sync job to succeed')
    admin.network.delete_network(net)


# -- 2. reserved ports cannot be taken, changed or deleted ------------------
def _reservations(ks_sandbox, subnet_id: str) -> dict[str, dict]:
    """name -> central port of every reservation on the subnet."""
    admin = connect(ks_sandbox, 'central')
    return {p.name: p for p in admin.network.ports(
        fixed_ips='subnet_id=%s' % subnet_id)
        if p.device_id in reserved.RESERVED_DEVICES}


def test_reserved_addresses_cannot_be_taken(ks_sandbox, demo_net):
    net, subnet = demo_net['net'], demo_net['subnet']
    demo_r1 = connect(ks_sandbox, 'demo', 'RegionOne')
    demo_r2 = connect(ks_sandbox, 'demo', 'RegionTwo')
    # Both regions use the network: each has its gateway reserved.
    demo_r1.network.get_network(net.id)
    demo_r2.network.get_network(net.id)
    held = _reservations(ks_sandbox, subnet.id)
    gw_r1 = held[reserved.gateway_port_name('RegionOne', subnet.id)]
    gw_r2 = held[reserved.gateway_port_name('RegionTwo', subnet.id)]
    dhcp = held[reserved.dhcp_port_name(subnet.id)]
    central_before = {p.id for p in connect(
        ks_sandbox, 'central').network.ports(network_id=net.id)}
    for port in (gw_r2, gw_r1, dhcp):
        ip = port.fixed_ips[0]['ip_address']
        resp = demo_r1.network.post('/ports', json={'port': {
            'network_id': net.id,
            'fixed_ips': [{'subnet_id': subnet.id, 'ip_address': ip}]}},
            raise_exc=False)
        status, kind, message = _error(resp)
        assert (status, kind) == (409, 'IpAddressInUse'), (port.name,
                                                           message)
        assert ip in message
    demo = connect(ks_sandbox, 'demo')
    for port in (gw_r1, dhcp):
        resp = demo.network.put('/ports/%s' % port.id, json={'port': {
            'device_owner': 'compute:nova'}}, raise_exc=False)
        assert _error(resp)[:2] == (409, 'PortReserved')
        resp = demo.network.delete('/ports/%s' % port.id, raise_exc=False)
        assert _error(resp)[:2] == (409, 'PortReserved')
    # Nor can a member make a reservation of its own.
    resp = demo.network.post('/ports', json={'port': {
        'network_id': net.id, 'name': 'fake',
        'device_id': reserved.RESERVED_GATEWAY_DEVICE}}, raise_exc=False)
    assert _error(resp)[:2] == (400, 'ReservedDeviceId')
    # In the region, the DHCP port's copy is as untouchable.
    resp = demo_r1.network.delete('/ports/%s' % dhcp.id, raise_exc=False)
    assert _error(resp)[:2] == (409, 'PortReserved')
    assert _reservations(ks_sandbox, subnet.id).keys() == held.keys()
    assert {p.id for p in connect(ks_sandbox, 'central').network.ports(
        network_id=net.id)} == central_before
    for region in REGIONS:
        assert dhcp.id in _ids_in_region(ks_sandbox, region, 'ports')


def test_a_port_lives_in_one_region(ks_sandbox, admin_api, demo_net):
    net, subnet = demo_net['net'], demo_net['subnet']
    demo = connect(ks_sandbox, 'demo')
    central_port = demo.network.create_port(network_id=net.id,
                                            name='made-on-central')
    ip = central_port.fixed_ips[0]['ip_address']
    body = {'port': {'network_id': net.id, 'fixed_ips': [
        {'subnet_id': subnet.id, 'ip_address': ip}]}}
    first = connect(ks_sandbox, 'demo', 'RegionOne').network.post(
        '/ports', json=body).json()['port']
    assert first['id'] == central_port.id
    resp = connect(ks_sandbox, 'demo', 'RegionTwo').network.post(
        '/ports', json=body, raise_exc=False)
    status, _kind, message = _error(resp)
    assert status == 409 and 'RegionOne' in message, message
    pods = [r['pod_id'] for r in _routings(admin_api, central_port.id)]
    assert len(pods) == 1
    assert central_port.id not in _ids_in_region(ks_sandbox, 'RegionTwo',
                                                 'ports')
    # The other project cannot adopt demo's port by its address either.
    alt_r1 = connect(ks_sandbox, 'alt_demo', 'RegionOne')
    resp = alt_r1.network.post('/ports', json=body, raise_exc=False)
    assert resp.status_code == 404  # alt_demo sees no such network
    connect(ks_sandbox, 'demo', 'RegionOne').network.delete_port(first['id'])


# -- 3. a port deleted in its region is deleted on central -------------------
def test_a_non_vm_port_deleted_in_its_region_goes_from_central(
        ks_sandbox, admin_api, demo_net):
    demo_r1 = connect(ks_sandbox, 'demo', 'RegionOne')
    port = demo_r1.network.create_port(network_id=demo_net['net'].id,
                                       name='no-owner')
    assert port.device_owner == ''
    demo = connect(ks_sandbox, 'demo')
    assert demo.network.get_port(port.id).id == port.id
    demo_r1.network.delete_port(port)
    assert demo.network.get('/ports/%s' % port.id,
                            raise_exc=False).status_code == 404
    assert _routings(admin_api, port.id) == []
    # ...and a later lookup in the region brings nothing back.
    assert demo_r1.network.get('/ports/%s' % port.id,
                               raise_exc=False).status_code == 404
    assert port.id not in _ids_in_region(ks_sandbox, 'RegionOne', 'ports')


# -- 4. members create networks, subnets and (address) groups on central ----
def test_members_cannot_create_region_only_resources(ks_sandbox, demo_net):
    demo_r1 = connect(ks_sandbox, 'demo', 'RegionOne')
    # RegionOne holds demo's network (the subnet attempt looks it up,
    # which would copy it during the test) and demo's default group.
    demo_r1.network.get_network(demo_net['net'].id)
    list(demo_r1.network.security_groups())
    before = {c: _ids_in_region(ks_sandbox, 'RegionOne', c)
              for c in ('networks', 'subnets', 'security-groups',
                        'address-groups')}
    central_url = ks_sandbox.central['neutron']
    attempts = [
        ('/networks', {'network': {'name': 'region-only'}}),
        ('/subnets', {'subnet': {'network_id': demo_net['net'].id,
                                 'ip_version': 4, 'cidr': '10.78.0.0/24'}}),
        ('/security-groups', {'security_group': {'name': 'region-only'}}),
        ('/address-groups', {'address_group': {
            'name': 'region-only', 'addresses': ['192.0.2.0/24']}}),
    ]
    for path, body in attempts:
        resp = demo_r1.network.post(path, json=body, raise_exc=False)
        status, kind, message = _error(resp)
        assert (status, kind) == (403, 'CreateOnCentral'), (path, message)
        assert central_url in message and 'RegionOne' in message
    assert {c: _ids_in_region(ks_sandbox, 'RegionOne', c)
            for c in before} == before
    # Nor may they change a copy of central's address group there (it
    # would widen that region's firewall beyond central's).
    demo = connect(ks_sandbox, 'demo')
    partners = demo.network.create_address_group(
        name='tenancy-partners', addresses=['192.0.2.1/32'])
    assert demo_r1.network.get_address_group(partners.id).addresses == [
        '192.0.2.1/32']
    for action in ('add_addresses', 'remove_addresses'):
        resp = demo_r1.network.put(
            '/address-groups/%s/%s' % (partners.id, action),
            json={'addresses': ['192.0.2.1/32']}, raise_exc=False)
        assert _error(resp)[:2] == (403, 'ChangeOnCentral'), action
    resp = demo_r1.network.put('/address-groups/%s' % partners.id, json={
        'address_group': {'name': 'renamed'}}, raise_exc=False)
    assert _error(resp)[:2] == (403, 'ChangeOnCentral')
    assert demo_r1.network.get_address_group(partners.id).addresses == [
        '192.0.2.1/32']
    demo.network.delete_address_group(partners)
    # Central's subnet with a CIDR a region-only subnet would have
    # blocked is copied as usual.
    net = demo.network.create_network(name='tenancy-cidr')
    subnet = demo.network.create_subnet(network_id=net.id, ip_version=4,
                                        cidr='10.78.0.0/24')
    assert demo_r1.network.get_subnet(subnet.id).cidr == '10.78.0.0/24'
    demo.network.delete_network(net)
