"""router_setup sets a gateway new to the copy in its region before it
reads anything else (router_setup._gateway_at_once), and
router_gateway_ahead sets it while central commits it."""
from __future__ import annotations

import time
import types

from oslo_config import cfg
import pytest

from tricircle.db import api as db_api
from tricircle.db import jobs as db_jobs
from tricircle.db import pod_health
from tricircle import resources
from tricircle.resources import jobs as job_shapes
from tricircle.resources import neutron_client
from tricircle.resources import router as router_res
from tricircle.resources import transit as transit_res
from tricircle.xjob import head_starts
from tricircle.xjob import registry
from tricircle.xjob.jobs import router_gateway_ahead
from tricircle.xjob.jobs import router_setup

GATEWAY = {'network_id': 'ext', 'enable_snat': True,
           'external_fixed_ips': [{'subnet_id': 'ext-s',
                                   'ip_address': '203.0.113.20'}]}
ROUTER = {'id': 'r1', 'project_id': 'p', 'external_gateway_info': GATEWAY}


class Region:
    """A region's Neutron holding copy r1 (None: no copy)."""

    def __init__(self, copy: dict | None = None, refuse: bool = False,
                 refusal: Exception | None = None):
        self.copy = copy
        self.calls: list[str] = []
        self._refusal = refusal or (neutron_client.RemoteNotFound(
            server='R1', status=404, reason='Network ext not found')
            if refuse else None)

    def get(self, resource, res_id, headers=None):
        assert (resource, res_id) == (resources.ROUTER, 'r1')
        self.calls.append('get')
        return self.copy

    def update(self, resource, res_id, body):
        assert (resource, res_id) == (resources.ROUTER, 'r1')
        self.calls.append('update')
        if self._refusal is not None:
            raise self._refusal
        self.copy = dict(self.copy, **body)


@pytest.fixture
def held(sqlite_db):
    """R1 holds the external network; R1 and R2 hold the router."""
    pods = {}
    for region in ('R1', 'R2'):
        pods[region] = db_api.create_pod({
            'region_name': region, 'az_name': region,
            'pod_az_name': region, 'dc_name': 'dc'})['pod_id']
    db_api.ensure_routing('ext', 'ext', pods['R1'], 'p', resources.NETWORK)
    for region in ('R1', 'R2'):
        db_api.ensure_routing('r1', 'r1', pods[region], 'p',
                              resources.ROUTER)
    return pods


def _ctx(**clients: Region):
    return types.SimpleNamespace(region_client=lambda region: clients[region])


def test_a_gateway_new_to_the_copy_is_set_with_one_read_first(held):
    one, two = Region({'id': 'r1', 'external_gateway_info': None}), Region()
    router_setup._gateway_at_once(_ctx(R1=one, R2=two), ROUTER)
    assert one.calls == ['get', 'update']
    assert one.copy['external_gateway_info'] == GATEWAY
    assert two.calls == []  # only the gateway's region
    # A copy that has it is left alone.
    router_setup._gateway_at_once(_ctx(R1=one, R2=two), ROUTER)
    assert one.calls == ['get', 'update', 'get']


@pytest.mark.parametrize('case', ['no gateway', 'copy elsewhere only',
                                  'region down', 'copy gone'])
def test_nothing_is_set_at_once_where_the_run_must_read_first(held, case):
    one = Region(None if case == 'copy gone' else {'id': 'r1'})
    router = dict(ROUTER)
    if case == 'no gateway':
        router['external_gateway_info'] = None
    elif case == 'copy elsewhere only':
        # The gateway brings the router into R1: the run makes the copy.
        db_api.delete_routings({'top_id': 'r1', 'pod_id': held['R1']})
    elif case == 'region down':
        pod_health.record(held['R1'], 'no answer')
    router_setup._gateway_at_once(_ctx(R1=one), router)
    assert 'update' not in one.calls


def test_a_refusal_is_left_to_the_runs_own_part(held):
    one = Region({'id': 'r1'}, refuse=True)
    router_setup._gateway_at_once(_ctx(R1=one), ROUTER)  # not raised
    assert one.calls == ['get', 'update']


# -- router_gateway_ahead: the same, asked for by central once its gateway
# port is made (before it commits the gateway).

