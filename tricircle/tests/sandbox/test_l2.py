"""Cross-region L2 on the sandbox: real ports, real namespaces, pings.

Every VM made here is deleted in a finalizer, and ``down`` removes the
hosts; the last test checks that nothing with the sandbox's prefix is
left behind.
"""
from __future__ import annotations

import json
import urllib.request

import pytest

from tricircle.sandbox import hosts as sb_hosts
from tricircle.sandbox import vm as sb_vm
from tricircle.tests.sandbox.conftest import NEEDS_DATA_PLANE
from tricircle.tests.sandbox.conftest import ping
from tricircle.tests.sandbox.conftest import sandbox_cmd
from tricircle.tests.sandbox.conftest import stretched_network
from tricircle.tests.sandbox.conftest import wait_for

pytestmark = NEEDS_DATA_PLANE

def shadows(region_conn, network_id: str) -> dict:
    return {p.id: p for p in region_conn.network.ports(
        network_id=network_id, device_owner='compute:shadow')}


def submit_job(sandbox, job: dict) -> None:
    req = urllib.request.Request(
        sandbox.admin_api + '/v1.0/jobs', method='POST',
        data=json.dumps({'job': job}).encode(),
        headers={'Content-Type': 'application/json'})
    with urllib.request.urlopen(req, timeout=10) as resp:
        assert resp.status == 202


def _pair(sandbox, regions, net, vms):
    a = vms('a-' + net.name, 'RegionOne', net.id)
    b = vms('b-' + net.name, 'RegionTwo', net.id)
    assert ping(sandbox, a.name, b.ip) and ping(sandbox, b.name, a.ip)
    # B is shadowed in RegionOne with its id, MAC and address, bound to
    # B's real host; A likewise in RegionTwo.
    shadow_b = shadows(regions['RegionOne'], net.id)[b.port_id]
    assert shadow_b.mac_address == b.mac
    assert shadow_b.binding_host_id == b.host
    assert [ip['ip_address'] for ip in shadow_b.fixed_ips] == [b.ip]
    assert a.port_id in shadows(regions['RegionTwo'], net.id)
    return a, b


def test_vxlan_vms_in_two_regions_ping_through_the_tunnel(
        sandbox, central, regions, vms):
    net = stretched_network(central, 'l2vx', '10.71.0.0/24')
    assert net.provider_network_type == 'vxlan'
    a, b = _pair(sandbox, regions, net, vms)
    # L2 population told A's OVS agent about B's shadow: a unicast flow
    # to B's MAC and a VXLAN port to B's host.
    a_ovs = sb_hosts.ovs_host(sandbox, a.host)
    b_vtep = sb_hosts.hosts_of(sandbox, 'RegionTwo')[b.host]
    assert b.mac in a_ovs.tunnelled_macs()
    assert b.ip in a_ovs.arp_answers()
    assert b_vtep in a_ovs.tunnel_ports().values()
    # Without the shadow, RegionOne's hosts no longer tunnel to B.
    regions['RegionOne'].network.delete_port(b.port_id)
    fab = sb_vm.fabric(sandbox)
    # (L2 population removes the unicast flow, then the ARP answer.)
    wait_for(lambda: b.mac not in a_ovs.tunnelled_macs() and
             b.ip not in a_ovs.arp_answers())
    # What the earlier pings left must not stand in for the shadow: the
    # VMs' neighbour entries (B would keep probing A by unicast, which
    # RegionTwo, still holding A's shadow, carries to A) and the flows
    # A's tunnel bridge learned from B's replies. B may still send to A
    # on its own (RegionTwo holds A's shadow), and A's tunnel bridge then
    # learns B's MAC again: that is OVS's MAC learning, not the shadow,
    # so each attempt starts from nothing learned; one must fail.
    left = []
    for _attempt in range(3):
        fab.flush_neigh(a.name)
        fab.flush_neigh(b.name)
        a_ovs.forget_learned(b.mac)
        if not ping(sandbox, a.name, b.ip, deadline=2):
            break
        left.append(_path_left(sandbox, a, b))
    else:
        raise AssertionError('A reaches B without its shadow:\n%s'
                             % '\n'.join(left))
    # A lookup by id in RegionOne makes no copy of a port that lives in
    # RegionTwo (it would stand in the shadow's way).
    assert list(regions['RegionOne'].network.ports(id=b.port_id)) == []
    # A shadow_port_setup job puts it back: the ping passes again.
    submit_job(sandbox, {'type': 'shadow_port_setup',
                         'project_id': net.project_id,
                         'resource': {'network_id': net.id}})
    assert ping(sandbox, a.name, b.ip), _data_plane(sandbox, regions, a, b)


def _path_left(sandbox, a, b) -> str:
    """What still leads A to B once B's shadow is gone: A's neighbour
    entry, and A's tunnel bridge flows (unicast 20, ARP responder 21,
    flood 22) that name B."""
    ovs = sb_hosts.ovs_host(sandbox, a.host)
    lines = ['A resolved %s to %s' % (
        b.ip, sb_vm.fabric(sandbox).neigh_mac(a.name, b.ip))]
    for table in (20, 21, 22):
        lines += ['table %d: %s' % (table, f.strip())
                  for f in ovs.flows('tun', table)
                  if table == 22 or b.mac in f.lower() or b.ip in f]
    return '\n'.join(lines)


