"""The outside namespace: built at ``up``, used by ``outside ...``.

Topology (names from :mod:`.dataplane.names`)::

  L3 host of an external region:  <prefix>-ex ─ p leg ══ q ─┐
                                        underlay:  extnet trunk S ─ O ══ o
  outside ns:  <prefix>-out (OVS, netdev) ─ o        (all VLANs, tagged)
               ├ <prefix>-out  internal: 203.0.113.1/24, untagged
               └ <prefix>-o101 internal, tag 101: 198.51.100.1/24
               nftables table <prefix>_outside: input chain adds every
               packet's source address to the set "seen"

The kernel has no 802.1Q devices and no tc classifiers, so the VLAN is
an access port of the outside's own Open vSwitch (userspace datapath,
like the hosts'): two more processes, stopped by PID at ``down``.
Everything else is read back from the kernel and nftables.
"""
from __future__ import annotations

import ipaddress
import json
import os
import time

from tricircle.sandbox import outside
from tricircle.sandbox import state as sb_state
from tricircle.sandbox.dataplane import fabric as dp_fabric
from tricircle.sandbox.dataplane import ipcmd
from tricircle.sandbox.dataplane import names
from tricircle.sandbox.dataplane import ovs

OVS_NAME = 'outside'    # its OVS processes: ovs-outside-db, -switch


class OutsideError(RuntimeError):
    """A mistake or a missing outside; one line for the user."""


def nft_ruleset(table: str) -> str:
    """The outside's nftables table, for ``nft -f -``: made anew (the
    first two lines make it exist, then delete it, whatever it held)."""
    return (
        'table ip {t} {{}}\n'
        'delete table ip {t}\n'
        'table ip {t} {{\n'
        '  set {s} {{ type ipv4_addr; flags dynamic; }}\n'
        '  chain input {{\n'
        '    type filter hook input priority 0; policy accept;\n'
        '    add @{s} {{ ip saddr }}\n'
        '  }}\n'
        '}}\n').format(t=table, s=outside.SEEN_SET)


def parse_set(nft_json: str) -> list[str]:
    """The addresses of ``nft -j list set``, sorted numerically."""
    found = set()
    for item in json.loads(nft_json or '{}').get('nftables', []):
        for elem in item.get('set', {}).get('elem', []):
            if isinstance(elem, dict):  # {"elem": {"val": ...}} (timeouts)
                elem = elem.get('elem', {}).get('val', elem)
            if isinstance(elem, str):
                found.add(elem)
    return sorted(found, key=ipaddress.ip_address)


def ping_argv(ip: str, wait: float = 1.0) -> list[str]:
    """One try of ``outside ping``: one packet, one second (``wait``)."""
    return ['ping', '-n', '-q', '-c', '1', '-W', '%g' % wait, ip]


def check_ip(ip: str) -> str:
    try:
        return str(ipaddress.IPv4Address(ip))
    except ValueError:
        raise OutsideError('not an IPv4 address: %r' % ip)


class _OutsideOvs(ovs.OvsHost):
    """An OVS of its own in the outside namespace, like a host's."""

    def __init__(self, fab: dp_fabric.Fabric, run_dir: str) -> None:
        super().__init__(fab, OVS_NAME, run_dir, [])
        self.ns = fab.outside_ns()
        self.db_path = os.path.join(run_dir, self.ns + '.db')