class Central:
    """Central's router r1 before it commits the gateway: interfaces on
    s1 (network n1, R1's) and s2 (n2, R2's), and its transit, unless
    ``transit`` is False."""

    TRANSIT_IPS = {'R1': '100.64.0.11', 'R2': '100.64.0.12'}

    def __init__(self, transit: bool = True,
                 gateway_port: bool = True) -> None:
        self._transit = transit
        # False: central's update failed, its gateway port deleted.
        self._gateway_port = gateway_port

    def get(self, resource, res_id, headers=None):
        assert (resource, res_id) == (resources.ROUTER, 'r1')
        return {'id': 'r1', 'project_id': 'p', 'name': 'r',
                'admin_state_up': True, 'availability_zone_hints': [],
                'external_gateway_info': None, 'routes': []}

    def list(self, resource, **filters):
        if resource == resources.SUBNET:
            return [{'id': s, 'cidr': '10.0.%s.0/24' % s[1:],
                     'ip_version': 4, 'network_id': 'n' + s[1:],
                     'gateway_ip': '10.0.%s.1' % s[1:]}
                    for s in filters['id']]
        if resource == resources.NETWORK:
            assert filters == {'name': transit_res.network_name('r1')}
            return [{'id': 'transit'}] if self._transit else []
        if filters.get('device_id') == 'r1':
            ports = [{'id': 'p-' + s, 'device_id': 'r1',
                      'device_owner': 'network:router_interface',
                      'fixed_ips': [{'subnet_id': s,
                                     'ip_address': '10.0.%s.1' % s[1:]}]}
                     for s in ('s1', 's2')]
            if self._gateway_port:
                ports.append({'id': 'gw', 'device_id': 'r1',
                              'device_owner': 'network:router_gateway',
                              'fixed_ips': GATEWAY['external_fixed_ips']})
            return [p for p in ports if p['device_owner'] == filters.get(
                'device_owner', p['device_owner'])]
        assert filters == {'network_id': 'transit'}
        return [{'id': 't-' + region, 'name': transit_res.port_name(
            'r1', region), 'fixed_ips': [{'ip_address': ip}]}
            for region, ip in self.TRANSIT_IPS.items()]


def _ahead(hint: dict | None, central: Central | None = None,
           **clients: Region) -> None:
    ctx = types.SimpleNamespace(hint=hint, project_id='p',
                                region_client=lambda r: clients[r],
                                central_client=lambda: central or Central())
    router_gateway_ahead.router_gateway_ahead(ctx, {'router_id': 'r1'})


HINT = {'gateway': GATEWAY, 'region': 'R1'}


def test_a_gateway_head_start_sets_it_on_the_copy(held):
    one = Region({'id': 'r1', 'external_gateway_info': None})
    _ahead(HINT, R1=one)
    assert one.calls == ['get', 'update']
    assert one.copy['external_gateway_info'] == GATEWAY
    # router_setup, after: the copy has it; nothing more is set at once.
    router_setup._gateway_at_once(_ctx(R1=one), ROUTER)
    assert one.calls == ['get', 'update', 'get']


@pytest.mark.parametrize('case', ['no hint', 'no region', 'copy elsewhere',
                                  'region down', 'router_setup queued',
                                  'refused'])
def test_a_gateway_head_start_gives_way(held, monkeypatch, case):
    one = Region({'id': 'r1', 'external_gateway_info': None},
                 refuse=case == 'refused')
    hint = {'no hint': None, 'no region': dict(HINT, region=None),
            'copy elsewhere': dict(HINT, region='R3')}.get(case, HINT)
    if case == 'region down':
        pod_health.record(held['R1'], 'no answer')
    if case == 'router_setup queued':
        db_jobs.submit(job_shapes.ROUTER_SETUP.name, 'r1', 'p')
    _ahead(hint, R1=one)   # never raises: router_setup does the work
    assert one.calls == (['get', 'update'] if case == 'refused' else [])
    assert one.copy['external_gateway_info'] is None


