"""``tricircle-sandbox up --keystone``: every API behind a real Keystone 30.

One sandbox for the module (its own state dir); the last test greps every
log it wrote for the passwords and the tokens the tests used.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid

import pytest
import yaml

from tricircle.sandbox import keystone as sb_keystone
from tricircle.sandbox import processes
from tricircle.sandbox import state as sb_state
from tricircle.tests.sandbox.conftest import connect
from tricircle.tests.sandbox.conftest import running_keystone_sandbox
from tricircle.tests.sandbox.conftest import sandbox_cmd

pytestmark = pytest.mark.sandbox

# Every token a test obtained; none may show up in a log.
_TOKENS: set[str] = set()


@pytest.fixture(scope='module')
def ks_sandbox(tmp_path_factory) -> sb_state.SandboxState:
    """central + RegionOne + RegionTwo + Admin API + Keystone, SQLite."""
    with running_keystone_sandbox(tmp_path_factory, 'ks-sandbox') as state:
        yield state
    assert not os.path.exists(state.state_dir)


@pytest.fixture(scope='module')
def ks(ks_sandbox) -> sb_keystone.SandboxKeystone:
    return sb_keystone.SandboxKeystone.load(ks_sandbox.state_dir)


def _connect(state, cloud: str, region: str | None = None):
    conn = connect(state, cloud, region)
    _TOKENS.add(conn.auth_token)
    return conn


def _token(ks, user: str) -> str:
    token = ks.token(user)
    _TOKENS.add(token)
    return token


def _status(method: str, url: str, token: str | None = None,
            body: dict | None = None) -> tuple[int, dict | None]:
    headers = {'Accept': 'application/json',
               'Content-Type': 'application/json'}
    if token:
        headers['X-Auth-Token'] = token
    req = urllib.request.Request(
        url, method=method, headers=headers,
        data=json.dumps(body).encode() if body is not None else None)
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            raw = resp.read()
            return resp.status, json.loads(raw) if raw else None
    except urllib.error.HTTPError as exc:
        return exc.code, None


def _get_status(conn, path: str) -> int:
    return conn.network.get(path, raise_exc=False).status_code


# -- the sandbox itself ------------------------------------------------------
def test_keystone_runs_and_is_recorded(ks_sandbox, ks):
    with open(os.path.join(ks_sandbox.state_dir, 'sandbox.json')) as f:
        data = json.load(f)
    assert data['keystone'] == ks.url
    assert ks.url.startswith('http://127.0.0.1:')
    pid = data['pids']['keystone']
    assert processes.is_running(pid)
    assert processes.owned_by(pid, ks_sandbox.state_dir)
    print('keystone RSS %.1f MiB' % processes.rss_mib(pid))
    status, body = _status('GET', ks.url + '/v3')
    assert status == 200 and body['version']['id'].startswith('v3')
    # Only the owner reads the files holding passwords.
    for name in ('keystone-credentials.json', 'keystone.conf',
                 'neutron-central.conf', 'neutron-RegionOne.conf',
                 'tricircle-api.conf', 'tricircle-xjob.conf'):
        mode = os.stat(os.path.join(ks_sandbox.state_dir, 'etc',
                                    name)).st_mode
        assert mode & 0o077 == 0, name
    assert os.stat(os.path.join(ks_sandbox.state_dir,
                                'clouds.yaml')).st_mode & 0o077 == 0


def test_status_shows_keystone(ks_sandbox):
    out = sandbox_cmd('status', '--state-dir', ks_sandbox.state_dir)
    assert 'Keystone: %s' % ks_sandbox.keystone in out.stdout


def test_catalog_regions_services_users_roles(ks_sandbox, ks):
    admin = _connect(ks_sandbox, 'central')
    idn = admin.identity
    regions = {r.id for r in idn.regions()}
    assert {'CentralRegion', 'RegionOne', 'RegionTwo'} <= regions
    services = {s.type: s for s in idn.services()}
    assert {'identity', 'network', 'tricircle'} <= set(services)
    net_endpoints = {(e.region_id, e.url) for e in idn.endpoints(
        service_id=services['network'].id, interface='public')}
    assert net_endpoints == {
        ('CentralRegion', ks_sandbox.central['neutron']),
        ('RegionOne', ks_sandbox.regions['RegionOne']['neutron']),
        ('RegionTwo', ks_sandbox.regions['RegionTwo']['neutron'])}
    api_endpoints = {(e.region_id, e.url) for e in idn.endpoints(
        service_id=services['tricircle'].id, interface='public')}
    assert api_endpoints == {('CentralRegion', ks_sandbox.admin_api)}
    roles = {r.name for r in idn.roles()}
    assert {'admin', 'member', 'reader'} <= roles
    projects = {p.name for p in idn.projects()}
    assert {'admin', 'service', 'demo', 'alt_demo'} <= projects
    users = {u.name for u in idn.users()}
    assert {'admin', 'neutron', 'demo', 'alt_demo'} <= users


def test_clouds_yaml(ks_sandbox, ks):
    with open(os.path.join(ks_sandbox.state_dir, 'clouds.yaml')) as f:
        clouds = yaml.safe_load(f)['clouds']
    assert set(clouds) == {'central', 'RegionOne', 'RegionTwo', 'demo',
                           'alt_demo'}
    assert clouds['central']['region_name'] == 'CentralRegion'
    assert clouds['RegionTwo']['region_name'] == 'RegionTwo'
    assert clouds['RegionOne']['auth']['username'] == 'admin'
    assert clouds['demo']['auth']['username'] == 'demo'
    assert clouds['demo']['auth']['project_name'] == 'demo'
    assert clouds['demo']['region_name'] == 'CentralRegion'
    assert clouds['alt_demo']['auth']['password'] == ks.passwords['alt_demo']


def test_every_neutron_refuses_requests_without_a_token(ks_sandbox):
    urls = [ks_sandbox.central['neutron']] + [
        r['neutron'] for r in ks_sandbox.regions.values()]
    for url in urls:
        assert _status('GET', url + '/v2.0/networks')[0] == 401
        # The version document stays open, as in any OpenStack cloud.
        assert _status('GET', url + '/')[0] == 200


def test_admin_api_needs_an_admin_token(ks_sandbox, ks):
    url = ks_sandbox.admin_api + '/v1.0/pods'
    assert _status('GET', url)[0] == 401
    assert _status('GET', url, token='not-a-token')[0] == 401
    assert _status('GET', url, token=_token(ks, 'demo'))[0] == 403
    status, body = _status('GET', url, token=_token(ks, 'admin'))
    assert status == 200
    assert {p['region_name'] for p in body['pods']} == {
        'CentralRegion', 'RegionOne', 'RegionTwo'}


def test_openstack_cli_admin_creates_network_on_central(ks_sandbox):
    env = dict(os.environ, OS_CLIENT_CONFIG_FILE=os.path.join(
        ks_sandbox.state_dir, 'clouds.yaml'))
    osc = os.path.join(os.path.dirname(sys.executable), 'openstack')
    out = subprocess.run(
        [osc, '--os-cloud', 'central', 'network', 'create', 'ks-n1', '-f',
         'json'], env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    net = json.loads(out.stdout)
    assert net['name'] == 'ks-n1'
    admin_project = _connect(ks_sandbox, 'central').current_project_id
    assert net['project_id'] == admin_project


# -- tenants ----------------------------------------------------------------
@pytest.fixture(scope='module')
def demo_net(ks_sandbox):
    """demo's network, subnet and port, made on central as demo."""
    demo = _connect(ks_sandbox, 'demo')
    name = 'demo-%s' % uuid.uuid4().hex[:6]
    net = demo.network.create_network(name=name)
    subnet = demo.network.create_subnet(network_id=net.id, ip_version=4,
                                        cidr='10.42.0.0/24')
    port = demo.network.create_port(network_id=net.id, name=name + '-p')
    return {'net': net, 'subnet': subnet, 'port': port,
            'project_id': demo.current_project_id}