def _data_plane(sandbox, regions, a, b) -> str:
    """What A's host knows of B, for a failed ping's message."""
    a_ovs = sb_hosts.ovs_host(sandbox, a.host)
    shadow = [(p.status, p.binding_host_id, p.binding_vif_type,
               p.security_group_ids) for p in
              regions['RegionOne'].network.ports(id=b.port_id)]
    return ('shadow of B in RegionOne: %s; A\'s host tunnels MACs %s via '
            '%s; ARP responder %s; flood %s; A\'s neighbours %s' % (
                shadow, sorted(a_ovs.tunnelled_macs()),
                a_ovs.tunnel_ports(), a_ovs.flows('tun', 21),
                a_ovs.flows('tun', 22), sb_vm.fabric(sandbox).vm_exec(
                    a.name, ['ip', 'neigh'], check=False).stdout))


def test_vlan_vms_in_two_regions_ping_over_the_segment(
        sandbox, central, regions, vms):
    net = stretched_network(central, 'l2vl', '10.72.0.0/24',
                            provider_network_type='vlan',
                            provider_physical_network='physnet1')
    vid = net.provider_segmentation_id
    a, b = _pair(sandbox, regions, net, vms)
    # OVS tags the frames itself: B's host sends them on physnet1 with
    # the network's VLAN id (the OVS agent's flow on its physnet bridge).
    b_ovs = sb_hosts.ovs_host(sandbox, b.host)
    assert any('mod_vlan_vid:%d' % vid in flow
               for flow in b_ovs.flows('physnet1')), b_ovs.flows('physnet1')
    # Pull B's host's cable into physnet1: the ping fails; plugged back,
    # it passes.
    fab = sb_vm.fabric(sandbox)
    b_ovs.disconnect_physnet('physnet1')
    try:
        fab.flush_neigh(a.name)
        assert not ping(sandbox, a.name, b.ip, deadline=2)
    finally:
        b_ovs.connect_physnet('physnet1')
    assert ping(sandbox, a.name, b.ip)


@pytest.mark.full
def test_overlapping_cidrs_of_two_tenants_stay_apart(sandbox, central, vms):
    nets = [central.network.create_network(name='ovl%d' % i,
                                           project_id=project)
            for i, project in enumerate(('tenant-a', 'tenant-b'))]
    for net in nets:
        # The VMs' fixed addresses lie outside the pools, so that no
        # reserved port (DHCP, a region's gateway) can have taken one.
        central.network.create_subnet(network_id=net.id, ip_version=4,
                                      cidr='10.73.0.0/24',
                                      allocation_pools=[{
                                          'start': '10.73.0.100',
                                          'end': '10.73.0.200'}],
                                      project_id=net.project_id)
    a1 = vms('ovl-a1', 'RegionOne', nets[0].id, '10.73.0.11')
    b1 = vms('ovl-b1', 'RegionTwo', nets[0].id, '10.73.0.12')
    a2 = vms('ovl-a2', 'RegionOne', nets[1].id, '10.73.0.11')
    b2 = vms('ovl-b2', 'RegionTwo', nets[1].id, '10.73.0.12')
    c2 = vms('ovl-c2', 'RegionTwo', nets[1].id, '10.73.0.13')
    # Same addresses in both networks: the MAC that answers tells which.
    assert ping(sandbox, a1.name, b1.ip) and ping(sandbox, a2.name, b2.ip)
    fab = sb_vm.fabric(sandbox)
    assert fab.neigh_mac(a1.name, b1.ip) == b1.mac
    assert fab.neigh_mac(a2.name, b2.ip) == b2.mac
    # An address that exists only in tenant B's network is unreachable
    # from tenant A's VM.
    assert not ping(sandbox, a1.name, c2.ip, deadline=2)


def test_deleted_vm_leaves_no_shadow_and_a_new_one_is_reachable(
        sandbox, central, regions, vms):
    net = stretched_network(central, 'l2del', '10.74.0.0/24')
    a = vms('del-a', 'RegionOne', net.id)
    b = vms('del-b', 'RegionTwo', net.id)
    assert ping(sandbox, a.name, b.ip)
    sandbox_cmd('vm', 'delete', b.name, '--state-dir', sandbox.state_dir)
    gone = wait_for(lambda: b.port_id not in shadows(regions['RegionOne'],
                                                     net.id))
    print('shadow of the deleted VM gone from RegionOne after %.2fs' % gone)
    assert central.network.find_port(b.port_id) is None
    c = vms('del-c', 'RegionTwo', net.id)
    assert c.ip != b.ip
    assert ping(sandbox, a.name, c.ip) and ping(sandbox, c.name, a.ip)


