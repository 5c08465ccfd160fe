"""Security groups made on central, enforced by the regions' OVS firewall.

Group ``web`` admits TCP 8080 from group ``client``; W (web) is in
RegionOne, W2 (web) and C1 (client) and X (no client) in RegionTwo, all
on one stretched network. The packets say who may connect: the rule's
remote group admits C1 in both regions (in RegionOne through C1's shadow,
which carries its groups), not X; adding X to ``client`` on central
opens the path; deleting the rule on central closes it in both regions.
The same over IPv6 (ICMPv6 included), and a rule whose remote is an
address group admits the addresses the group holds on central.
"""
from __future__ import annotations

import subprocess
import sys

import pytest

from tricircle.tests.sandbox.conftest import NEEDS_DATA_PLANE
from tricircle.tests.sandbox.conftest import SANDBOX_BIN
from tricircle.tests.sandbox.conftest import ping
from tricircle.tests.sandbox.conftest import sandbox_cmd
from tricircle.tests.sandbox.conftest import stretched_network
from tricircle.tests.sandbox.conftest import wait_for

pytestmark = NEEDS_DATA_PLANE

PORT = 8080
SYNC = 30.0  # seconds a change on central may take to reach the packets
# Bound to "::": it answers on the VM's IPv4 and IPv6 addresses alike.
SERVER = '''
import socket
s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("::", %d))
s.listen(16)
while True:
    conn, _ = s.accept()
    conn.sendall(b"web\\n")
    conn.close()
''' % PORT
CLIENT = '''
import socket, sys
try:
    with socket.create_connection((sys.argv[1], %d), timeout=1) as c:
        sys.exit(0 if c.recv(4) == b"web\\n" else 3)
except OSError:
    sys.exit(1)
''' % PORT


def vm_exec(sandbox, name: str, *command: str) -> int:
    """``tricircle-sandbox vm exec``: the command's exit code."""
    return subprocess.run(
        [SANDBOX_BIN, 'vm', 'exec', '--state-dir', sandbox.state_dir, name,
         '--', *command], capture_output=True, timeout=30).returncode


def connects(sandbox, client: str, server_ip: str) -> bool:
    return vm_exec(sandbox, client, sys.executable, '-c', CLIENT,
                   server_ip) == 0


def refused_for(sandbox, client: str, server_ip: str,
                seconds: float = 3.0) -> bool:
    """No connection in a row of attempts over ``seconds``."""
    try:
        wait_for(lambda: connects(sandbox, client, server_ip), seconds)
    except AssertionError:
        return True
    return False


