#!/usr/bin/env python3
"""Cross-region L2 convergence: ``vm create`` returns -> first ping.

For each agent mode and region count, brings up a sandbox, puts VM A in
RegionOne on a stretched VXLAN network, then N times: creates VM B in
RegionTwo (as ``tricircle-sandbox vm create`` does), pings B from A (one
probe every 100 ms) until one passes, and deletes B. Two clocks:
"create -> ping" starts before the create (with ``--agents ovs`` the
create returns once B's port is ACTIVE, i.e. its OVS agent wired it), and
"return -> ping" when the create returns. Prints p50, p95 and max.
Targets: p95 <= 3 s (ovs, create -> ping); lite, 2 regions: p50 <= 1 s,
p95 <= 2 s (return -> ping).

    .venv/bin/python bench/l2_converge.py [--runs 20] [--regions 2 3] \
        [--agents ovs lite]
"""
from __future__ import annotations

import argparse
import subprocess
import sys
import time

from tricircle.sandbox import demo
from tricircle.sandbox import hosts as sb_hosts
from tricircle.sandbox import vm as sb_vm

import _sandbox  # bench/, beside this script
from _sandbox import percentile

GIVE_UP = 30.0


def _diagnose(state, fab, a, b, vni: int) -> None:
    """What the data plane looked like when a ping never passed."""
    for vm in (a, b):
        if state.agents == 'ovs':
            ovs = sb_hosts.ovs_host(state, vm.host)
            tunnels = 'tunnelled %s via %s' % (
                sorted(ovs.tunnelled_macs()), ovs.tunnel_ports())
        else:
            tunnels = 'fdb %s' % sorted(fab.vxlan_fdb(vm.host, vni))
        print('%s on %s: %s %s %s' % (
            vm.name, vm.host, vm.ip, vm.mac, tunnels), file=sys.stderr)
        for argv in (['ip', 'neigh'], ['ip', 'addr']):
            out = fab.vm_exec(vm.name, argv, check=False).stdout
            print('  %s: %s' % (' '.join(argv), out.strip()),
                  file=sys.stderr)
        print('  bridge links: %s' % subprocess.run(
            ['bridge', '-n', fab.host_ns(vm.host), 'link'],
            capture_output=True, text=True).stdout.strip(), file=sys.stderr)


def measure(regions: int, runs: int, agents: str
            ) -> tuple[list[float], list[float]]:
    """(create -> ping, return -> ping) samples, in seconds."""
    with _sandbox.sandbox('--regions', str(regions), '--agents',
                          agents) as state:
        central = demo.connect(state, 'central')
        net = central.network.create_network(name='bench-l2')
        central.network.create_subnet(network_id=net.id, ip_version=4,
                                      cidr='10.90.0.0/24')
        a = sb_vm.create(state, 'bench-a', 'RegionOne', net.id)
        fab = sb_vm.fabric(state)
        total, after = [], []
        for i in range(runs):
            start = time.monotonic()
            b = sb_vm.create(state, 'bench-b%d' % i, 'RegionTwo', net.id)
            returned = time.monotonic()
            if not fab.ping(a.name, b.ip, deadline=GIVE_UP, wait=0.1):
                _diagnose(state, fab, a, b, net.provider_segmentation_id)
                raise SystemExit('no ping after %.0fs (run %d)'
                                 % (GIVE_UP, i))
            total.append(time.monotonic() - start)
            after.append(time.monotonic() - returned)
            sb_vm.delete(state, b.name)
        return total, after


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--runs', type=int, default=20)
    parser.add_argument('--regions', type=int, nargs='+', default=[2, 3])
    parser.add_argument('--agents', nargs='+', choices=('ovs', 'lite'),
                        default=['ovs', 'lite'],
                        help='sandbox modes to measure (ovs: PostgreSQL, '
                             'lite: SQLite, their defaults)')
    args = parser.parse_args()
    for agents in args.agents:
        for regions in args.regions:
            total, after = measure(regions, args.runs, agents)
            print('%-4s %d regions, %d runs: create -> ping p50 %.2f s  '
                  'p95 %.2f s  max %.2f s;  return -> ping p50 %.2f s  '
                  'p95 %.2f s' % (
                      agents, regions, len(total), percentile(total, 50),
                      percentile(total, 95), max(total),
                      percentile(after, 50), percentile(after, 95)))
    return 0


if __name__ == '__main__':
    sys.exit(main())
