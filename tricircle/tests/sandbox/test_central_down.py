"""A region whose central Neutron is gone: clear errors, nothing left here.

A sandbox of its own: the test stops its central server.
"""
from __future__ import annotations

import openstack.exceptions as os_exc
import pytest

from tricircle.sandbox import demo
from tricircle.sandbox import processes
from tricircle.sandbox import state as sb_state
from tricircle.tests.sandbox.conftest import running_sandbox


@pytest.fixture(scope='module')
def lone_sandbox(tmp_path_factory) -> sb_state.SandboxState:
    with running_sandbox(tmp_path_factory, 'central-down',
                         '--regions', '1', '--agents', 'lite') as state:
        yield state


def test_port_create_fails_cleanly_while_central_is_down(lone_sandbox):
    central = demo.connect(lone_sandbox, 'central')
    region = demo.connect(lone_sandbox, 'RegionOne')
    net = central.network.create_network(name='down')
    central.network.create_subnet(network_id=net.id, cidr='10.54.0.0/24',
                                  ip_version=4)
    vm = dict(network_id=net.id, device_owner='compute:nova')
    # The network is copied; the next create goes the proposal's way.
    region.network.create_port(name='first', **vm)
    proposed = region.network.create_port(name='second', **vm)
    assert central.network.get_port(proposed.id).fixed_ips == \
        proposed.fixed_ips
    before = {p.id for p in region.network.ports(network_id=net.id)}

    processes.stop(lone_sandbox.pids['neutron-central'])
    with pytest.raises(os_exc.HttpException) as err:
        region.network.create_port(name='third', **vm)
    assert err.value.status_code == 503
    assert 'central' in str(err.value)
    # Nothing is left here; what was copied before keeps working.
    assert {p.id for p in region.network.ports(network_id=net.id)} == before
    assert region.network.get_port(proposed.id).name == 'second'
