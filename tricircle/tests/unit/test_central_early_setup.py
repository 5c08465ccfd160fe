"""Central asks XJob early: router_gateway_ahead once a gateway port is
made (PORT AFTER_CREATE), router_setup once the gateway is committed
(ROUTER_GATEWAY AFTER_CREATE). Floating IPs: test_central_floatingips."""
from __future__ import annotations

import types

from neutron_lib.callbacks import events
from neutron_lib import constants as n_const
import pytest

from tricircle.db import api as db_api
from tricircle.network.central import l3
from tricircle import resources


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


GW_PORT = {'id': 'gw1', 'network_id': 'ext', 'device_id': 'r1',
           'device_owner': n_const.DEVICE_OWNER_ROUTER_GW,
           'fixed_ips': [{'subnet_id': 'ext-s',
                          'ip_address': '203.0.113.20'}]}


class RouterPlugin:
    """Neutron's update_router as central's plugin sees it: a new
    gateway port is made (``port``: its PORT AFTER_CREATE fires), then
    committed (ROUTER_GATEWAY AFTER_CREATE) when ``early``."""

    def __init__(self, early: bool, fail: bool = False,
                 port: dict | None = None) -> None:
        self.early, self.fail, self.port = early, fail, port

    def __call__(self, plugin, context, id, router):
        if self.port is not None:
            l3.gateway_port_made('port', events.AFTER_CREATE, None,
                                 events.DBEventPayload(
                                     context, states=(self.port,),
                                     resource_id=self.port['id']))
        if self.early:
            _committed(Router(None))
        if self.fail:
            raise RuntimeError('the router update failed')
        return {'id': id, 'project_id': 'p1', 'revision_number': 3}


def _update(monkeypatch, body: dict, neutron: RouterPlugin,
            at_end: list[str] | None = None) -> list[str]:
    """The router_setup runs asked for at the end of the request (or on
    its failure), in ``at_end`` if given."""
    plugin = object.__new__(l3.CentralL3Plugin)
    at_end = [] if at_end is None else at_end
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


@pytest.fixture
def aheads(monkeypatch, region_pods) -> list[tuple]:
    """router_gateway_ahead asked for; the external network is hinted to
    R1 (which holds router r1's copy) and router r1 is project p1's."""
    calls: list[tuple] = []
    monkeypatch.setattr(l3.jobs, 'router_gateway_ahead',
                        lambda *args: calls.append(args))
    monkeypatch.setattr(l3, '_project_of', lambda context, router_id: 'p1')
    core = types.SimpleNamespace(_get_network=lambda context, id: (
        types.SimpleNamespace(availability_zone_hints='["R1"]')))
    monkeypatch.setattr(l3.directory, 'get_plugin', lambda alias=None: core)
    db_api.ensure_routing('r1', 'r1', db_api.get_pod_by_region('R1')[
        'pod_id'], 'p1', resources.ROUTER)
    return calls


def test_a_gateway_gets_a_head_start_once_its_port_is_made(
        monkeypatch, asked, aheads):
    body = {'external_gateway_info': {'network_id': 'ext',
                                      'enable_snat': False}}
    assert _update(monkeypatch, body, RouterPlugin(True, port=GW_PORT)) == []
    assert aheads == [('r1', 'p1', {'region': 'R1', 'gateway': {
        'network_id': 'ext', 'enable_snat': False,
        'external_fixed_ips': [{'subnet_id': 'ext-s',
                                'ip_address': '203.0.113.20'}]}})]
    assert asked == [('r1', 'p1')]   # router_setup, once committed


@pytest.mark.parametrize('case', ['copy elsewhere', 'other router',
                                  'not a gateway', 'no gateway asked'])
def test_no_gateway_head_start_otherwise(monkeypatch, asked, aheads, case):
    port = dict(GW_PORT)
    body = GATEWAY_ONLY
    if case == 'copy elsewhere':   # the gateway brings the router into R1
        db_api.delete_routings({'top_id': 'r1'})
    elif case == 'other router':
        port['device_id'] = 'r2'
    elif case == 'not a gateway':
        port['device_owner'] = n_const.DEVICE_OWNER_ROUTER_INTF
    else:
        body = {'name': 'renamed'}
    _update(monkeypatch, body, RouterPlugin(False, port=port))
    assert aheads == []


def test_a_failed_update_after_a_head_start_asks_for_router_setup(
        monkeypatch, asked, aheads):
    at_end: list[str] = []
    with pytest.raises(RuntimeError):
        _update(monkeypatch, GATEWAY_ONLY,
                RouterPlugin(False, fail=True, port=GW_PORT), at_end)
    assert len(aheads) == 1
    # router_setup removes what went ahead (the plugin's _setup, faked).
    assert at_end == ['r1']
    # Without a head start, a failed update asks for nothing.
    at_end.clear()
    with pytest.raises(RuntimeError):
        _update(monkeypatch, GATEWAY_ONLY,
                RouterPlugin(False, fail=True), at_end)
    assert at_end == []
