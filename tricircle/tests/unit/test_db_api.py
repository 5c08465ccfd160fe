"""tricircle.db.api on SQLite and PostgreSQL."""
from __future__ import annotations

import concurrent.futures

import pytest
import sqlalchemy as sa

from tricircle.common import exceptions as t_exc
from tricircle.db import api as db_api
from tricircle.db import core
from tricircle.db import models


def _top(region: str = 'CentralRegion') -> dict:
    return db_api.create_pod({'region_name': region, 'az_name': ''})


def _region(region: str, az: str = 'az1') -> dict:
    return db_api.create_pod({'region_name': region, 'az_name': az,
                              'pod_az_name': az + '-pod', 'dc_name': 'dc'})


def test_pod_crud(db):
    assert db_api.get_top_pod() is None
    top = db_api.create_pod({'region_name': 'CentralRegion',
                             'pod_az_name': 'ignored'})
    assert top['az_name'] == '' and top['pod_az_name'] == ''
    assert len(top['pod_id']) == 36
    one = _region('RegionOne')
    assert db_api.get_pod(one['pod_id']) == one
    assert db_api.get_top_pod() == top
    assert db_api.get_pod_by_region('RegionOne') == one
    assert db_api.get_pod_by_region('Nowhere') is None
    assert [p['region_name'] for p in db_api.list_pods()] == [
        'CentralRegion', 'RegionOne']
    assert db_api.list_pods({'az_name': 'az1'}) == [one]
    assert len(db_api.list_pods({'region_name': ['RegionOne',
                                                 'CentralRegion']})) == 2
    with pytest.raises(t_exc.UnsupportedFilter):
        db_api.list_pods({'colour': 'red'})
    db_api.delete_pod(one['pod_id'])
    with pytest.raises(t_exc.PodNotFound):
        db_api.get_pod(one['pod_id'])
    with pytest.raises(t_exc.PodNotFound):
        db_api.delete_pod(one['pod_id'])


def test_pod_conflicts(db):
    top = _top()
    with pytest.raises(t_exc.TopPodExists):
        _top('OtherCentral')
    with pytest.raises(t_exc.TopRegionReused):
        _region('CentralRegion')
    _region('RegionOne')
    with pytest.raises(t_exc.DuplicateRegionName):
        _region('RegionOne', az='az2')
    with pytest.raises(t_exc.PodExists):
        db_api.create_pod({'pod_id': top['pod_id'], 'region_name': 'R9',
                           'az_name': 'az9'})
    assert len(db_api.list_pods()) == 2


def test_concurrent_top_pod_creation_has_one_winner(db):
    def create(i):
        try:
            return _top('Central%d' % i)
        except t_exc.TopPodExists:
            return None
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        results = list(pool.map(create, range(8)))
    assert len([r for r in results if r]) == 1
    assert len(db_api.list_pods()) == 1


def test_concurrent_read_then_write_transactions_all_succeed(db):
    # SQLite: a deferred transaction that reads then writes would fail at
    # once with "database is locked"; ours wait their turn instead.
    def create(i):
        with core.session_scope() as session:
            session.scalar(sa.select(sa.func.count()).select_from(
                models.Pod))
            session.add(models.Pod(pod_id='p%02d' % i, az_name='az',
                                   region_name='Region%02d' % i))
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        list(pool.map(create, range(40)))
    assert len(db_api.list_pods()) == 40


def test_routings(db):
    pod = _region('RegionOne')
    values = {'top_id': 'net-1', 'bottom_id': None, 'pod_id': pod['pod_id'],
              'project_id': 'proj', 'resource_type': 'network'}
    routing = db_api.create_routing(values)
    assert routing['id'] and routing['created_at']
    # bottom_id NULL: "being created", not yet usable.
    assert db_api.get_bottom_id('net-1', pod['pod_id'], 'network') is None
    with pytest.raises(t_exc.DuplicateRouting):
        db_api.create_routing(values)
    with pytest.raises(t_exc.PodNotFound):
        db_api.create_routing(dict(values, pod_id='nope'))

    filled = db_api.ensure_routing('net-1', 'net-1b', pod['pod_id'], 'proj',
                                   'network')
    assert filled['id'] == routing['id'] and filled['bottom_id'] == 'net-1b'
    # Already filled: left alone.
    again = db_api.ensure_routing('net-1', 'other', pod['pod_id'], 'proj',
                                  'network')
    assert again['bottom_id'] == 'net-1b'
    assert db_api.get_bottom_id('net-1', pod['pod_id'], 'network') == 'net-1b'
    assert db_api.get_routing(routing['id'])['bottom_id'] == 'net-1b'

    db_api.ensure_routing('sub-1', 'sub-1', pod['pod_id'], 'proj', 'subnet')
    assert len(db_api.list_routings()) == 2
    assert [r['top_id'] for r in db_api.list_routings(
        {'resource_type': 'subnet'})] == ['sub-1']
    assert len(db_api.list_routings(
        {'resource_type': ['subnet', 'network']})) == 2
    assert db_api.list_routings({'bottom_id': None}) == []
    with pytest.raises(t_exc.UnsupportedFilter):
        db_api.list_routings({'name': 'x'})
    with pytest.raises(t_exc.PodInUse):
        db_api.delete_pod(pod['pod_id'])

    with pytest.raises(ValueError):
        db_api.delete_routings({})
    assert db_api.delete_routings({'top_id': 'net-1'}) == 1
    assert db_api.delete_routings({'top_id': 'net-1'}) == 0
    with pytest.raises(t_exc.RoutingNotFound):
        db_api.get_routing(routing['id'])
    db_api.delete_routings({'pod_id': pod['pod_id']})
    db_api.delete_pod(pod['pod_id'])


def test_deleting_resources(db):
    assert not db_api.is_deleting('n1', 'network')
    db_api.add_deleting('n1', 'network')
    assert db_api.is_deleting('n1', 'network')
    assert not db_api.is_deleting('n1', 'subnet')
    with pytest.raises(t_exc.ResourceIsInDeleting):
        db_api.add_deleting('n1', 'network')
    db_api.remove_deleting('n1', 'network')
    db_api.remove_deleting('n1', 'network')  # idempotent
    assert not db_api.is_deleting('n1', 'network')


def test_concurrent_ensure_routing_makes_one_row(db):
    pod = _region('RegionOne')
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        results = list(pool.map(
            lambda i: db_api.ensure_routing('port-1', 'port-1',
                                            pod['pod_id'], 'proj', 'port'),
            range(16)))
    assert len({r['id'] for r in results}) == 1
    assert len(db_api.list_routings({'top_id': 'port-1'})) == 1
