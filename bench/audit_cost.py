#!/usr/bin/env python3
"""Cost of one drift audit pass, with nothing drifted and with 1 % drifted.

Brings up a control-plane sandbox (``--agents lite --db postgresql``, 2
regions, the periodic audit off), fills each region with ``--networks``
networks (one subnet each, no DHCP, no gateway) and ``--ports`` ports
made in that region, then starts audit passes through the Admin API (a
``drift_audit`` job) and prints, per pass: its duration, and the CPU
seconds (user + system) it cost XJob and each Neutron API server
(central, RegionOne, RegionTwo). The passes:

- first: right after the fill (the copies' regional revisions are not
  known yet: every copy's attributes are read once);
- quiet: nothing changed since (the steady state);
- drifted: 1 % of each region's networks and ports renamed in the region.

Side by side, in the same run: the CPU the same servers spend answering
a client's ``network list``, ``subnet list`` and ``port list`` (all
fields, Neutron's own listing code) once each, for scale. Target: a quiet pass
costs each Neutron less than 2 s of CPU.

    .venv/bin/python bench/audit_cost.py [--networks 1000] [--ports 2000]
"""
from __future__ import annotations

import argparse
import concurrent.futures
import datetime
import json
import time
import urllib.request

import psutil

from tricircle.sandbox import demo

import _sandbox  # bench/, beside this script

NEUTRONS = ('neutron-central', 'neutron-RegionOne', 'neutron-RegionTwo')
SERVERS = NEUTRONS + ('tricircle-xjob',)


def cpu(pid: int) -> float:
    """CPU seconds of a server and its workers."""
    proc = psutil.Process(pid)
    total = 0.0
    for p in [proc] + proc.children(recursive=True):
        try:
            times = p.cpu_times()
            total += times.user + times.system
        except psutil.NoSuchProcess:
            pass
    return total


def cpu_all(state) -> dict[str, float]:
    return {name: cpu(state.pids[name]) for name in SERVERS}


def api(state, path: str, body: dict | None = None) -> dict:
    req = urllib.request.Request(
        state.admin_api + path, method='POST' if body else 'GET',
        data=json.dumps(body).encode() if body else None,
        headers={'Content-Type': 'application/json'})
    with urllib.request.urlopen(req, timeout=30) as resp:
        return json.loads(resp.read() or b'{}')


def fill(state, networks: int, ports: int) -> None:
    central = demo.connect(state, 'central')
    regions = {name: demo.connect(state, name) for name in state.regions}

    def one_network(region: str, i: int) -> None:
        net = central.network.create_network(
            name='audit-%s-%d' % (region, i),
            availability_zone_hints=[region])
        # Networks may overlap (as tenants' do). No gateway: the regions
        # reserve none (the fill is faster; the audit is the same).
        central.network.create_subnet(
            network_id=net.id, ip_version=4, is_dhcp_enabled=False,
            gateway_ip=None, cidr='10.%d.%d.0/24' % (i // 250, i % 250))
        for _p in range(ports // networks):
            regions[region].network.create_port(network_id=net.id)

    start = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        for future in [pool.submit(one_network, region, i)
                       for region in regions for i in range(networks)]:
            future.result()
    print('filled: %d networks, %d subnets, %d ports per region in %.0f s'
          % (networks, networks, networks * (ports // networks),
             time.monotonic() - start))


def one_pass(state) -> tuple[dict, dict[str, float]]:
    before = cpu_all(state)
    since = time.time()
    api(state, '/v1.0/jobs', {'job': {'type': 'drift_audit',
                                      'resource': {'scope': 'all'},
                                      'project_id': 'bench'}})
    while True:
        audits = [a for a in api(state, '/v1.0/audits?limit=1')['audits']
                  if a['state'] == 'finished' and _epoch(a['started_at']) >
                  since - 1]
        if audits:
            break
        time.sleep(0.2)
    after = cpu_all(state)
    return audits[0], {k: after[k] - before[k] for k in SERVERS}


def _epoch(stamp: str) -> float:
    return datetime.datetime.fromisoformat(stamp.replace('Z', '+00:00')
                                           ).timestamp()


def idle(state, seconds: float) -> dict[str, float]:
    """CPU the servers spend with no pass running (agents' reports,
    periodic tasks), over ``seconds``: what a pass's figures include."""
    before = cpu_all(state)
    time.sleep(seconds)
    after = cpu_all(state)
    return {k: after[k] - before[k] for k in SERVERS}


def plain_listing(state) -> dict[str, float]:
    """CPU each Neutron spends listing everything once for a client."""
    before = cpu_all(state)
    for name in ('central',) + tuple(state.regions):
        conn = demo.connect(state, name)
        for listing in (conn.network.networks, conn.network.subnets,
                        conn.network.ports):
            sum(1 for _ in listing())
    after = cpu_all(state)
    return {k: after[k] - before[k] for k in NEUTRONS}


def drift(state, share: float) -> int:
    count = 0
    for region in state.regions:
        conn = demo.connect(state, region)
        nets = [n for n in conn.network.networks()
                if n.name and n.name.startswith('audit-')]
        ports = list(conn.network.ports(device_owner=''))
        for res in nets[:max(1, int(len(nets) * share))]:
            conn.network.update_network(res.id, name=res.name + '-x')
            count += 1
        for res in ports[:max(1, int(len(ports) * share))]:
            conn.network.update_port(res.id, name='drifted')
            count += 1
    return count


def report(label: str, audit: dict, spent: dict[str, float]) -> None:
    took = _epoch(audit['finished_at']) - _epoch(audit['started_at'])
    found = {k: v for k, v in audit['found'].items() if v}
    repaired = {k: v for k, v in audit['repaired'].items() if v}
    print('%-8s pass %.2f s, %d copies checked, found %s, repaired %s; CPU '
          's: %s' % (label, took, audit['checked'], found or 0,
                     repaired or 0, ', '.join(
                         '%s %.2f' % (k.replace('neutron-', ''), v)
                         for k, v in spent.items())))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--networks', type=int, default=1000)
    parser.add_argument('--ports', type=int, default=2000)
    args = parser.parse_args()
    with _sandbox.sandbox('--regions', '2', '--agents', 'lite', '--db',
                          'postgresql', '--audit-interval', '0') as state:
        fill(state, args.networks, args.ports)
        report('first', *one_pass(state))
        report('quiet', *one_pass(state))
        audit, spent = one_pass(state)
        report('quiet', audit, spent)
        took = _epoch(audit['finished_at']) - _epoch(audit['started_at'])
        print('idle     %.2f s with no pass; CPU s: %s' % (took, ', '.join(
            '%s %.2f' % (k.replace('neutron-', ''), v)
            for k, v in idle(state, took).items())))
        print('drifted: %d renamed in the regions' % drift(state, 0.01))
        report('drifted', *one_pass(state))
        report('quiet', *one_pass(state))
        plain = plain_listing(state)
        print('plain    network+subnet+port list, all fields, once per '
              'server; CPU s: %s' % ', '.join(
                  '%s %.2f' % (k.replace('neutron-', ''), v)
                  for k, v in plain.items()))


if __name__ == '__main__':
    main()