def test_router_setup_waits_for_a_running_gateway_head_start(
        held, monkeypatch):
    monkeypatch.setattr(router_setup, 'HEAD_START_WAIT', 0.3)
    shape = job_shapes.ROUTER_GATEWAY_AHEAD
    db_jobs.submit(shape.name, 'r1', 'p', HINT)
    start = time.monotonic()
    router_setup._wait_for_head_starts('r1')
    assert time.monotonic() - start < 0.2   # not begun: not waited for
    claim = db_jobs.claim(shape.name, 'r1', 'w', 60)
    start = time.monotonic()
    router_setup._wait_for_head_starts('r1')
    assert 0.3 <= time.monotonic() - start < 1.0
    db_jobs.succeed(claim)
    start = time.monotonic()
    router_setup._wait_for_head_starts('r1')
    assert time.monotonic() - start < 0.2


@pytest.fixture
def spanning(held):
    """n1 is R1's and n2 R2's: the router spans both over its transit."""
    for net, region in (('n1', 'R1'), ('n2', 'R2')):
        db_api.ensure_routing(net, net, held[region], 'p', resources.NETWORK)
    return held


TO_S1 = {'destination': '10.0.1.0/24', 'nexthop': '100.64.0.11'}
DEFAULT = {'destination': '0.0.0.0/0', 'nexthop': '100.64.0.11'}


def _setup_asked() -> bool:
    return db_jobs.NEW in db_jobs.live_statuses(
        job_shapes.ROUTER_SETUP.name, 'r1')


def test_a_gateway_head_start_gives_the_other_regions_their_way_out(
        spanning):
    one = Region({'id': 'r1', 'external_gateway_info': None})
    two = Region({'id': 'r1', 'routes': [TO_S1]})
    _ahead(HINT, R1=one, R2=two)
    assert one.copy['external_gateway_info'] == GATEWAY
    assert one.calls == ['get', 'update']   # no routes in R1
    # R2 had its route to s1; it gets the default route of its plan with
    # the gateway, to R1's copy over the transit.
    assert two.copy['routes'] == [TO_S1, DEFAULT]
    assert two.calls == ['get', 'update']
    _ahead(HINT, R1=one, R2=two)   # again: nothing to change
    assert two.calls == ['get', 'update', 'get']
    assert not _setup_asked()  # central has the gateway: nothing more


def test_a_route_central_does_not_plan_yet_is_kept(spanning):
    """An interface's head start beside this one may have added it."""
    one = Region({'id': 'r1', 'external_gateway_info': None})
    newer = {'destination': '10.0.9.0/24', 'nexthop': '100.64.0.11'}
    two = Region({'id': 'r1', 'routes': [newer]})
    _ahead(HINT, R1=one, R2=two)
    assert two.copy['routes'] == [newer, DEFAULT, TO_S1]


def test_a_head_start_central_then_dropped_asks_for_a_run(spanning):
    """Central's update failed (its gateway port is gone) while the head
    start ran: router_setup, asked for again, removes what went ahead."""
    one = Region({'id': 'r1', 'external_gateway_info': None})
    two = Region({'id': 'r1', 'routes': [TO_S1]})
    _ahead(HINT, Central(gateway_port=False), R1=one, R2=two)
    assert _setup_asked()


@pytest.mark.parametrize('case', ['no transit', 'R2 down', 'R2 refuses'])
def test_the_default_routes_are_left_to_router_setup(spanning, case):
    one = Region({'id': 'r1', 'external_gateway_info': None})
    # A copy not linked to its transit yet: Neutron refuses the next hop.
    two = Region({'id': 'r1', 'routes': [TO_S1]},
                 refusal=neutron_client.RemoteBadRequest(
                     server='R2', status=400, reason='Invalid routes')
                 if case == 'R2 refuses' else None)
    if case == 'R2 down':
        pod_health.record(spanning['R2'], 'no answer')
    if case == 'R2 to make':   # router_setup makes R2's copy
        db_api.delete_routings({'top_id': 'r1', 'pod_id': spanning['R2']})
    _ahead(HINT, Central(transit=case != 'no transit'), R1=one, R2=two)
    assert one.copy['external_gateway_info'] == GATEWAY
    assert two.copy['routes'] == [TO_S1]
    assert two.calls == (['get', 'update'] if case == 'R2 refuses' else [])


# -- the router_setup run after a gateway head start that set the gateway
# is put off while the region's agents build it.

def _setup_ctx(central=None, attempts: int = 0, covers: int = 1):
    return types.SimpleNamespace(
        claim=types.SimpleNamespace(
            attempts=attempts, covers=['j%d' % i for i in range(covers)]),
        central_client=lambda: central,
        region_client=lambda region: pytest.fail('a region was read'))


