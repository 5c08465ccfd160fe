"""Central asks XJob early: router_setup for a gateway once its port is
committed (ROUTER_GATEWAY AFTER_CREATE). Floating IPs:
test_central_floatingips."""
from __future__ import annotations

import types

from neutron_lib.callbacks import events
import pytest

from tricircle.network.central import l3


class Router(dict):
    """The router DB object as Neutron's callback passes it: items, and
    the hints as ``extra_attributes`` keep them (a JSON list in a string)."""

    def __init__(self, hints: str | None) -> None:
        super().__init__(id='r1', project_id='p1')
        self.extra_attributes = types.SimpleNamespace(
            availability_zone_hints=hints)


def _jobs_asked(monkeypatch, submit: str) -> list[tuple]:
    """The arguments of each call of ``tricircle.resources.jobs.<submit>``
    (a job asked for)."""
    calls: list[tuple] = []
    monkeypatch.setattr(l3.jobs, submit, lambda *args: calls.append(args))
    return calls


@pytest.fixture
def asked(monkeypatch) -> list[tuple]:
    return _jobs_asked(monkeypatch, 'setup_router')


def _committed(router: Router) -> None:
    l3.gateway_port_committed(
        'router_gateway', events.AFTER_CREATE, None,
        events.DBEventPayload(None, states=(router,),
                              metadata={'network_id': 'ext'},
                              resource_id=router['id']))


@pytest.mark.parametrize('hints', [None, '', '["RegionOne", "RegionTwo"]'])
def test_a_router_across_regions_is_set_up_once_its_gateway_is_committed(
        asked, hints):
    _committed(Router(hints))
    assert asked == [('r1', 'p1')]


def test_a_local_routers_gateway_waits_for_the_end_of_the_request(asked):
    # create_router may still refuse it: its network may not be there.
    _committed(Router('["RegionTwo"]'))
    assert asked == []


class Context:
    def elevated(self):
        return self


class RouterPlugin:
    """Neutron's update_router as central's plugin sees it: a new
    gateway port is committed (its callback fires) when ``early``."""

    def __init__(self, early: bool, fail: bool = False) -> None:
        self.early, self.fail = early, fail

    def __call__(self, plugin, context, id, router):
        if self.early:
            _committed(Router(None))
        if self.fail:
            raise RuntimeError('the router update failed')
        return {'id': id, 'project_id': 'p1', 'revision_number': 3}


def _update(monkeypatch, body: dict, neutron: RouterPlugin) -> list[str]:
    """The router_setup runs asked for at the end of the request."""
    plugin = object.__new__(l3.CentralL3Plugin)
    at_end: list[str] = []
    monkeypatch.setattr(l3.l3_router_plugin.L3RouterPlugin, 'update_router',
                        lambda self, *args: neutron(self, *args))
    monkeypatch.setattr(plugin, '_refuse_if_not_local',
                        lambda *args: None, raising=False)
    monkeypatch.setattr(plugin, '_setup',
                        lambda context, router_id: at_end.append(router_id),
                        raising=False)
    plugin.update_router(Context(), 'r1', {'router': body})
    return at_end


GATEWAY_ONLY = {'external_gateway_info': {'network_id': 'ext'}}


def test_a_gateway_set_alone_is_set_up_once(monkeypatch, asked):
    assert _update(monkeypatch, GATEWAY_ONLY, RouterPlugin(True)) == []
    assert asked == [('r1', 'p1')]  # the early ask only


@pytest.mark.parametrize('body, early', [
    (dict(GATEWAY_ONLY, name='renamed'), True),  # more changed after it
    (GATEWAY_ONLY, False),   # no new gateway port (same network, SNAT)
    ({'name': 'renamed'}, False),
])
def test_other_updates_are_set_up_at_their_end(monkeypatch, asked, body,
                                               early):
    assert _update(monkeypatch, body, RouterPlugin(early)) == ['r1']


def test_a_failed_update_leaves_nothing_for_the_next_request(monkeypatch,
                                                             asked):
    with pytest.raises(RuntimeError):
        _update(monkeypatch, GATEWAY_ONLY, RouterPlugin(True, fail=True))
    # The next request in this thread starts afresh.
    assert _update(monkeypatch, GATEWAY_ONLY, RouterPlugin(False)) == ['r1']
