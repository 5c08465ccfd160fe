"""A region's router notifications read the router's flags and hosting
agents alone, not the whole router (as Neutron's DVR and scheduler mixins
do on every change), unless the router is distributed or HA; so does the
DVR handler of every floating IP create and association, here and on
central."""
from __future__ import annotations

import types

from neutron_lib.callbacks import events
from neutron_lib.plugins import directory
import pytest

from tricircle.network.central import l3 as central_l3
from tricircle.network.local import l3
from tricircle.network import router_flags

AGENT = types.SimpleNamespace(host='RegionOne-h1')


class Plugin(l3.LocalL3Plugin):
    """The local L3 plugin with its DB reads replaced: ``flags`` are the
    router's extra attributes (None: no such router), ``hosting`` the
    agents hosting it. Loading the whole router is recorded."""

    def __new__(cls, flags, hosting):
        # Not Neutron's __new__ nor __init__: no Neutron set-up.
        self = object.__new__(cls)
        self.flags, self.hosting = flags, hosting
        self.loaded: list[str] = []
        self.notified: list[str] = []
        self.scheduled: list[tuple] = []
        self.router_scheduler = types.SimpleNamespace(
            schedule=lambda plugin, context, router, candidates=None:
            self.scheduled.append((router, candidates)))
        return self

    def __init__(self, flags, hosting) -> None:
        pass

    def _router_flags(self, context, router_id):
        return self.flags

    def get_l3_agents_hosting_routers(self, context, router_ids,
                                      admin_state_up=None, active=None):
        assert admin_state_up is True or active is True
        return self.hosting

    def get_router(self, context, router_id, fields=None):
        self.loaded.append(router_id)
        return {'id': router_id, 'distributed': bool(
            self.flags and self.flags.distributed)}

    def _get_router(self, context, router_id):
        self.loaded.append(router_id)
        return types.SimpleNamespace(
            id=router_id, extra_attributes=self.flags)

    def notify_router_updated(self, context, router_id, operation=None):
        self.notified.append(router_id)


class Context:
    is_admin = True

    def elevated(self):
        return self


def flags(distributed=False, ha=False):
    return types.SimpleNamespace(distributed=distributed, ha=ha)


def test_a_legacy_routers_hosts_are_its_agents_without_loading_it():
    plugin = Plugin(flags(), [AGENT])
    assert plugin.get_hosts_to_notify(Context(), 'r1') == ['RegionOne-h1']
    assert plugin.loaded == []


def test_a_distributed_routers_hosts_are_neutrons_dvr_answer():
    plugin = Plugin(flags(distributed=True), [AGENT])
    plugin._get_dvr_hosts_for_router = lambda context, router_id: []
    plugin._get_other_dvr_hosts = lambda context, router_id: set()
    plugin.get_l3_agents = lambda context, active=None, filters=None: []
    assert plugin.get_hosts_to_notify(Context(), 'r1') == ['RegionOne-h1']
    assert plugin.loaded == ['r1']


def test_a_hosted_legacy_router_is_not_scheduled_again():
    plugin = Plugin(flags(), [AGENT])
    assert plugin.schedule_router(Context(), 'r1') is None
    assert plugin.scheduled == [] and plugin.loaded == []


@pytest.mark.parametrize('case', [
    'not hosted', 'ha', 'no such router', 'candidates given'])
def test_neutrons_scheduler_runs_when_it_may_have_work(case):
    plugin = Plugin(flags(ha=case == 'ha'),
                    [] if case == 'not hosted' else [AGENT])
    if case == 'no such router':
        plugin.flags = None
    candidates = [AGENT] if case == 'candidates given' else None
    plugin.schedule_router(Context(), 'r1', candidates=candidates)
    assert plugin.scheduled == [('r1', candidates)]


def test_a_floating_ip_on_a_legacy_router_notifies_without_loading_it():
    plugin = Plugin(flags(), [AGENT])
    plugin._notify_floating_ip_change(
        Context(), {'router_id': 'r1', 'port_id': 'p1'})
    assert plugin.notified == ['r1'] and plugin.loaded == []


def test_an_unassociated_floating_ip_notifies_nothing():
    plugin = Plugin(flags(), [AGENT])
    plugin._notify_floating_ip_change(
        Context(), {'router_id': None, 'port_id': None})
    assert plugin.notified == [] and plugin.loaded == []


def test_a_floating_ip_of_a_router_not_found_is_neutrons_to_handle():
    plugin = Plugin(None, [])

    def gone(context, router_id):
        plugin.loaded.append(router_id)
        from neutron_lib.exceptions import l3 as l3_exc
        raise l3_exc.RouterNotFound(router_id=router_id)

    plugin._get_router = gone
    plugin._notify_floating_ip_change(
        Context(), {'router_id': 'r1', 'port_id': 'p1'})
    # Neutron looked for the router, logged it gone and told nobody.
    assert plugin.loaded == ['r1'] and plugin.notified == []


def _fip_event(plugin: Plugin) -> None:
    """FLOATING_IP AFTER_CREATE of a floating IP associated on router
    r1, as Neutron publishes it, to the handler subscribed for it."""
    plugin._create_dvr_floating_gw_port(
        'floatingip', events.AFTER_CREATE, None, events.DBEventPayload(
            Context(), states=({'id': 'f1', 'router_id': 'r1',
                                'port_id': 'p1', 'floating_network_id':
                                'ext', 'fixed_ip_address': '10.0.0.5'},),
            metadata={'association_event': True}))


def test_a_floating_ip_on_a_legacy_router_makes_no_dvr_gateway_port():
    """Neutron's DVR handler loads the router to find it legacy; here its
    flag is read alone. Ours is the handler subscribed under that name."""
    assert l3.LocalL3Plugin._create_dvr_floating_gw_port is \
        router_flags.RouterFlagsMixin._create_dvr_floating_gw_port
    assert central_l3.CentralL3Plugin._create_dvr_floating_gw_port is \
        router_flags.RouterFlagsMixin._create_dvr_floating_gw_port
    plugin = Plugin(flags(), [AGENT])
    _fip_event(plugin)
    assert plugin.loaded == []


def test_a_floating_ip_on_a_distributed_router_is_neutrons_to_handle(
        monkeypatch):
    plugin = Plugin(flags(distributed=True), [AGENT])
    looked_up = []
    plugin._get_dvr_service_port_hostid = (
        lambda context, port_id: looked_up.append(port_id))
    core = types.SimpleNamespace(
        get_port=lambda context, port_id: {'device_owner': 'compute:nova'})
    monkeypatch.setattr(directory, 'get_plugin', lambda alias=None: core)
    _fip_event(plugin)
    assert plugin.loaded == ['r1'] and looked_up == ['p1']
