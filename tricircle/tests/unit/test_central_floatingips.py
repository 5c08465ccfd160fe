"""Central's floating IPs ask XJob early: floatingip_ahead once central's
port of a new floating IP has its address (PORT AFTER_CREATE), for a VM
in the external network's region; floatingip_setup once the floating IP
is committed (its port named: PORT BEFORE_UPDATE). A refused create
undoes the head start, and so does a delete."""
from __future__ import annotations

import contextlib
import json
import threading
import types

from neutron_lib.api.definitions import portbindings
from neutron_lib.callbacks import events
from neutron_lib import constants as n_const
from neutron_lib import exceptions as n_exc
from neutron_lib.exceptions import l3 as l3_exc
import pytest

from tricircle.network.central import floatingips
from tricircle.resources import binding

EXT_PORT = {'id': 'fport', 'network_id': 'ext',
            'device_owner': n_const.DEVICE_OWNER_FLOATINGIP,
            'device_id': 'PENDING',
            'fixed_ips': [{'subnet_id': 'ext-v4',
                           'ip_address': '203.0.113.20'}]}


def _vm_port(region: str | None, project: str = 'p2') -> dict:
    port = {'id': 'vm1', 'project_id': project,
            'device_owner': 'compute:nova',
            'fixed_ips': [{'subnet_id': 's1', 'ip_address': '10.0.0.5'}]}
    if region:
        port.update({portbindings.HOST_ID: 'h1', portbindings.PROFILE: {
            binding.PROFILE_REGION: region,
            binding.PROFILE_TUNNEL_IP: '10.1.0.1'}})
    return port


class Core:
    """Central's core plugin: the external network, hinted to ``hints``,
    and the VM's port (``port``; None: an error reading it)."""

    def __init__(self, hints: list[str], port: dict | None) -> None:
        self.hints, self.port, self.port_reads = hints, port, 0

    def _get_network(self, context, network_id):
        # The row, its hints a JSON list in a string.
        return types.SimpleNamespace(
            id=network_id, availability_zone_hints=json.dumps(self.hints))

    def get_subnet(self, context, subnet_id):
        return {'id': subnet_id, 'cidr': '10.0.0.0/24'}

    def get_port(self, context, port_id):
        self.port_reads += 1
        if self.port is None:
            raise RuntimeError('port gone')
        return self.port


class Context:
    is_admin = False

    def elevated(self):
        return self


class Neutron:
    """l3_db as the mixin sees it: a create publishes its port's
    AFTER_CREATE, then (unless ``refuse``) the port's BEFORE_UPDATE that
    names the committed floating IP."""

    refuse: Exception | None = None
    fail_get: bool = False
    no_router: bool = False

    def create_floatingip(self, context, floatingip):
        body = floatingip['floatingip']
        self._floatingip_port_made('port', events.AFTER_CREATE, None,
                                   events.DBEventPayload(
                                       context, states=(dict(EXT_PORT),),
                                       resource_id='fport'))
        if self.refuse is not None:
            raise self.refuse
        self._floatingip_committed(
            'port', events.BEFORE_UPDATE, None, events.DBEventPayload(
                context, resource_id='fport',
                states=(dict(EXT_PORT), {'device_id': 'f1'})))
        return {'id': 'f1', 'project_id': body['project_id']}

    def _internal_fip_assoc_data(self, context, fip, project_id):
        # Neutron's own checks, as l3_db makes them.
        port = self._core.get_port(context, fip['port_id'])
        if port['project_id'] != project_id and not context.is_admin:
            raise n_exc.BadRequest(resource='floatingip', msg='not yours')
        return port, 's1', fip.get('fixed_ip_address') or '10.0.0.5'

    def get_router_for_floatingip(self, context, internal_port, subnet,
                                  external_network_id):
        assert (subnet['id'], external_network_id) == ('s1', 'ext')
        if self.no_router:
            raise l3_exc.ExternalGatewayForFloatingIPNotFound(
                subnet_id='s1', external_network_id='ext',
                port_id=internal_port['id'])
        return 'r1'

    def _get_floatingip(self, context, fip_id):
        if self.fail_get:
            raise RuntimeError('database gone')
        return types.SimpleNamespace(id=fip_id, project_id='p2',
                                     floating_network_id='ext',
                                     fixed_port_id='vm1')

    @staticmethod
    def _make_floatingip_dict(fip):
        return {'id': fip.id, 'port_id': fip.fixed_port_id}


