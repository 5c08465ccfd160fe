#!/usr/bin/env python3
"""North-south convergence: gateway and floating IP -> first packet.

Brings up two sandboxes in turn, both with Neutron's real OVS and L3
agents and the sandbox's outside world on ``extnet``: a plain
single-region Neutron (``up --plain``) and Tricircle with two regions.
In each, an external network (flat, extnet, 203.0.113.0/24; Tricircle:
in RegionOne) and VM B on net2 behind a router with net2's subnet
(Tricircle: net2 only in RegionTwo, so B's traffic crosses the transit to
RegionOne's copy, which holds the gateway). N times each:

- gateway: ``router set --external-gateway``, then B pings the outside
  (a one-packet try every 100 ms until the first answer); the gateway
  is removed and the ping must fail again. With Tricircle the router has
  only B's subnet, so each set makes RegionOne's copy and the transit
  anew;
- gateway, anchored (Tricircle only): the same once the router also has
  a subnet in RegionOne (net1, VM A), so that RegionOne's copy and the
  transit stay, as the plain router does;
- floating IP: ``floating ip create --port B`` (create and associate in
  one call), then the outside pings the floating IP (a try every
  100 ms) until the first answer; the floating IP is deleted and the
  ping must fail again. With Tricircle, B is in RegionTwo: its floating
  IP goes through a proxy port in RegionOne;
- floating IP, VM in the gateway region (Tricircle only): the same for
  A, whose port takes the floating IP in RegionOne itself.

Each change is timed once what came before it (the set-up, or the undo
of the run before: gateway removed, floating IP deleted) has settled:
with Tricircle, XJob has no job left; then, in both, ``--settle``
seconds for the agents. The first ``--warmup`` runs of each case (1)
are not timed, in both setups.

Prints p50, p95 and max of each, and the ratio of each Tricircle
operation to plain Neutron's (of the same operation, in its one
region). Target: ratio <= 1.5.

    .venv/bin/python bench/ns_converge.py [--runs 10] [--settle 3] \
        [--warmup 1]
"""
from __future__ import annotations

import argparse
import sys
import time

from tricircle.sandbox import demo
from tricircle.sandbox import outside
from tricircle.sandbox import outside_world
from tricircle.sandbox import vm as sb_vm

import _sandbox  # bench/, beside this script
from _sandbox import percentile

GIVE_UP = 60.0
GATEWAY = 'gateway'
GATEWAY_ANCHORED = 'gateway, anchored'
FIP = 'floating IP'
FIP_HERE = 'floating IP, VM in the gateway region'
# Tricircle's operation -> plain Neutron's (which has one region)
PLAIN_OF = {GATEWAY: GATEWAY, GATEWAY_ANCHORED: GATEWAY, FIP: FIP,
            FIP_HERE: FIP}


def _until(predicate, what: str, run: int) -> None:
    end = time.monotonic() + GIVE_UP
    while not predicate():
        if time.monotonic() > end:
            raise SystemExit('%s after %.0fs (run %d)' % (what, GIVE_UP,
                                                          run))