def test_demo_resources_belong_to_demo(demo_net):
    assert demo_net['net'].project_id == demo_net['project_id']
    assert demo_net['subnet'].project_id == demo_net['project_id']
    assert demo_net['port'].project_id == demo_net['project_id']
    assert demo_net['port'].fixed_ips[0]['subnet_id'] == \
        demo_net['subnet'].id


def test_demo_port_through_region_one(ks_sandbox, demo_net):
    """The region copies demo's network (same id) with the service
    user's token to central; the port is demo's in both places."""
    demo_r1 = _connect(ks_sandbox, 'demo', 'RegionOne')
    endpoint = demo_r1.network.get_endpoint().rstrip('/')
    assert endpoint.removesuffix('/v2.0') == \
        ks_sandbox.regions['RegionOne']['neutron']
    net_id = demo_net['net'].id
    port = demo_r1.network.create_port(network_id=net_id, name='r1-port')
    assert port.project_id == demo_net['project_id']
    local_net = demo_r1.network.get_network(net_id)
    assert local_net.id == net_id
    assert local_net.project_id == demo_net['project_id']
    central_port = _connect(ks_sandbox, 'demo').network.get_port(port.id)
    assert central_port.project_id == demo_net['project_id']
    assert central_port.fixed_ips[0]['ip_address'] == \
        port.fixed_ips[0]['ip_address']


def test_asking_for_another_projects_network_copies_nothing(ks_sandbox,
                                                           demo_net):
    """The region reads central with the service user's token: it must
    not copy demo's network into RegionTwo because alt_demo asked."""
    net = demo_net['net']
    alt = _connect(ks_sandbox, 'alt_demo', 'RegionTwo')
    assert _get_status(alt, '/networks/%s' % net.id) == 404
    resp = alt.network.post('/ports', json={'port': {
        'network_id': net.id}}, raise_exc=False)
    assert resp.status_code == 404
    admin = _connect(ks_sandbox, 'RegionTwo')
    # Unfiltered: a lookup by id or by name would make the copy itself.
    assert net.id not in {n.id for n in admin.network.networks()}


