"""Hosts joined by an underlay, networks as bridges, VMs as namespaces.

Topology (all names from :mod:`.names`)::

  underlay ns:  bridge B ─┬─ u(host1) ══ U(host1)  host1 ns: VTEP address
                          └─ u(host2) ══ U(host2)  host2 ns
                segment S(physnet,vid) ─ q ══ p ─ v(physnet,vid) bridge
                trunk S(physnet) ─ O ══ o   outside ns (extnet only)
  host ns:      bridge b(vni) ─ x(vni) vxlan (local = U's address)
                bridge b/v ─ t(vm) ══ eth0   VM ns

Hosts of ``--agents ovs`` keep only the namespaces, the underlay and
the VMs of this module; their networks are their own Open vSwitch
(:mod:`.ovs`). The bridges and VXLAN devices above are those of
``--agents lite`` (:mod:`.linux_networks`).

A :class:`Fabric` keeps no state of its own: everything is derived from
names and read back from the kernel, so the sandbox CLI and each
region's host agent, in different processes, work on the same fabric.
Every operation is idempotent, and where two processes may race to
create the same thing, losing the race counts as success.

The kernel here has no 802.1Q devices, so a VLAN (or flat, vid 0)
network is a separate L2 segment per (physnet, vid): isolation holds,
but no tag is on the wire.
"""
from __future__ import annotations

import subprocess
import time
from typing import Sequence

import netaddr

from tricircle.sandbox.dataplane import ipcmd
from tricircle.sandbox.dataplane import linux_networks
# Re-exported: callers know them as fabric.FLOOD_MAC and fabric.VXLAN_MTU.
from tricircle.sandbox.dataplane.linux_networks import FLOOD_MAC  # noqa: F401
from tricircle.sandbox.dataplane.linux_networks import VXLAN_MTU  # noqa: F401
from tricircle.sandbox.dataplane import names

# Gratuitous ARPs a VM sends when its eth0 comes up.
GARP_COUNT = 3


def first_reply(ns: str, ip: str, deadline: float,
                period: float = 0.1) -> float | None:
    """Seconds until ``ip`` first answers a one-packet ping from ``ns``,
    or None if it did not within ``deadline``: a try every ``period``
    seconds, each waiting as long for its answer (benchmarks; the finer
    clock of repeated tries).

    Each try is a ping process of its own, so a flow of its own: one
    stream of pings is one ICMP flow, which a router that saw it before
    its NAT rules were in keeps un-NATed, and which ping stops at the
    first "unreachable" answer."""
    started = time.monotonic()
    while True:
        tried = time.monotonic()
        proc = ipcmd.netns_exec(
            ns, ['ping', '-n', '-q', '-c', '1', '-W', '%g' % period, ip],
            check=False, timeout=period + 30)
        if proc.returncode == 0:
            return time.monotonic() - started
        if time.monotonic() - started >= deadline:
            return None
        time.sleep(max(0.0, tried + period - time.monotonic()))