class Plugin(floatingips.FloatingIPsMixin, Neutron):
    def __init__(self, core: Core) -> None:
        self._core = core
        self._fip_request = threading.local()


@pytest.fixture
def asked(monkeypatch) -> list[tuple]:
    """Each job asked for: (submit function, its arguments)."""
    calls: list[tuple] = []
    for submit in ('floatingip_ahead', 'setup_floatingip'):
        monkeypatch.setattr(
            floatingips.jobs, submit,
            lambda *args, _name=submit: calls.append((_name,) + args))
    monkeypatch.setattr(floatingips.availability_zones.regions, 'of_hints',
                        lambda hints: [h for h in hints
                                       if h in ('RegionOne', 'RegionTwo')])
    # No database: the floating IPs of the address (none) and the
    # router's look-up are the fakes'.
    monkeypatch.setattr(floatingips, 'l3_obj', types.SimpleNamespace(
        FloatingIP=types.SimpleNamespace(
            objects_exist=lambda context, **filters: ASSOCIATED)))
    monkeypatch.setattr(floatingips.n_db_api, 'CONTEXT_READER',
                        types.SimpleNamespace(
                            using=lambda context: contextlib.nullcontext()))
    return calls


@pytest.fixture
def plugin(monkeypatch):
    def make(hints=('RegionOne',), port: dict | None = None) -> Plugin:
        core = Core(list(hints), port)
        monkeypatch.setattr(floatingips.directory, 'get_plugin',
                            lambda alias=None: core)
        return Plugin(core)
    return make


def _create(plugin: Plugin, **body) -> dict:
    request = dict({'floating_network_id': 'ext', 'port_id': 'vm1',
                    'fixed_ip_address': None, 'description': '',
                    'project_id': 'p2'}, **body)
    return plugin.create_floatingip(Context(), {'floatingip': request})


# Whether the VM's address has a floating IP on the network already.
ASSOCIATED = False

AHEAD_BODY = {'floating_network_id': 'ext',
              'floating_ip_address': '203.0.113.20', 'project_id': 'p2',
              'description': '', 'port_id': 'vm1',
              'fixed_ip_address': '10.0.0.5'}


def test_a_vm_in_the_external_region_gets_a_head_start(asked, plugin):
    p = plugin(port=_vm_port('RegionOne'))
    assert _create(p) == {'id': 'f1', 'project_id': 'p2'}
    assert asked == [
        ('floatingip_ahead', 'ext', '203.0.113.20', 'p2',
         {'floatingip': AHEAD_BODY, 'region': 'RegionOne', 'proxy': None}),
        # once committed, with what the job would read back (the VM's
        # port read once, by the head start); no second run at the end
        ('setup_floatingip', 'f1', 'p2', {
            'floatingip': {'id': 'f1', 'port_id': 'vm1'},
            'port': _vm_port('RegionOne'), 'region': 'RegionOne'})]
    assert p._core.port_reads == 1


def test_a_vm_of_another_region_gets_a_head_start_with_its_proxy(
        asked, plugin):
    p = plugin(port=_vm_port('RegionTwo'))
    _create(p)
    assert asked[0] == (
        'floatingip_ahead', 'ext', '203.0.113.20', 'p2',
        {'floatingip': AHEAD_BODY, 'region': 'RegionOne',
         'proxy': {'router_id': 'r1'}})
    assert [a[0] for a in asked] == ['floatingip_ahead', 'setup_floatingip']


@pytest.mark.parametrize('port, no_router', [
    (_vm_port(None), False),       # bound nowhere yet
    (_vm_port('RegionTwo'), True),  # no router joins it to the outside
])
def test_no_head_start_for_a_vm_bound_nowhere_or_without_a_router(
        asked, plugin, port, no_router):
    p = plugin(port=port)
    p.no_router = no_router
    _create(p)
    assert [a[0] for a in asked] == ['setup_floatingip']


