#!/usr/bin/env python3
"""Port create: plain Neutron 29 vs "port ready in a region" via Tricircle.

Brings up two sandboxes on this machine (``--plain`` and a 2-region
Tricircle), creates N ports in each, one at a time, and prints median, p95
and their ratio. Through Tricircle a region port is created on central
first (central IPAM and MAC) and then locally with the same id.

    .venv/bin/python bench/port_create.py [--ports 40] [--db sqlite]
"""
from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
import os

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


def _time_ports(conn, network_id: str, count: int) -> list[float]:
    samples = []
    for i in range(count):
        start = time.perf_counter()
        conn.network.create_port(network_id=network_id, name='p%d' % i,
                                 device_owner='compute:nova',
                                 device_id='bench-%d' % i)
        samples.append(time.perf_counter() - start)
    return samples


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
        plain = _up(plain_dir, '--plain', '--db', args.db)
        conn = demo.connect(plain, 'RegionOne')
        net = conn.network.create_network(name='bench')
        conn.network.create_subnet(network_id=net.id, cidr='10.90.0.0/22',
                                   ip_version=4)
        plain_samples = _time_ports(conn, net.id, args.ports)
        _down(plain_dir)

        tc = _up(tc_dir, '--regions', '2', '--db', args.db)
        central = demo.connect(tc, 'central')
        region = demo.connect(tc, 'RegionOne')
        net = central.network.create_network(name='bench')
        central.network.create_subnet(network_id=net.id,
                                      cidr='10.90.0.0/22', ip_version=4)
        start = time.perf_counter()
        region.network.create_port(network_id=net.id, name='first',
                                   device_owner='compute:nova',
                                   device_id='bench-first')
        first_use = time.perf_counter() - start
        tc_samples = _time_ports(region, net.id, args.ports)
    finally:
        _down(plain_dir)
        _down(tc_dir)

    p_med, t_med = statistics.median(plain_samples), statistics.median(
        tc_samples)
    p95, t95 = _p95(plain_samples), _p95(tc_samples)
    print('port create, %d ports each, db=%s' % (args.ports, args.db))
    print('  plain Neutron 29      median %6.1f ms  p95 %6.1f ms'
          % (p_med * 1e3, p95 * 1e3))
    print('  Tricircle (region)    median %6.1f ms  p95 %6.1f ms'
          % (t_med * 1e3, t95 * 1e3))
    print('  first port of a network in a region (copies network, subnet, '
          'SG): %.1f ms' % (first_use * 1e3))
    print('  ratio median %.2f  p95 %.2f  (target <= 1.5)'
          % (t_med / p_med, t95 / p95))
    return 0


if __name__ == '__main__':
    sys.exit(main())
