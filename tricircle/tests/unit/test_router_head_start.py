"""A router interface's head start (router_interface_ahead) and how
router_setup's region part lives beside it, with a region that keeps its
routers and ports in dicts."""
from __future__ import annotations

import itertools
import threading
import time

import pytest

from tricircle.db import api as db_api
from tricircle.db import jobs as db_jobs
from tricircle import resources
from tricircle.resources import jobs as job_shapes
from tricircle.resources import neutron_client
from tricircle.resources import router as router_res
from tricircle.xjob import head_starts
from tricircle.xjob.jobs import router_interface_ahead as ahead
from tricircle.xjob.jobs import router_setup
from tricircle.xjob import router_copy
from tricircle.xjob import router_state

ROUTER = {'id': 'r1', 'project_id': 'p', 'name': 'r', 'description': '',
          'admin_state_up': True, 'availability_zone_hints': []}


class Region:
    """A region's Neutron as router_copy uses it. ``racing``: another
    run adds the interface on that subnet just before this one does, so
    that Neutron refuses this one's."""

    def __init__(self, racing: str | None = None) -> None:
        self.routers: dict[str, dict] = {}
        self.ports: list[dict] = []
        self.writes: list[str] = []
        self.lists = 0
        self.reads = 0  # gets and lists
        self.reads_before_first_write: int | None = None
        self._racing = racing
        self._ids = itertools.count(1)

    def get(self, resource, res_id, headers=None):
        self.reads += 1
        if resource == resources.ROUTER:
            return self.routers.get(res_id)
        return {'id': res_id}  # subnets and ports: copied as asked

    def list(self, resource, **filters):
        assert resource == resources.PORT
        self.lists += 1
        self.reads += 1
        return [p for p in self.ports
                if p['device_id'] == filters['device_id']]

    def create(self, resource, body, headers=None):
        assert resource == resources.ROUTER
        made = dict(body, id=headers['X-Tricircle-Resource-Id'])
        self.routers[made['id']] = made
        self.writes.append('create router')
        return made

    def _add(self, router_id: str, subnet_id: str) -> None:
        self.ports.append({
            'id': 'port-%d' % next(self._ids), 'name': '',
            'device_id': router_id,
            'device_owner': 'network:router_interface',
            'fixed_ips': [{'subnet_id': subnet_id}]})

    def request(self, method, path, body=None, **_kw):
        router_id, action = path.split('/')[-2:]
        if action == 'remove_router_interface':
            self.ports = [p for p in self.ports if p['id'] != body['port_id']]
            self.writes.append('remove %s' % body['port_id'])
            return {}
        assert (method, action) == ('PUT', 'add_router_interface')
        subnet_id = body['subnet_id']
        if subnet_id == self._racing:
            self._racing = None
            self._add(router_id, subnet_id)
            raise neutron_client.RemoteBadRequest(
                server='R', status=400, reason='Router already has a port '
                'on subnet %s' % subnet_id)
        if subnet_id == 'down':
            raise neutron_client.RemoteUnavailable(
                server='R', status='no answer', reason='timed out')
        if subnet_id == 'refused':
            raise neutron_client.RemoteBadRequest(server='R', status=400,
                                                  reason='no')
        self._add(router_id, subnet_id)
        self.writes.append('add %s' % subnet_id)
        if self.reads_before_first_write is None:
            self.reads_before_first_write = self.reads
        return {}


def _plan(*subnets: str) -> router_res.RegionalRouter:
    return router_res.RegionalRouter('R1', set(subnets))


def _ahead(region: Region, plan: router_res.RegionalRouter) -> list[str]:
    return router_copy.converge(region, 'R1', 'r1', ROUTER, plan,
                                add_only=True)


