"""Open vSwitch on a sandbox host: its own ovsdb-server and ovs-vswitchd.

Each host namespace runs a private OVS on the userspace datapath (this
kernel has no openvswitch module), with every file under the host's run
dir and the database named with the fabric prefix. Topology::

  host ns:  <prefix>-phy (netdev) ─ U(host) uplink ══ underlay bridge
              the VTEP address sits on the <prefix>-phy internal port:
              the userspace datapath routes tunnels only via an OVS port
            <prefix>-vN (netdev, one per physnet) ─ p leg ══ physnet
              bridge in the underlay: VLAN-tagged frames, tagged by OVS
            <prefix>-ex: the same for extnet, on L3 hosts of external
              regions only (its trunk also holds the outside's leg)
            <prefix>-int, <prefix>-tun: made by neutron-openvswitch-agent
            tap ══ eth0 of a VM: on <prefix>-int, with Nova's external_ids

Processes run in the foreground (the sandbox stops them by PID).
"""
from __future__ import annotations

import os
import time
import uuid

from tricircle.sandbox import outside
from tricircle.sandbox import processes
from tricircle.sandbox.dataplane import fabric as dp_fabric
from tricircle.sandbox.dataplane import ipcmd
from tricircle.sandbox.dataplane import names

SCHEMA = '/usr/share/openvswitch/vswitch.ovsschema'
DB_SOCK = 'db.sock'     # OVS tools find it under OVS_RUNDIR by default
READY_TIMEOUT = 15.0
PLACEHOLDER_MAC = 'fe:16:3e:00:00:01'  # locally administered, no VM's


def bridge_names(tag: str, physnets: list[str]) -> dict[str, str]:
    """The OVS bridges of a host: 'int', 'tun', 'phy' and one per physnet.

    Bridge names are interface names (15 characters at most) and carry
    the fabric prefix like every link of the sandbox.
    """
    prefix = names.prefix(tag)
    found = {'int': prefix + '-int', 'tun': prefix + '-tun',
             'phy': prefix + '-phy'}
    numbered = sorted(p for p in physnets if p != outside.EXTNET)
    for i, physnet in enumerate(numbered):
        found[physnet] = '%s-v%d' % (prefix, i + 1)
    if outside.EXTNET in physnets:
        # Only the L3 hosts of external regions have it: a name of its
        # own keeps the other bridges' numbers the same on every host.
        found[outside.EXTNET] = prefix + '-ex'
    return found


