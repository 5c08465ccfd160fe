"""tricircle.db.api refuses, on every backend alike, what one backend
would store and another refuse: strings longer than their column (SQLite
ignores VARCHAR lengths) and NUL (PostgreSQL cannot store it). A lookup
by such a value finds nothing, without a query that could fail."""
from __future__ import annotations

import pytest

from tricircle.common import exceptions as t_exc
from tricircle.db import api as db_api
from tricircle.db import models
from tricircle.tests.unit.conftest import snapshot


def _routing(pod_id: str, **change) -> dict:
    return dict({'top_id': 't', 'bottom_id': 'b', 'pod_id': pod_id,
                 'project_id': 'p', 'resource_type': 'network'}, **change)


@pytest.mark.parametrize('field', ['top_id', 'bottom_id', 'project_id',
                                   'resource_type'])
def test_routing_longer_than_its_column(db, field):
    pod = db_api.create_pod({'region_name': 'R1', 'az_name': 'az1'})
    length = models.ResourceRouting.__table__.c[field].type.length
    before = snapshot()
    with pytest.raises(t_exc.ValueTooLong) as info:
        db_api.create_routing(_routing(pod['pod_id'],
                                       **{field: 'x' * (length + 1)}))
    assert str(info.value) == ('Invalid input: %s is longer than %d '
                               'characters.' % (field, length))
    rid = db_api.create_routing(_routing(pod['pod_id']))['id']
    after_create = snapshot()
    with pytest.raises(t_exc.ValueTooLong):
        db_api.update_routing(rid, {field: 'y' * (length + 1)})
    assert snapshot() == after_create != before
    # exactly the column's length fits on both backends
    routing = db_api.update_routing(rid, {field: 'z' * length})
    assert routing[field] == 'z' * length


def test_pod_longer_than_its_column_or_with_nul(db):
    before = snapshot()
    with pytest.raises(t_exc.ValueTooLong):
        db_api.create_pod({'region_name': 'r' * 256, 'az_name': 'a'})
    with pytest.raises(t_exc.ControlCharacters):
        db_api.create_pod({'region_name': 'R\x00', 'az_name': 'a'})
    with pytest.raises(t_exc.ValueTooLong):
        db_api.ensure_shadow_agent('p' * 37, 'host', 'type', '10.0.0.1')
    assert snapshot() == before


def test_lookups_by_impossible_values_find_nothing(db):
    pod = db_api.create_pod({'region_name': 'R1', 'az_name': 'az1'})
    db_api.create_routing(_routing(pod['pod_id']))
    for pod_id in ('x' * 37, 'a\x00b'):
        with pytest.raises(t_exc.PodNotFound):
            db_api.get_pod(pod_id)
        with pytest.raises(t_exc.PodNotFound):
            db_api.delete_pod(pod_id)
        assert db_api.get_bottom_id('t', pod_id, 'network') is None
        assert db_api.list_routings({'pod_id': pod_id}) == []
        assert len(db_api.list_routings(
            {'pod_id': [pod_id, pod['pod_id']]})) == 1
    for rid in (2 ** 63, -2 ** 63 - 1):
        with pytest.raises(t_exc.RoutingNotFound):
            db_api.get_routing(rid)
        with pytest.raises(t_exc.RoutingNotFound):
            db_api.update_routing(rid, {'bottom_id': 'c'})
        assert db_api.list_routings({'id': rid}) == []
    assert db_api.list_pods({'region_name': 'R\x00'}) == []
    assert not db_api.is_deleting('n\x00', 'network')
