"""Central has no L3 agents: Neutron's notifications to them are dropped
before they load a router or try to schedule it."""
from __future__ import annotations

import inspect

from neutron.api.rpc.agentnotifiers import l3_rpc_agent_api
import pytest

from tricircle.network.central import l3

_PUBLIC = sorted(
    name for name, _ in inspect.getmembers(
        l3_rpc_agent_api.L3AgentNotifyAPI, inspect.isfunction)
    if not name.startswith('_'))


def test_every_notification_neutron_knows_is_dropped():
    # A notification Neutron adds later must be dropped too, not fail.
    missing = [name for name in _PUBLIC
               if not hasattr(l3.NoL3AgentNotifier, name)]
    assert _PUBLIC and missing == []


@pytest.mark.parametrize('name', _PUBLIC)
def test_a_notification_reaches_nothing(name):
    method = getattr(l3.NoL3AgentNotifier(), name)
    assert method(object(), ['r1'], 'anything', host='h1') is None


def test_a_floating_ip_change_loads_no_router():
    plugin = object.__new__(l3.CentralL3Plugin)

    def no_router(*args, **kwargs):
        raise AssertionError('the router was loaded')

    plugin._get_router = no_router
    plugin._notify_floating_ip_change(
        None, {'router_id': 'r1', 'port_id': 'p1', 'id': 'f1'})
