"""The first hour of a new user: the CLI run as a user runs it.

``up`` on a running sandbox refuses and changes nothing; a failed ``up``
stops only what it started; common ``vm create`` mistakes give one
``ERROR:`` line; a network name works; ``status`` shows the logs; an
empty ``job list`` still shows its headers; the demo ends with a ping
that passed across regions. All on the session sandbox, but the failed
``up`` (one small sandbox of its own).
"""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import pytest

from tricircle.sandbox import down as sb_down
from tricircle.sandbox import hosts as sb_hosts
from tricircle.sandbox import processes
from tricircle.sandbox import state as sb_state
from tricircle.sandbox import vm as sb_vm
from tricircle.tests.sandbox.conftest import NEEDS_DATA_PLANE
from tricircle.tests.sandbox.conftest import ping
from tricircle.tests.sandbox.conftest import sandbox_cmd

pytestmark = NEEDS_DATA_PLANE

NET = 'fh-net'
CIDR = '10.81.0.0/24'


def one_error_line(proc: subprocess.CompletedProcess) -> str:
    """The process failed with exactly one ``ERROR:`` line, no traceback."""
    assert proc.returncode != 0, proc.stdout
    assert 'Traceback' not in proc.stdout + proc.stderr, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith('ERROR: '), proc.stderr
    return lines[0]


@pytest.fixture(scope='module')
def net(central):
    net = central.network.create_network(name=NET)
    # The VMs' fixed addresses lie outside the pool: central's own
    # reservations (each region's gateway, DHCP) take random pool
    # addresses and once took 10.81.0.12.
    central.network.create_subnet(network_id=net.id, cidr=CIDR,
                                  ip_version=4, name=NET + '-subnet',
                                  allocation_pools=[{
                                      'start': '10.81.0.100',
                                      'end': '10.81.0.200'}])
    return net


@pytest.fixture(scope='module')
def pair(sandbox, net):
    """fh-a in RegionOne (network by id), fh-b in RegionTwo (by name)."""
    made = []
    try:
        for name, region, network in (('fh-a', 'RegionOne', net.id),
                                      ('fh-b', 'RegionTwo', NET)):
            sandbox_cmd('vm', 'create', name, '--region', region,
                        '--network', network, '--ip',
                        '10.81.0.1%d' % (len(made) + 1),
                        '--state-dir', sandbox.state_dir)
            made.append(name)
        vms = sb_vm.load(sandbox)
        yield vms['fh-a'], vms['fh-b']
    finally:
        for name in made:
            sandbox_cmd('vm', 'delete', name, '--state-dir',
                        sandbox.state_dir, check=False)


def test_vm_create_takes_a_network_name(sandbox, net, pair):
    a, b = pair
    assert a.network_id == b.network_id == net.id
    assert ping(sandbox, b.name, a.ip) and ping(sandbox, a.name, b.name)


def test_up_on_a_running_sandbox_refuses_and_changes_nothing(sandbox,
                                                             pair):
    a, b = pair
    files = {f: os.stat(os.path.join(sandbox.state_dir, f)).st_mtime_ns
             for f in ('sandbox.json', 'vms.json', 'clouds.yaml')}
    proc = sandbox_cmd('up', '--regions', '2', '--state-dir',
                       sandbox.state_dir, check=False)
    assert 'already up' in one_error_line(proc)
    # "make sandbox" a second time: reuses it.
    again = sandbox_cmd('up', '--reuse', '--state-dir', sandbox.state_dir)
    assert 'reusing' in again.stdout
    after = sb_state.SandboxState.load(sandbox.state_dir)
    assert after.pids == sandbox.pids
    assert all(processes.is_running(p) for p in after.pids.values())
    assert files == {f: os.stat(os.path.join(sandbox.state_dir, f))
                     .st_mtime_ns for f in files}
    assert sandbox_cmd('status', '--state-dir', sandbox.state_dir)
    assert ping(sandbox, a.name, b.ip) and ping(sandbox, b.name, a.ip)