class Fabric(linux_networks.LinuxNetworks):

    def __init__(self, tag: str) -> None:
        self.tag = names.check_tag(tag)
        self.prefix = names.prefix(tag)
        self.underlay = names.underlay_ns(tag)

    def _link(self, kind: str, *key: object) -> str:
        return names.link(self.tag, kind, *key)

    def host_ns(self, host: str) -> str:
        return names.host_ns(self.tag, host)

    def vm_ns(self, vm: str) -> str:
        return names.vm_ns(self.tag, vm)

    # -- building blocks --------------------------------------------------
    def _ensure_ns(self, ns: str) -> None:
        ipcmd.add_namespace(ns)
        ipcmd.ip(ns, 'link', 'set', 'lo', 'up')

    def _require_ns(self, ns: str, what: str) -> str:
        # A clear error instead of "Cannot open network namespace".
        if ns not in ipcmd.namespaces():
            raise ipcmd.CommandError('%s does not exist (namespace %s)'
                                     % (what, ns))
        return ns

    def _require_host(self, host: str) -> str:
        return self._require_ns(self.host_ns(host),
                                'host %s (add_host first)' % host)

    def _ensure_bridge(self, ns: str, name: str,
                       mtu: int | None = None) -> None:
        if not ipcmd.link_exists(ns, name):
            proc = ipcmd.ip(ns, 'link', 'add', name, 'type', 'bridge',
                            check=False)
            if proc.returncode and not ipcmd.link_exists(ns, name):
                raise ipcmd.CommandError('bridge %s in %s: %s' % (
                    name, ns, proc.stderr.strip()))
        if mtu:
            ipcmd.ip(ns, 'link', 'set', name, 'mtu', str(mtu))
        ipcmd.ip(ns, 'link', 'set', name, 'up')

    def _ensure_veth(self, ns_a: str, name_a: str, ns_b: str,
                     name_b: str) -> None:
        """A veth pair, each end created directly in its namespace (so
        nothing, even for a moment, appears in the root namespace)."""
        if ipcmd.link_exists(ns_a, name_a):
            if ipcmd.link_exists(ns_b, name_b):
                return
            # Half of a pair whose other end is elsewhere (or whose
            # namespace is still being torn down): start over.
            ipcmd.ip(ns_a, 'link', 'del', name_a, check=False)
        proc = ipcmd.run('ip', 'link', 'add', name_a, 'netns', ns_a, 'type',
                         'veth', 'peer', 'name', name_b, 'netns', ns_b,
                         check=False)
        if proc.returncode and not ipcmd.link_exists(ns_a, name_a):
            raise ipcmd.CommandError('veth %s in %s / %s in %s: %s' % (
                name_a, ns_a, name_b, ns_b, proc.stderr.strip()))

    # -- underlay and hosts -----------------------------------------------
    def ensure_underlay(self) -> str:
        """The underlay namespace and its bridge; returns the bridge."""
        self._ensure_ns(self.underlay)
        bridge = self._link(names.UNDERLAY_BRIDGE, 'underlay')
        self._ensure_bridge(self.underlay, bridge)
        return bridge

    def add_host(self, host: str, tunnel_ip: str,
                 prefixlen: int = 16) -> str:
        """A host namespace with its VTEP address on the underlay.

        Returns the namespace. Calling it again with another address
        moves the host (its vxlan devices follow on ``ensure_vxlan``).
        """
        bridge = self.ensure_underlay()
        ns = self.host_ns(host)
        self._ensure_ns(ns)
        uplink = self._link(names.HOST_UPLINK, host)
        ul_end = self._link(names.UNDERLAY_HOST_END, host)
        self._ensure_veth(ns, uplink, self.underlay, ul_end)
        ipcmd.ip(self.underlay, 'link', 'set', ul_end, 'master', bridge,
                 'up')
        # Add before deleting, never flush: the CLI and a host agent both
        # call this, and a gap without an address would drop tunnels.
        wanted, have = '%s/%d' % (tunnel_ip, prefixlen), \
            self._uplink_addrs(host)
        if wanted not in have:
            if have:
                # Else deleting the old primary address would take the
                # new (secondary, same subnet) one with it.
                ipcmd.netns_exec(ns, [
                    'sysctl', '-qw',
                    'net.ipv4.conf.%s.promote_secondaries=1' % uplink])
            proc = ipcmd.ip(ns, 'addr', 'add', wanted, 'dev', uplink,
                            check=False)
            if proc.returncode and wanted not in self._uplink_addrs(host):
                raise ipcmd.CommandError('address %s on host %s: %s' % (
                    wanted, host, proc.stderr.strip()))
        for old in set(have) - {wanted}:
            ipcmd.ip(ns, 'addr', 'del', old, 'dev', uplink, check=False)
        ipcmd.ip(ns, 'link', 'set', uplink, 'up')
        return ns

    def _uplink_addrs(self, host: str) -> list[str]:
        ns, uplink = self.host_ns(host), self._link(names.HOST_UPLINK, host)
        if not ipcmd.link_exists(ns, uplink):
            return []
        return ['%s/%d' % (a['local'], a['prefixlen'])
                for link in ipcmd.ip_json(ns, '-4', 'addr', 'show', 'dev',
                                          uplink)
                for a in link.get('addr_info', [])]

    def tunnel_ip(self, host: str) -> str | None:
        """The host's VTEP address, read from the kernel (or None)."""
        if self.host_ns(host) not in ipcmd.namespaces():
            return None
        addrs = self._uplink_addrs(host)
        return addrs[0].split('/')[0] if addrs else None

    def physnet_leg(self, host: str, physnet: str) -> str:
        return self._link(names.SEGMENT_HOST_END, host, physnet, 'trunk')

    def remove_physnet_leg(self, host: str, physnet: str) -> None:
        ns = self.host_ns(host)
        if ns in ipcmd.namespaces():
            ipcmd.ip(ns, 'link', 'del', self.physnet_leg(host, physnet),
                     check=False)

    def ensure_physnet_trunk(self, physnet: str) -> str:
        """The physnet's trunk bridge in the underlay (every OVS host's
        leg into the physnet joins it); returns its name."""
        self.ensure_underlay()
        trunk = self._link(names.SEGMENT_BRIDGE, physnet, 'trunk')
        self._ensure_bridge(self.underlay, trunk)
        return trunk

    def outside_ns(self) -> str:
        return names.outside_ns(self.tag)

    def outside_leg(self, physnet: str) -> str:
        return self._link(names.OUTSIDE_LEG, 'outside', physnet)

    def ensure_outside_leg(self, physnet: str) -> str:
        """The outside namespace (made here, lo up) and its veth into the
        physnet's trunk bridge, as a host's leg; returns the outside end."""
        trunk = self.ensure_physnet_trunk(physnet)
        ns = self.outside_ns()
        self._ensure_ns(ns)
        leg = self.outside_leg(physnet)
        ul_end = self._link(names.OUTSIDE_UL_END, 'outside', physnet)
        self._ensure_veth(ns, leg, self.underlay, ul_end)
        ipcmd.ip(ns, 'link', 'set', leg, 'up')
        ipcmd.ip(self.underlay, 'link', 'set', ul_end, 'master', trunk,
                 'up')
        return leg

    def remove_outside(self) -> bool:
        """Delete the outside namespace (its links go with it)."""
        ns = self.outside_ns()
        if ns not in ipcmd.namespaces():
            return False
        for name in ipcmd.links(ns):
            if name.startswith(self.prefix):
                ipcmd.ip(ns, 'link', 'del', name, check=False)
        return ipcmd.delete_namespace(ns)

    def ensure_physnet_leg(self, host: str, physnet: str) -> str:
        """A host's leg into the physnet's trunk bridge in the underlay,
        for OVS hosts (which tag VLANs themselves); returns the leg."""
        self._require_host(host)
        trunk = self.ensure_physnet_trunk(physnet)
        host_end = self.physnet_leg(host, physnet)
        ul_end = self._link(names.SEGMENT_UL_END, host, physnet, 'trunk')
        self._ensure_veth(self.host_ns(host), host_end, self.underlay,
                          ul_end)
        ipcmd.ip(self.host_ns(host), 'link', 'set', host_end, 'up')
        ipcmd.ip(self.underlay, 'link', 'set', ul_end, 'master', trunk,
                 'up')
        return host_end

    # -- VMs --------------------------------------------------------------
    def vm_tap(self, vm: str, port_id: str | None = None) -> str:
        """The host's end of a VM's veth."""
        return self._link(names.VM_TAP, port_id or vm)

    def plug_vm(self, host: str, vm: str, bridge: str | None, mac: str,
                cidr_ip: str, gateway: str | None, mtu: int,
                port_id: str | None = None, announce: bool = True) -> str:
        """A VM namespace whose ``eth0`` (``mac``, ``cidr_ip`` such as
        '10.0.0.5/24', default route via ``gateway`` if any) is a veth to
        ``bridge`` on ``host`` (None: the caller puts the host's end on
        an OVS bridge). Re-plugging moves or updates the VM.
        With ``port_id`` the host's end is named after the port, so that
        the host agent finds it (:meth:`attach_port`)."""
        host_ns = self._require_host(host)
        if bridge and not ipcmd.link_exists(host_ns, bridge):
            raise ipcmd.CommandError('no bridge %s on host %s' % (bridge,
                                                                  host))
        ns = self.vm_ns(vm)
        self._ensure_ns(ns)
        tap = self._link(names.VM_TAP, port_id or vm)
        if not ipcmd.link_exists(host_ns, tap) and \
                ipcmd.link_exists(ns, 'eth0'):
            # Plugged on another host before: move it here.
            ipcmd.ip(ns, 'link', 'del', 'eth0')
        self._ensure_veth(host_ns, tap, ns, 'eth0')
        if bridge:
            ipcmd.ip(host_ns, 'link', 'set', tap, 'master', bridge, 'mtu',
                     str(mtu), 'up')
        # (bridge None: an OVS port, which the caller adds.)
        ipcmd.ip(ns, 'link', 'set', 'eth0', 'address', mac, 'mtu', str(mtu))
        # The userspace datapath does not fill in checksums that a veth
        # leaves to offload: without this, ping passes and TCP fails.
        ipcmd.netns_exec(ns, ['ethtool', '-K', 'eth0', 'tx', 'off'],
                         check=False)
        family = '-%d' % netaddr.IPNetwork(cidr_ip).version
        have = ['%s/%d' % (a['local'], a['prefixlen'])
                for link in ipcmd.ip_json(ns, family, 'addr', 'show', 'dev',
                                          'eth0', 'scope', 'global')
                for a in link.get('addr_info', [])]
        if have != [cidr_ip]:  # only touch it when it differs
            ipcmd.ip(ns, 'addr', 'flush', 'dev', 'eth0', 'scope', 'global')
            # An IPv6 address is usable at once, as a guest's from DHCPv6
            # is once its DAD passed (Neutron's IPAM made it unique).
            ipcmd.ip(ns, 'addr', 'add', cidr_ip, 'dev', 'eth0',
                     *(['nodad'] if family == '-6' else []))
        # Take gratuitous ARP at once (locktime 0), and announce the
        # address once up, as a booting guest does: a VM that cached an
        # earlier owner of a reused address learns the new MAC without
        # waiting for its neighbour entry to go stale. Three announcements
        # a second apart, in the background: the host agent may still be
        # programming the tunnels that carry them.
        ipcmd.netns_exec(ns, ['sysctl', '-qw',
                              'net.ipv4.neigh.eth0.locktime=0'])
        ipcmd.ip(ns, 'link', 'set', 'eth0', 'up')
        if announce:
            self.announce(vm, cidr_ip.split('/')[0])
        if gateway:
            ipcmd.ip(ns, family, 'route', 'replace', 'default', 'via',
                     gateway)
        else:
            ipcmd.ip(ns, family, 'route', 'del', 'default', check=False)
        return ns

    def announce(self, vm: str, ip: str) -> None:
        """Gratuitous ARPs for the VM's address, in the background (call
        it once the VM's port is wired, or they are lost). IPv6 has no
        ARP; its neighbours resolve the address when they first use it."""
        if netaddr.IPAddress(ip).version != 4:
            return
        ipcmd.netns_spawn(self.vm_ns(vm), [
            'arping', '-q', '-U', '-c', str(GARP_COUNT), '-i', '1', '-I',
            'eth0', ip])

    def unplug_vm(self, vm: str) -> None:
        ns = self.vm_ns(vm)
        if ns not in ipcmd.namespaces():
            return
        # Deleting eth0 first removes the host's tap at once; a deleted
        # namespace's devices otherwise linger until the kernel reaps it.
        ipcmd.ip(ns, 'link', 'del', 'eth0', check=False)
        ipcmd.delete_namespace(ns)

    def vm_exec(self, vm: str, argv: Sequence[str], check: bool = True,
                timeout: float = 30) -> subprocess.CompletedProcess:
        """Run a command inside the VM's namespace (never elsewhere)."""
        ns = self._require_ns(self.vm_ns(vm), 'VM %s' % vm)
        return ipcmd.netns_exec(ns, argv, check=check, timeout=timeout)

    def ping(self, vm: str, ip: str, count: int = 1,
             deadline: float = 5.0, wait: float = 0.5) -> bool:
        """Ping ``ip`` from inside the VM, retrying until one attempt
        passes (True) or ``deadline`` seconds are up (False): the first
        packets after a change can be lost while ARP resolves."""
        ns = self._require_ns(self.vm_ns(vm), 'VM %s' % vm)
        end = time.monotonic() + deadline
        while True:
            each = max(0.1, min(wait, end - time.monotonic()))
            proc = ipcmd.netns_exec(
                ns, ['ping', '-n', '-q', '-c', str(count), '-W',
                     '%.1f' % each, ip], check=False, timeout=each + 30)
            if proc.returncode == 0:
                return True
            # An unanswered ARP is retried by the kernel only once a
            # second; dropping the pending entry makes the next attempt
            # (or the next call) resolve at once, so a path that just
            # appeared is seen within ``wait``, not up to a second later.
            ipcmd.ip(ns, 'neigh', 'flush', 'dev', 'eth0', 'nud',
                     'incomplete', 'nud', 'failed', check=False)
            if time.monotonic() >= end:
                return False
            time.sleep(0.05)

    def first_reply(self, vm: str, ip: str, deadline: float) -> float | None:
        """Seconds until ``ip`` first answers the VM (module's
        first_reply), or None."""
        return first_reply(self._require_ns(self.vm_ns(vm), 'VM %s' % vm),
                           ip, deadline)

    def flush_neigh(self, vm: str) -> None:
        """Forget the VM's ARP cache (so the next ping must resolve)."""
        ipcmd.ip(self.vm_ns(vm), 'neigh', 'flush', 'dev', 'eth0')

    def neigh_mac(self, vm: str, ip: str) -> str | None:
        """The MAC the VM resolved ``ip`` to, if any."""
        for row in ipcmd.ip_json(self.vm_ns(vm), 'neigh', 'show', ip,
                                 'dev', 'eth0'):
            if row.get('lladdr'):
                return row['lladdr'].lower()
        return None

    # -- inventory and cleanup --------------------------------------------
    def list_namespaces(self) -> list[str]:
        start = names.namespace_prefix(self.tag)
        return sorted(ns for ns in ipcmd.namespaces() if ns.startswith(start))

    def destroy(self) -> list[str]:
        """Delete every namespace (with its links) and every root-namespace
        link whose name has this fabric's prefix. Safe to call twice.
        Returns the namespaces deleted."""
        gone = []
        for ns in self.list_namespaces():
            if ipcmd.delete_namespace(ns):
                gone.append(ns)
        # Nothing is ever made in the root namespace; remove strays that
        # a crashed older version may have left, by name only.
        for name in ipcmd.root_links():
            if name.startswith(self.prefix):
                ipcmd.delete_root_link(name, self.prefix)
        return gone