def test_a_head_start_makes_the_copy_and_adds_only(region_pods):
    region = Region()
    region._add('r1', 'old')  # an interface central's plan may drop
    assert _ahead(region, _plan('s2')) == [
        'copy created', 'interface on subnet s2 added']
    assert region.routers['r1']['name'] == 'r'
    assert sorted(p['fixed_ips'][0]['subnet_id']
                  for p in region.ports) == ['old', 's2']
    assert [r['pod_id'] for r in db_api.list_routings({'top_id': 'r1'})] \
        == [db_api.get_pod_by_region('R1')['pod_id']]
    # Again: nothing left to add.
    assert _ahead(region, _plan('s2')) == []
    assert region.writes == ['create router', 'add s2']
    # router_setup's converge, after central's change, removes it.
    assert router_copy.converge(region, 'R1', 'r1', ROUTER,
                                _plan('s2')) == ['interface port-1 removed']


def test_an_interface_another_run_added_meanwhile_counts_as_added(region_pods):
    region = Region(racing='s2')
    region.routers['r1'] = dict(ROUTER)
    assert _ahead(region, _plan('s2')) == []
    assert len(region.ports) == 1
    # A refusal with no interface there is a failure.
    with pytest.raises(neutron_client.RemoteBadRequest):
        _ahead(region, _plan('refused'))
    # No answer is no refusal: raised as it came, nothing asked after.
    with pytest.raises(neutron_client.RemoteUnavailable):
        _ahead(region, _plan('down'))
    # (two reads for each refusal above, one for this call)
    assert region.lists == 5


class _Central:
    """Central with router r1 joined to subnet s1 (network n1)."""
    SUBNETS = {'s1': {'id': 's1', 'cidr': '10.0.1.0/24', 'ip_version': 4,
                      'network_id': 'n1', 'gateway_ip': '10.0.1.1'},
               's2': {'id': 's2', 'cidr': '10.0.2.0/24', 'ip_version': 4,
                      'network_id': 'n2', 'gateway_ip': '10.0.2.1'}}

    def __init__(self, router: dict = ROUTER, joined: tuple = ()) -> None:
        self._router = router
        self._joined = joined

    def get(self, resource, res_id, headers=None):
        if resource == resources.ROUTER:
            return self._router
        return self.SUBNETS[res_id]

    def list(self, resource, **filters):
        if resource == resources.PORT:
            return [{'id': 'c-%s' % s, 'device_owner':
                     'network:router_interface', 'fixed_ips': [{
                         'subnet_id': s, 'ip_address':
                         self.SUBNETS[s]['gateway_ip']}]}
                    for s in self._joined]
        return [self.SUBNETS[s] for s in filters['id']]


def _hold(network_id: str, *held_in: str) -> None:
    for region in held_in:
        db_api.ensure_routing(network_id, network_id, db_api.get_pod_by_region(
            region)['pod_id'], 'p', resources.NETWORK)


def test_a_head_start_plans_with_the_subnet_central_is_adding(region_pods):
    _hold('n1', 'R1')
    _hold('n2', 'R2')
    central = _Central(joined=('s1',))
    assert router_state.read(central, 'r1').wanted == {'R1'}
    view = router_state.read(central, 'r1', adding=central.SUBNETS['s2'])
    assert view.wanted == {'R1', 'R2'}
    assert view.plans['R2'].subnet_ids == {'s2'}
    assert view.plans['R1'].subnet_ids == {'s1'}
    # Central has the interface already (its change was quick): once.
    both = _Central(joined=('s1', 's2'))
    assert len(router_state.read(both, 'r1', adding=both.SUBNETS[
        's2']).subnets) == 2
    # A router local to R2 is planned there only, with every subnet.
    local = _Central(dict(ROUTER, availability_zone_hints=['R2']))
    view = router_state.read(local, 'r1', adding=local.SUBNETS['s2'])
    assert set(view.plans) == {'R2'}
    assert view.plans['R2'].subnet_ids == {'s2'}


def test_router_setup_waits_for_a_running_head_start_only(region_pods,
                                                          monkeypatch):
    monkeypatch.setattr(router_setup, 'HEAD_START_WAIT', 0.3)
    shape = job_shapes.ROUTER_INTERFACE_AHEAD
    db_jobs.submit(shape.name, 'r1#s2', 'p')
    waited = _timed(lambda: router_setup._wait_for_head_starts('r1'))
    assert waited < 0.2, 'a head start not begun is not waited for'
    claim = db_jobs.claim(shape.name, 'r1#s2', 'w', 60)
    assert claim is not None
    assert 0.3 <= _timed(
        lambda: router_setup._wait_for_head_starts('r1')) < 1.0
    assert _timed(lambda: router_setup._wait_for_head_starts('r2')) < 0.2
    db_jobs.succeed(claim)
    assert _timed(lambda: router_setup._wait_for_head_starts('r1')) < 0.2


