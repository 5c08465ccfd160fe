#!/usr/bin/env python3
"""Port create: plain Neutron 29 vs "port ready in a region" via Tricircle.

Brings up two sandboxes side by side on this machine (``--plain`` and a
2-region Tricircle) and creates N ports in each, one at a time and
alternating between the two, so that both see the same machine speed.
Prints median, p95, their ratio, and the CPU time each Neutron server
spent per port. Through Tricircle a region port gets central's id, MAC
and address: proposed by the region and granted by central while both
create it (docs/plugins.md), or asked of central first.

    .venv/bin/python bench/port_create.py [--ports 40] [--db sqlite]
"""
from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

from tricircle.sandbox import demo
from tricircle.sandbox import state as sb_state

BIN = os.path.join(os.path.dirname(sys.executable), 'tricircle-sandbox')


def _up(state_dir: str, *extra: str) -> sb_state.SandboxState:
    subprocess.run([BIN, 'up', '--state-dir', state_dir, *extra],
                   check=True, stdout=subprocess.DEVNULL)
    return sb_state.SandboxState.load(state_dir)


def _down(state_dir: str) -> None:
    subprocess.run([BIN, 'down', '--state-dir', state_dir],
                   stdout=subprocess.DEVNULL)


def _cpu_seconds(pid: int) -> float:
    """User + system CPU of a process so far (all its threads)."""
    with open('/proc/%d/stat' % pid) as f:
        fields = f.read().rsplit(')', 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf('SC_CLK_TCK')


class _Target:
    """One place ports are created: a connection and a network on it."""

    def __init__(self, conn, network_id: str, pids: dict[str, int]):
        self.conn, self.network_id, self.pids = conn, network_id, pids
        self.samples: list[float] = []
        self.cpu = dict.fromkeys(pids, 0.0)

    def create(self, name: str) -> None:
        before = {k: _cpu_seconds(p) for k, p in self.pids.items()}
        start = time.perf_counter()
        self.conn.network.create_port(network_id=self.network_id, name=name,
                                      device_owner='compute:nova',
                                      device_id='bench-' + name)
        self.samples.append(time.perf_counter() - start)
        for key, pid in self.pids.items():
            self.cpu[key] += _cpu_seconds(pid) - before[key]


def _network(conn) -> str:
    net = conn.network.create_network(name='bench')
    conn.network.create_subnet(network_id=net.id, cidr='10.90.0.0/22',
                               ip_version=4)
    return net.id


def _refused_proposals(state_dir: str) -> int:
    """Ports the region proposed but central refused (then asked first)."""
    with open(os.path.join(state_dir, 'logs', 'neutron-RegionOne.log')) as f:
        return f.read().count('central refused the proposal')


def _p95(samples: list[float]) -> float:
    return sorted(samples)[max(0, int(round(0.95 * len(samples))) - 1)]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--ports', type=int, default=40)
    parser.add_argument('--db', choices=('sqlite', 'postgresql'),
                        default='sqlite')
    args = parser.parse_args()
    work = tempfile.mkdtemp(prefix='tricircle-bench-')
    plain_dir, tc_dir = work + '/plain', work + '/tricircle'
    try:
        # The control plane alone: the light host agent on both sides.
        plain_sb = _up(plain_dir, '--plain', '--agents', 'lite', '--db',
                       args.db)
        tc = _up(tc_dir, '--regions', '2', '--agents', 'lite', '--db',
                 args.db)
        plain_conn = demo.connect(plain_sb, 'RegionOne')
        plain = _Target(plain_conn, _network(plain_conn),
                        {'plain': plain_sb.pids['neutron-RegionOne']})
        central = demo.connect(tc, 'central')
        region = demo.connect(tc, 'RegionOne')
        tc_net = _network(central)
        start = time.perf_counter()
        region.network.create_port(network_id=tc_net, name='first',
                                   device_owner='compute:nova',
                                   device_id='bench-first')
        first_use = time.perf_counter() - start
        tricircle = _Target(region, tc_net, {
            'central': tc.pids['neutron-central'],
            'RegionOne': tc.pids['neutron-RegionOne']})
        # One unmeasured create each: connection pools, caches (and the
        # region's one lookup of the central subnet) warm up.
        for target in (plain, tricircle):
            target.create('warm-up')
            target.samples.clear()
            target.cpu = dict.fromkeys(target.cpu, 0.0)
        for i in range(args.ports):
            plain.create('p%d' % i)
            tricircle.create('p%d' % i)
        refused = _refused_proposals(tc_dir)
    finally:
        _down(plain_dir)
        _down(tc_dir)
        shutil.rmtree(work, ignore_errors=True)

    p_med = statistics.median(plain.samples)
    t_med = statistics.median(tricircle.samples)
    p95, t95 = _p95(plain.samples), _p95(tricircle.samples)
    print('port create, %d ports each, alternating, db=%s'
          % (args.ports, args.db))
    print('  plain Neutron 29      median %6.1f ms  p95 %6.1f ms'
          % (p_med * 1e3, p95 * 1e3))
    print('  Tricircle (region)    median %6.1f ms  p95 %6.1f ms'
          % (t_med * 1e3, t95 * 1e3))
    for target in (plain, tricircle):
        for server, seconds in target.cpu.items():
            print('  CPU per port: %-10s %6.1f ms'
                  % (server, seconds / args.ports * 1e3))
    print('  first port of a network in a region (copies network, subnet, '
          'SG): %.1f ms' % (first_use * 1e3))
    print('  proposals refused by central (asked central first): %d'
          % refused)
    print('  ratio median %.2f  p95 %.2f  (target <= 1.5)'
          % (t_med / p_med, t95 / p95))
    return 0


if __name__ == '__main__':
    sys.exit(main())
