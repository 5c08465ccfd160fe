"""Admin API /v1.0/routings in-process on SQLite."""
from __future__ import annotations

import pytest

from tricircle.db import api as db_api
from tricircle.tests.unit.conftest import snapshot
from tricircle.tests.unit.test_api_pods import MEMBER, call, error_type


@pytest.fixture
def pods(api_app):
    return [db_api.create_pod({'region_name': r, 'az_name': 'az-' + r})
            ['pod_id'] for r in ('RegionOne', 'RegionTwo')]


def body(pod: str, top: str = 't1', **extra) -> dict:
    return {'routing': dict({'top_id': top, 'bottom_id': 'b-' + top,
                             'pod_id': pod, 'project_id': 'p1',
                             'resource_type': 'network'}, **extra)}


def create(app, pod_id, top='t1', **extra) -> dict:
    res = call(app, 'POST', '/v1.0/routings', body(pod_id, top, **extra))
    assert res.status_int == 201, res.body
    return res.json['routing']


def test_create_show_update_delete(api_app, pods):
    routing = create(api_app, pods[0])
    assert isinstance(routing['id'], int)
    assert {k: routing[k] for k in ('top_id', 'bottom_id', 'pod_id',
                                    'project_id', 'resource_type')} == {
        'top_id': 't1', 'bottom_id': 'b-t1', 'pod_id': pods[0],
        'project_id': 'p1', 'resource_type': 'network'}
    path = '/v1.0/routings/%d' % routing['id']
    assert call(api_app, 'GET', path).json['routing'] == routing
    res = call(api_app, 'PUT', path, {'routing': {'bottom_id': 'b2',
                                                  'pod_id': pods[1]}})
    assert res.status_int == 200, res.body
    assert res.json['routing']['bottom_id'] == 'b2'
    assert res.json['routing']['pod_id'] == pods[1]
    assert res.json['routing']['updated_at'] is not None
    assert call(api_app, 'DELETE', path).status_int == 204
    assert call(api_app, 'GET', path).status_int == 404
    assert call(api_app, 'DELETE', path).status_int == 404


def test_list_filters_and_pages_newest_first(api_app, pods):
    ids = [create(api_app, pods[i % 2], 't%d' % i)['id'] for i in range(5)]
    listed = call(api_app, 'GET', '/v1.0/routings').json
    assert [r['id'] for r in listed['routings']] == sorted(ids, reverse=True)
    assert 'routings_links' not in listed
    only = call(api_app, 'GET', '/v1.0/routings?pod_id=%s' % pods[1]).json
    assert [r['id'] for r in only['routings']] == [ids[3], ids[1]]
    seen, url = [], '/v1.0/routings?limit=2'
    while url:
        page = call(api_app, 'GET', url).json
        assert len(page['routings']) <= 2
        seen += [r['id'] for r in page['routings']]
        links = page.get('routings_links') or []
        url = links[0]['href'].replace('http://localhost', '') if links \
            else None
    assert seen == sorted(ids, reverse=True)
    one = call(api_app, 'GET', '/v1.0/routings?id=%d' % ids[2]).json
    assert [r['top_id'] for r in one['routings']] == ['t2']


@pytest.mark.parametrize('change', [
    {'top_id': ''}, {'bottom_id': None}, {'pod_id': 'no-such-pod'},
    {'resource_type': 'volume'}, {'project_id': 7}, {'id': 5},
    {'created_at': 'x'}, {'top_id': 'x' * 200},
])
def test_bad_create_changes_nothing(api_app, pods, change):
    before = snapshot()
    res = call(api_app, 'POST', '/v1.0/routings', body(pods[0], **change))
    assert res.status_int == 400, res.body
    error_type(res)
    assert snapshot() == before


def test_missing_field_and_bad_bodies(api_app, pods):
    before = snapshot()
    for raw in (b'', b'{', b'[]', b'{"routing": 1}', b'{"other": {}}'):
        res = call(api_app, 'POST', '/v1.0/routings', raw=raw)
        assert res.status_int == 400, raw
        error_type(res)
    incomplete = body(pods[0])
    del incomplete['routing']['project_id']
    res = call(api_app, 'POST', '/v1.0/routings', incomplete)
    assert res.status_int == 400 and 'project_id' in \
        res.json['NeutronError']['message']
    assert snapshot() == before


def test_duplicate_is_409_and_changes_nothing(api_app, pods):
    create(api_app, pods[0])
    before = snapshot()
    res = call(api_app, 'POST', '/v1.0/routings', body(pods[0]))
    assert res.status_int == 409 and error_type(res) == 'DuplicateRouting'
    assert snapshot() == before


def test_bad_update_changes_nothing(api_app, pods):
    routing = create(api_app, pods[0])
    create(api_app, pods[1])
    path = '/v1.0/routings/%d' % routing['id']
    before = snapshot()
    for change, status in (({}, 400), ({'id': 9}, 400),
                           ({'resource_type': 'x'}, 400),
                           ({'pod_id': 'nope'}, 400), ({'top_id': ' '}, 400),
                           ({'pod_id': pods[1]}, 409)):
        res = call(api_app, 'PUT', path, {'routing': change})
        assert res.status_int == status, (change, res.body)
        error_type(res)
    assert call(api_app, 'PUT', '/v1.0/routings/999',
                {'routing': {'bottom_id': 'x'}}).status_int == 404
    assert call(api_app, 'PUT', '/v1.0/routings/abc',
                {'routing': {'bottom_id': 'x'}}).status_int == 404
    assert snapshot() == before


@pytest.mark.parametrize('query', ['foo=1', 'limit=x', 'marker=x',
                                   'marker=12345', 'id=x'])
def test_bad_list_queries(api_app, pods, query):
    create(api_app, pods[0])
    res = call(api_app, 'GET', '/v1.0/routings?' + query)
    assert res.status_int == 400, res.body
    error_type(res)


def test_members_are_refused(api_app, pods):
    routing = create(api_app, pods[0])
    before = snapshot()
    path = '/v1.0/routings/%d' % routing['id']
    for method, url in (('GET', '/v1.0/routings'), ('POST', '/v1.0/routings'),
                        ('GET', path), ('PUT', path), ('DELETE', path)):
        res = call(api_app, method, url, body(pods[0], 't9'), headers=MEMBER)
        assert res.status_int == 403, (method, url)
    assert snapshot() == before