def test_vm_moved_to_another_region_keeps_its_address(
        sandbox, central, regions, vms):
    """Nova has no cross-region move: the VM goes from RegionTwo and
    comes back in RegionOne with the same address. Its shadow follows."""
    net = stretched_network(central, 'l2mv', '10.76.0.0/24')
    a = vms('mv-a', 'RegionOne', net.id)
    c = vms('mv-c', 'RegionTwo', net.id)
    b = vms('mv-b', 'RegionTwo', net.id)
    assert ping(sandbox, a.name, b.ip)
    assert b.port_id in shadows(regions['RegionOne'], net.id)
    sandbox_cmd('vm', 'delete', b.name, '--state-dir', sandbox.state_dir)
    moved = vms('mv-b2', 'RegionOne', net.id, b.ip)
    assert moved.ip == b.ip and moved.mac != b.mac
    wait_for(lambda: moved.port_id in shadows(regions['RegionTwo'], net.id))
    left = shadows(regions['RegionOne'], net.id)
    assert b.port_id not in left and moved.port_id not in left
    # A cached B's MAC for this address: the moved VM's announcement
    # replaces it; C reaches it through the new shadow.
    assert ping(sandbox, a.name, moved.ip)
    assert ping(sandbox, c.name, moved.ip)
    assert sb_vm.fabric(sandbox).neigh_mac(a.name, moved.ip) == moved.mac


def test_regions_list_their_real_agents_and_tricircle_shadow_agents(
        sandbox, central, regions, vms):
    """"openstack network agent list": each region's own OVS agents (and
    its L3 agent) alive, and a shadow agent for each remote host that
    holds a VM of a shared network, carrying that host's VTEP."""
    net = stretched_network(central, 'l2ag', '10.77.0.0/24')
    a, b = _pair(sandbox, regions, net, vms)
    for region, conn in regions.items():
        agents = list(conn.network.agents())
        own = {(x.agent_type, x.host): x for x in agents
               if x.binary.startswith('neutron-')}
        hosts = sb_hosts.hosts_of(sandbox, region)
        for host, vtep in hosts.items():
            ovs = own[('Open vSwitch agent', host)]
            assert ovs.is_alive
            assert ovs.configuration['tunneling_ip'] == vtep
            assert ovs.configuration['l2_population'] is True
            assert ovs.configuration['datapath_type'] == 'netdev'
        assert own[('L3 agent', sorted(hosts)[0])].is_alive
        other, remote = (('RegionTwo', b) if region == 'RegionOne'
                         else ('RegionOne', a))
        shadow = [x for x in agents if x.host == remote.host]
        assert len(shadow) == 1 and \
            shadow[0].binary == 'tricircle-shadow-agent'
        assert shadow[0].configuration['tunneling_ip'] == \
            sb_hosts.hosts_of(sandbox, other)[remote.host]
        assert shadow[0].configuration['shadow_of_region'] == other


def test_vm_port_goes_active_when_wired_and_down_when_unwired(
        sandbox, central, regions, vms):
    """As with Nova: the OVS agent wires the port and Neutron sets it
    ACTIVE, in the region and so on central; unplugged, DOWN on both."""
    net = stretched_network(central, 'l2st', '10.78.0.0/24')
    a = vms('st-a', 'RegionOne', net.id)
    region = regions['RegionOne']
    assert region.network.get_port(a.port_id).status == 'ACTIVE'
    wait_for(lambda: central.network.get_port(a.port_id).status == 'ACTIVE')
    a_ovs = sb_hosts.ovs_host(sandbox, a.host)
    tap = sb_vm.fabric(sandbox).vm_tap(a.name, a.port_id)
    a_ovs.unplug(tap)
    wait_for(lambda: region.network.get_port(a.port_id).status == 'DOWN')
    wait_for(lambda: central.network.get_port(a.port_id).status == 'DOWN')
    a_ovs.plug(tap, a.port_id, a.mac, 'vm-st-a', 1450)
    wait_for(lambda: region.network.get_port(a.port_id).status == 'ACTIVE')
    wait_for(lambda: central.network.get_port(a.port_id).status == 'ACTIVE')


def test_default_security_group_has_neutrons_default_rules(
        sandbox, central, regions, vms):
    """The default-rule templates are loaded: a project's default group
    admits its own members and lets everything out, in every region."""
    net = stretched_network(central, 'l2sg', '10.79.0.0/24')
    _pair(sandbox, regions, net, vms)
    for cloud, conn in [('central', central), *regions.items()]:
        sg = next(iter(conn.network.security_groups(
            name='default', project_id=net.project_id)))
        rules = {(r.direction, r.ether_type,
                  'self' if r.remote_group_id == sg.id else
                  r.remote_group_id, r.remote_ip_prefix)
                 for r in conn.network.security_group_rules(
                     security_group_id=sg.id)}
        assert rules == {('egress', 'IPv4', None, None),
                         ('egress', 'IPv6', None, None),
                         ('ingress', 'IPv4', 'self', None),
                         ('ingress', 'IPv6', 'self', None)}, (cloud, rules)
