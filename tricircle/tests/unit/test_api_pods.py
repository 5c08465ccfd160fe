"""Admin API v1.0 in-process (WebOb requests) on a SQLite DB."""
from __future__ import annotations

import json

import pytest
import webob

from tricircle.db import api as db_api
from tricircle.tests.unit.conftest import snapshot

MEMBER = {'X-Project-Id': 'p1', 'X-User-Id': 'u1', 'X-Roles': 'member'}


def call(app, method: str, path: str, body=None, raw: bytes | None = None,
         headers: dict | None = None) -> webob.Response:
    req = webob.Request.blank(path, method=method, headers=headers or {})
    if raw is not None:
        req.body = raw
    elif body is not None:
        req.body = json.dumps(body).encode()
        req.content_type = 'application/json'
    return req.get_response(app)


def error_type(res: webob.Response) -> str:
    assert res.content_type == 'application/json'
    error = res.json['NeutronError']
    assert set(error) == {'type', 'message', 'detail'} and error['message']
    return error['type']


def create(app, **pod) -> dict:
    res = call(app, 'POST', '/v1.0/pods', {'pod': pod})
    assert res.status_int == 201, res.body
    return res.json['pod']


def test_versions(api_app):
    res = call(api_app, 'GET', '/')
    assert res.status_int == 200
    assert res.json == {'versions': [{
        'id': 'v1.0', 'status': 'CURRENT', 'updated': '2015-09-09',
        'links': [{'rel': 'self', 'href': 'http://localhost/v1.0/'}]}]}
    for path in ('/v1.0', '/v1.0/'):
        version = call(api_app, 'GET', path).json['version']
        assert version['id'] == 'v1.0'
        assert {link['rel']: link['href'] for link in version['links']} == {
            'self': 'http://localhost/v1.0/',
            'pods': 'http://localhost/v1.0/pods',
            'routings': 'http://localhost/v1.0/routings',
            'jobs': 'http://localhost/v1.0/jobs'}


@pytest.mark.parametrize('method,path,allow', [
    ('POST', '/', 'GET'), ('DELETE', '/', 'GET'), ('PUT', '/v1.0', 'GET'),
    ('POST', '/v1.0/', 'GET'), ('PUT', '/v1.0/pods', 'GET, POST'),
    ('DELETE', '/v1.0/pods', 'GET, POST'),
    ('PUT', '/v1.0/pods/x', 'DELETE, GET'),
    ('POST', '/v1.0/pods/x', 'DELETE, GET')])
def test_wrong_method_is_405(api_app, method, path, allow):
    res = call(api_app, method, path)
    assert res.status_int == 405
    assert res.headers['Allow'] == allow
    assert error_type(res) == 'MethodNotAllowed'


@pytest.mark.parametrize('path', ['/v2.0', '/v1.0/nothing', '/v1.0/pods/a/b',
                                  '/v1.0/routingsx'])
def test_unknown_url_is_404(api_app, path):
    res = call(api_app, 'GET', path)
    assert res.status_int == 404 and error_type(res) == 'UrlNotFound'


def test_pod_crud(api_app):
    assert call(api_app, 'GET', '/v1.0/pods').json == {'pods': []}
    top = create(api_app, region_name='CentralRegion', pod_az_name='x')
    assert top['az_name'] == '' and top['pod_az_name'] == ''
    one = create(api_app, region_name='RegionOne', az_name='az1',
                 pod_az_name='az1-pod', dc_name='dc1')
    assert set(one) == {'pod_id', 'region_name', 'pod_az_name', 'dc_name',
                        'az_name', 'health', 'last_seen'}
    # XJob has not probed it yet.
    assert (one['health'], one['last_seen']) == ('unknown', None)
    assert one['dc_name'] == 'dc1' and one['pod_az_name'] == 'az1-pod'
    two = create(api_app, region_name='RegionTwo', az_name='az2')
    assert two['dc_name'] == '' and two['pod_az_name'] == ''

    pods = call(api_app, 'GET', '/v1.0/pods').json['pods']
    assert sorted(p['region_name'] for p in pods) == [
        'CentralRegion', 'RegionOne', 'RegionTwo']
    assert call(api_app, 'GET', '/v1.0/pods?region_name=RegionOne'
                ).json == {'pods': [one]}
    assert call(api_app, 'GET', '/v1.0/pods?az_name=').json == {
        'pods': [top]}
    assert len(call(api_app, 'GET', '/v1.0/pods?az_name=az1&az_name=az2'
                    ).json['pods']) == 2
    res = call(api_app, 'GET', '/v1.0/pods?colour=red')
    assert res.status_int == 400 and error_type(res) == 'UnsupportedFilter'

    res = call(api_app, 'GET', '/v1.0/pods/' + one['pod_id'])
    assert res.status_int == 200 and res.json == {'pod': one}
    res = call(api_app, 'DELETE', '/v1.0/pods/' + one['pod_id'])
    assert res.status_int == 204 and res.body == b''
    for method in ('GET', 'DELETE'):
        res = call(api_app, method, '/v1.0/pods/' + one['pod_id'])
        assert res.status_int == 404 and error_type(res) == 'PodNotFound'
    assert len(call(api_app, 'GET', '/v1.0/pods').json['pods']) == 2


