"""The schema's constraints, on SQLite and PostgreSQL (migrated DB)."""
from __future__ import annotations

import datetime

import pytest
import sqlalchemy as sa
from oslo_db import exception as db_exc

from tricircle.db import core
from tricircle.db import models


def _add(*objects) -> None:
    with core.session_scope() as session:
        session.add_all(objects)


def _count(model) -> int:
    with core.session_scope() as session:
        return session.scalar(sa.select(sa.func.count()).select_from(model))


def _pod(pod_id: str, region: str, az: str = 'az1') -> models.Pod:
    return models.Pod(pod_id=pod_id, region_name=region, az_name=az,
                      pod_az_name=az, dc_name='dc')


def _routing(top_id='t1', pod_id='p1', resource_type='network',
             bottom_id=None) -> models.ResourceRouting:
    return models.ResourceRouting(top_id=top_id, pod_id=pod_id,
                                  resource_type=resource_type,
                                  bottom_id=bottom_id, project_id='proj')


def test_region_name_is_unique(db):
    _add(_pod('p1', 'RegionOne'))
    with pytest.raises(db_exc.DBDuplicateEntry):
        _add(_pod('p2', 'RegionOne', az='az2'))
    assert _count(models.Pod) == 1


def test_only_one_top_pod(db):
    _add(_pod('top', 'Central', az=''))
    with pytest.raises(db_exc.DBDuplicateEntry):
        _add(_pod('top2', 'Central2', az=''))
    # The partial index only covers az_name '': region pods may share AZs.
    _add(_pod('p1', 'RegionOne', az='az1'), _pod('p2', 'RegionTwo', az='az1'))
    assert _count(models.Pod) == 3


def test_routing_unique_key_and_autoincrement(db):
    _add(_pod('p1', 'RegionOne'), _pod('p2', 'RegionTwo'))
    _add(_routing(pod_id='p1'), _routing(pod_id='p2'),
         _routing(pod_id='p1', resource_type='subnet'))
    with pytest.raises(db_exc.DBDuplicateEntry):
        _add(_routing(pod_id='p1', bottom_id='b'))
    with core.session_scope() as session:
        rows = session.scalars(sa.select(models.ResourceRouting).order_by(
            models.ResourceRouting.id)).all()
        ids = [r.id for r in rows]
        assert ids == sorted(set(ids)) and len(ids) == 3
        assert isinstance(rows[0].created_at, datetime.datetime)
        assert rows[0].updated_at is None
        rows[0].bottom_id = 'b1'
    with core.session_scope() as session:
        assert session.get(models.ResourceRouting,
                           ids[0]).updated_at is not None


def test_routing_needs_existing_pod(db):
    with pytest.raises(db_exc.DBReferenceError):
        _add(_routing(pod_id='missing'))
    assert _count(models.ResourceRouting) == 0


def test_pod_with_routings_cannot_be_deleted(db):
    _add(_pod('p1', 'RegionOne'))
    _add(_routing(pod_id='p1'))
    with pytest.raises(db_exc.DBReferenceError):
        with core.session_scope() as session:
            session.execute(sa.delete(models.Pod))
    assert _count(models.Pod) == 1


def test_pod_delete_cascades_to_agents(db):
    _add(_pod('p1', 'RegionOne'), _pod('p2', 'RegionTwo'))
    _add(models.ShadowAgent(id='a1', pod_id='p1', host='h', type='ovs',
                            tunnel_ip='10.0.0.1'),
         models.ShadowAgent(id='a2', pod_id='p2', host='h', type='ovs',
                            tunnel_ip='10.0.0.2'))
    with core.session_scope() as session:
        session.execute(sa.delete(models.Pod).where(
            models.Pod.pod_id == 'p1'))
    assert _count(models.ShadowAgent) == 1


def test_shadow_agent_unique_per_pod(db):
    _add(_pod('p1', 'RegionOne'))
    _add(models.ShadowAgent(id='a1', pod_id='p1', host='h', type='ovs',
                            tunnel_ip='10.0.0.1'))
    with pytest.raises(db_exc.DBDuplicateEntry):
        _add(models.ShadowAgent(id='a2', pod_id='p1', host='h', type='ovs',
                                tunnel_ip='10.0.0.3'))


def test_async_job_lock_and_timestamp_default(db):
    job = dict(type='router_setup', status='2_Running', resource_id='r1',
               extra_id='lock', project_id='proj')
    _add(models.AsyncJob(id='j1', **job))
    with pytest.raises(db_exc.DBDuplicateEntry):
        _add(models.AsyncJob(id='j2', **job))
    # NULL extra_id rows are never in conflict (NULLs differ).
    _add(models.AsyncJob(id='j3', **dict(job, extra_id=None)),
         models.AsyncJob(id='j4', **dict(job, extra_id=None)))
    # The server default fills rows written outside the ORM.
    with core.session_scope() as session:
        session.execute(sa.text(
            "INSERT INTO async_job_logs (id, resource_id, type) "
            "VALUES ('l1', 'r1', 'router_setup')"))
        log = session.get(models.AsyncJobLog, 'l1')
        assert isinstance(log.timestamp, datetime.datetime)


def test_deleting_resource_key(db):
    _add(models.DeletingResource(resource_id='n1', resource_type='network'),
         models.DeletingResource(resource_id='n1', resource_type='port'))
    with pytest.raises(db_exc.DBDuplicateEntry):
        _add(models.DeletingResource(resource_id='n1',
                                     resource_type='network'))


def test_to_dict(db):
    _add(_pod('p1', 'RegionOne'),
         models.DeletingResource(resource_id='x', resource_type='port',
                                 deleted_at=datetime.datetime(2026, 1, 1)))
    with core.session_scope() as session:
        assert session.get(models.Pod, 'p1').to_dict() == {
            'pod_id': 'p1', 'region_name': 'RegionOne', 'az_name': 'az1',
            'pod_az_name': 'az1', 'dc_name': 'dc'}
        assert session.get(models.DeletingResource,
                           ('x', 'port')).to_dict() == {
            'resource_id': 'x', 'resource_type': 'port',
            'deleted_at': datetime.datetime(2026, 1, 1)}