class OvsHost:
    """The OVS of one host; ``run_dir`` holds its database and sockets."""

    def __init__(self, fab: dp_fabric.Fabric, host: str, run_dir: str,
                 physnets: list[str]) -> None:
        self.fabric = fab
        self.host = host
        self.ns = fab.host_ns(host)
        self.run_dir = run_dir
        self.bridges = bridge_names(fab.tag, physnets)
        self.physnets = sorted(physnets)
        # Named like the host's namespace: the fabric prefix first.
        self.db_path = os.path.join(run_dir, self.ns + '.db')

    @property
    def db_sock(self) -> str:
        return os.path.join(self.run_dir, DB_SOCK)

    @property
    def env(self) -> dict[str, str]:
        """For every OVS tool and agent working on this host's OVS."""
        return {'OVS_RUNDIR': self.run_dir, 'OVS_DBDIR': self.run_dir,
                'OVS_LOGDIR': self.run_dir}

    def vsctl(self, *args: str, check: bool = True):
        return ipcmd.run('ovs-vsctl', '--db=unix:' + self.db_sock,
                         '--timeout=10', *args, check=check)

    # -- processes ------------------------------------------------------
    def start(self, log_dir: str) -> dict[str, int]:
        """Create the database, start both daemons; name -> PID."""
        os.makedirs(self.run_dir, exist_ok=True)
        if not os.path.exists(self.db_path):
            ipcmd.run('ovsdb-tool', 'create', self.db_path, SCHEMA)
        base = 'ovs-%s' % self.host
        pids = {}
        pids[base + '-db'] = processes.launch(
            ['ip', 'netns', 'exec', self.ns, 'ovsdb-server', self.db_path,
             '--remote=punix:' + self.db_sock,
             '--unixctl=' + os.path.join(self.run_dir, 'ovsdb.ctl'),
             '--pidfile=' + os.path.join(self.run_dir, 'ovsdb.pid')],
            os.path.join(log_dir, base + '-db.log'), env=self.env)
        self._wait_for(lambda: os.path.exists(self.db_sock),
                       'ovsdb-server socket %s' % self.db_sock)
        self.vsctl('--no-wait', 'init')
        pids[base + '-switch'] = processes.launch(
            ['ip', 'netns', 'exec', self.ns, 'ovs-vswitchd',
             'unix:' + self.db_sock,
             '--unixctl=' + os.path.join(self.run_dir, 'vswitchd.ctl'),
             '--pidfile=' + os.path.join(self.run_dir, 'vswitchd.pid')],
            os.path.join(log_dir, base + '-switch.log'), env=self.env)
        self._wait_for(lambda: self.vsctl('show', check=False)
                       .returncode == 0 and os.path.exists(os.path.join(
                           self.run_dir, 'vswitchd.ctl')),
                       'ovs-vswitchd of %s' % self.host)
        return pids

    @staticmethod
    def _wait_for(ready, what: str) -> None:
        end = time.monotonic() + READY_TIMEOUT
        while not ready():
            if time.monotonic() > end:
                raise ipcmd.CommandError('%s not ready within %.0f s'
                                         % (what, READY_TIMEOUT))
            time.sleep(0.05)

    # -- bridges --------------------------------------------------------
    def _add_bridge(self, name: str, *ports: str) -> None:
        args = ['--may-exist', 'add-br', name, '--', 'set', 'Bridge', name,
                'datapath_type=netdev']
        for port in ports:
            args += ['--', '--may-exist', 'add-port', name, port]
        self.vsctl(*args)
        ipcmd.ip(self.ns, 'link', 'set', name, 'up')

    def setup_underlay(self, tunnel_ip: str, prefixlen: int) -> dict:
        """The VTEP on ``<prefix>-phy`` and a bridge per physnet.

        Returns the agent's ``bridge_mappings`` (physnet -> bridge).
        """
        uplink = names.link(self.fabric.tag, names.HOST_UPLINK, self.host)
        phy = self.bridges['phy']
        self._add_bridge(phy, uplink)
        ipcmd.ip(self.ns, 'addr', 'flush', 'dev', uplink)
        ipcmd.ip(self.ns, 'link', 'set', uplink, 'up')
        cidr = '%s/%d' % (tunnel_ip, prefixlen)
        have = ['%s/%d' % (a['local'], a['prefixlen'])
                for link in ipcmd.ip_json(self.ns, '-4', 'addr', 'show',
                                          'dev', phy)
                for a in link.get('addr_info', [])]
        if cidr not in have:
            ipcmd.ip(self.ns, 'addr', 'add', cidr, 'dev', phy)
        for physnet in self.physnets:
            leg = self.fabric.ensure_physnet_leg(self.host, physnet)
            self._add_bridge(self.bridges[physnet], leg)
        return {p: self.bridges[p] for p in self.physnets}

    # -- VMs ------------------------------------------------------------
    def plug(self, tap: str, port_id: str, mac: str, device_id: str,
             mtu: int) -> None:
        """Put a VM's tap on the integration bridge as os-vif does: the
        OVS agent finds the port by ``iface-id`` and wires it."""
        ipcmd.ip(self.ns, 'link', 'set', tap, 'mtu', str(mtu), 'up')
        self.vsctl('--may-exist', 'add-br', self.bridges['int'], '--',
                   'set', 'Bridge', self.bridges['int'],
                   'datapath_type=netdev', '--',
                   '--may-exist', 'add-port', self.bridges['int'], tap,
                   '--', 'set', 'Interface', tap,
                   'external_ids:iface-id=%s' % port_id,
                   'external_ids:iface-status=active',
                   'external_ids:attached-mac=%s' % mac,
                   'external_ids:vm-uuid=%s' % device_id)

    def placeholder_port(self, index: int) -> str:
        return names.link(self.fabric.tag, names.PLACEHOLDER, self.host,
                          index)

    def add_placeholder_port(self, index: int) -> str:
        """An internal port on br-int whose ``iface-id`` (returned) no
        Neutron port has: the OVS agent takes it for a VIF port and parks
        it on its dead VLAN."""
        name = self.placeholder_port(index)
        iface_id = str(uuid.uuid4())
        self.vsctl('--may-exist', 'add-port', self.bridges['int'], name,
                   '--', 'set', 'Interface', name, 'type=internal',
                   'external_ids:iface-id=%s' % iface_id,
                   'external_ids:iface-status=active',
                   # The agent counts a port as a VIF by this key.
                   'external_ids:attached-mac=%s' % PLACEHOLDER_MAC)
        return iface_id

    def remove_placeholder_port(self, index: int) -> None:
        self.vsctl('--if-exists', 'del-port', self.bridges['int'],
                   self.placeholder_port(index))

    def wired(self, tap: str) -> bool:
        """Whether the OVS agent took the port up: it tags a port with its
        network's local VLAN once it wires it (and a port it parks with
        the dead VLAN). A port with no tag it has not touched."""
        proc = self.vsctl('--if-exists', 'get', 'Port', tap, 'tag',
                          check=False)
        return proc.returncode == 0 and proc.stdout.strip() not in ('', '[]')

    def unplug(self, tap: str) -> None:
        self.vsctl('--if-exists', 'del-port', self.bridges['int'], tap,
                   check=False)

    # -- inspection and faults, for tests -------------------------------
    def flows(self, bridge: str, table: int | None = None) -> list[str]:
        """``ovs-ofctl dump-flows`` of one of the host's bridges."""
        args = ['ovs-ofctl', 'dump-flows', 'unix:' + os.path.join(
            self.run_dir, '%s.mgmt' % self.bridges[bridge])]
        if table is not None:
            args.append('table=%d' % table)
        return ipcmd.run(*args).stdout.splitlines()[1:]

    def tunnelled_macs(self) -> set[str]:
        """MACs the tunnel bridge sends to a remote VTEP: the unicast
        flows L2 population installs (table 20, UCAST_TO_TUN, priority
        2; the priority 1 flows there are learned from traffic and age
        out by themselves)."""
        found = set()
        for line in self.flows('tun', 20):
            fields = line.replace(' ', ',').split(',')
            if 'priority=2' in fields:
                found |= {f.split('=', 1)[1].lower() for f in fields
                          if f.startswith('dl_dst=')}
        return found

    def arp_answers(self) -> set[str]:
        """IPs the tunnel bridge's ARP responder answers for (table 21,
        ARP_RESPONDER, from L2 population)."""
        found = set()
        for line in self.flows('tun', 21):
            for field in line.replace(' ', ',').split(','):
                if field.startswith('arp_tpa='):
                    found.add(field.split('=', 1)[1])
        return found

    def forget_learned(self, mac: str) -> None:
        """Delete the tunnel bridge's flows to ``mac`` that it learned
        from traffic (table 20, priority 1; they live 300 s): after this
        only L2 population's flows lead there."""
        ipcmd.run('ovs-ofctl', 'del-flows', 'unix:' + os.path.join(
            self.run_dir, '%s.mgmt' % self.bridges['tun']),
            'table=20,dl_dst=%s' % mac)

    def tunnel_ports(self) -> dict[str, str]:
        """VXLAN port name -> remote IP on the tunnel bridge."""
        out = self.vsctl('--format=json', '--columns=name,options', 'find',
                         'Interface', 'type=vxlan').stdout
        import json
        found = {}
        for name, options in json.loads(out)['data']:
            found[name] = dict(options[1]).get('remote_ip')
        return found

    def disconnect_physnet(self, physnet: str) -> None:
        """Cut the host's leg into the physnet (a pulled cable)."""
        self.vsctl('--if-exists', 'del-port', self.bridges[physnet],
                   self.fabric.physnet_leg(self.host, physnet))
        self.fabric.remove_physnet_leg(self.host, physnet)

    def connect_physnet(self, physnet: str) -> None:
        leg = self.fabric.ensure_physnet_leg(self.host, physnet)
        self._add_bridge(self.bridges[physnet], leg)