def measure(plain: bool, runs: int, name: str,
            settle: float = _sandbox.SETTLE,
            warmup: int = _sandbox.WARMUP) -> dict[str, list[float]]:
    """Samples of each operation (each printed once measured)."""
    up = ['--plain'] if plain else ['--regions', '2']
    with _sandbox.sandbox(*up) as state:
        conn = demo.connect(state, 'RegionOne' if plain else 'central')
        two = 'RegionOne' if plain else 'RegionTwo'
        hints = {} if plain else {'availability_zone_hints': ['RegionOne']}
        public = conn.network.create_network(
            name='bench-public', is_router_external=True,
            provider_network_type='flat',
            provider_physical_network=outside.EXTNET, **hints)
        conn.network.create_subnet(
            network_id=public.id, ip_version=4, cidr='203.0.113.0/24',
            gateway_ip=outside.PRIMARY.ip, enable_dhcp=False,
            allocation_pools=[{'start': '203.0.113.10',
                               'end': '203.0.113.99'}])
        net2 = conn.network.create_network(
            name='bench-ns-2', port_security_enabled=False,
            **({} if plain else {'availability_zone_hints': [two]}))
        sub2 = conn.network.create_subnet(network_id=net2.id, ip_version=4,
                                          cidr='10.92.2.0/24')
        b = sb_vm.create(state, 'bench-b', two, net2.id,
                         host='%s-h2' % two)
        router = conn.network.create_router(name='bench-ns')
        conn.network.add_interface_to_router(router, subnet_id=sub2.id)
        fab = sb_vm.fabric(state)
        world = outside_world.OutsideWorld(state)
        samples: dict[str, list[float]] = {}

        def gateway_runs(what: str) -> None:
            samples[what] = _gateway_runs(state, conn, router, public, fab, b,
                                         runs, settle, warmup)
            print(_line(name, what, samples[what]), flush=True)
            print(_sandbox.samples_line(samples[what]), flush=True)

        def fip_runs(what: str, vm) -> None:
            samples[what] = _fip_runs(state, conn, public, world, vm, runs,
                                      settle, warmup)
            print(_line(name, what, samples[what]), flush=True)
            print(_sandbox.samples_line(samples[what]), flush=True)

        gateway_runs(GATEWAY)
        if not plain:
            # RegionOne's copy and the transit stay: the gateway is all
            # that changes there.
            net1 = conn.network.create_network(
                name='bench-ns-1', port_security_enabled=False,
                availability_zone_hints=['RegionOne'])
            sub1 = conn.network.create_subnet(
                network_id=net1.id, ip_version=4, cidr='10.92.1.0/24')
            a = sb_vm.create(state, 'bench-a', 'RegionOne', net1.id,
                             host='RegionOne-h2')
            conn.network.add_interface_to_router(router, subnet_id=sub1.id)
            # RegionOne's own gateway address on net1 (one per region).
            gateway = demo.connect(state, 'RegionOne').network.get_subnet(
                sub1.id).gateway_ip
            _until(lambda: fab.ping(a.name, gateway, deadline=0.5,
                                    wait=0.1), 'no router for A', -1)
            gateway_runs(GATEWAY_ANCHORED)
        conn.network.update_router(
            router, external_gateway_info={'network_id': public.id})
        _until(lambda: fab.ping(b.name, outside.PRIMARY.ip, deadline=1,
                                wait=0.1), 'no way out', -1)
        fip_runs(FIP, b)
        if not plain:
            fip_runs(FIP_HERE, a)
        return samples


def _gateway_runs(state, conn, router, public, fab, b, runs: int,
                  settle: float, warmup: int) -> list[float]:
    out_ip = outside.PRIMARY.ip
    samples = []
    for i in range(warmup + runs):
        _sandbox.settle(state, settle)  # what came before, agents included
        start = time.monotonic()
        conn.network.update_router(
            router, external_gateway_info={'network_id': public.id})
        if fab.first_reply(b.name, out_ip, GIVE_UP) is not None:
            if i >= warmup:
                samples.append(time.monotonic() - start)
        else:
            print('no way out after %.0fs (run %d): not counted; logs '
                  'kept in %s' % (GIVE_UP, i, _sandbox.keep_logs(
                      state.state_dir)), flush=True)
        conn.network.update_router(router, external_gateway_info={})
        _until(lambda: not fab.ping(b.name, out_ip, deadline=0.3, wait=0.1),
               'still a way out', i)
    return samples


def _fip_runs(state, conn, public, world, vm, runs: int,
              settle: float, warmup: int) -> list[float]:
    samples = []
    for i in range(warmup + runs):
        _sandbox.settle(state, settle)  # what came before, agents included
        start = time.monotonic()
        fip = conn.network.create_ip(floating_network_id=public.id,
                                     port_id=vm.port_id)
        if world.first_reply(fip.floating_ip_address, GIVE_UP) is None:
            print('floating IP %s not reached after %.0fs (run %d): '
                  'not counted' % (fip.floating_ip_address, GIVE_UP, i),
                  flush=True)
            conn.network.delete_ip(fip)
            continue
        if i >= warmup:
            samples.append(time.monotonic() - start)
        conn.network.delete_ip(fip)
        _until(lambda: world.ping(fip.floating_ip_address, timeout=0.3,
                                  wait=0.1) is None,
               'floating IP still answers', i)
    return samples


def _line(name: str, what: str, samples: list[float]) -> str:
    if not samples:
        return '%-9s %s: no run passed' % (name, what)
    return '%-9s %s, %d runs: -> first packet p50 %.2f s  p95 %.2f s  ' \
        'max %.2f s' % (name, what, len(samples), percentile(samples, 50),
                        percentile(samples, 95), max(samples))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--runs', type=int, default=10)
    _sandbox.add_settle_option(parser)
    _sandbox.add_warmup_option(parser)
    args = parser.parse_args()
    plain = measure(True, args.runs, 'plain', args.settle, args.warmup)
    tricircle = measure(False, args.runs, 'tricircle', args.settle,
                        args.warmup)
    for what, samples in tricircle.items():
        base = plain[PLAIN_OF[what]]
        if not samples or not base:
            continue
        print('  ratio tricircle / plain (%s): p50 %.2f  p95 %.2f' % (
            what, percentile(samples, 50) / percentile(base, 50),
            percentile(samples, 95) / percentile(base, 95)), flush=True)
    return 0


if __name__ == '__main__':
    sys.exit(main())