class _Committed(Central):
    """Central once it has committed the gateway (or, ``gateway=None``,
    once it removed it)."""

    def __init__(self, gateway: dict | None = GATEWAY) -> None:
        super().__init__()
        self._gateway = gateway

    def get(self, resource, res_id, headers=None):
        return dict(super().get(resource, res_id),
                    external_gateway_info=self._gateway)


def test_a_head_start_that_set_the_gateway_puts_off_the_run_after(
        spanning):
    one = Region({'id': 'r1', 'external_gateway_info': None})
    _ahead(HINT, R1=one, R2=Region({'id': 'r1', 'routes': [TO_S1]}))
    # The run itself: it reads the router on central, then is put off
    # without reading any region.
    with pytest.raises(registry.Defer) as put_off:
        router_setup.router_setup(_setup_ctx(_Committed()),
                                  {'router_id': 'r1'})
    delay = cfg.CONF.xjob.gateway_setup_delay
    assert delay - 1 < put_off.value.seconds <= delay
    # Once: the run when due reads and converges as always.
    router_setup._put_off_after_gateway(_setup_ctx(), 'r1', ROUTER)


def _record(age: float = 0.0) -> None:
    head_starts.gateways.put('r1', head_starts.GatewaySet(
        router_res.Gateway.of(ROUTER, 'R1'), time.monotonic() - age))


def test_the_run_is_due_the_delay_after_the_gateway_was_set(held):
    delay = cfg.CONF.xjob.gateway_setup_delay
    _record(age=delay / 2)
    with pytest.raises(registry.Defer) as put_off:
        router_setup._put_off_after_gateway(_setup_ctx(), 'r1', ROUTER)
    assert put_off.value.seconds <= delay / 2
    _record(age=delay)
    router_setup._put_off_after_gateway(_setup_ctx(), 'r1', ROUTER)


@pytest.mark.parametrize('case', ['had it', 'refused', 'central dropped',
                                  'setup queued', 'routes refused',
                                  'no transit', 'R2 down', 'R2 to make'])
def test_no_run_is_put_off_unless_the_head_start_did_it_all(spanning,
                                                            case):
    one = Region({'id': 'r1', 'external_gateway_info':
                  GATEWAY if case == 'had it' else None},
                 refuse=case == 'refused')
    two = Region({'id': 'r1', 'routes': [TO_S1]},
                 refusal=neutron_client.RemoteBadRequest(
                     server='R2', status=400, reason='Invalid routes')
                 if case == 'routes refused' else None)
    if case == 'setup queued':
        db_jobs.submit(job_shapes.ROUTER_SETUP.name, 'r1', 'p')
    if case == 'R2 down':
        pod_health.record(spanning['R2'], 'no answer')
    if case == 'R2 to make':   # router_setup makes R2's copy
        db_api.delete_routings({'top_id': 'r1', 'pod_id': spanning['R2']})
    _ahead(HINT, Central(gateway_port=case != 'central dropped',
                         transit=case != 'no transit'), R1=one, R2=two)
    assert head_starts.gateways.take('r1') is None


@pytest.mark.parametrize('case', ['retry', 'more requests', 'delay 0',
                                  'gateway removed', 'another gateway',
                                  'router gone', 'interface head start'])
def test_a_run_that_is_more_than_the_gateway_is_not_put_off(held, case):
    _record()
    router = ROUTER
    if case == 'delay 0':
        cfg.CONF.set_override('gateway_setup_delay', 0, group='xjob')
    elif case == 'gateway removed':
        router = dict(ROUTER, external_gateway_info=None)
    elif case == 'another gateway':
        router = dict(ROUTER, external_gateway_info=dict(
            GATEWAY, external_fixed_ips=[{'subnet_id': 'ext-s',
                                          'ip_address': '203.0.113.21'}]))
    elif case == 'router gone':
        router = None
    elif case == 'interface head start':
        head_starts.forget('r1')   # as router_interface_ahead begins
    try:
        router_setup._put_off_after_gateway(_setup_ctx(
            attempts=int(case == 'retry'),
            covers=2 if case == 'more requests' else 1), 'r1', router)
    finally:
        cfg.CONF.clear_override('gateway_setup_delay', group='xjob')
    assert head_starts.gateways.take('r1') is None   # used up, or gone