@pytest.fixture(scope='module')
def hinted(central):
    """A network that only RegionOne may use."""
    net = central.network.create_network(
        name='fh-only-one', availability_zone_hints=['RegionOne'])
    central.network.create_subnet(network_id=net.id, cidr='10.82.0.0/24',
                                  ip_version=4)
    return net


@pytest.mark.parametrize('case', [
    'wrong-id', 'ip-used-in-other-region', 'ip-outside-subnet',
    'no-subnet', 'not-allowed-in-region', 'bad-ip', 'unknown-region'])
def test_vm_create_mistake_is_one_error_line(sandbox, central, regions,
                                             pair, hinted, case):
    a, _b = pair
    network, extra, expect = {
        'wrong-id': ('0f1e2d3c-no-such-net', [], 'no network'),
        'ip-used-in-other-region': (NET, ['--ip', a.ip], 'in RegionOne'),
        'ip-outside-subnet': (NET, ['--ip', '10.9.9.9'], 'outside'),
        'no-subnet': (None, [], 'no subnet'),
        'not-allowed-in-region': (hinted.name, [],
                                  'not available in region RegionTwo'),
        'bad-ip': (NET, ['--ip', '10.81.0'], 'not an IP address'),
        'unknown-region': (NET, ['--region', 'RegionNine'], 'no region'),
    }[case]
    if network is None:
        network = central.network.create_network(name='fh-nosub').id
    name = 'fh-bad'
    proc = sandbox_cmd('vm', 'create', name, '--region', 'RegionTwo',
                       '--network', network, *extra,
                       '--state-dir', sandbox.state_dir, check=False)
    assert expect in one_error_line(proc)
    # Nothing left behind: no VM, no port in the region.
    assert name not in sb_vm.load(sandbox)
    assert not list(regions['RegionTwo'].network.ports(name='vm-' + name))
    assert not any(ns.endswith('-vm-' + name)
                   for ns in sb_vm.fabric(sandbox).list_namespaces())


@pytest.mark.parametrize('args', [
    ('vm', 'delete', 'fh-nosuch'),
    ('vm', 'ping', 'fh-nosuch', '10.81.0.11'),
    ('vm', 'ping', 'fh-a', 'not-an-address'),
    ('vm', 'create', 'bad name', '--region', 'RegionOne', '--network', NET),
    ('vm', 'migrate', 'fh-nosuch', '--host', 'RegionOne-h2'),
    ('vm', 'migrate', 'fh-a', '--host', 'RegionNine-h1'),
])
def test_other_vm_mistakes_are_one_error_line(sandbox, pair, args):
    one_error_line(sandbox_cmd(*args, '--state-dir', sandbox.state_dir,
                               check=False))


def test_status_shows_each_process_log(sandbox):
    out = sandbox_cmd('status', '--state-dir', sandbox.state_dir).stdout
    for name in sandbox.pids:
        line = next(line for line in out.splitlines()
                    if line.startswith(name + ' '))
        log = line.split()[-1]
        assert 'running' in line and log.endswith('.log'), line
        assert os.path.isfile(log), line
    assert sb_down.archive_root(sandbox.state_dir) in out or \
        os.path.relpath(sb_down.archive_root(sandbox.state_dir)) in out


