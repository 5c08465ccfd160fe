"""The sandbox's host agent: Neutron's OVS agent with L2 population,
played by network namespaces.

One process per region serves that region's compute hosts. It

- reports one agent row per host (type ``Tricircle host agent``, with the
  host's tunnel endpoint) in the region's Neutron database, as an agent's
  ``report_state`` would over RPC (the sandbox has no message broker);
- polls the region's Neutron and programs every host: a bridge per
  network, a VXLAN device per VNI (or the shared segment of a VLAN or
  flat network), and a static FDB entry for every port of the network
  bound to another host, shadow ports of other regions included.

    python -m tricircle.sandbox.host_agent --state-dir DIR --region R
"""
from __future__ import annotations

import argparse
import logging
import os
import signal
import threading
import time
from typing import Any

from tricircle.resources import shadow as host_mech
from tricircle.sandbox import hosts as sb_hosts
from tricircle.sandbox import state as sb_state
from tricircle.sandbox.dataplane import fabric as dp_fabric

LOG = logging.getLogger('tricircle.host_agent')
REPORT_INTERVAL = 10.0
# A network stays wired on a host this long after its last port went:
# Nova may be plugging the next VM right now.
UNWIRE_AFTER = 10.0


class AgentReporter:
    """Writes agent rows with Neutron's own agent code (AgentDbMixin)."""

    def __init__(self, db_url: str) -> None:
        from neutron.db import agents_db
        from neutron_lib import context as n_context
        from oslo_config import cfg
        from oslo_db import options as db_options

        from tricircle.db import sqlite_busy
        sqlite_busy.register()  # Neutron writes the same SQLite file
        db_options.set_defaults(cfg.CONF, connection=db_url)
        if not cfg.CONF._args:  # policy checks in contexts need a parsed CONF
            cfg.CONF([], project='neutron', default_config_files=[])
        self._db = agents_db.AgentDbMixin()
        self._context = n_context.get_admin_context

    def report(self, host: str, tunnel_ip: str,
               physnets: list[str]) -> None:
        self._db.create_or_update_agent(self._context(), {
            'agent_type': host_mech.AGENT_TYPE,
            'binary': host_mech.AGENT_BINARY,
            'host': host, 'topic': 'N/A',
            'configurations': {
                host_mech.TUNNEL_IP: tunnel_ip,
                host_mech.BRIDGE_MAPPINGS: {p: p for p in physnets}}})


