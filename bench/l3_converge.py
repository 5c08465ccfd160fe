#!/usr/bin/env python3
"""East-west L3 convergence: ``router add subnet`` -> first ping.

Brings up two sandboxes in turn, both with Neutron's real OVS and L3
agents: a plain single-region Neutron (``up --plain``) and Tricircle with
two regions. In each, VM A is on net1 and VM B on net2 (plain: both in
RegionOne; Tricircle: net1 only in RegionOne, net2 only in RegionTwo),
and a router has net1's subnet. Then N times: add net2's subnet to the
router, ping B from A (one probe every 100 ms) until one passes, remove
the subnet again and wait until the ping fails. Each add is timed once
what came before it has settled: the set-up (A reaches the router), then
each removal (with Tricircle, done in every region), XJob has no job
left, then, in both, ``--settle`` seconds for the agents; the first
``--warmup`` adds (1) are not timed, in both. Prints p50,
p95 and max of each, and the ratio Tricircle / plain. Target: ratio <=
1.5.

Tricircle is measured twice: as described (each add makes RegionTwo's
copy of the router and the transit network anew, since removing the
subnet removed them), and "anchored": the router also has a subnet of a
third network held by RegionTwo, so that the copy and the transit stay,
like the plain router, and the add changes interfaces and routes only.

    .venv/bin/python bench/l3_converge.py [--runs 10] [--settle 3] \
        [--warmup 1]
"""
from __future__ import annotations

import argparse
import sys
import time

from tricircle.sandbox import demo
from tricircle.sandbox import vm as sb_vm

import _sandbox  # bench/, beside this script
from _sandbox import percentile

GIVE_UP = 60.0


def _network(conn, name: str, cidr: str, region: str | None):
    hints = {'availability_zone_hints': [region]} if region else {}
    # No port security: the path measured is the router's alone.
    net = conn.network.create_network(name=name, port_security_enabled=False,
                                      **hints)
    subnet = conn.network.create_subnet(network_id=net.id, ip_version=4,
                                        cidr=cidr)
    return net, subnet


def _settled(state, router_id: str) -> bool:
    """The removal is done everywhere before the next add is timed: with
    Tricircle, RegionTwo's copy of the router and its transit network
    are gone (plain Neutron removes the interface in its one call)."""
    if state.plain:
        return True
    conn = demo.connect(state, 'central')
    return demo.connect(state, 'RegionTwo').network.find_router(
        router_id) is None and not list(conn.network.networks(
            name='tricircle-transit-%s' % router_id))


def _ready(state, fab, a, sub1, router_id: str, anchored: bool) -> bool:
    """The set-up is done before the first add is timed: A reaches the
    router on net1 and, anchored, both copies route to each other."""
    # The region's own gateway address (Tricircle: a network a router
    # spans has one per region).
    gateway = demo.connect(state, 'RegionOne').network.get_subnet(
        sub1.id).gateway_ip
    if not fab.ping(a.name, gateway, deadline=0.5, wait=0.1):
        return False
    return not anchored or all(
        demo.connect(state, region).network.get_router(router_id).routes
        for region in ('RegionOne', 'RegionTwo'))


def measure(plain: bool, runs: int, anchored: bool = False,
            settle: float = _sandbox.SETTLE,
            warmup: int = _sandbox.WARMUP) -> list[float]:
    """Samples; ``anchored``: the router also has a subnet of a network
    held by RegionTwo only, so its copy there (and the transit) outlive
    the removal of net2's subnet, as the plain router does."""
    up = ['--plain'] if plain else ['--regions', '2']
    with _sandbox.sandbox(*up) as state:
        conn = demo.connect(state, 'RegionOne' if plain else 'central')
        two = 'RegionOne' if plain else 'RegionTwo'
        net1, sub1 = _network(conn, 'bench-l3-1', '10.91.1.0/24',
                              None if plain else 'RegionOne')
        net2, sub2 = _network(conn, 'bench-l3-2', '10.91.2.0/24',
                              None if plain else two)
        a = sb_vm.create(state, 'bench-a', 'RegionOne', net1.id,
                         host='RegionOne-h1')
        b = sb_vm.create(state, 'bench-b', two, net2.id,
                         host='%s-h2' % two)
        router = conn.network.create_router(name='bench-l3')
        conn.network.add_interface_to_router(router, subnet_id=sub1.id)
        if anchored:
            net3, sub3 = _network(conn, 'bench-l3-3', '10.91.3.0/24',
                                  two)
            demo.connect(state, two).network.create_port(
                network_id=net3.id)  # RegionTwo now holds net3
            conn.network.add_interface_to_router(router,
                                                 subnet_id=sub3.id)
        fab = sb_vm.fabric(state)
        end = time.monotonic() + GIVE_UP
        while not _ready(state, fab, a, sub1, router.id, anchored):
            if time.monotonic() > end:
                raise SystemExit('the router was not set up after %.0fs'
                                 % GIVE_UP)
        samples = []
        for i in range(warmup + runs):
            # The set-up, then each removal, settled (agents included).
            _sandbox.settle(state, settle)
            start = time.monotonic()
            conn.network.add_interface_to_router(router,
                                                 subnet_id=sub2.id)
            if not fab.ping(a.name, b.ip, deadline=GIVE_UP, wait=0.1):
                raise SystemExit('no ping after %.0fs (run %d)'
                                 % (GIVE_UP, i))
            if i >= warmup:
                samples.append(time.monotonic() - start)
            conn.network.remove_interface_from_router(router,
                                                      subnet_id=sub2.id)
            end = time.monotonic() + GIVE_UP
            while fab.ping(a.name, b.ip, deadline=0.3, wait=0.1) or \
                    not (anchored or _settled(state, router.id)):
                if time.monotonic() > end:
                    raise SystemExit('still a path after removing the '
                                     'interface (run %d)' % i)
        return samples


def _line(name: str, samples: list[float]) -> str:
    return '%-9s %d runs: add subnet -> ping p50 %.2f s  p95 %.2f s  ' \
        'max %.2f s' % (name, len(samples), percentile(samples, 50),
                        percentile(samples, 95), max(samples))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--runs', type=int, default=10)
    _sandbox.add_settle_option(parser)
    _sandbox.add_warmup_option(parser)
    args = parser.parse_args()
    plain = measure(True, args.runs, settle=args.settle, warmup=args.warmup)
    print(_line('plain', plain), flush=True)
    print(_sandbox.samples_line(plain), flush=True)
    for name, anchored in (('tricircle', False), ('anchored', True)):
        samples = measure(False, args.runs, anchored, args.settle,
                          args.warmup)
        print(_line(name, samples))
        print(_sandbox.samples_line(samples))
        print('  ratio %s / plain: p50 %.2f  p95 %.2f' % (
            name, percentile(samples, 50) / percentile(plain, 50),
            percentile(samples, 95) / percentile(plain, 95)),
            flush=True)
    return 0


if __name__ == '__main__':
    sys.exit(main())
