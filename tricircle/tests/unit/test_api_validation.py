"""The Admin API keeps its document's promises (issue 15): zoned
timestamps, 204 on pod delete, closed bodies, no control characters,
column lengths on SQLite too; and bad input changes nothing."""
from __future__ import annotations

import datetime

import pytest
from oslo_config import cfg

from tricircle.api import openapi
from tricircle.api import schemas
from tricircle.common import config
from tricircle.db import api as db_api
from tricircle.db import models
from tricircle.tests.unit.conftest import snapshot
from tricircle.tests.unit.test_api_pods import call, error_type


@pytest.fixture
def app(api_app):
    config.register_xjob_opts(cfg.CONF)
    return api_app


@pytest.fixture
def pod_id(app):
    return db_api.create_pod({'region_name': 'RegionOne',
                              'az_name': 'az1'})['pod_id']


def _routing(pod: str, **change) -> dict:
    return {'routing': dict({'top_id': 't1', 'bottom_id': 'b1',
                             'pod_id': pod, 'project_id': 'p1',
                             'resource_type': 'network'}, **change)}


def _job(pod: str, project_id: str = 'p1', **resource) -> dict:
    return {'job': {'type': 'sync_resource', 'project_id': project_id,
                    'resource': dict({'pod_id': pod,
                                      'resource_type': 'network',
                                      'resource_id': 'n1'}, **resource)}}


def _zoned(value: str) -> datetime.datetime:
    parsed = datetime.datetime.fromisoformat(value)
    assert 'T' in value and parsed.utcoffset() == datetime.timedelta(0)
    return parsed


def test_timestamps_carry_their_zone(app, pod_id):
    routing = call(app, 'POST', '/v1.0/routings', _routing(pod_id)).json[
        'routing']
    created = _zoned(routing['created_at'])
    assert abs(datetime.datetime.now(datetime.timezone.utc) - created) < \
        datetime.timedelta(minutes=5)
    path = '/v1.0/routings/%d' % routing['id']
    updated = call(app, 'PUT', path, {'routing': {'bottom_id': 'b2'}}).json
    _zoned(updated['routing']['updated_at'])
    listed = call(app, 'GET', '/v1.0/routings').json['routings'][0]
    _zoned(listed['created_at'])
    _zoned(listed['updated_at'])
    # A zoned timestamp given back as a filter finds the routing.
    res = call(app, 'GET', '/v1.0/routings?created_at=%s' %
               routing['created_at'].replace('+', '%2B'))
    assert [r['id'] for r in res.json['routings']] == [routing['id']]
    res = call(app, 'GET', '/v1.0/routings?created_at=yesterday')
    assert res.status_int == 400 and error_type(res) == 'InvalidInput'

    job = call(app, 'POST', '/v1.0/jobs', _job(pod_id)).json['job']
    _zoned(job['timestamp'])
    shown = call(app, 'GET', '/v1.0/jobs/%s' % job['id']).json['job']
    assert shown['timestamp'] == job['timestamp']
    listed = call(app, 'GET', '/v1.0/jobs').json['jobs']
    assert [j['timestamp'] for j in listed] == [job['timestamp']]
    redone = call(app, 'PUT', '/v1.0/jobs/%s' % job['id']).json['job']
    _zoned(redone['timestamp'])


def test_pod_delete_is_204_as_documented(app, pod_id):
    responses = openapi.document()['paths']['/v1.0/pods/{pod_id}'][
        'delete']['responses']
    assert '204' in responses and '200' not in responses
    assert 'content' not in responses['204']
    res = call(app, 'DELETE', '/v1.0/pods/' + pod_id)
    assert res.status_int == 204 and res.body == b''


@pytest.mark.parametrize('method,path,body', [
    ('POST', '/v1.0/pods', {'pod': {'region_name': 'R2'}, 'extra': 1}),
    ('POST', '/v1.0/pods', {'pod': {'region_name': 'R2', 'extra': 1}}),
    ('POST', '/v1.0/routings', dict(_routing('{pod}'), routings=[])),
    ('POST', '/v1.0/routings', _routing('{pod}', colour='red')),
    ('PUT', '/v1.0/routings/{routing}', {'routing': {'bottom_id': 'x'},
                                         'x': None}),
    ('PUT', '/v1.0/routings/{routing}', {'routing': {'created_at': 'x'}}),
    ('POST', '/v1.0/jobs', dict(_job('{pod}'), job2={})),
    ('POST', '/v1.0/jobs', {'job': dict(_job('{pod}')['job'], status='NEW')}),
    ('POST', '/v1.0/jobs', _job('{pod}', port_id='p')),
])
def test_unknown_keys_are_refused(app, pod_id, method, path, body):
    rid = db_api.create_routing(_routing(pod_id)['routing'])['id']
    body = _fill(body, pod_id)
    before = snapshot()
    res = call(app, method, path.format(routing=rid), body)
    assert res.status_int == 400, res.body
    assert error_type(res) in ('InvalidInput', 'MalformedRequestBody')
    message = res.json['NeutronError']['message']
    assert any(k in message for k in ('extra', 'routings', 'colour', 'x',
                                      'created_at', 'job2', 'status',
                                      'port_id')), message
    assert snapshot() == before


def _fill(node, pod_id):
    if isinstance(node, dict):
        return {k: _fill(v, pod_id) for k, v in node.items()}
    return pod_id if node == '{pod}' else node


_BAD_CHARS = ['a\x00b', '\x00', 'a\nb', 'tab\there', '\x1b[31mred',
              'del\x7f', 'c1\x85']


