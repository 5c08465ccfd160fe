"""The sandbox itself: real Neutron 29 processes with our plugins."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request

import pytest

from tricircle.sandbox import processes
from tricircle.sandbox import state as sb_state


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
