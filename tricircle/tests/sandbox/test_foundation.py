"""The sandbox itself: real Neutron 29 processes with our plugins."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request

import pytest

from tricircle.sandbox import hosts as sb_hosts
from tricircle.sandbox import processes
from tricircle.sandbox import state as sb_state
from tricircle.tests.sandbox.conftest import sandbox_cmd


def _get(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=10) as resp:
        assert resp.status == 200
        return json.loads(resp.read())


def test_sandbox_json_lists_every_endpoint(sandbox):
    with open(os.path.join(sandbox.state_dir, 'sandbox.json')) as f:
        data = json.load(f)
    assert set(data['regions']) == {'RegionOne', 'RegionTwo'}
    assert data['central']['neutron'].startswith('http://127.0.0.1:')
    assert data['admin_api'].startswith('http://127.0.0.1:')
    assert data['keystone'] is None
    assert {'neutron-central', 'neutron-RegionOne', 'neutron-RegionTwo',
            'tricircle-api'} <= set(data['pids'])
    for pid in data['pids'].values():
        assert processes.is_running(pid)


def test_every_region_answers_network_list(sandbox):
    for region in sandbox.regions.values():
        body = _get(region['neutron'] + '/v2.0/networks')
        assert isinstance(body['networks'], list)


def test_admin_api_lists_central_and_region_pods(sandbox):
    pods = _get(sandbox.admin_api + '/v1.0/pods')['pods']
    by_region = {p['region_name']: p for p in pods}
    assert set(by_region) == {sb_state.CENTRAL_REGION, 'RegionOne',
                              'RegionTwo'}
    assert by_region[sb_state.CENTRAL_REGION]['az_name'] == ''
    assert by_region['RegionOne']['az_name'] == 'az-RegionOne'


def test_openstack_cli_creates_network_on_central(sandbox):
    env = dict(os.environ, OS_CLIENT_CONFIG_FILE=os.path.join(
        sandbox.state_dir, 'clouds.yaml'))
    osc = os.path.join(os.path.dirname(sys.executable), 'openstack')
    out = subprocess.run(
        [osc, '--os-cloud', 'central', 'network', 'create', 'n1', '-f',
         'json'], env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    net = json.loads(out.stdout)
    assert net['name'] == 'n1'
    listed = _get(sandbox.central['neutron'] + '/v2.0/networks?name=n1')
    assert [n['id'] for n in listed['networks']] == [net['id']]


def test_central_plugin_is_loaded(central):
    """Plain ML2 knows no pods; the central plugin checks hints against
    the Tricircle DB."""
    import openstack.exceptions
    with pytest.raises(openstack.exceptions.BadRequestException) as err:
        central.network.create_network(
            name='bad-hint', availability_zone_hints=['NoSuchRegion'])
    assert 'NoSuchRegion' in str(err.value)
    net = central.network.create_network(
        name='good-hint', availability_zone_hints=['RegionOne'])
    assert net.availability_zone_hints == ['RegionOne']


def test_local_plugin_is_loaded(central, regions):
    """Plain ML2 would answer 404; the local plugin fetches the central
    network and creates it with the same id."""
    net = central.network.create_network(name='lazy')
    for region in regions.values():
        local = region.network.get_network(net.id)
        assert local.id == net.id
        assert local.provider_segmentation_id == \
            net.provider_segmentation_id


def test_up_and_down_leave_nothing_behind(tmp_path):
    """Real agents: down leaves no process (children included: privsep
    daemons, Erlang helpers, the outside's OVS), namespace, mount or OVS
    database."""
    import psutil
    state_dir = str(tmp_path / 'small')
    sandbox_cmd('up', '--regions', '1', '--state-dir', state_dir)
    try:
        state = sb_state.SandboxState.load(state_dir)
        assert state.agents == 'ovs'
        pids = set(state.pids.values())
        for pid in list(pids):
            pids |= {c.pid for c in
                     psutil.Process(pid).children(recursive=True)}
        assert all(processes.is_running(p) for p in pids)
        prefix = 'tcsb' + sb_hosts.fabric_tag(state)
        netns = subprocess.run(['ip', 'netns', 'list'], capture_output=True,
                               text=True).stdout
        assert netns.count(prefix + '-h-') == 2, netns
        assert prefix + '-outside' in netns, netns  # RegionOne's extnet
        ovs_dbs = [os.path.join(root, f) for root, _d, files in
                   os.walk(state_dir) for f in files if f.endswith('.db')]
        # One per host, and the outside's (its VLAN port).
        assert len(ovs_dbs) == 3 and all(
            os.path.basename(db).startswith(prefix)
            for db in ovs_dbs), ovs_dbs
        status = sandbox_cmd('status', '--state-dir', state_dir)
        assert status.returncode == 0
        assert 'Open vSwitch agent' in status.stdout
        assert 'L3 agent' in status.stdout
    finally:
        # Whatever failed above, nothing of it outlives the test.
        sandbox_cmd('down', '--state-dir', state_dir, check=False)
    assert not [p for p in pids if processes.is_running(p)]
    assert not os.path.exists(state_dir)
    assert prefix not in subprocess.run(['ip', 'netns', 'list'],
                                        capture_output=True,
                                        text=True).stdout
    with open('/proc/mounts') as f:
        mounts = f.read()
    assert prefix not in mounts and 'tcsb-netns' not in mounts
    assert sandbox_cmd('status', '--state-dir', state_dir,
                       check=False).returncode == 1


def test_openstack_multiregion_networking_lists_pods_and_jobs(sandbox):
    env = dict(os.environ, OS_CLIENT_CONFIG_FILE=os.path.join(
        sandbox.state_dir, 'clouds.yaml'))
    osc = os.path.join(os.path.dirname(sys.executable), 'openstack')

    def run(*args):
        out = subprocess.run(
            [osc, '--os-cloud', 'central', 'multiregion', 'networking',
             *args, '-f', 'json'], env=env, capture_output=True, text=True,
            timeout=120)
        assert out.returncode == 0, out.stderr
        return json.loads(out.stdout)

    pods = run('pod', 'list')
    assert {p['region_name'] for p in pods} == {
        sb_state.CENTRAL_REGION, 'RegionOne', 'RegionTwo'}
    jobs = run('job', 'list')
    assert isinstance(jobs, list)
    assert all(j['status'] in ('NEW', 'RUNNING', 'SUCCESS', 'FAIL')
               for j in jobs)
