"""A router interface's head start (router_interface_ahead) and how
router_setup's region part lives beside it, with a region that keeps its
routers and ports in dicts."""
from __future__ import annotations

import itertools
import time

import pytest

from tricircle.db import api as db_api
from tricircle.db import jobs as db_jobs
from tricircle import resources
from tricircle.resources import jobs as job_shapes
from tricircle.resources import neutron_client
from tricircle.resources import router as router_res
from tricircle.xjob.jobs import router_interface_ahead as ahead
from tricircle.xjob.jobs import router_setup
from tricircle.xjob import router_copy

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
        self._racing = racing
        self._ids = itertools.count(1)

    def get(self, resource, res_id, headers=None):
        if resource == resources.ROUTER:
            return self.routers.get(res_id)
        return {'id': res_id}  # subnets and ports: copied as asked

    def list(self, resource, **filters):
        assert resource == resources.PORT
        self.lists += 1
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
        return {}


@pytest.fixture
def pods(sqlite_db):
    for region in ('R1', 'R2'):
        db_api.create_pod({'region_name': region, 'az_name': region,
                           'pod_az_name': region, 'dc_name': 'dc'})


def _plan(*subnets: str) -> router_res.RegionalRouter:
    return router_res.RegionalRouter('R1', set(subnets))


def test_a_head_start_makes_the_copy_and_adds_only(pods):
    region = Region()
    region._add('r1', 'old')  # an interface central's plan may drop
    assert router_copy.add_interfaces(region, 'R1', ROUTER,
                                      _plan('s2')) == [
        'copy created', 'interface on subnet s2 added']
    assert region.routers['r1']['name'] == 'r'
    assert sorted(p['fixed_ips'][0]['subnet_id']
                  for p in region.ports) == ['old', 's2']
    assert [r['pod_id'] for r in db_api.list_routings({'top_id': 'r1'})] \
        == [db_api.get_pod_by_region('R1')['pod_id']]
    # Again: nothing left to add.
    assert router_copy.add_interfaces(region, 'R1', ROUTER,
                                      _plan('s2')) == []
    assert region.writes == ['create router', 'add s2']


def test_an_interface_another_run_added_meanwhile_counts_as_added(pods):
    region = Region(racing='s2')
    region.routers['r1'] = dict(ROUTER)
    assert router_copy.add_interfaces(region, 'R1', ROUTER,
                                      _plan('s2')) == []
    assert len(region.ports) == 1
    # A refusal with no interface there is a failure.
    with pytest.raises(neutron_client.RemoteBadRequest):
        router_copy.add_interfaces(region, 'R1', ROUTER, _plan('refused'))
    # No answer is no refusal: raised as it came, nothing asked after.
    with pytest.raises(neutron_client.RemoteUnavailable):
        router_copy.add_interfaces(region, 'R1', ROUTER, _plan('down'))
    # (two reads for each refusal above, one for this call)
    assert region.lists == 5


def test_a_local_router_gets_its_head_start_in_its_region_only(pods):
    local = dict(ROUTER, availability_zone_hints=['R2'])
    assert ahead.target_regions(local, {'R1', 'R2'}) == {'R2'}
    assert ahead.target_regions(local, {'R1'}) == set()
    assert ahead.target_regions(ROUTER, {'R1', 'R2'}) == {'R1', 'R2'}


def test_router_setup_waits_for_a_running_head_start_only(pods,
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
    def central_client(self):
        raise AssertionError('a skipped head start asks nothing')


def test_a_head_start_waits_for_router_setup_and_skips_when_queued(
        pods, monkeypatch):
    monkeypatch.setattr(ahead, 'SETUP_WAIT', 0.3)
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


class _Ctx:
    def __init__(self, central, regions_: dict) -> None:
        self._central, self._regions = central, regions_

    def central_client(self):
        return self._central

    def region_client(self, region: str):
        return self._regions[region]


class _Central:
    def get(self, resource, res_id, headers=None):
        return {resources.ROUTER: ROUTER,
                resources.SUBNET: {'id': res_id, 'network_id': 'n2'}}[
                    resource]


class _Refusing(Region):
    def create(self, resource, body, headers=None):
        raise neutron_client.RemoteConflict(server='R2', status=409,
                                            reason='made meanwhile')


def test_the_head_start_adds_in_each_region_holding_the_network(pods):
    for region in ('R1', 'R2'):
        db_api.ensure_routing('n2', 'n2', db_api.get_pod_by_region(
            region)['pod_id'], 'p', resources.NETWORK)
    one, two = Region(), _Refusing()
    ahead.router_interface_ahead(_Ctx(_Central(), {'R1': one, 'R2': two}),
                                 {'router_id': 'r1', 'subnet_id': 's2'})
    assert one.writes == ['create router', 'add s2']
    # A region that refuses is left to router_setup: no error.
    assert two.writes == [] and two.ports == []
