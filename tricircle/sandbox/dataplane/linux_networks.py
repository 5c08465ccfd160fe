"""The networks of ``--agents lite`` hosts: Linux bridges, VXLAN devices.

A mixin of :class:`tricircle.sandbox.dataplane.fabric.Fabric` (its names,
namespaces and veths). Per host a bridge per network; for VXLAN a
``nolearning`` VXLAN device whose FDB the host agent programs, for VLAN
and flat networks a veth leg into a per-(physnet, VLAN id) segment bridge
in the underlay namespace (this kernel has no 802.1Q devices). Hosts of
``--agents ovs`` use their own Open vSwitch instead (:mod:`.ovs`).
"""
from __future__ import annotations

import json

from tricircle.sandbox.dataplane import ipcmd
from tricircle.sandbox.dataplane import names

FLOOD_MAC = '00:00:00:00:00:00'
VXLAN_PORT = 4789
VXLAN_MTU = 1450


class LinuxNetworks:

    # -- VXLAN networks ---------------------------------------------------
    def vxlan_device(self, vni: int) -> str:
        return self._link(names.VXLAN_DEVICE, vni)

    def vxlan_bridge(self, vni: int) -> str:
        return self._link(names.VXLAN_BRIDGE, vni)

    def ensure_vxlan(self, host: str, network_key: str, vni: int,
                     mtu: int = VXLAN_MTU) -> str:
        """The host's bridge for a VXLAN network; returns its name.

        The bridge holds a vxlan device (id ``vni``, dstport 4789, local
        = the host's tunnel IP, nolearning: the FDB is static, see
        :meth:`set_vxlan_fdb`). ``network_key`` is for the caller's
        bookkeeping only: one VNI is one network, so the VNI names the
        devices and any process can find them.
        """
        ns = self._require_host(host)
        bridge, device = self.vxlan_bridge(vni), self.vxlan_device(vni)
        local = self.tunnel_ip(host)
        if local is None:
            raise ipcmd.CommandError('host %s has no tunnel address '
                                     '(add_host first)' % host)
        self._ensure_bridge(ns, bridge, mtu)
        current = ipcmd.ip_json(ns, '-d', 'link', 'show', 'dev', device) \
            if ipcmd.link_exists(ns, device) else []
        if current and current[0].get('linkinfo', {}).get(
                'info_data', {}).get('local') != local:
            # The host's address changed: the device must be remade
            # (``local`` of a vxlan device cannot be changed in place).
            ipcmd.ip(ns, 'link', 'del', device)
            current = []
        if not current:
            proc = ipcmd.ip(ns, 'link', 'add', device, 'type', 'vxlan', 'id',
                            str(vni), 'dstport', str(VXLAN_PORT), 'local',
                            local, 'dev', self._link(names.HOST_UPLINK, host),
                            'nolearning', check=False)
            if proc.returncode and not ipcmd.link_exists(ns, device):
                raise ipcmd.CommandError('vxlan %s (vni %s) in %s: %s' % (
                    device, vni, ns, proc.stderr.strip()))
        ipcmd.ip(ns, 'link', 'set', device, 'master', bridge, 'mtu',
                 str(mtu), 'up')
        return bridge

    def vxlan_fdb(self, host: str, vni: int) -> set[tuple[str, str]]:
        """(MAC, remote tunnel IP) entries of the host's vxlan device."""
        rows = ipcmd.bridge_json(self.host_ns(host), 'fdb', 'show', 'dev',
                                 self.vxlan_device(vni))
        # Entries without "dst" are the bridge's own (local MACs).
        return {(r['mac'].lower(), r['dst']) for r in rows if r.get('dst')}

    def set_vxlan_fdb(self, host: str, vni: int,
                      entries: dict[str, str]) -> dict[str, list]:
        """Make the FDB exactly ``entries`` (MAC -> remote tunnel IP) plus
        one flood entry (00:00:00:00:00:00) per distinct remote IP, which
        carries ARP and broadcasts (L2-population style).

        Returns ``{'added': [(mac, ip)...], 'removed': [...]}`` with only
        the non-empty keys: ``{}`` means nothing changed.
        """
        ns, device = self._require_host(host), self.vxlan_device(vni)
        wanted = {(mac.lower(), ip) for mac, ip in entries.items()}
        wanted |= {(FLOOD_MAC, ip) for ip in set(entries.values())}
        current = self.vxlan_fdb(host, vni)
        added, removed = sorted(wanted - current), sorted(current - wanted)
        # Remove first: a MAC that moved must not keep its old tunnel.
        for mac, ip in removed:
            ipcmd.bridge(ns, 'fdb', 'del', mac, 'dev', device, 'dst', ip,
                         check=False)
        for mac, ip in added:
            ipcmd.bridge(ns, 'fdb', 'append', mac, 'dev', device, 'dst', ip,
                         'self', 'permanent', check=False)
        # Errors above are tolerated (another process may have won a
        # race); what counts is the end state.
        if (added or removed) and self.vxlan_fdb(host, vni) != wanted:
            raise ipcmd.CommandError('fdb of %s in %s is %s, wanted %s' % (
                device, ns, sorted(self.vxlan_fdb(host, vni)),
                sorted(wanted)))
        changes: dict[str, list] = {}
        if added:
            changes['added'] = added
        if removed:
            changes['removed'] = removed
        return changes

    def remove_vxlan(self, host: str, vni: int) -> None:
        """Delete the host's vxlan device and bridge (VM taps on it stay,
        unattached)."""
        ns = self.host_ns(host)
        if ns not in ipcmd.namespaces():
            return
        for name in (self.vxlan_device(vni), self.vxlan_bridge(vni)):
            ipcmd.ip(ns, 'link', 'del', name, check=False)

    # -- VLAN and flat networks -------------------------------------------
    def vlan_bridge(self, physnet: str, vlan_id: int) -> str:
        return self._link(names.VLAN_BRIDGE, physnet, vlan_id)

    def ensure_vlan(self, host: str, physnet: str, vlan_id: int) -> str:
        """The host's bridge for (physnet, VLAN id); 0 is a flat network.

        Each (physnet, vid) is its own segment: a bridge in the underlay
        namespace that every host using it joins with a veth from its
        own bridge of that network. Returns the host's bridge.
        """
        ns = self._require_host(host)
        self.ensure_underlay()
        key = (physnet, vlan_id)
        segment = self._link(names.SEGMENT_BRIDGE, *key)
        self._ensure_bridge(self.underlay, segment)
        bridge = self.vlan_bridge(*key)
        self._ensure_bridge(ns, bridge)
        host_end = self._link(names.SEGMENT_HOST_END, host, *key)
        ul_end = self._link(names.SEGMENT_UL_END, host, *key)
        self._ensure_veth(ns, host_end, self.underlay, ul_end)
        ipcmd.ip(ns, 'link', 'set', host_end, 'master', bridge, 'up')
        ipcmd.ip(self.underlay, 'link', 'set', ul_end, 'master', segment,
                 'up')
        return bridge

    def disconnect_vlan(self, host: str, physnet: str,
                        vlan_id: int) -> None:
        """Take the host off the segment; its bridge and VMs stay."""
        ns = self.host_ns(host)
        if ns in ipcmd.namespaces():
            ipcmd.ip(ns, 'link', 'del', self._link(
                names.SEGMENT_HOST_END, host, physnet, vlan_id), check=False)

    def remove_vlan(self, host: str, physnet: str, vlan_id: int) -> None:
        """Disconnect the host and delete its bridge of the network. The
        segment bridge in the underlay stays (other hosts may be on it;
        ``destroy`` removes it)."""
        self.disconnect_vlan(host, physnet, vlan_id)
        ns = self.host_ns(host)
        if ns in ipcmd.namespaces():
            ipcmd.ip(ns, 'link', 'del', self.vlan_bridge(physnet, vlan_id),
                     check=False)

    def attach_port(self, host: str, port_id: str, bridge: str,
                    mtu: int) -> bool:
        """Put the port's tap (if plugged on ``host``) on ``bridge``, as
        an L2 agent does with the taps Nova plugs; True if it changed."""
        host_ns = self.host_ns(host)
        tap = self._link(names.VM_TAP, port_id)
        proc = ipcmd.ip(host_ns, '-j', 'link', 'show', 'dev', tap,
                        check=False)  # the VM may be going away right now
        info = json.loads(proc.stdout) if proc.returncode == 0 and \
            proc.stdout.strip() else []
        if not info or (info[0].get('master') == bridge and
                        'UP' in info[0].get('flags', [])):
            return False
        return ipcmd.ip(host_ns, 'link', 'set', tap, 'master', bridge, 'mtu',
                        str(mtu), 'up', check=False).returncode == 0