class OutsideWorld:

    def __init__(self, state: sb_state.SandboxState) -> None:
        from tricircle.sandbox import hosts
        self.state = state
        self.fabric = dp_fabric.Fabric(hosts.fabric_tag(state))
        self.tag = self.fabric.tag
        self.ns = names.outside_ns(self.tag)
        self.table = names.nft_table(self.tag, 'outside')
        self.bridge = names.outside_bridge(self.tag)
        self.run_dir = os.path.join(state.state_dir, 'data', 'outside')

    def interface_of(self, address: outside.Address) -> str:
        if address.vlan is None:
            return self.bridge
        return names.outside_vlan_port(self.tag, address.vlan)

    # -- up -------------------------------------------------------------
    def setup(self, log_dir: str) -> dict[str, int]:
        """Namespace, leg into extnet, OVS, addresses, nftables; returns
        the OVS processes (name -> PID)."""
        leg = self.fabric.ensure_outside_leg(outside.EXTNET)
        switch = _OutsideOvs(self.fabric, self.run_dir)
        pids = switch.start(log_dir)
        args = ['--may-exist', 'add-br', self.bridge, '--', 'set', 'Bridge',
                self.bridge, 'datapath_type=netdev', '--', '--may-exist',
                'add-port', self.bridge, leg]
        for address in outside.ADDRESSES:
            port = self.interface_of(address)
            if port != self.bridge:
                args += ['--', '--may-exist', 'add-port', self.bridge, port,
                         'tag=%d' % address.vlan, '--', 'set', 'Interface',
                         port, 'type=internal']
        switch.vsctl(*args)
        for address in outside.ADDRESSES:
            port = self.interface_of(address)
            ipcmd.ip(self.ns, 'addr', 'replace', address.cidr, 'dev', port)
            ipcmd.ip(self.ns, 'link', 'set', port, 'up')
            # As in a VM: the userspace datapath fills in no checksum
            # left to offload (TCP would fail, ping would not).
            ipcmd.netns_exec(self.ns, ['ethtool', '-K', port, 'tx', 'off'],
                             check=False)
        ipcmd.netns_exec(self.ns, ['nft', '-f', '-'],
                         stdin=nft_ruleset(self.table))
        return pids

    def remove(self) -> bool:
        """The namespace, its links and its nftables table (by name)."""
        return self.fabric.remove_outside()

    # -- what the commands show -------------------------------------------
    def exists(self) -> bool:
        return self.ns in ipcmd.namespaces()

    def require(self) -> str:
        if not self.exists():
            raise OutsideError('the outside namespace %s does not exist '
                               '(is the sandbox up?)' % self.ns)
        return self.ns

    def addresses(self) -> list[str]:
        """What the kernel has: ``cidr (interface, untagged|vlan N)``."""
        vlans = {self.interface_of(a): a.vlan for a in outside.ADDRESSES}
        found = []
        for link in ipcmd.ip_json(self.require(), '-4', 'addr', 'show'):
            name = link.get('ifname')
            if name == 'lo':
                continue
            for a in link.get('addr_info', []):
                vlan = vlans.get(name)
                found.append('%s/%d (%s, %s)' % (
                    a['local'], a['prefixlen'], name,
                    'untagged' if vlan is None else 'vlan %d' % vlan))
        return found

    def seen(self, clear: bool = False) -> list[str]:
        ns = self.require()
        proc = ipcmd.netns_exec(ns, ['nft', '-j', 'list', 'set', 'ip',
                                     self.table, outside.SEEN_SET])
        found = parse_set(proc.stdout)
        if clear:
            ipcmd.netns_exec(ns, ['nft', 'flush', 'set', 'ip', self.table,
                                  outside.SEEN_SET])
        return found

    def ping(self, ip: str, timeout: float = outside.PING_TIMEOUT,
             wait: float = 1.0) -> float | None:
        """Seconds until a ping passed, or None if none did in time
        (each try waits ``wait`` seconds for its answer)."""
        ns = self.require()
        started = time.monotonic()
        while True:
            proc = ipcmd.netns_exec(ns, ping_argv(ip, wait), check=False,
                                    timeout=30)
            if proc.returncode == 0:
                return time.monotonic() - started
            if time.monotonic() - started >= timeout:
                return None
            time.sleep(0.2)

    def first_reply(self, ip: str, deadline: float) -> float | None:
        """Seconds until ``ip`` first answers the outside
        (dataplane.fabric.first_reply), or None."""
        return dp_fabric.first_reply(self.require(), ip, deadline)


def load(state_dir: str) -> OutsideWorld:
    """The outside world of the sandbox in ``state_dir``."""
    state = sb_state.SandboxState.load(state_dir)
    if state is None:
        raise OutsideError('no sandbox in %s ("tricircle-sandbox up" '
                           'starts one)' % os.path.abspath(state_dir))
    if not state.external_regions:
        raise OutsideError('the sandbox in %s has no outside world (it '
                           'comes with --agents ovs)' % state.state_dir)
    return OutsideWorld(state)