def test_alt_demo_does_not_see_demo_network(ks_sandbox, demo_net):
    net_id = demo_net['net'].id
    for region in ('CentralRegion', 'RegionOne', 'RegionTwo'):
        alt = _connect(ks_sandbox, 'alt_demo', region)
        assert _get_status(alt, '/networks/%s' % net_id) == 404, region
        assert _get_status(alt, '/ports/%s' % demo_net['port'].id) == 404
        assert net_id not in {n.id for n in alt.network.networks()}
    # and demo does see it in every region
    for region in ('CentralRegion', 'RegionOne', 'RegionTwo'):
        demo = _connect(ks_sandbox, 'demo', region)
        assert _get_status(demo, '/networks/%s' % net_id) == 200, region


def test_alt_demo_cannot_use_demo_network(ks_sandbox, demo_net):
    alt = _connect(ks_sandbox, 'alt_demo', 'RegionOne')
    resp = alt.network.post('/ports', json={'port': {
        'network_id': demo_net['net'].id}}, raise_exc=False)
    assert resp.status_code == 404


def test_member_router_across_regions_hides_the_transit(ks_sandbox):
    """demo's router spans RegionOne and RegionTwo: each region gets a
    copy with routes over a transit network that belongs to the service
    project, which demo sees nowhere."""
    demo = _connect(ks_sandbox, 'demo')
    router = demo.network.create_router(name='demo-r')
    for i, region in enumerate(('RegionOne', 'RegionTwo'), start=1):
        net = demo.network.create_network(
            name='demo-l3-%d' % i, availability_zone_hints=[region])
        subnet = demo.network.create_subnet(
            network_id=net.id, ip_version=4, cidr='10.43.%d.0/24' % i)
        # A port made in the region: the region holds the network.
        _connect(ks_sandbox, 'demo', region).network.create_port(
            network_id=net.id)
        demo.network.add_interface_to_router(router, subnet_id=subnet.id)
    admin = _connect(ks_sandbox, 'central')
    transit_name = 'tricircle-transit-%s' % router.id
    members = {r: _connect(ks_sandbox, 'demo', r)
               for r in ('RegionOne', 'RegionTwo')}

    def routed(conn) -> bool:
        copy = conn.network.find_router(router.id)
        return bool(copy and copy.routes)
    deadline = time.monotonic() + 60
    while not all(routed(conn) for conn in members.values()):
        assert time.monotonic() < deadline, 'no routes after 60 s'
        time.sleep(0.5)
    transit = [n for n in admin.network.networks() if n.name == transit_name]
    assert transit and transit[0].project_id != demo.current_project_id
    for region in ('CentralRegion', 'RegionOne', 'RegionTwo'):
        member = _connect(ks_sandbox, 'demo', region)
        assert transit_name not in {n.name for n in member.network.networks()}
        assert not [p for p in member.network.ports(device_id=router.id)
                    if p.network_id == transit[0].id], region
    r1 = members['RegionOne'].network.get_router(router.id)
    assert [r['destination'] for r in r1.routes] == ['10.43.2.0/24']


def test_members_manage_routers_on_central_not_in_a_region(ks_sandbox):
    demo_r1 = _connect(ks_sandbox, 'demo', 'RegionOne')
    resp = demo_r1.network.post('/routers', json={'router': {
        'name': 'here'}}, raise_exc=False)
    assert resp.status_code == 403
    assert 'central' in resp.json()['NeutronError']['message']


def test_demo_command_works_with_keystone(ks_sandbox):
    out = sandbox_cmd('demo', '--state-dir', ks_sandbox.state_dir)
    assert out.stdout.strip().splitlines()[-1].split(': ')[-1].startswith(
        'ping passed')


# -- last: nothing secret in the logs ---------------------------------------
def test_no_password_or_token_in_any_log(ks_sandbox, ks):
    secrets_ = set(ks.passwords.values()) | _TOKENS
    assert len(ks.passwords) == 4 and len(_TOKENS) >= 5
    logs = []
    for root, _dirs, files in os.walk(ks_sandbox.state_dir):
        logs += [os.path.join(root, f) for f in files if f.endswith('.log')]
    assert len(logs) >= 6
    assert any(os.path.basename(p) == 'keystone.log' for p in logs)
    for path in logs:
        with open(path, errors='replace') as f:
            text = f.read()
        for secret in secrets_:
            assert secret not in text, 'secret found in %s' % path
        # No fernet token of any user (the services' own tokens too).
        assert 'gAAAAA' not in text, 'a token in %s' % path