def _timed(call) -> float:
    start = time.monotonic()
    call()
    return time.monotonic() - start


class _NoCentral:
    project_id = 'p'

    def central_client(self):
        raise AssertionError('a skipped head start asks nothing')


def test_a_head_start_waits_for_router_setup_and_skips_when_queued(
        region_pods, monkeypatch):
    monkeypatch.setattr(head_starts, 'SETUP_WAIT', 0.3)
    shape = job_shapes.ROUTER_SETUP
    db_jobs.submit(shape.name, 'r1', 'p')
    claim = db_jobs.claim(shape.name, 'r1', 'w', 60)
    request = {'router_id': 'r1', 'subnet_id': 's2'}
    # Still running after the wait: skipped, nothing asked.
    assert 0.3 <= _timed(lambda: ahead.router_interface_ahead(
        _NoCentral(), request)) < 1.0
    db_jobs.succeed(claim)
    # Nothing runs or is queued: it goes ahead.
    with pytest.raises(AssertionError):
        ahead.router_interface_ahead(_NoCentral(), request)
    # Queued (central's change is in): that run does it.
    db_jobs.submit(shape.name, 'r1', 'p')
    assert _timed(lambda: ahead.router_interface_ahead(
        _NoCentral(), request)) < 0.2


def test_a_head_start_after_a_router_setup_run_asks_for_another(
        region_pods, monkeypatch):
    """A router_setup running when the head start came may have read the
    regions before it (and central's change may have failed): once done,
    the head start asks for another run, which has the last word."""
    monkeypatch.setattr(head_starts, 'SETUP_WAIT', 2.0)
    shape = job_shapes.ROUTER_SETUP
    db_jobs.submit(shape.name, 'r1', 'p')
    claim = db_jobs.claim(shape.name, 'r1', 'w', 60)
    ended = threading.Timer(0.3, db_jobs.succeed, [claim])
    ended.start()
    with pytest.raises(AssertionError):   # it went ahead
        ahead.router_interface_ahead(_NoCentral(), {'router_id': 'r1',
                                                    'subnet_id': 's2'})
    ended.join()
    assert db_jobs.live_statuses(shape.name, 'r1') == {db_jobs.NEW}


class _Ctx:
    project_id = 'p'

    def __init__(self, central, regions_: dict) -> None:
        self._central, self._regions = central, regions_

    def central_client(self):
        return self._central

    def region_client(self, region: str):
        return self._regions[region]


class _Refusing(Region):
    def create(self, resource, body, headers=None):
        raise neutron_client.RemoteConflict(server='R2', status=409,
                                            reason='made meanwhile')


def test_the_head_start_makes_each_region_of_its_plan(region_pods):
    """A router local to R1 and one local to R2 (no transit): the head
    start makes each copy; a region that refuses is left to
    router_setup."""
    _hold('n2', 'R1', 'R2')
    request = {'router_id': 'r1', 'subnet_id': 's2'}
    one, two = Region(), _Refusing()
    for region, copies in (('R2', {'R2': two}), ('R1', {'R1': one})):
        ahead.router_interface_ahead(_Ctx(_Central(dict(
            ROUTER, availability_zone_hints=[region])), copies), request)
    assert one.writes == ['create router', 'add s2']
    assert two.writes == [] and two.ports == []


def test_into_a_copy_there_the_interface_goes_before_any_read(region_pods):
    _hold('n2', 'R1')
    db_api.ensure_routing('r1', 'r1', db_api.get_pod_by_region('R1')[
        'pod_id'], 'p', resources.ROUTER)
    one = Region()
    one.routers['r1'] = dict(ROUTER)
    ahead.router_interface_ahead(_Ctx(_Central(), {'R1': one}),
                                 {'router_id': 'r1', 'subnet_id': 's2'})
    assert one.writes == ['add s2']
    assert one.reads_before_first_write == 0
