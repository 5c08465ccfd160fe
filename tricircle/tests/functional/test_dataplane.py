"""The sandbox data plane on real namespaces: VXLAN, VLAN segments, VMs.

Every test uses its own random fabric tag and destroys its fabric in a
finalizer, so nothing is left behind even when an assertion fails.
All traffic runs inside the test's namespaces.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import time
import sys
import textwrap
import uuid

import pytest

from tricircle.sandbox.dataplane import fabric as dp_fabric
from tricircle.sandbox.dataplane import ipcmd
from tricircle.sandbox.dataplane import names


def _skip_reason() -> str | None:
    if os.geteuid() != 0:
        return 'needs root (network namespaces)'
    if shutil.which('ip') is None:
        return 'needs iproute2 (ip)'
    if shutil.which('ping') is None:
        return 'needs ping (make setup installs iputils-ping)'
    probe = names.namespace_prefix('zzzz') + 'probe-%d' % os.getpid()
    made = subprocess.run(['ip', 'netns', 'add', probe], capture_output=True,
                          text=True)
    subprocess.run(['ip', 'netns', 'del', probe], capture_output=True)
    if made.returncode != 0:
        return 'ip netns add is unusable here: %s' % made.stderr.strip()
    return None


_REASON = _skip_reason()
pytestmark = pytest.mark.skipif(_REASON is not None, reason=str(_REASON))

MAC_A, MAC_B = 'fa:16:3e:00:00:0a', 'fa:16:3e:00:00:0b'
IP_H1, IP_H2 = '172.31.0.1', '172.31.0.2'


def _fresh_tag() -> str:
    """A tag no namespace on this machine uses (sandboxes may be up)."""
    taken = ipcmd.namespaces()
    while True:
        tag = uuid.uuid4().hex[:4]
        if not any(ns.startswith(names.prefix(tag)) for ns in taken):
            return tag


@pytest.fixture
def new_fabric():
    made = []

    def make() -> dp_fabric.Fabric:
        made.append(dp_fabric.Fabric(_fresh_tag()))
        return made[-1]
    yield make
    for fab in made:
        fab.destroy()
        assert fab.list_namespaces() == []


@pytest.fixture
def fab(new_fabric):
    fabric = new_fabric()
    fabric.add_host('h1', IP_H1)
    fabric.add_host('h2', IP_H2)
    return fabric


def _root_links_with(prefix: str) -> list[str]:
    return [n for n in ipcmd.root_links() if n.startswith(prefix)]


def test_hosts_share_an_underlay(fab):
    assert fab.tunnel_ip('h1') == IP_H1
    assert fab.add_host('h1', IP_H1) == fab.host_ns('h1')  # idempotent
    ipcmd.netns_exec(fab.host_ns('h1'), ['ping', '-c1', '-W2', IP_H2])
    assert fab.list_namespaces() == sorted(
        [fab.underlay, fab.host_ns('h1'), fab.host_ns('h2')])
    # A host whose address changes takes its vxlan devices along.
    fab.ensure_vxlan('h1', 'net', 1001)
    fab.add_host('h1', '172.31.0.9')
    assert fab.tunnel_ip('h1') == '172.31.0.9'
    fab.ensure_vxlan('h1', 'net', 1001)
    info = ipcmd.ip_json(fab.host_ns('h1'), '-d', 'link', 'show', 'dev',
                         fab.vxlan_device(1001))[0]['linkinfo']['info_data']
    assert (info['local'], info['id'], info['port'], info['learning']) == (
        '172.31.0.9', 1001, 4789, False)


def test_vxlan_carries_the_ping_and_only_with_fdb_entries(fab):
    bridges = [fab.ensure_vxlan(h, 'net', 1001) for h in ('h1', 'h2')]
    assert fab.ensure_vxlan('h1', 'net', 1001) == bridges[0]  # idempotent
    fab.plug_vm('h1', 'a', bridges[0], MAC_A, '10.10.0.11/24', None, 1450)
    fab.plug_vm('h2', 'b', bridges[1], MAC_B, '10.10.0.12/24', None, 1450)
    assert not fab.ping('a', '10.10.0.12', deadline=1)  # no FDB yet
    assert fab.set_vxlan_fdb('h1', 1001, {MAC_B: IP_H2}) == {'added': [
        (dp_fabric.FLOOD_MAC, IP_H2), (MAC_B, IP_H2)]}
    fab.set_vxlan_fdb('h2', 1001, {MAC_A: IP_H1})
    assert fab.vxlan_fdb('h1', 1001) == {(MAC_B, IP_H2),
                                         (dp_fabric.FLOOD_MAC, IP_H2)}
    assert fab.ping('a', '10.10.0.12') and fab.ping('b', '10.10.0.11')
    assert fab.neigh_mac('a', '10.10.0.12') == MAC_B
    # MTU 1450 end to end: 1422 + 28 bytes of headers fits, 1423 not.
    assert fab.vm_exec('a', ['ping', '-c1', '-W2', '-M', 'do', '-s', '1422',
                             '10.10.0.12'], check=False).returncode == 0
    assert fab.vm_exec('a', ['ping', '-c1', '-W1', '-M', 'do', '-s', '1423',
                             '10.10.0.12'], check=False).returncode != 0
    # Idempotent: the same entries change nothing.
    assert fab.set_vxlan_fdb('h1', 1001, {MAC_B.upper(): IP_H2}) == {}
    # The tunnel is what carries it: without the entries, no ping.
    assert fab.set_vxlan_fdb('h1', 1001, {}) == {'removed': [
        (dp_fabric.FLOOD_MAC, IP_H2), (MAC_B, IP_H2)]}
    assert fab.vxlan_fdb('h1', 1001) == set()
    fab.flush_neigh('a')
    assert not fab.ping('a', '10.10.0.12', deadline=1.5)
    # And back.
    fab.set_vxlan_fdb('h1', 1001, {MAC_B: IP_H2})
    assert fab.ping('a', '10.10.0.12')


def test_a_new_vm_announces_a_reused_address(fab):
    bridges = [fab.ensure_vxlan(h, 'net', 1002) for h in ('h1', 'h2')]
    mac_c = 'fa:16:3e:00:00:0c'
    fab.set_vxlan_fdb('h1', 1002, {MAC_B: IP_H2, mac_c: IP_H2})
    fab.set_vxlan_fdb('h2', 1002, {MAC_A: IP_H1})
    fab.plug_vm('h1', 'a', bridges[0], MAC_A, '10.10.0.11/24', None, 1450)
    fab.plug_vm('h2', 'b', bridges[1], MAC_B, '10.10.0.12/24', None, 1450)
    assert fab.ping('a', '10.10.0.12')
    assert fab.neigh_mac('a', '10.10.0.12') == MAC_B
    # B goes; C comes with B's address: its gratuitous ARP on link up
    # replaces A's cached MAC, so A needs no neighbour timeout.
    fab.unplug_vm('b')
    fab.plug_vm('h2', 'c', bridges[1], mac_c, '10.10.0.12/24', None, 1450)
    deadline = time.monotonic() + 3
    while fab.neigh_mac('a', '10.10.0.12') != mac_c:
        assert time.monotonic() < deadline, 'A still caches B\'s MAC'
        time.sleep(0.05)
    assert fab.ping('a', '10.10.0.12', deadline=1)


def test_fdb_follows_a_moved_mac(fab):
    fab.add_host('h3', '172.31.0.3')
    for h in ('h1', 'h2', 'h3'):
        fab.ensure_vxlan(h, 'net', 1002)
    fab.set_vxlan_fdb('h1', 1002, {MAC_B: IP_H2})
    changes = fab.set_vxlan_fdb('h1', 1002, {MAC_B: '172.31.0.3'})
    assert changes['removed'] == [(dp_fabric.FLOOD_MAC, IP_H2),
                                  (MAC_B, IP_H2)]
    assert fab.vxlan_fdb('h1', 1002) == {(MAC_B, '172.31.0.3'),
                                         (dp_fabric.FLOOD_MAC, '172.31.0.3')}
    fab.remove_vxlan('h1', 1002)
    fab.remove_vxlan('h1', 1002)  # twice is fine
    assert not ipcmd.link_exists(fab.host_ns('h1'), fab.vxlan_device(1002))


def test_vlan_segments_isolate_equal_addresses(fab):
    for vid in (100, 101):
        b1 = fab.ensure_vlan('h1', 'physnet1', vid)
        b2 = fab.ensure_vlan('h2', 'physnet1', vid)
        assert fab.ensure_vlan('h1', 'physnet1', vid) == b1
        fab.plug_vm('h1', 'a%d' % vid, b1, 'fa:16:3e:00:%02x:0a' % vid,
                    '10.20.0.11/24', None, 1500)
        fab.plug_vm('h2', 'b%d' % vid, b2, 'fa:16:3e:00:%02x:0b' % vid,
                    '10.20.0.12/24', None, 1500)
    assert fab.ping('a100', '10.20.0.12') and fab.ping('a101', '10.20.0.12')
    # Each VM reached its own peer, not the other VLAN's.
    assert fab.neigh_mac('a100', '10.20.0.12') == 'fa:16:3e:00:64:0b'
    assert fab.neigh_mac('a101', '10.20.0.12') == 'fa:16:3e:00:65:0b'
    fab.disconnect_vlan('h2', 'physnet1', 100)
    fab.flush_neigh('a100')
    assert not fab.ping('a100', '10.20.0.12', deadline=1)
    assert fab.ping('a101', '10.20.0.12')  # the other VLAN is untouched
    fab.ensure_vlan('h2', 'physnet1', 100)  # b100 is still on the bridge
    assert fab.ping('a100', '10.20.0.12')
    fab.remove_vlan('h2', 'physnet1', 100)
    assert not ipcmd.link_exists(fab.host_ns('h2'),
                                 fab.vlan_bridge('physnet1', 100))


def test_vm_replug_moves_it_and_sets_the_gateway(fab):
    b1 = fab.ensure_vlan('h1', 'flat', 0)
    b2 = fab.ensure_vlan('h2', 'flat', 0)
    fab.plug_vm('h1', 'a', b1, MAC_A, '10.30.0.11/24', '10.30.0.1', 1500)
    fab.plug_vm('h2', 'b', b2, MAC_B, '10.30.0.12/24', None, 1500)
    route = fab.vm_exec('a', ['ip', 'route', 'show', 'default']).stdout
    assert 'via 10.30.0.1' in route
    # Move a to h2, without a gateway: same namespace, new tap.
    fab.plug_vm('h2', 'a', b2, MAC_A, '10.30.0.11/24', None, 1500)
    tap = names.link(fab.tag, names.VM_TAP, 'a')
    assert ipcmd.link_exists(fab.host_ns('h2'), tap)
    assert not ipcmd.link_exists(fab.host_ns('h1'), tap)
    assert fab.vm_exec('a', ['ip', 'route', 'show', 'default']).stdout == ''
    assert fab.ping('a', '10.30.0.12')
    fab.unplug_vm('a')
    fab.unplug_vm('a')
    assert fab.vm_ns('a') not in ipcmd.namespaces()
    assert not ipcmd.link_exists(fab.host_ns('h2'), tap)


def test_a_fresh_fabric_in_another_process_sees_the_same_state(fab):
    """What the CLI builds, a host agent (another process) can drive."""
    script = textwrap.dedent('''
        from tricircle.sandbox.dataplane import fabric
        f = fabric.Fabric(%r)
        br = f.ensure_vxlan('h2', 'net', 1003)
        f.plug_vm('h2', 'b', br, %r, '10.40.0.12/24', None, 1450)
        f.set_vxlan_fdb('h2', 1003, {%r: %r})
    ''' % (fab.tag, MAC_B, MAC_A, IP_H1))
    subprocess.run([sys.executable, '-c', script], check=True, timeout=60)
    other = dp_fabric.Fabric(fab.tag)
    assert other.tunnel_ip('h2') == IP_H2
    assert other.vxlan_fdb('h2', 1003) == {(MAC_A, IP_H1),
                                           (dp_fabric.FLOOD_MAC, IP_H1)}
    br = other.ensure_vxlan('h1', 'net', 1003)
    other.plug_vm('h1', 'a', br, MAC_A, '10.40.0.11/24', None, 1450)
    assert other.set_vxlan_fdb('h1', 1003, {MAC_B: IP_H2})
    assert other.ping('a', '10.40.0.12')


def test_names_fit_the_kernel_and_destroy_leaves_nothing(new_fabric):
    fab = new_fabric()
    host = 'a-very-long-host-name-of-a-region'
    fab.add_host(host, '172.31.1.1')
    fab.add_host('h2', '172.31.1.2')
    bridge = fab.ensure_vxlan(host, 'n', 16000000)
    fab.ensure_vlan(host, 'a-long-physical-network-name', 4094)
    fab.plug_vm(host, 'a-vm-with-a-long-name', bridge, MAC_A,
                '10.50.0.11/24', '10.50.0.1', 1450)
    assert len(fab.list_namespaces()) == 4
    for ns in fab.list_namespaces():
        for link in ipcmd.links(ns):
            assert link in ('lo', 'eth0') or (
                link.startswith(fab.prefix) and
                len(link) == names.IFNAMSIZ), (ns, link)
    for kind in names.KINDS:
        assert len(names.link(fab.tag, kind, 'x' * 40, 4094)) == 15
    assert fab.destroy()
    assert fab.destroy() == []  # twice is fine
    out = subprocess.run(['ip', 'netns', 'list'], capture_output=True,
                         text=True, check=True).stdout
    assert fab.prefix not in out
    out = subprocess.run(['ip', '-o', 'link'], capture_output=True,
                         text=True, check=True).stdout
    assert fab.prefix not in out
    assert not _root_links_with(fab.prefix)


def test_bad_tags_and_missing_hosts_are_refused(new_fabric):
    for tag in ('TOO-LONG', 'ab', 'AB12', ''):
        with pytest.raises(ValueError):
            dp_fabric.Fabric(tag)
    fab = new_fabric()
    with pytest.raises(ipcmd.CommandError, match='add_host first'):
        fab.ensure_vxlan('nohost', 'n', 5)
    with pytest.raises(ipcmd.CommandError, match='VM novm'):
        fab.ping('novm', '10.0.0.1')


def test_no_traffic_outside_a_namespace():
    with pytest.raises(ipcmd.CommandError):
        ipcmd.netns_exec('', ['ping', '-c1', '127.0.0.1'])
    with pytest.raises(ipcmd.CommandError):
        ipcmd.netns_exec(None, ['ping', '-c1', '127.0.0.1'])
    with pytest.raises(TypeError):
        ipcmd.netns_exec('x', 'ping -c1 127.0.0.1')
    with pytest.raises(ipcmd.CommandError):
        ipcmd.ip('', 'addr', 'add', '10.0.0.1/24', 'dev', 'eth0')
    with pytest.raises(ipcmd.CommandError):
        ipcmd.delete_root_link('eth0', 'tcsbzzzz')
