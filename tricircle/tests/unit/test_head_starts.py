"""router_setup after a head start that made central's coming change in
every region: it reads no region when central's view is the one the head
start planned, and converges as always otherwise."""
from __future__ import annotations

import types

import pytest

from tricircle.db import api as db_api
from tricircle.db import sync_states
from tricircle import resources
from tricircle.resources import neutron_client
from tricircle.tests.unit.test_router_head_start import _Central as _Base
from tricircle.tests.unit.test_router_head_start import _hold
from tricircle.tests.unit.test_router_head_start import Region
from tricircle.tests.unit.test_router_head_start import ROUTER
from tricircle.xjob import head_starts
from tricircle.xjob.jobs import router_interface_ahead as ahead
from tricircle.xjob.jobs import router_setup

REQUEST = {'router_id': 'r1', 'subnet_id': 's2'}


class _Central(_Base):
    def list(self, resource, **filters):
        if resource == resources.NETWORK:
            return []  # no transit: the router is in R1 only
        return super().list(resource, **filters)


class _Ctx:
    project_id = 'p'
    def __init__(self, central, region: Region, attempts: int = 0) -> None:
        self._central, self._region = central, region
        self.claim = types.SimpleNamespace(attempts=attempts)

    def central_client(self):
        return self._central

    def region_client(self, region: str):
        assert region == 'R1'
        return self._region


@pytest.fixture
def region(region_pods):
    """R1 holds n1 and n2 and the copy of r1, joined to s1."""
    _hold('n1', 'R1')
    _hold('n2', 'R1')
    db_api.ensure_routing('r1', 'r1', db_api.get_pod_by_region('R1')[
        'pod_id'], 'p', resources.ROUTER)
    one = Region()
    one.routers['r1'] = dict(ROUTER)
    one._add('r1', 's1')
    head_starts.forget('r1')
    return one


def _head_start(region: Region) -> None:
    ahead.router_interface_ahead(_Ctx(_Central(joined=('s1',)), region),
                                 REQUEST)


def _setup(region: Region, joined: tuple, attempts: int = 0) -> int:
    """router_setup once central has ``joined``; the region reads it
    made."""
    before = region.reads
    router_setup.router_setup(_Ctx(_Central(joined=joined), region,
                                   attempts), {'router_id': 'r1'})
    return region.reads - before


def test_after_a_head_start_that_made_it_all_no_region_is_read(region):
    _head_start(region)
    assert region.writes == ['add s2']
    assert _setup(region, ('s1', 's2')) == 0
    assert [s['state'] for s in sync_states.list_states(
        resources.ROUTER, 'r1')] == [sync_states.IN_SYNC]
    # The record was taken: the next run reads the region.
    assert _setup(region, ('s1', 's2')) > 0
    assert region.writes == ['add s2']


def test_central_failed_the_change_the_run_removes_what_went_ahead(region):
    _head_start(region)
    assert _setup(region, ('s1',)) > 0
    assert region.writes == ['add s2', 'remove port-2']


def test_a_head_start_that_left_something_is_not_trusted(region):
    region._add('r1', 'old')  # a full run removes it; the head start not
    _head_start(region)
    assert _setup(region, ('s1', 's2')) > 0
    assert region.writes == ['add s2', 'remove port-2']


def test_a_retried_run_reads_the_regions(region):
    _head_start(region)
    assert _setup(region, ('s1', 's2'), attempts=1) > 0


class _Refusing(Region):
    def request(self, method, path, body=None, **_kw):
        raise neutron_client.RemoteBadRequest(server='R1', status=400,
                                              reason='no')


def test_a_refused_head_start_leaves_no_record(region):
    head_starts.record('r1', ('older',), {'R1'})
    refusing = _Refusing()
    refusing.routers['r1'] = dict(ROUTER)
    ahead.router_interface_ahead(_Ctx(_Central(joined=('s1',)), refusing),
                                 REQUEST)
    assert head_starts.take('r1') is None


def test_a_record_is_taken_once_and_not_trusted_when_old():
    head_starts.record('r9', ('f',), {'R1'})
    made = head_starts.take('r9')
    assert made is not None and made.regions == {'R1'}
    assert head_starts.take('r9') is None
    old = head_starts.Records(valid_for=0.0)
    old.put('r9', 'made')
    assert old.take('r9') is None


def test_a_head_start_beginning_forgets_the_routers_records():
    head_starts.record('r9', ('f',), {'R1'})
    head_starts.gateways.put('r9', 'gateway set')
    head_starts.forget('r9')
    assert head_starts.take('r9') is None
    assert head_starts.gateways.take('r9') is None
