"""Central asks XJob early: router_setup for a gateway once its port is
committed (ROUTER_GATEWAY AFTER_CREATE), floatingip_setup for a new
floating IP once it is (its port named: PORT BEFORE_UPDATE)."""
from __future__ import annotations

import json
import threading
import types

from neutron_lib.callbacks import events
from neutron_lib import constants as n_const
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


class Plugin:
    """What CentralL3Plugin._floatingip_committed uses of the plugin."""

    _floatingip_hint = l3.CentralL3Plugin._floatingip_hint

    def __init__(self, fail: bool = False) -> None:
        self._fip_set_up = threading.local()
        self._fip_set_up.id = None
        self._fail = fail

    def _get_floatingip(self, context, fip_id):
        if self._fail:
            raise RuntimeError('database gone')
        return types.SimpleNamespace(id=fip_id, project_id='p2',
                                     floating_network_id='ext',
                                     fixed_port_id='vm1')

    @staticmethod
    def _make_floatingip_dict(fip):
        return {'id': fip.id, 'port_id': fip.fixed_port_id}


class Core:
    """Central's core plugin: the external network (``hints``) and the
    VM's port, or an error for the port."""

    def __init__(self, hints: list[str], port_error: bool = False) -> None:
        self.hints, self.port_error = hints, port_error

    def _get_network(self, context, network_id):
        # The row, its hints a JSON list in a string.
        return types.SimpleNamespace(
            id=network_id, availability_zone_hints=json.dumps(self.hints))

    def get_port(self, context, port_id):
        if self.port_error:
            raise RuntimeError('port gone')
        return {'id': port_id, 'binding:host_id': 'h1'}


@pytest.fixture
def core(monkeypatch):
    """Set the core plugin; pods RegionOne and RegionTwo."""
    def use(hints: list[str], port_error: bool = False) -> None:
        monkeypatch.setattr(l3.directory, 'get_plugin',
                            lambda alias=None: Core(hints, port_error))
    monkeypatch.setattr(l3.regions, 'of_hints', lambda hints: [
        h for h in hints if h in ('RegionOne', 'RegionTwo')])
    use(['RegionOne'])
    return use


class Context:
    def elevated(self):
        return self


def _port_update(plugin: Plugin, owner: str, device_id: str,
                 new_device_id: str) -> None:
    original = {'id': 'port1', 'device_owner': owner,
                'device_id': device_id}
    l3.CentralL3Plugin._floatingip_committed(
        plugin, 'port', events.BEFORE_UPDATE, None,
        events.DBEventPayload(Context(), resource_id='port1',
                              states=(original,
                                      {'device_id': new_device_id})))


@pytest.fixture
def fips_asked(monkeypatch) -> list[tuple]:
    return _jobs_asked(monkeypatch, 'setup_floatingip')


def test_a_floating_ip_is_set_up_once_neutron_names_its_port(fips_asked,
                                                            core):
    plugin = Plugin()
    _port_update(plugin, n_const.DEVICE_OWNER_FLOATINGIP, 'PENDING', 'f1')
    # With what the job would read back: the floating IP, its port and
    # its external network's region.
    assert fips_asked == [('f1', 'p2', {
        'floatingip': {'id': 'f1', 'port_id': 'vm1'},
        'port': {'id': 'vm1', 'binding:host_id': 'h1'},
        'region': 'RegionOne'})]
    # create_floatingip asks for no second run
    assert plugin._fip_set_up.id == 'f1'


@pytest.mark.parametrize('owner, device_id, new_device_id', [
    (n_const.DEVICE_OWNER_FLOATINGIP, 'f0', 'f1'),   # not a new one
    (n_const.DEVICE_OWNER_ROUTER_GW, 'PENDING', 'r1'),
    ('compute:nova', 'PENDING', 'vm1'),
    (n_const.DEVICE_OWNER_FLOATINGIP, 'PENDING', ''),
])
def test_other_port_updates_ask_for_nothing(fips_asked, owner, device_id,
                                            new_device_id):
    plugin = Plugin()
    _port_update(plugin, owner, device_id, new_device_id)
    assert fips_asked == []
    assert plugin._fip_set_up.id is None


@pytest.mark.parametrize('hints, port_error', [
    ([], False),                          # in no region
    (['RegionOne', 'RegionTwo'], False),  # central refuses it
    (['RegionOne'], True),
])
def test_without_a_hint_at_hand_the_job_is_asked_all_the_same(
        fips_asked, core, hints, port_error):
    core(hints, port_error)
    plugin = Plugin()
    _port_update(plugin, n_const.DEVICE_OWNER_FLOATINGIP, 'PENDING', 'f1')
    assert fips_asked == [('f1', 'p2', None)]
    assert plugin._fip_set_up.id == 'f1'


def test_a_failure_to_ask_early_leaves_it_to_the_end_of_the_request(
        fips_asked):
    plugin = Plugin(fail=True)
    _port_update(plugin, n_const.DEVICE_OWNER_FLOATINGIP, 'PENDING', 'f1')
    assert fips_asked == []
    assert plugin._fip_set_up.id is None


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