@pytest.fixture
def servers(sandbox):
    """Start the TCP server in VMs; stop them all afterwards."""
    procs = []

    def start(name: str) -> None:
        procs.append(subprocess.Popen(
            [SANDBOX_BIN, 'vm', 'exec', '--state-dir', sandbox.state_dir,
             name, '--', sys.executable, '-c', SERVER],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
    yield start
    for proc in procs:
        proc.kill()
        proc.wait(10)


def web_and_client(central, prefix: str, ethertype: str):
    """Groups PREFIX-web and PREFIX-client, web admitting TCP 8080 from
    client; with the project's default group and the rule."""
    web = central.network.create_security_group(name=prefix + '-web')
    client = central.network.create_security_group(name=prefix + '-client')
    default = next(central.network.security_groups(
        name='default', project_id=web.project_id))
    rule = central.network.create_security_group_rule(
        security_group_id=web.id, direction='ingress', ethertype=ethertype,
        protocol='tcp', port_range_min=PORT, port_range_max=PORT,
        remote_group_id=client.id)
    return web, client, default, rule


def test_remote_group_rules_hold_across_regions(sandbox, central, regions,
                                                vms, servers):
    web, client, default, rule = web_and_client(central, 'sg', 'IPv4')
    net = stretched_network(central, 'sgnet', '10.77.0.0/24')
    w = vms('sg-w', 'RegionOne', net.id)
    w2 = vms('sg-w2', 'RegionTwo', net.id)
    c1 = vms('sg-c1', 'RegionTwo', net.id)
    x = vms('sg-x', 'RegionTwo', net.id)
    for vm, groups in ((w, [web.id]), (w2, [web.id]), (c1, [client.id]),
                       (x, [default.id])):
        central.network.update_port(vm.port_id, security_group_ids=groups)
    servers(w.name)
    servers(w2.name)

    # C1 (client) reaches both web VMs: W in the other region, W2 in its
    # own. X (not a client) reaches neither.
    wait_for(lambda: connects(sandbox, c1.name, w.ip), SYNC)
    wait_for(lambda: connects(sandbox, c1.name, w2.ip), SYNC)
    # C1 connecting does not prove W's own change (default -> web) has
    # reached its host: while W is still in default, X (in default) gets
    # in too. Wait for the refusal the groups ask for.
    wait_for(lambda: refused_for(sandbox, x.name, w.ip), SYNC)
    wait_for(lambda: refused_for(sandbox, x.name, w2.ip), SYNC)
    # Only TCP 8080 is open: web's group admits no ping.
    assert not ping(sandbox, c1.name, w.ip, deadline=2)

    # X joins client on central: its own region and its shadow in
    # RegionOne learn it, and both web VMs admit it.
    central.network.update_port(x.port_id,
                                security_group_ids=[default.id, client.id])
    wait_for(lambda: connects(sandbox, x.name, w.ip), SYNC)
    wait_for(lambda: connects(sandbox, x.name, w2.ip), SYNC)
    shadow_x = regions['RegionOne'].network.get_port(x.port_id)
    assert sorted(shadow_x.security_group_ids) == sorted([default.id,
                                                          client.id])

    # An ICMP rule made on central opens ping in both regions; deleted,
    # it closes it again.
    icmp = central.network.create_security_group_rule(
        security_group_id=web.id, direction='ingress', ethertype='IPv4',
        protocol='icmp', remote_ip_prefix='0.0.0.0/0')
    assert ping(sandbox, x.name, w.ip, deadline=SYNC)
    assert ping(sandbox, x.name, w2.ip, deadline=SYNC)
    central.network.delete_security_group_rule(icmp)
    wait_for(lambda: not ping(sandbox, x.name, w.ip, deadline=1) and
             not ping(sandbox, x.name, w2.ip, deadline=1), SYNC)

    # The TCP rule deleted on central: closed in both regions, for every
    # client; the copies in both regions lost the rule.
    central.network.delete_security_group_rule(rule)
    wait_for(lambda: not connects(sandbox, c1.name, w.ip) and
             not connects(sandbox, c1.name, w2.ip), SYNC)
    assert refused_for(sandbox, x.name, w.ip)
    for region in ('RegionOne', 'RegionTwo'):
        copy = regions[region].network.get_security_group(web.id)
        assert rule.id not in {r['id'] for r in copy.security_group_rules}


def test_remote_group_rules_hold_over_ipv6(sandbox, central, regions, vms,
                                           servers):
    """web/client on a stretched DHCPv6-stateful subnet: IPv6 rules,
    ICMPv6 included, made on central and enforced in both regions."""
    web, client, default, rule = web_and_client(central, 'sg6', 'IPv6')
    net = stretched_network(central, 'sg6net', 'fd00:77:6::/64')
    w = vms('sg6-w', 'RegionOne', net.id)
    c1 = vms('sg6-c1', 'RegionTwo', net.id)
    x = vms('sg6-x', 'RegionTwo', net.id)
    assert ':' in w.ip and ':' in c1.ip
    for vm, groups in ((w, [web.id]), (c1, [client.id]), (x, [default.id])):
        central.network.update_port(vm.port_id, security_group_ids=groups)
    servers(w.name)

    wait_for(lambda: connects(sandbox, c1.name, w.ip), SYNC)
    wait_for(lambda: refused_for(sandbox, x.name, w.ip), SYNC)
    # Neighbour discovery passes (C1 connected), echo requests do not.
    assert not ping(sandbox, c1.name, w.ip, deadline=2)
    # An ICMPv6 rule made on central opens ping; deleted, it closes it.
    icmp = central.network.create_security_group_rule(
        security_group_id=web.id, direction='ingress', ethertype='IPv6',
        protocol='ipv6-icmp', remote_ip_prefix='::/0')
    assert ping(sandbox, x.name, w.ip, deadline=SYNC)
    central.network.delete_security_group_rule(icmp)
    wait_for(lambda: not ping(sandbox, x.name, w.ip, deadline=1), SYNC)

    central.network.update_port(x.port_id,
                                security_group_ids=[default.id, client.id])
    wait_for(lambda: connects(sandbox, x.name, w.ip), SYNC)
    central.network.delete_security_group_rule(rule)
    wait_for(lambda: not connects(sandbox, c1.name, w.ip) and
             not connects(sandbox, x.name, w.ip), SYNC)
    copy = regions['RegionOne'].network.get_security_group(web.id)
    assert rule.id not in {r['id'] for r in copy.security_group_rules}


def test_address_group_rules_admit_its_addresses_across_regions(
        sandbox, central, regions, vms, servers):
    """A rule whose remote is an address group: the group is copied into
    the region with its addresses, and its address changes on central
    reach the packets there."""
    net = stretched_network(central, 'sgagnet', '10.76.0.0/24')
    w = vms('ag-w', 'RegionOne', net.id)
    a = vms('ag-a', 'RegionTwo', net.id)
    b = vms('ag-b', 'RegionTwo', net.id)
    partners = central.network.create_address_group(
        name='partners', addresses=[a.ip + '/32'])
    web = central.network.create_security_group(name='sg-ag-web')
    rule = central.network.create_security_group_rule(
        security_group_id=web.id, direction='ingress', ethertype='IPv4',
        protocol='tcp', port_range_min=PORT, port_range_max=PORT,
        remote_address_group_id=partners.id)
    central.network.update_port(w.port_id, security_group_ids=[web.id])
    servers(w.name)

    wait_for(lambda: connects(sandbox, a.name, w.ip), SYNC)
    wait_for(lambda: refused_for(sandbox, b.name, w.ip), SYNC)
    copy = regions['RegionOne'].network.get_address_group(partners.id)
    assert copy.addresses == [a.ip + '/32']

    # B's address added on central, A's removed: RegionOne's copy and
    # firewall follow.
    central.network.add_addresses_to_address_group(partners,
                                                   [b.ip + '/32'])
    wait_for(lambda: connects(sandbox, b.name, w.ip), SYNC)
    central.network.remove_addresses_from_address_group(partners,
                                                        [a.ip + '/32'])
    wait_for(lambda: refused_for(sandbox, a.name, w.ip), SYNC)
    assert connects(sandbox, b.name, w.ip)
    copy = regions['RegionOne'].network.get_address_group(partners.id)
    assert copy.addresses == [b.ip + '/32']
    # Deleted on central (its rule first, as Neutron asks): the copy goes.
    central.network.delete_security_group_rule(rule)
    central.network.delete_address_group(partners)
    wait_for(lambda: partners.id not in {
        ag.id for ag in regions['RegionOne'].network.address_groups()},
        SYNC)


def test_vm_exec_returns_the_commands_exit_code(sandbox, central, vms):
    net = stretched_network(central, 'execnet', '10.78.0.0/24')
    vm = vms('exec-a', 'RegionOne', net.id)
    assert vm_exec(sandbox, vm.name, 'sh', '-c', 'exit 7') == 7
    # It runs inside the VM: the VM's address is on its eth0.
    out = subprocess.run(
        [SANDBOX_BIN, 'vm', 'exec', '--state-dir', sandbox.state_dir,
         vm.name, '--', 'ip', '-4', '-o', 'addr', 'show', 'dev', 'eth0'],
        capture_output=True, text=True, timeout=30)
    assert out.returncode == 0 and vm.ip in out.stdout
    missing = sandbox_cmd('vm', 'exec', '--state-dir', sandbox.state_dir,
                          'no-such-vm', '--', 'true', check=False)
    assert missing.returncode == 2
    assert 'no VM named no-such-vm' in missing.stderr


def pings_from(sandbox, vm: str, source: str, target: str,
               deadline: float) -> bool:
    """A ping from ``source`` (an address of the VM) passes in time."""
    try:
        wait_for(lambda: vm_exec(sandbox, vm, 'ping', '-c', '1', '-W', '1',
                                 '-I', source, target) == 0, deadline)
    except AssertionError:
        return False
    return True


def test_address_pairs_and_port_security_as_in_plain_neutron(
        sandbox, central, regions, vms):
    """Across regions as in one: P sends from an address of its pairs and
    is let in (its shadow carries the pairs into the remote group), not
    from an address outside them; N without port security reaches no one
    who filters, and anyone reaches it."""
    net = stretched_network(central, 'sgaap', '10.79.0.0/24')
    p = vms('aap-p', 'RegionOne', net.id)
    q = vms('aap-q', 'RegionTwo', net.id)
    central.network.update_port(
        p.port_id, allowed_address_pairs=[{'ip_address': '10.79.0.200'}])
    for address in ('10.79.0.200', '10.79.0.201'):
        assert vm_exec(sandbox, p.name, 'ip', 'addr', 'add',
                       address + '/24', 'dev', 'eth0') == 0
    # Q's default group admits its members' addresses, pairs included:
    # P's shadow in RegionTwo carries them.
    assert pings_from(sandbox, p.name, '10.79.0.200', q.ip, SYNC)
    shadow_p = regions['RegionTwo'].network.get_port(p.port_id)
    assert {'10.79.0.200'} == {pair['ip_address'] for pair in
                               shadow_p.allowed_address_pairs}
    # Outside its pairs, P's own host drops what it sends.
    assert not pings_from(sandbox, p.name, '10.79.0.201', q.ip, 3)

    n = vms('aap-n', 'RegionOne', net.id)
    two = regions['RegionTwo'].network
    wait_for(lambda: list(two.ports(id=n.port_id)), SYNC)
    made = two.get_port(n.port_id).created_at
    central.network.update_port(n.port_id, security_group_ids=[],
                                port_security_enabled=False)
    # Its shadow in RegionTwo follows, in place (in no group): one made
    # again with the same id would be ignored by RegionTwo's agents.
    wait_for(lambda: [s.is_port_security_enabled for s in two.ports(
        id=n.port_id)] == [False], SYNC)
    assert two.get_port(n.port_id).created_at == made
    # Q filters: N, in no group, is not let in once RegionTwo's agent has
    # dropped N's address from the group (the API answers before it does);
    # N filters nothing.
    wait_for(lambda: not ping(sandbox, n.name, q.ip, deadline=1), SYNC)
    assert not ping(sandbox, n.name, q.ip, deadline=3)
    assert ping(sandbox, q.name, n.ip, deadline=SYNC)


def test_a_moved_vm_stays_a_member_of_its_remote_group(
        sandbox, central, regions, vms, servers):
    """C (client) in RegionTwo moves to RegionTwo's other host, then gets
    a new address on central. Both times RegionOne's shadow of C follows
    in place (the same port: one made again with a deleted id can be
    ignored by the agents' port caches, see the address-pairs test), and
    W (web, in RegionOne) admits C: at its new host, and from its new
    address, which C's own host lets out because its copy in RegionTwo
    has it too. Without the copies following the address, the copies
    keep the old one and C's host drops what C sends."""
    from tricircle.sandbox import hosts as sb_hosts
    web, client, _default, _rule = web_and_client(central, 'mv', 'IPv4')
    net = stretched_network(central, 'mvnet', '10.76.0.0/24')
    w = vms('mv-w', 'RegionOne', net.id)
    c = vms('mv-c', 'RegionTwo', net.id)
    central.network.update_port(w.port_id, security_group_ids=[web.id])
    central.network.update_port(c.port_id, security_group_ids=[client.id])
    servers(w.name)
    wait_for(lambda: connects(sandbox, c.name, w.ip), SYNC)
    one, two = regions['RegionOne'].network, regions['RegionTwo'].network
    made = one.get_port(c.port_id).created_at

    other = next(h for h in sb_hosts.hosts_of(sandbox, 'RegionTwo')
                 if h != c.host)
    sandbox_cmd('vm', 'migrate', c.name, '--host', other, '--state-dir',
                sandbox.state_dir)
    wait_for(lambda: one.get_port(c.port_id).binding_host_id == other,
             SYNC)
    assert one.get_port(c.port_id).created_at == made
    wait_for(lambda: connects(sandbox, c.name, w.ip), SYNC)

    subnet_id = central.network.get_port(c.port_id).fixed_ips[0][
        'subnet_id']
    central.network.update_port(c.port_id, fixed_ips=[
        {'subnet_id': subnet_id, 'ip_address': '10.76.0.200'}])
    for region in (one, two):
        wait_for(lambda: [ip['ip_address'] for ip in region.get_port(
            c.port_id).fixed_ips] == ['10.76.0.200'], SYNC)
    assert one.get_port(c.port_id).created_at == made
    # The guest takes its new address (as at its next DHCP renewal).
    assert vm_exec(sandbox, c.name, 'ip', 'addr', 'flush', 'dev',
                   'eth0') == 0
    assert vm_exec(sandbox, c.name, 'ip', 'addr', 'add', '10.76.0.200/24',
                   'dev', 'eth0') == 0
    wait_for(lambda: connects(sandbox, c.name, w.ip), SYNC)