@pytest.mark.parametrize('raw,status,kind', [
    (None, 400, 'MalformedRequestBody'),
    (b'{"pod": ', 400, 'MalformedRequestBody'),
    (b'\xff\xfe', 400, 'MalformedRequestBody'),
    (b'[]', 400, 'MalformedRequestBody'),
    (b'"pod"', 400, 'MalformedRequestBody'),
    (b'{}', 400, 'MalformedRequestBody'),
    (b'{"pods": {"region_name": "R"}}', 400, 'MalformedRequestBody'),
    (b'{"pod": null}', 400, 'MalformedRequestBody'),
    (b'{"pod": ["R"]}', 400, 'MalformedRequestBody'),
    (b'{"pod": {"region_name": "R", "colour": "red"}}', 400, 'InvalidInput'),
    (b'{"pod": {"region_name": "R", "pod_id": "x"}}', 400, 'InvalidInput'),
    (b'{"pod": {"region_name": 7}}', 400, 'InvalidInput'),
    (b'{"pod": {"region_name": "R", "az_name": null}}', 400, 'InvalidInput'),
    (b'{"pod": {"region_name": "R", "dc_name": ["a"]}}', 400,
     'InvalidInput'),
    (b'{"pod": {"region_name": "%s"}}' % (b'r' * 256), 400, 'InvalidInput'),
    (b'{"pod": {}}', 422, 'MissingRequiredField'),
    (b'{"pod": {"az_name": "az1"}}', 422, 'MissingRequiredField'),
    (b'{"pod": {"region_name": ""}}', 422, 'MissingRequiredField'),
    (b'{"pod": {"region_name": "  ", "az_name": "az1"}}', 422,
     'MissingRequiredField'),
])
def test_bad_create_changes_nothing(api_app, raw, status, kind):
    create(api_app, region_name='CentralRegion')
    before = snapshot()
    res = call(api_app, 'POST', '/v1.0/pods', raw=raw)
    assert res.status_int == status, res.body
    assert error_type(res) == kind
    assert snapshot() == before


@pytest.mark.parametrize('pod,kind', [
    ({'region_name': 'Central2'}, 'TopPodExists'),
    ({'region_name': 'Central2', 'az_name': ''}, 'TopPodExists'),
    ({'region_name': 'CentralRegion', 'az_name': 'az9'}, 'TopRegionReused'),
    ({'region_name': 'RegionOne', 'az_name': 'az9'}, 'DuplicateRegionName'),
    ({'region_name': 'RegionOne', 'az_name': 'az1'}, 'DuplicateRegionName'),
])
def test_conflicts_are_409_and_change_nothing(api_app, pod, kind):
    create(api_app, region_name='CentralRegion')
    create(api_app, region_name='RegionOne', az_name='az1')
    before = snapshot()
    res = call(api_app, 'POST', '/v1.0/pods', {'pod': pod})
    assert res.status_int == 409 and error_type(res) == kind
    assert snapshot() == before


def test_delete_pod_in_use_is_409(api_app):
    pod = create(api_app, region_name='RegionOne', az_name='az1')
    db_api.create_routing({'top_id': 'net', 'bottom_id': 'net',
                           'pod_id': pod['pod_id'], 'project_id': 'p',
                           'resource_type': 'network'})
    before = snapshot()
    res = call(api_app, 'DELETE', '/v1.0/pods/' + pod['pod_id'])
    assert res.status_int == 409 and error_type(res) == 'PodInUse'
    assert snapshot() == before
    db_api.delete_routings({'pod_id': pod['pod_id']})
    assert call(api_app, 'DELETE',
                '/v1.0/pods/' + pod['pod_id']).status_int == 204


@pytest.mark.parametrize('method,path,body', [
    ('GET', '/v1.0/pods', None),
    ('POST', '/v1.0/pods', {'pod': {'region_name': 'R2', 'az_name': 'a'}}),
    ('POST', '/v1.0/pods', None),  # refused before the body is read
    ('GET', '/v1.0/pods/{pod_id}', None),
    ('DELETE', '/v1.0/pods/{pod_id}', None),
])
def test_non_admin_is_403(api_app, method, path, body):
    pod = create(api_app, region_name='RegionOne', az_name='az1')
    before = snapshot()
    res = call(api_app, method, path.format(**pod), body, headers=MEMBER)
    assert res.status_int == 403 and error_type(res) == 'PolicyNotAuthorized'
    assert snapshot() == before


def test_noauth_headers_can_make_an_admin(api_app):
    headers = dict(MEMBER, **{'X-Roles': 'reader,Admin'})
    assert call(api_app, 'GET', '/v1.0/pods',
                headers=headers).status_int == 200
    # Versions are public.
    assert call(api_app, 'GET', '/', headers=MEMBER).status_int == 200


def test_unexpected_error_is_500_without_internals(api_app, monkeypatch,
                                                   caplog):
    def boom(filters=None):
        raise RuntimeError('secret internals')
    monkeypatch.setattr(db_api, 'list_pods', boom)
    res = call(api_app, 'GET', '/v1.0/pods')
    assert res.status_int == 500
    assert error_type(res) == 'HTTPInternalServerError'
    assert b'secret' not in res.body
    assert 'secret internals' in caplog.text  # logged with the traceback
