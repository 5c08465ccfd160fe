"""Three regions in one sandbox (``up --regions 3``): a router whose
copies form a full mesh, a remote group whose members span the three,
and a network stretched over all three; then
``down`` leaves nothing behind (no process, namespace, link, mount or
OVS database). One sandbox serves the module (its tests
run in file order; the last one takes it down)."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tricircle.sandbox import hosts as sb_hosts
from tricircle.sandbox import processes
from tricircle.sandbox import vm as sb_vm
from tricircle.tests.sandbox.conftest import ping
from tricircle.tests.sandbox.conftest import running_sandbox
from tricircle.tests.sandbox.conftest import sandbox_cmd
from tricircle.tests.sandbox.conftest import stretched_network
from tricircle.tests.sandbox.conftest import wait_for
from tricircle.tests.sandbox.test_l3 import network
from tricircle.tests.sandbox.test_l3 import ROUTED
from tricircle.tests.sandbox.test_l3 import routes_of

pytestmark = pytest.mark.skipif(
    subprocess.run(['sh', '-c', 'command -v ping && ip netns list'],
                   capture_output=True).returncode != 0,
    reason='needs root, ip netns and ping (make setup installs ping)')


@pytest.fixture(scope='module')
def three_regions(tmp_path_factory):
    with running_sandbox(tmp_path_factory, 'sb3', '--regions', '3') as state:
        yield state


def test_three_regions_one_router_full_mesh(three_regions):
    from tricircle.sandbox import demo
    state = three_regions
    central = demo.connect(state, 'central')
    router = central.network.create_router(name='mesh-r')
    made = {}
    for i, region in enumerate(state.regions, start=1):
        net, subnet = network(central, 'mesh-%d' % i, '10.66.%d.0/24' % i,
                              [region])
        name = 'l3-mesh-%d' % i
        sandbox_cmd('vm', 'create', name, '--region', region, '--network',
                    net.id, '--state-dir', state.state_dir)
        made[name] = sb_vm.load(state)[name]
        central.network.add_interface_to_router(router, subnet_id=subnet.id)
    for src in made.values():
        for dst in made.values():
            if src is not dst:
                assert ping(state, src.name, dst.ip, deadline=ROUTED), (
                    src.name, dst.name)
    # Each copy: one route per other region's subnet.
    for region in state.regions:
        conn = demo.connect(state, region)
        assert len(routes_of(conn, router.id)) == 2, region


def test_a_remote_group_spanning_three_regions_admits_exactly_its_members(
        three_regions):
    """``web`` admits TCP from ``client``, whose members are in RegionTwo
    and RegionThree; W (web) is in RegionOne. Both clients connect (W's
    region holds their shadows, in ``client``); X in RegionThree, not a
    member, does not."""
    from tricircle.sandbox import demo
    from tricircle.tests.sandbox import test_security_groups as sg_tests
    state = three_regions
    central = demo.connect(state, 'central')
    web = central.network.create_security_group(name='sg3-web')
    client = central.network.create_security_group(name='sg3-client')
    central.network.create_security_group_rule(
        security_group_id=web.id, direction='ingress', ethertype='IPv4',
        protocol='tcp', port_range_min=sg_tests.PORT,
        port_range_max=sg_tests.PORT, remote_group_id=client.id)
    net = stretched_network(central, 'sg3net', '10.76.0.0/24')
    made = {}
    for name, region, groups in (
            ('sg3-w', 'RegionOne', [web.id]),
            ('sg3-c2', 'RegionTwo', [client.id]),
            ('sg3-c3', 'RegionThree', [client.id]),
            ('sg3-x3', 'RegionThree', None)):
        sandbox_cmd('vm', 'create', name, '--region', region, '--network',
                    net.id, '--state-dir', state.state_dir)
        made[name] = sb_vm.load(state)[name]
        if groups:
            central.network.update_port(made[name].port_id,
                                        security_group_ids=groups)
    server = subprocess.Popen(
        [sg_tests.SANDBOX_BIN, 'vm', 'exec', '--state-dir',
         state.state_dir, 'sg3-w', '--', sys.executable, '-c',
         sg_tests.SERVER],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        w_ip = made['sg3-w'].ip
        for member in ('sg3-c2', 'sg3-c3'):
            wait_for(lambda: sg_tests.connects(state, member, w_ip),
                     sg_tests.SYNC)
        assert sg_tests.refused_for(state, 'sg3-x3', w_ip)
    finally:
        server.kill()
        server.wait(10)


def test_three_regions_full_mesh_and_down_cleans_up(three_regions):
    from tricircle.sandbox import demo
    state = three_regions
    central = demo.connect(state, 'central')
    net = stretched_network(central, 'mesh', '10.75.0.0/24')
    made = {}
    for region in state.regions:
        name = 'mesh-' + region
        sandbox_cmd('vm', 'create', name, '--region', region, '--network',
                    net.id, '--state-dir', state.state_dir)
        made[name] = sb_vm.load(state)[name]
    for src in made.values():
        for dst in made.values():
            if src is not dst:
                assert ping(state, src.name, dst.ip), (src.name, dst.name)
    tag = sb_hosts.fabric_tag(state)
    assert any(tag in ns for ns in sb_vm.fabric(state).list_namespaces())
    _down_leaves_nothing(state)


def _down_leaves_nothing(state) -> None:
    """Real agents: down leaves no process (children included: privsep
    daemons, Erlang helpers, the outside's OVS), namespace, link, mount
    or OVS database, and no state directory."""
    import psutil
    assert state.agents == 'ovs'
    pids = set(state.pids.values())
    for pid in list(pids):
        pids |= {c.pid for c in psutil.Process(pid).children(recursive=True)}
    assert all(processes.is_running(p) for p in pids)
    prefix = 'tcsb' + sb_hosts.fabric_tag(state)
    netns = subprocess.run(['ip', 'netns', 'list'], capture_output=True,
                           text=True).stdout
    hosts = [h for r in state.regions for h in sb_hosts.hosts_of(state, r)]
    assert netns.count(prefix + '-h-') == len(hosts), netns
    assert prefix + '-outside' in netns, netns  # RegionOne's extnet
    ovs_dbs = [os.path.join(root, f) for root, _d, files in
               os.walk(state.state_dir) for f in files if f.endswith('.db')]
    # One per host, and the outside's (its VLAN port).
    assert len(ovs_dbs) == len(hosts) + 1 and all(
        os.path.basename(db).startswith(prefix) for db in ovs_dbs), ovs_dbs
    status = sandbox_cmd('status', '--state-dir', state.state_dir)
    assert 'Open vSwitch agent' in status.stdout
    assert 'L3 agent' in status.stdout

    sandbox_cmd('down', '--state-dir', state.state_dir)
    assert not [p for p in pids if processes.is_running(p)]
    assert not os.path.exists(state.state_dir)
    for listing in (['ip', 'netns', 'list'], ['ip', '-o', 'link']):
        assert prefix not in subprocess.run(listing, capture_output=True,
                                            text=True).stdout
    with open('/proc/mounts') as f:
        mounts = f.read()
    assert prefix not in mounts and 'tcsb-netns' not in mounts
    assert sandbox_cmd('status', '--state-dir', state.state_dir,
                       check=False).returncode == 1