def test_no_head_start_for_an_address_with_a_floating_ip(
        monkeypatch, asked, plugin):
    # Neutron refuses it once it commits (FloatingIPPortAlreadyAssociated)
    monkeypatch.setitem(globals(), 'ASSOCIATED', True)
    _create(plugin(port=_vm_port('RegionTwo')))
    assert [a[0] for a in asked] == ['setup_floatingip']


def test_no_head_start_for_a_port_not_the_requesters(asked, plugin):
    p = plugin(port=_vm_port('RegionOne', project='someone-else'))
    p.refuse = n_exc.BadRequest(resource='floatingip', msg='not yours')
    with pytest.raises(n_exc.BadRequest):
        _create(p)
    assert asked == []


def test_no_head_start_without_a_port_or_a_single_region(asked, plugin):
    _create(plugin(port=_vm_port('RegionOne')), port_id=None)
    _create(plugin(hints=['RegionOne', 'RegionTwo'],
                   port=_vm_port('RegionOne')))
    assert [a[0] for a in asked] == ['setup_floatingip'] * 2


def test_a_refused_create_undoes_its_head_start(asked, plugin):
    p = plugin(port=_vm_port('RegionOne'))
    p.refuse = n_exc.BadRequest(resource='floatingip', msg='no router')
    with pytest.raises(n_exc.BadRequest):
        _create(p)
    # the tidy: the same key, no hint
    assert asked[1:] == [('floatingip_ahead', 'ext', '203.0.113.20',
                          'p2')]
    assert asked[0][:4] == ('floatingip_ahead', 'ext', '203.0.113.20', 'p2')
    assert p._creating() is None


@pytest.mark.parametrize('owner, device_id, new_device_id', [
    (n_const.DEVICE_OWNER_FLOATINGIP, 'f0', 'f1'),   # not a new one
    (n_const.DEVICE_OWNER_ROUTER_GW, 'PENDING', 'r1'),
    ('compute:nova', 'PENDING', 'vm1'),
    (n_const.DEVICE_OWNER_FLOATINGIP, 'PENDING', ''),
])
def test_other_port_updates_ask_for_nothing(asked, plugin, owner, device_id,
                                            new_device_id):
    p = plugin()
    p._floatingip_committed('port', events.BEFORE_UPDATE, None,
                            events.DBEventPayload(Context(), states=(
                                {'device_owner': owner,
                                 'device_id': device_id},
                                {'device_id': new_device_id})))
    assert asked == []


@pytest.mark.parametrize('hints, port', [
    ([], _vm_port('RegionOne')),                           # no region
    (['RegionOne', 'RegionTwo'], _vm_port('RegionOne')),   # refused
    (['RegionOne'], None),                                 # port error
])
def test_without_a_hint_at_hand_the_job_is_asked_all_the_same(
        asked, plugin, hints, port):
    _create(plugin(hints=hints, port=port))
    assert asked == [('setup_floatingip', 'f1', 'p2', None)]


def test_a_failure_to_ask_early_leaves_it_to_the_end_of_the_request(
        asked, plugin):
    p = plugin(port=_vm_port(None))
    p.fail_get = True
    _create(p)
    assert asked == [('setup_floatingip', 'f1', 'p2')]


class Deleting(Plugin):
    def get_floatingip(self, context, id):
        return {'id': id, 'project_id': 'p2', 'floating_network_id': 'ext',
                'floating_ip_address': '203.0.113.20'}


def test_a_delete_asks_for_the_head_starts_tidy(monkeypatch, asked, plugin):
    monkeypatch.setattr(Neutron, 'delete_floatingip',
                        lambda self, context, id: None, raising=False)
    Deleting(plugin()._core).delete_floatingip(Context(), 'f1')
    assert asked == [('setup_floatingip', 'f1', 'p2'),
                     ('floatingip_ahead', 'ext', '203.0.113.20', 'p2')]
