"""Fixtures that bring a real sandbox up once per test session."""
from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import time
from typing import Iterator
import urllib.request

import pytest

from tricircle.sandbox import state as sb_state
from tricircle.sandbox import vm as sb_vm

SANDBOX_BIN = os.path.join(os.path.dirname(sys.executable),
                           'tricircle-sandbox')


def sandbox_cmd(*args: str, check: bool = True,
                timeout: float = 300) -> subprocess.CompletedProcess:
    """Run the real ``tricircle-sandbox`` command."""
    proc = subprocess.run([SANDBOX_BIN, *args], capture_output=True,
                          text=True, timeout=timeout)
    if check and proc.returncode != 0:
        raise AssertionError('tricircle-sandbox %s failed (%d):\n%s\n%s' % (
            ' '.join(args), proc.returncode, proc.stdout, proc.stderr))
    return proc


@contextlib.contextmanager
def running_sandbox(tmp_path_factory, name: str,
                    *up_args: str) -> Iterator[sb_state.SandboxState]:
    """A sandbox of its own (``tricircle-sandbox up *up_args``), taken
    down again whatever happens."""
    state_dir = str(tmp_path_factory.mktemp(name) / 'state')
    try:
        up = sandbox_cmd('up', *up_args, '--state-dir', state_dir)
        print(up.stdout)
        yield sb_state.SandboxState.load(state_dir)
    finally:
        sandbox_cmd('down', '--state-dir', state_dir, check=False)


@contextlib.contextmanager
def running_keystone_sandbox(tmp_path_factory, name: str
                             ) -> Iterator[sb_state.SandboxState]:
    """``up --regions 2 --keystone``: every API behind a real Keystone,
    with the member clouds demo and alt_demo in its clouds.yaml."""
    state_dir = str(tmp_path_factory.mktemp(name) / 'state')
    # openstacksdk reads OS_CLIENT_CONFIG_FILE before any file it is
    # given: point it here while the sandbox runs (the noauth sandbox's
    # clouds have the same names).
    saved = os.environ.get('OS_CLIENT_CONFIG_FILE')
    os.environ['OS_CLIENT_CONFIG_FILE'] = os.path.join(
        state_dir, sb_state.CLOUDS_FILE)
    try:
        up = sandbox_cmd('up', '--regions', '2', '--keystone', '--agents', 'lite',
                         '--state-dir', state_dir)
        print(up.stdout)
        yield sb_state.SandboxState.load(state_dir)
    finally:
        sandbox_cmd('down', '--state-dir', state_dir, check=False)
        if saved is None:
            os.environ.pop('OS_CLIENT_CONFIG_FILE', None)
        else:
            os.environ['OS_CLIENT_CONFIG_FILE'] = saved


def connect(state: sb_state.SandboxState, cloud: str,
            region: str | None = None):
    """An openstacksdk connection to a cloud of the sandbox's
    clouds.yaml, in ``region`` (default: the cloud's own)."""
    import openstack
    import openstack.config
    config = openstack.config.OpenStackConfig(config_files=[
        os.path.join(state.state_dir, sb_state.CLOUDS_FILE)],
        load_envvars=False)
    return openstack.connection.Connection(config=config.get_one(
        cloud=cloud, region_name=region))


@pytest.fixture(scope='session')
def sandbox(tmp_path_factory) -> sb_state.SandboxState:
    """central + RegionOne + RegionTwo + Admin API, the hosts wired by
    Neutron's own OVS and L3 agents (the default ``--agents ovs``), on
    PostgreSQL; both regions lead to the outside (north-south tests)."""
    with running_sandbox(tmp_path_factory, 'sandbox', '--regions', '2',
                         '--external-region', 'RegionOne',
                         '--external-region', 'RegionTwo') as state:
        yield state


@pytest.fixture(scope='session')
def central(sandbox):
    from tricircle.sandbox import demo
    return demo.connect(sandbox, 'central')


@pytest.fixture(scope='session')
def regions(sandbox):
    from tricircle.sandbox import demo
    return {name: demo.connect(sandbox, name) for name in sandbox.regions}


@pytest.fixture(scope='module')
def pg_sandbox(tmp_path_factory) -> sb_state.SandboxState:
    """A control-plane sandbox (the light host agent) on a private
    PostgreSQL: concurrency is real."""
    with running_sandbox(tmp_path_factory, 'pg-sandbox', '--regions', '2',
                         '--agents', 'lite',
                         '--db', 'postgresql') as state:
        yield state


# -- VMs on the sandbox (tests with real agents) ---------------------------
# The mark of every module that makes VMs: they need namespaces and ping.
NEEDS_DATA_PLANE = pytest.mark.skipif(
    subprocess.run(['sh', '-c', 'command -v ping && ip netns list'],
                   capture_output=True).returncode != 0,
    reason='needs root, ip netns and ping (make setup installs ping)')
CONVERGE = 10.0  # seconds a ping may take to pass after a change


@pytest.fixture
def vms(sandbox):
    """Create VMs through the real CLI; delete them all afterwards."""
    made: list[str] = []

    def create(name: str, region: str, network_id: str,
               ip: str | None = None, wait: bool = True) -> sb_vm.VM:
        args = ['vm', 'create', name, '--region', region, '--network',
                network_id, '--state-dir', sandbox.state_dir]
        if ip:
            args += ['--ip', ip]
        if not wait:
            args.append('--no-wait')
        sandbox_cmd(*args)
        made.append(name)
        return sb_vm.load(sandbox)[name]

    yield create
    for name in made:
        sandbox_cmd('vm', 'delete', name, '--state-dir', sandbox.state_dir,
                    check=False)


def ping(sandbox, name: str, ip: str, deadline: float = CONVERGE) -> bool:
    proc = sandbox_cmd('vm', 'ping', name, ip, '--deadline', str(deadline),
                       '--state-dir', sandbox.state_dir, check=False)
    return proc.returncode == 0


def stretched_network(central, name: str, cidr: str, **provider):
    """A network made on central with one subnet of ``cidr``; an IPv6
    one is DHCPv6-stateful (central's IPAM picks each port's address, as
    for IPv4; sandbox VMs take it as a DHCPv6 client would).

    An IPv4 pool leaves out the CIDR's last quarter: tests pick fixed
    addresses there, which no VM or reservation can then hold (IPAM
    picks pool addresses at random)."""
    import netaddr
    network = netaddr.IPNetwork(cidr)
    version = network.version
    net = central.network.create_network(name=name, **provider)
    if version == 6:
        extra = {'ipv6_address_mode': 'dhcpv6-stateful'}
    else:
        assert network.size >= 16, 'too small to leave a quarter out'
        extra = {'allocation_pools': [{
            'start': str(network[2]),
            'end': str(network[network.size * 3 // 4 - 1])}]}
    central.network.create_subnet(network_id=net.id, cidr=cidr,
                                  ip_version=version, name=name + '-subnet',
                                  **extra)
    return net


def wait_for(predicate, timeout: float = CONVERGE) -> float:
    start = time.monotonic()
    while not predicate():
        if time.monotonic() - start > timeout:
            raise AssertionError('not true after %.0fs' % timeout)
        time.sleep(0.1)
    return time.monotonic() - start


def xjob_idle(sandbox) -> bool:
    """True when XJob holds no job new or running (the Admin API)."""
    for status in ('new', 'running'):
        url = '%s/v1.0/jobs?status=%s' % (sandbox.admin_api, status)
        with urllib.request.urlopen(url, timeout=10) as resp:
            if json.load(resp)['jobs']:
                return False
    return True