@pytest.mark.parametrize('value', _BAD_CHARS)
@pytest.mark.parametrize('method,path,make', [
    ('POST', '/v1.0/pods', lambda p, v: {'pod': {'region_name': v}}),
    ('POST', '/v1.0/pods', lambda p, v: {'pod': {'region_name': 'R',
                                                 'dc_name': v}}),
    ('POST', '/v1.0/routings', lambda p, v: _routing(p, top_id=v)),
    ('POST', '/v1.0/routings', lambda p, v: _routing(p, project_id=v)),
    ('POST', '/v1.0/jobs', lambda p, v: _job(p, project_id=v)),
    ('POST', '/v1.0/jobs', lambda p, v: _job(p, resource_id=v)),
])
def test_control_characters_are_refused(app, pod_id, method, path, make,
                                        value):
    before = snapshot()
    res = call(app, method, path, make(pod_id, value))
    assert res.status_int == 400, res.body
    assert 'control characters' in res.json['NeutronError']['message']
    assert snapshot() == before


def test_control_characters_in_queries_and_paths(app, pod_id):
    for path in ('/v1.0/pods?region_name=a%00b', '/v1.0/jobs?marker=%0a',
                 '/v1.0/routings?top_id=%1b'):
        res = call(app, 'GET', path)
        assert res.status_int == 400, (path, res.body)
    for path in ('/v1.0/pods/a%00b', '/v1.0/jobs/%00'):
        assert call(app, 'GET', path).status_int == 404, path


def test_urls_that_are_not_utf8(app):
    """Before: 500 (UnicodeDecodeError)."""
    res = call(app, 'GET', '/v1.0/pods?region_name=%ff')
    assert res.status_int == 400 and 'UTF-8' in res.json['NeutronError'][
        'message']
    for path in ('/v1.0/pods/%ff', '/v1.0/%c3'):
        res = call(app, 'GET', path)
        assert res.status_int == 404 and error_type(res) == 'UrlNotFound'


def _limits() -> list[tuple[str, str, type, str]]:
    """(method, path, model, field): every string a body may carry."""
    cases = [('POST', '/v1.0/pods', models.Pod, f)
             for f in schemas.POD_FIELDS]
    cases += [('POST', '/v1.0/routings', models.ResourceRouting, f)
              for f in ('top_id', 'bottom_id', 'pod_id', 'project_id')]
    cases += [('POST', '/v1.0/jobs', models.AsyncJob, 'project_id')]
    return cases


@pytest.mark.parametrize('method,path,model,field', _limits())
def test_lengths_are_the_columns(app, pod_id, method, path, model, field):
    length = schemas.column_length(model, field)
    if path.endswith('pods'):
        body = {'pod': {'region_name': 'Region', field: 'x' * (length + 1)}}
    elif path.endswith('routings'):
        body = _routing(pod_id, **{field: 'x' * (length + 1)})
    else:
        body = _job(pod_id, **{field: 'x' * (length + 1)})
    before = snapshot()
    res = call(app, method, path, body)
    assert res.status_int == 400, res.body
    assert 'longer than %d' % length in res.json['NeutronError']['message']
    assert snapshot() == before
    if path.endswith('pods'):  # the column's length itself fits
        body['pod'][field] = 'x' * length
        assert call(app, method, path, body).status_int == 201


@pytest.mark.parametrize('body', [
    # the issue's own examples: accepted on SQLite before
    _job('{pod}', project_id='p' * 1000),
    _job('{pod}', resource_id='n' * 2000),
    _routing('{pod}', project_id='p' * 1000),
    # each part fits, the job's resource_id column does not
    _job('{pod}', resource_id='n' * (
        schemas.column_length(models.AsyncJob, 'resource_id'))),
])
def test_issue_examples_of_long_values(app, pod_id, body):
    before = snapshot()
    res = call(app, 'POST', '/v1.0/%ss' % next(iter(body)),
               _fill(body, pod_id))
    assert res.status_int == 400 and 'longer than' in res.json[
        'NeutronError']['message'], res.body
    assert snapshot() == before


@pytest.mark.parametrize('path,status', [
    ('/v1.0/routings?id=99999999999999999999', 400),
    ('/v1.0/routings?marker=99999999999999999999', 400),
    ('/v1.0/routings/99999999999999999999', 404),
    ('/v1.0/routings/-99999999999999999999', 404),
    ('/v1.0/jobs?type=sync_resource&type=shadow_port_setup', 400),
    ('/v1.0/jobs?project_id=a&project_id=b', 400),
    ('/v1.0/jobs?status=done', 400),
    ('/v1.0/jobs?limit=ten', 400),
    ('/v1.0/jobs/' + 'j' * 100, 404),
])
def test_odd_queries_are_4xx_not_500(app, path, status):
    res = call(app, 'GET', path)
    assert res.status_int == status, res.body
    error_type(res)


def test_references_and_markers_have_their_own_types(app, pod_id):
    res = call(app, 'POST', '/v1.0/routings', _routing('no-such-pod'))
    assert res.status_int == 400 and error_type(res) == 'ReferenceNotFound'
    res = call(app, 'POST', '/v1.0/jobs', _job('no-such-pod'))
    assert res.status_int == 400 and error_type(res) == 'ReferenceNotFound'
    res = call(app, 'GET', '/v1.0/routings?marker=12345')
    assert res.status_int == 400 and error_type(res) == 'MarkerNotFound'


def test_repeated_filters_still_mean_any_of(app, pod_id):
    two = db_api.create_pod({'region_name': 'RegionTwo', 'az_name': 'az2'})
    res = call(app, 'GET', '/v1.0/pods?pod_id=%s&pod_id=%s' % (
        pod_id, two['pod_id']))
    assert len(res.json['pods']) == 2
    assert call(app, 'GET', '/v1.0/jobs?status=new').status_int == 200