def test_empty_job_list_prints_the_table_headers(sandbox):
    env = dict(os.environ, OS_CLIENT_CONFIG_FILE=os.path.join(
        sandbox.state_dir, 'clouds.yaml'))
    osc = os.path.join(os.path.dirname(sys.executable), 'openstack')
    proc = subprocess.run(
        [osc, '--os-cloud', 'central', 'multiregion', 'networking', 'job',
         'list', '--project-id', 'fh-nobody'], env=env, capture_output=True,
        text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert re.search(r'\| id +\| project_id +\| type ', proc.stdout), \
        proc.stdout


def _demo(sandbox) -> list[str]:
    proc = sandbox_cmd('demo', '--state-dir', sandbox.state_dir)
    print(proc.stdout)
    assert 'Traceback' not in proc.stdout + proc.stderr
    return proc.stdout.strip().splitlines()


def test_demo_ends_with_a_passing_ping_across_regions(sandbox, regions):
    lines = _demo(sandbox)
    text = '\n'.join(lines)
    for shown in ('GET /v1.0/pods', 'routings', 'jobs', 'Try next',
                  'a shadow port (compute:shadow)', 'vm create demo-vm1'):
        assert shown in text, shown
    last = re.fullmatch(r'\s*(\S+) \((Region\w+)\) -> (\S+) \((Region\w+), '
                        r'([\d.]+)\): ping passed \(.*\)', lines[-1])
    assert last, lines[-1]
    assert last.group(2) != last.group(4)
    vms = sb_vm.load(sandbox)
    assert vms[last.group(1)].region == last.group(2)
    # The demo left it all up: the shadows are there, the VMs still ping.
    for vm in (vms['demo-vm1'], vms['demo-vm2']):
        other = 'RegionTwo' if vm.region == 'RegionOne' else 'RegionOne'
        shadow = regions[other].network.get_port(vm.port_id)
        assert shadow.device_owner == 'compute:shadow'
    assert ping(sandbox, 'demo-vm1', vms['demo-vm2'].ip)


@pytest.mark.full  # the demo once more: a minute, on the same steps
def test_a_second_make_sandbox_runs_the_demo_again(sandbox):
    """A second "make sandbox": up --reuse, then the demo again, which
    first removes what the previous one made."""
    if 'demo-vm1' not in sb_vm.load(sandbox):
        _demo(sandbox)
    first = sb_vm.load(sandbox)['demo-vm1'].port_id
    sandbox_cmd('up', '--reuse', '--state-dir', sandbox.state_dir)
    again = _demo(sandbox)
    assert again[1].startswith('0. Removing what the previous demo made')
    assert 'ping passed' in again[-1]
    assert sb_vm.load(sandbox)['demo-vm1'].port_id != first


def test_failed_up_stops_only_what_it_started(tmp_path, sandbox):
    """A step fails after the servers started: that up's processes stop,
    its logs are kept, a user's file stays, the other sandbox runs on."""
    state_dir = str(tmp_path / 'state')
    os.makedirs(state_dir)
    with open(os.path.join(state_dir, 'notes.txt'), 'w') as f:
        f.write('not the sandbox\'s')
    env = dict(os.environ, TRICIRCLE_SANDBOX_TEST_FAIL_AFTER='start_servers')
    bin_ = os.path.join(os.path.dirname(sys.executable), 'tricircle-sandbox')
    proc = subprocess.run([bin_, 'up', '--regions', '1', '--state-dir',
                           state_dir], env=env, capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 1
    assert 'Traceback' not in proc.stdout + proc.stderr
    assert proc.stderr.startswith('ERROR: failing after start_servers')
    stopped = dict(re.findall(r'stopping (\S+) \(pid (\d+)\)', proc.stderr))
    # Its broker, database, Neutrons (API and RPC), Admin API and XJob.
    assert set(stopped) == {
        'epmd', 'rabbitmq', 'postgres', 'neutron-central',
        'neutron-RegionOne', 'neutron-rpc-RegionOne', 'tricircle-api',
        'tricircle-xjob'}, proc.stderr
    assert not any(processes.is_running(int(p)) for p in stopped.values())
    assert os.listdir(state_dir) == ['notes.txt']
    kept = re.search(r'logs kept in (\S+)', proc.stderr).group(1)
    assert os.path.isfile(os.path.join(kept, 'neutron-central.log'))
    tag = sb_hosts.fabric_tag(sb_state.SandboxState(state_dir=state_dir))
    netns = subprocess.run(['ip', 'netns', 'list'], capture_output=True,
                           text=True).stdout
    assert 'tcsb' + tag not in netns
    # The session sandbox did not notice.
    assert sandbox_cmd('status', '--state-dir', sandbox.state_dir)
    with open(os.path.join(sandbox.state_dir, 'sandbox.json')) as f:
        assert json.load(f)['pids'] == sandbox.pids
