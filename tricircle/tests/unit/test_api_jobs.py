"""Admin API /v1.0/jobs in-process on SQLite."""
from __future__ import annotations

import datetime

import pytest
from oslo_config import cfg

from tricircle.common import config
from tricircle.db import api as db_api
from tricircle.db import jobs as db_jobs
from tricircle.tests import xjob_probe
from tricircle.tests.unit.conftest import snapshot
from tricircle.tests.unit.test_api_pods import MEMBER, call, error_type
from tricircle.xjob import engine as xjob_engine
from tricircle.xjob import registry


@pytest.fixture
def app(api_app, monkeypatch):
    config.register_xjob_opts(cfg.CONF)
    registry.register(xjob_probe.JOB)
    monkeypatch.setenv('TRICIRCLE_PROBE_SLEEP', '0')
    return api_app


@pytest.fixture
def pod():
    return db_api.create_pod({'region_name': 'RegionOne', 'az_name': 'az1'})


def submit(app, body) -> dict:
    res = call(app, 'POST', '/v1.0/jobs', {'job': body})
    assert res.status_int == 202, res.body
    return res.json['job']


def test_schemas_list_every_job_type(app):
    schemas = {s['type']: s['resource'] for s in
               call(app, 'GET', '/v1.0/jobs/schemas').json['schemas']}
    assert schemas['sync_resource'] == ['pod_id', 'resource_type',
                                        'resource_id']
    assert schemas['shadow_port_setup'] == ['network_id']
    assert not {'update_network', 'port_delete'} & set(schemas)
    assert schemas['probe'] == ['name']


def test_create_show_list_and_run(app, pod):
    resource = {'pod_id': pod['pod_id'], 'resource_type': 'network',
                'resource_id': 'n1'}
    job = submit(app, {'type': 'sync_resource', 'project_id': 'p1',
                       'resource': resource})
    assert job['status'] == 'NEW' and job['resource'] == resource
    assert call(app, 'GET', '/v1.0/jobs/%s' % job['id']).json['job'] == job
    probe = submit(app, {'type': 'probe', 'project_id': 'p1',
                         'resource': {'name': 'x'}})
    xjob_engine.Engine(cfg.CONF).run(
        db_jobs.claim('probe', 'x', 'test', 60))
    listed = call(app, 'GET', '/v1.0/jobs').json['jobs']
    assert [(j['id'], j['status']) for j in listed] == [
        (job['id'], 'NEW'), (probe['id'], 'SUCCESS')]
    done = call(app, 'GET', '/v1.0/jobs?status=success').json['jobs']
    assert [j['id'] for j in done] == [probe['id']]


def test_list_pages_with_next_links(app):
    ids = [submit(app, {'type': 'probe', 'project_id': 'p1',
                        'resource': {'name': 'n%d' % i}})['id']
           for i in range(5)]
    seen, url = [], '/v1.0/jobs?limit=2'
    while url:
        body = call(app, 'GET', url).json
        seen += [j['id'] for j in body['jobs']]
        links = body.get('jobs_links') or []
        url = links[0]['href'].replace('http://localhost', '') if links \
            else None
    assert sorted(seen) == sorted(ids) and len(seen) == 5


@pytest.mark.parametrize('body', [
    {'project_id': 'p1', 'resource': {'name': 'x'}},
    {'type': ' ', 'project_id': 'p1', 'resource': {'name': 'x'}},
    {'type': 'probe', 'resource': {'name': 'x'}},
    {'type': 'probe', 'project_id': 'p1'},
    {'type': 'probe', 'project_id': 'p1', 'resource': ['x']},
    {'type': 'nope', 'project_id': 'p1', 'resource': {'name': 'x'}},
    {'type': 'probe', 'project_id': 'p1', 'resource': {}},
    {'type': 'probe', 'project_id': 'p1',
     'resource': {'name': 'x', 'extra': 'y'}},
    {'type': 'probe', 'project_id': 'p1', 'resource': {'name': 5}},
    {'type': 'sync_resource', 'project_id': 'p1',
     'resource': {'pod_id': 'no-such-pod', 'resource_type': 'network',
                  'resource_id': 'n'}},
    {'type': 'probe', 'project_id': 'p1', 'resource': {'name': 'x'},
     'status': 'NEW'},
])
def test_bad_create_changes_nothing(app, body):
    before = snapshot()
    res = call(app, 'POST', '/v1.0/jobs', {'job': body})
    assert res.status_int == 400, res.body
    error_type(res)
    assert snapshot() == before


@pytest.mark.parametrize('query', ['foo=1', 'limit=x', 'status=done',
                                   'marker=nope', 'type=nope'])
def test_bad_list_queries(app, query):
    res = call(app, 'GET', '/v1.0/jobs?' + query)
    assert res.status_int == 400
    error_type(res)


def test_delete_and_redo(app):
    job = submit(app, {'type': 'probe', 'project_id': 'p1',
                       'resource': {'name': 'flaky-a'}})
    engine = xjob_engine.Engine(cfg.CONF)
    engine.run(db_jobs.claim('probe', 'flaky-a', 'test', 60))
    failed = call(app, 'GET', '/v1.0/jobs/%s' % job['id']).json['job']
    assert failed['status'] == 'FAIL' and failed['attempts'] == 1
    assert 'probe failure 1' in failed['last_error']
    # When it is retried, in UTC with its zone.
    retry_at = datetime.datetime.fromisoformat(failed['next_run_at'])
    assert retry_at.tzinfo is not None and retry_at > datetime.datetime.now(
        datetime.timezone.utc) - datetime.timedelta(minutes=1)
    res = call(app, 'PUT', '/v1.0/jobs/%s' % job['id'])
    assert res.status_int == 202 and res.json['job']['status'] == 'FAIL'
    claim = db_jobs.claim('probe', 'flaky-a', 'test', 60)
    running = db_jobs.list_all({'status': 'RUNNING'})[0]['id']
    for method in ('PUT', 'DELETE'):
        res = call(app, method, '/v1.0/jobs/%s' % running)
        assert res.status_int == 400 and 'RUNNING' in res.json[
            'NeutronError']['message']
    db_jobs.release(claim)
    assert call(app, 'DELETE', '/v1.0/jobs/%s' % job['id']).status_int == 204
    assert call(app, 'GET', '/v1.0/jobs/%s' % job['id']).status_int == 404
    assert call(app, 'PUT', '/v1.0/jobs/nope').status_int == 404


def test_members_are_refused(app):
    for method, path in (('GET', '/v1.0/jobs'), ('GET', '/v1.0/jobs/schemas'),
                         ('POST', '/v1.0/jobs'), ('PUT', '/v1.0/jobs/x'),
                         ('DELETE', '/v1.0/jobs/x'), ('GET', '/v1.0/jobs/x')):
        res = call(app, method, path, {'job': {}}, headers=MEMBER)
        assert res.status_int == 403, (method, path)
