"""``up`` steps of the hosts: Neutron's own agents (``--agents ovs``) or
the sandbox's host agent (``--agents lite``).

ovs: one private RabbitMQ with a vhost per region; ``neutron-rpc-server``
beside each region's API process; per host a namespace with its own
OVS (userspace datapath) and ``neutron-openvswitch-agent``; the first
host of each region also runs ``neutron-l3-agent``. A relay gives every
host namespace the broker on its own 127.0.0.1.
"""
from __future__ import annotations

import concurrent.futures
import os
import sys
import time

from tricircle.sandbox import agents as sb_agents
from tricircle.sandbox import hosts as sb_hosts
from tricircle.sandbox import processes

AGENTS_OVS = 'ovs'
AGENTS_LITE = 'lite'
AGENT_MODES = (AGENTS_OVS, AGENTS_LITE)
# Bringing up many agents at once on 2 cores (and another sandbox
# beside, in the tests) can take longer than a quiet machine needs.
AGENTS_TIMEOUT = 120.0
# The broker's vhost of XJob's wake-up messages.
WAKE_VHOST = 'tricircle'


class HostSteps:
    """Mixed into :class:`tricircle.sandbox.up.Up` (its state, dirs and
    ``out``)."""

    def host_steps(self) -> list:
        if self.state.agents == AGENTS_OVS:
            return [self.start_ovs_hosts, self.start_outside,
                    self.start_neutron_agents,
                    self.wait_for_agents, self.settle_ovs_agents]
        # A plain region has no Tricircle, so no light host agent.
        return [] if self.state.plain else [self.start_host_agents]

    # -- the broker -----------------------------------------------------
    def start_broker(self) -> None:
        """Launch RabbitMQ now; it is waited for before the agents."""
        from tricircle.sandbox import rabbit
        self.broker = rabbit.RabbitServer(
            os.path.join(self.data, 'rabbit'), processes.free_port(),
            # A vhost per region for its agents; one for XJob's wake-ups.
            vhosts=list(self.region_names) + (
                [] if self.state.plain else [WAKE_VHOST]),
            name_prefix='tcsb' + sb_hosts.fabric_tag(self.state),
            log_dir=self.logs)
        for name, pid in self.broker.start().items():
            self.state.pids[name] = pid
            self.state.logs[name] = self.broker.log_path
        self.state.logs['epmd'] = self.broker.epmd_log_path
        self.state.markers['epmd'] = '-port %d' % self.broker.epmd_port
        self.state.rabbit = self.broker.to_dict()

    @property
    def wake_url(self) -> str | None:
        """Where central and the Admin API wake the XJob daemons when
        they submit a job (``[xjob] transport_url``); None: they poll."""
        if self.state.plain or getattr(self, 'broker', None) is None:
            return None
        return self.broker.transport_url(WAKE_VHOST)

    def transport_url(self, region: str, in_host: bool = False) -> str:
        """The region's vhost: on 127.0.0.1 of the root namespace for the
        servers, of the host namespace (the relay) for agents."""
        if in_host:
            return self.broker.transport_url(region, port=sb_agents.RELAY_PORT)
        return self.broker.transport_url(region)

    def rpc_server(self, region: str, confs: list[str]) -> None:
        """``neutron-rpc-server`` of a region: what the agents call."""
        name = 'neutron-rpc-%s' % region
        self.servers[name] = (
            [os.path.join(os.path.dirname(sys.executable),
                          'neutron-rpc-server')] +
            [a for c in confs for a in ('--config-file', c)], None,
            os.path.join(self.logs, name + '.log'))

    # -- hosts ----------------------------------------------------------
    def _fabric(self):
        from tricircle.sandbox.dataplane import fabric
        return fabric.Fabric(sb_hosts.fabric_tag(self.state))

    def ovs_host(self, host: str):
        return sb_hosts.ovs_host(self.state, host)

    def start_ovs_hosts(self) -> None:
        """Host namespaces on the underlay, each with its own OVS."""
        fab = self._fabric()
        all_hosts = sb_hosts.all_hosts(self.state)
        for host, (_region, tunnel_ip) in all_hosts.items():
            fab.add_host(host, tunnel_ip, sb_hosts.UNDERLAY_PREFIXLEN)

        def _one(host):
            ovs_host = self.ovs_host(host)
            pids = ovs_host.start(self.logs)
            mappings = ovs_host.setup_underlay(all_hosts[host][1],
                                               sb_hosts.UNDERLAY_PREFIXLEN)
            return host, pids, mappings
        # host -> its agent's bridge_mappings
        self.bridge_mappings: dict[str, dict[str, str]] = {}
        with concurrent.futures.ThreadPoolExecutor(4) as pool:
            for host, pids, mappings in pool.map(_one, all_hosts):
                for name, pid in pids.items():
                    self.state.pids[name] = pid
                    self.state.logs[name] = os.path.join(self.logs,
                                                         name + '.log')
                self.bridge_mappings[host] = mappings
        self.state.save()

    def start_outside(self) -> None:
        """The outside world on extnet, when a region is external."""
        if not self.state.external_regions:
            return
        from tricircle.sandbox import outside_world
        world = outside_world.OutsideWorld(self.state)
        for name, pid in world.setup(self.logs).items():
            self.state.pids[name] = pid
            self.state.logs[name] = os.path.join(self.logs, name + '.log')
        self.state.save()

    def start_neutron_agents(self) -> None:
        """The relay to the broker, then every host's agents."""
        from tricircle.sandbox import nsrelay
        fab = self._fabric()
        all_hosts = sb_hosts.all_hosts(self.state)
        self.broker.wait_ready(30)
        relay_log = os.path.join(self.logs, 'rabbit-relay.log')
        self.state.pids['rabbit-relay'] = processes.launch(
            nsrelay.relay_argv(self.broker.port, sb_agents.RELAY_PORT,
                               [fab.host_ns(h) for h in all_hosts]),
            relay_log)
        self.state.logs['rabbit-relay'] = relay_log
        # Its arguments name the host namespaces, which carry the
        # sandbox's own prefix.
        self.state.markers['rabbit-relay'] = fab.host_ns('')
        processes.wait_log(relay_log, 'relay started',
                           self.state.pids['rabbit-relay'], 15)
        first = {sb_hosts.l3_host(r) for r in self.region_names}
        for host, (region, tunnel_ip) in all_hosts.items():
            ovs_host = self.ovs_host(host)
            state_path = os.path.join(self.data, 'hosts', host, 'agent')
            os.makedirs(state_path, exist_ok=True)
            url = self.transport_url(region, in_host=True)
            env = sb_agents.agent_env(ovs_host.env)
            conf = sb_agents.write_ovs_agent(
                self.etc, host, url, state_path, tunnel_ip,
                ovs_host.bridges, self.bridge_mappings[host],
                ovs_host.db_sock)
            self._launch('%s-%s' % (sb_agents.OVS_AGENT, host),
                         sb_agents.ovs_agent_argv(ovs_host.ns, conf), env)
            if host in first:
                conf = sb_agents.write_l3_agent(
                    self.etc, host, url, state_path, ovs_host.bridges,
                    ovs_host.db_sock)
                self._launch('%s-%s' % (sb_agents.L3_AGENT, host),
                             sb_agents.l3_agent_argv(ovs_host.ns, conf), env)
        self.state.save()

    def _launch(self, name: str, argv: list[str], env: dict) -> None:
        log = os.path.join(self.logs, name + '.log')
        self.state.pids[name] = processes.launch(argv, log, env=env)
        self.state.logs[name] = log

    def wait_for_agents(self) -> None:
        """Until every region lists its agents alive, as an operator
        would check with "openstack network agent list"."""
        from tricircle.sandbox import agent_status
        expected = {}
        for region in self.region_names:
            hosts = sb_hosts.host_names(region)
            expected[region] = {(sb_agents.OVS_TYPE, h) for h in hosts}
            expected[region].add((sb_agents.L3_TYPE,
                                  sb_hosts.l3_host(region)))
        end = time.monotonic() + AGENTS_TIMEOUT
        started = time.monotonic()
        while True:
            missing = agent_status.missing_agents(self.state, expected)
            if not missing:
                break
            for name, pid in self.state.pids.items():
                if not processes.is_running(pid):
                    raise processes.ProcessError(
                        '%s (pid %d) died; see %s:\n%s' % (
                            name, pid, self.state.log_of(name),
                            processes.tail(self.state.log_of(name))))
            if time.monotonic() > end:
                raise processes.ProcessError(
                    'agents not alive after %.0f s: %s' % (
                        AGENTS_TIMEOUT, ', '.join(
                            '%s %s on %s' % (r, t, h)
                            for r, t, h in sorted(missing))))
            time.sleep(0.5)
        self.out('        every agent alive after %.1fs'
                 % (time.monotonic() - started))

    def settle_ovs_agents(self) -> None:
        """Let every OVS agent run its stale-flow cleanup before any VM.

        The agent deletes, once, the flows of br-int whose cookie it does
        not hold: in the first loop with changes after one that saw a VIF
        port. In Neutron 29 the OVS firewall adds the remote-group flows
        of a port it refreshes under a temporary cookie and never
        rewrites them (they are already in its state), so a member change
        of the first VM's group just then loses those flows for good:
        pings to that VM from the new member keep failing. Two placeholder ports, one after the other, get that
        cleanup done now (removing the first would not: the agent drops a
        removed port from the set it checks before it checks it).
        """
        hosts = list(sb_hosts.all_hosts(self.state))
        started = time.monotonic()

        def _one(host):
            ovs_host = self.ovs_host(host)
            name = '%s-%s' % (sb_agents.OVS_AGENT, host)
            log, pid = self.state.log_of(name), self.state.pids[name]
            processes.wait_log(log, ovs_host.add_placeholder_port(0), pid,
                               AGENTS_TIMEOUT)
            ovs_host.add_placeholder_port(1)
            processes.wait_log(log, sb_agents.OVS_AGENT_CLEANED, pid,
                               AGENTS_TIMEOUT)
            for index in (0, 1):
                ovs_host.remove_placeholder_port(index)
        with concurrent.futures.ThreadPoolExecutor(len(hosts)) as pool:
            list(pool.map(_one, hosts))
        self.out('        stale-flow cleanup of every OVS agent done after '
                 '%.1fs' % (time.monotonic() - started))

    def start_host_agents(self) -> None:
        """The hosts on one underlay, and one host agent per region."""
        fab = self._fabric()
        for host, (_region, tunnel_ip) in \
                sb_hosts.all_hosts(self.state).items():
            fab.add_host(host, tunnel_ip, sb_hosts.UNDERLAY_PREFIXLEN)
        logs = {}
        for region in self.region_names:
            name = 'host-agent-%s' % region
            logs[name] = os.path.join(self.logs, name + '.log')
            self.state.pids[name] = processes.launch(
                [sys.executable, '-m', 'tricircle.sandbox.host_agent',
                 '--state-dir', self.state.state_dir, '--region', region],
                logs[name])
            self.state.logs[name] = logs[name]
        self.state.save()
        for name, log in logs.items():
            waited = processes.wait_log(log, 'started', self.state.pids[name],
                                        AGENTS_TIMEOUT)
            self.out('        %-22s started after %.1fs' % (name, waited))
