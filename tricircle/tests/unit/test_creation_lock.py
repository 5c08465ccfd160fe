"""The creation protocol: one creator per key, stale locks adopted."""
from __future__ import annotations

import concurrent.futures
import datetime
import threading

import pytest
import sqlalchemy as sa

from tricircle.db import api as db_api
from tricircle.db import core
from tricircle.db import creation_lock
from tricircle.db import models


@pytest.fixture
def pod(db):
    return db_api.create_pod({'region_name': 'CentralRegion', 'az_name': ''})


def test_concurrent_callers_create_once(pod):
    created = []
    lock = threading.Lock()

    def create():
        with lock:
            created.append(1)
        return 'bottom-%d' % len(created)

    def call(_):
        return creation_lock.get_or_create(
            'gw-port', pod['pod_id'], 'port', 'p1', create, lambda: None)

    with concurrent.futures.ThreadPoolExecutor(8) as ex:
        results = list(ex.map(call, range(8)))
    assert len(created) == 1
    assert {r[1] for r in results} == {'bottom-1'}
    assert sum(1 for r in results if r[0]) == 1


def test_failed_create_releases_the_lock(pod):
    def boom():
        raise RuntimeError('region down')

    with pytest.raises(RuntimeError):
        creation_lock.get_or_create('x', pod['pod_id'], 'port', 'p1', boom,
                                    lambda: None)
    assert db_api.list_routings({'top_id': 'x'}) == []
    assert creation_lock.get_or_create(
        'x', pod['pod_id'], 'port', 'p1', lambda: 'b', lambda: None) == (
            True, 'b')


def _age_lock(top_id: str, seconds: int) -> None:
    with core.session_scope() as session:
        session.execute(sa.update(models.ResourceRouting).where(
            models.ResourceRouting.top_id == top_id).values(
                created_at=datetime.datetime.utcnow() -
                datetime.timedelta(seconds=seconds)))


def test_stale_lock_is_adopted_when_the_resource_exists(pod):
    db_api.create_routing({'top_id': 'y', 'bottom_id': None,
                           'pod_id': pod['pod_id'], 'project_id': 'p1',
                           'resource_type': 'port'})
    _age_lock('y', 60)
    result = creation_lock.get_or_create(
        'y', pod['pod_id'], 'port', 'p1', lambda: pytest.fail('created'),
        lambda: 'found-id')
    assert result == (False, 'found-id')
    assert db_api.get_bottom_id('y', pod['pod_id'], 'port') == 'found-id'


def test_stale_lock_without_resource_is_retaken(pod):
    db_api.create_routing({'top_id': 'z', 'bottom_id': None,
                           'pod_id': pod['pod_id'], 'project_id': 'p1',
                           'resource_type': 'port'})
    _age_lock('z', 60)
    assert creation_lock.get_or_create(
        'z', pod['pod_id'], 'port', 'p1', lambda: 'new', lambda: None) == (
            True, 'new')


def test_fresh_lock_of_another_creator_times_out(pod):
    db_api.create_routing({'top_id': 'w', 'bottom_id': None,
                           'pod_id': pod['pod_id'], 'project_id': 'p1',
                           'resource_type': 'port'})
    from tricircle.common import exceptions as t_exc
    with pytest.raises(t_exc.CreationLockTimeout):
        creation_lock.get_or_create('w', pod['pod_id'], 'port', 'p1',
                                    lambda: 'never', lambda: None,
                                    timeout=0.3)
