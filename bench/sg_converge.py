#!/usr/bin/env python3
"""Security group changes: the API call returning -> the packets agreeing.

Brings up two sandboxes in turn, both with Neutron's real OVS agents and
OVS firewall: a plain single-region Neutron (``up --plain``) and
Tricircle with two regions. Group ``web`` admits TCP 8080 from group
``client``; web VMs W and W2 and client VM C1 share one network (plain:
all in RegionOne, W on another host than the others; Tricircle: W in
RegionOne, W2 and C1 in RegionTwo). Then N times, each change timed from
its API call returning to every probe agreeing (a probe is a TCP connect
from inside the VM, 0.3 s timeout):

- ``member add``: a new VM X (RegionTwo's second host; group ``other``,
  egress only, refused by W and W2) gets ``client`` -> X connects to W
  and W2;
- ``rule delete``: web's rule deleted -> C1 is refused by both;
- ``rule create``: the rule made again -> C1 connects to both.

Prints p50, p95 and max of each, and the ratio Tricircle / plain.
Target (issue 19): ratio <= 1.5.

Each change is made at a random moment, 0 to 1 s after the previous one
settled (the same seeded draws for both sandboxes), as users' changes
come: the OVS agents apply security group changes in their 1 s polling
loop, and changes made at once after the last one settled would lock on
to that loop's phase (a change reaching the agents 0.2 s later then
waits a whole loop more, every time).

Each run has its own X: Neutron 29's OVS firewall on this sandbox keeps
admitting a port removed from a remote group (plain Neutron alike, see
docs/security-groups.md), so a removal cannot reset the next run.

    .venv/bin/python bench/sg_converge.py [--runs 10]
"""
from __future__ import annotations

import argparse
import random
import subprocess
import sys
import time
from typing import Callable

from tricircle.sandbox import demo
from tricircle.sandbox import vm as sb_vm

import _sandbox  # bench/, beside this script
from _sandbox import percentile

PORT = 8080
GIVE_UP = 60.0
AGENT_LOOP = 1.0  # the sandbox OVS agents' polling_interval
SEED = 19
SERVER = '''
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", %d))
s.listen(64)
while True:
    conn, _ = s.accept()
    conn.close()
''' % PORT
CLIENT = '''
import socket, sys
try:
    socket.create_connection((sys.argv[1], %d), timeout=0.3).close()
except OSError:
    sys.exit(1)
''' % PORT
CHANGES = ('member add', 'rule delete', 'rule create')


def _connects(fab, vm: str, ip: str) -> bool:
    return fab.vm_exec(vm, [sys.executable, '-c', CLIENT, ip],
                       check=False, timeout=10).returncode == 0


def _until(what: str, agreed: Callable[[], bool]) -> float:
    """Seconds until ``agreed()``, from now (just after the API call)."""
    start = time.monotonic()
    while not agreed():
        if time.monotonic() - start > GIVE_UP:
            raise SystemExit('%s: the packets did not agree in %.0f s'
                             % (what, GIVE_UP))
    return time.monotonic() - start


def _rule(conn, web_id: str, client_id: str):
    return conn.network.create_security_group_rule(
        security_group_id=web_id, direction='ingress', ethertype='IPv4',
        protocol='tcp', port_range_min=PORT, port_range_max=PORT,
        remote_group_id=client_id)


def measure(plain: bool, runs: int) -> dict[str, list[float]]:
    up = ['--plain'] if plain else ['--regions', '2']
    samples: dict[str, list[float]] = {change: [] for change in CHANGES}
    with _sandbox.sandbox(*up) as state:
        conn = demo.connect(state, 'RegionOne' if plain else 'central')
        two = 'RegionOne' if plain else 'RegionTwo'
        web = conn.network.create_security_group(name='bench-web')
        client = conn.network.create_security_group(name='bench-client')
        other = conn.network.create_security_group(name='bench-other')
        rule = _rule(conn, web.id, client.id)
        net = conn.network.create_network(name='bench-sg')
        conn.network.create_subnet(network_id=net.id, ip_version=4,
                                   cidr='10.92.0.0/24')
        w = sb_vm.create(state, 'bench-w', 'RegionOne', net.id,
                         host='RegionOne-h1')
        w2 = sb_vm.create(state, 'bench-w2', two, net.id,
                          host='%s-h%d' % (two, 2 if plain else 1))
        c1 = sb_vm.create(state, 'bench-c1', two, net.id,
                          host='%s-h2' % two)
        for vm, groups in ((w, [web.id]), (w2, [web.id]),
                           (c1, [client.id])):
            conn.network.update_port(vm.port_id, security_group_ids=groups)
        fab = sb_vm.fabric(state)
        servers = [subprocess.Popen(
            ['ip', 'netns', 'exec', fab.vm_ns(vm.name), sys.executable,
             '-c', SERVER], stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL) for vm in (w, w2)]
        try:
            def both(vm, open_: bool) -> Callable[[], bool]:
                return lambda: all(_connects(fab, vm.name, web_vm.ip) is
                                   open_ for web_vm in (w, w2))
            _until('setup', both(c1, True))
            rng = random.Random(SEED)

            def pause() -> None:
                time.sleep(rng.uniform(0, AGENT_LOOP))

            for i in range(runs):
                x = sb_vm.create(state, 'bench-x%d' % i, two, net.id,
                                 host='%s-h2' % two)
                conn.network.update_port(x.port_id,
                                         security_group_ids=[other.id])
                _until('setup', both(x, False))
                pause()
                conn.network.update_port(
                    x.port_id, security_group_ids=[other.id, client.id])
                samples['member add'].append(
                    _until('member add', both(x, True)))
                pause()
                conn.network.delete_security_group_rule(rule)
                samples['rule delete'].append(
                    _until('rule delete', both(c1, False)))
                pause()
                rule = _rule(conn, web.id, client.id)
                samples['rule create'].append(
                    _until('rule create', both(c1, True)))
        finally:
            for server in servers:
                server.kill()
                server.wait(10)
    return samples


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--runs', type=int, default=10)
    args = parser.parse_args()
    plain = measure(True, args.runs)
    tricircle = measure(False, args.runs)
    for change in CHANGES:
        for name, figures in (('plain', plain), ('tricircle', tricircle)):
            s = figures[change]
            print('%-13s %-9s %d runs: p50 %.2f s  p95 %.2f s  max %.2f s'
                  % (change, name, len(s), percentile(s, 50),
                     percentile(s, 95), max(s)))
        print('%-13s ratio tricircle / plain: p50 %.2f  p95 %.2f' % (
            change, percentile(tricircle[change], 50) /
            percentile(plain[change], 50),
            percentile(tricircle[change], 95) /
            percentile(plain[change], 95)), flush=True)
    return 0


if __name__ == '__main__':
    sys.exit(main())