class HostAgent:
    """Programs the hosts of one region from its Neutron."""

    def __init__(self, state: sb_state.SandboxState, region: str,
                 interval: float = 0.2) -> None:
        self.region = region
        self.hosts = sb_hosts.hosts_of(state, region)  # name -> tunnel ip
        self.fabric = dp_fabric.Fabric(sb_hosts.fabric_tag(state))
        self.interval = interval
        self.neutron = sb_hosts.neutron_connection(state, region)
        self.reporter = AgentReporter(
            state.neutron_dbs[region]) if state.neutron_dbs else None
        # host -> {network id -> (network type, segment key)} programmed
        self.programmed: dict[str, dict[str, tuple]] = {
            h: {} for h in self.hosts}
        # host -> {network id -> when it was first seen without ports}
        self.empty_since: dict[str, dict[str, float]] = {
            h: {} for h in self.hosts}
        self._stop = threading.Event()
        self._last_report = 0.0

    def stop(self, *_args) -> None:
        self._stop.set()

    def setup_hosts(self) -> None:
        self.fabric.ensure_underlay()
        for host, tunnel_ip in self.hosts.items():
            self.fabric.add_host(host, tunnel_ip)

    def report(self) -> None:
        if self.reporter is None:
            return
        for host, tunnel_ip in self.hosts.items():
            self.reporter.report(host, tunnel_ip, sb_hosts.PHYSNETS)
        self._last_report = time.monotonic()

    def run(self) -> None:
        self.setup_hosts()
        self.report()
        LOG.info('host agent of %s started: hosts %s', self.region,
                 ', '.join('%s (%s)' % kv for kv in self.hosts.items()))
        while not self._stop.is_set():
            started = time.monotonic()
            if started - self._last_report > REPORT_INTERVAL:
                self._safely(self.report)
            self._safely(self.sync_once)
            self._stop.wait(max(0.0, self.interval -
                                (time.monotonic() - started)))
        LOG.info('host agent of %s stopped', self.region)

    def _safely(self, func) -> None:
        try:
            func()
        except Exception:  # the next round tries again
            LOG.exception('%s failed', func.__name__)

    def sync_once(self) -> None:
        ports = [p for p in self.neutron.network.ports()
                 if p.binding_host_id]
        tunnels = {a.host: (a.configuration or {}).get(host_mech.TUNNEL_IP)
                   for a in self.neutron.network.agents(
                       agent_type=host_mech.AGENT_TYPE)}
        networks: dict[str, Any] = {}
        for host, my_ip in self.hosts.items():
            mine = {p.network_id for p in ports if p.binding_host_id == host}
            for net_id in mine:
                if net_id not in networks:
                    networks[net_id] = self.neutron.network.get_network(
                        net_id)
                self._program(host, my_ip, networks[net_id], ports, tunnels)
            now = time.monotonic()
            for net_id in set(self.programmed[host]) - mine:
                since = self.empty_since[host].setdefault(net_id, now)
                if now - since >= UNWIRE_AFTER:
                    self._unprogram(host, net_id)
                    del self.empty_since[host][net_id]
            for net_id in mine:
                self.empty_since[host].pop(net_id, None)

    def _program(self, host: str, my_ip: str, net, ports, tunnels) -> None:
        net_type = net.provider_network_type
        if net_type == 'vxlan':
            vni = net.provider_segmentation_id
            bridge = self.fabric.ensure_vxlan(host, net.id, vni)
            self._attach_ports(host, net, ports, bridge,
                               dp_fabric.VXLAN_MTU)
            entries = {}
            for port in ports:
                remote_ip = tunnels.get(port.binding_host_id)
                if port.network_id == net.id and remote_ip and \
                        remote_ip != my_ip:
                    entries[port.mac_address] = remote_ip
            changed = self.fabric.set_vxlan_fdb(host, vni, entries)
            if changed:
                LOG.info('%s: network %s (vni %s) fdb %s', host, net.id,
                         vni, changed)
            self.programmed[host][net.id] = ('vxlan', vni)
        elif net_type in ('vlan', 'flat'):
            vid = net.provider_segmentation_id or 0
            physnet = net.provider_physical_network
            bridge = self.fabric.ensure_vlan(host, physnet, vid)
            self._attach_ports(host, net, ports, bridge, 1500)
            self.programmed[host][net.id] = (net_type, (physnet, vid))
        # 'local' networks stay on their host: nothing to connect.

    def _attach_ports(self, host: str, net, ports, bridge: str,
                      mtu: int) -> None:
        for port in ports:
            if port.network_id == net.id and port.binding_host_id == host \
                    and self.fabric.attach_port(host, port.id, bridge, mtu):
                LOG.info('%s: port %s plugged into network %s', host,
                         port.id, net.id)

    def _unprogram(self, host: str, net_id: str) -> None:
        net_type, key = self.programmed[host].pop(net_id)
        if net_type == 'vxlan':
            self.fabric.remove_vxlan(host, key)
        else:
            self.fabric.remove_vlan(host, *key)
        LOG.info('%s: network %s no longer has ports here', host, net_id)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog='tricircle-host-agent')
    parser.add_argument('--state-dir', required=True)
    parser.add_argument('--region', required=True)
    parser.add_argument('--interval', type=float, default=0.2)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO,
                        format='%(asctime)s %(levelname)s %(name)s '
                               '%(message)s')
    state = sb_state.SandboxState.load(args.state_dir)
    if state is None:
        parser.error('no sandbox in %s' % args.state_dir)
    os.environ['OS_CLIENT_CONFIG_FILE'] = os.path.join(
        state.state_dir, sb_state.CLOUDS_FILE)
    agent = HostAgent(state, args.region, args.interval)
    signal.signal(signal.SIGTERM, agent.stop)
    signal.signal(signal.SIGINT, agent.stop)
    agent.run()


if __name__ == '__main__':
    main()
