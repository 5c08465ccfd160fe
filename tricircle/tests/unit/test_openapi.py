"""The OpenAPI document matches the routes and the real responses."""
from __future__ import annotations

import datetime

import jsonschema
import pytest
from oslo_config import cfg

from tricircle.api import app as api_app_mod
from tricircle.api import openapi
from tricircle.api import policy
from tricircle.api import schemas
from tricircle.common import config
from tricircle.db import api as db_api
from tricircle.tests.unit.test_api_pods import call


def _served_operations() -> set[tuple[str, str]]:
    api = api_app_mod.AdminAPI()
    return {(path, method) for path, (_, actions) in api.targets.items()
            for method in actions}


def test_document_names_exactly_the_served_operations():
    assert set(openapi.operations()) == _served_operations()


def test_policy_rules_exist_and_refs_resolve():
    rules = {rule.name for rule in policy.list_rules()}
    doc = openapi.document()
    for path, methods in doc['paths'].items():
        for method, op in methods.items():
            if 'x-policy-rule' in op:
                assert op['x-policy-rule'] in rules, (path, method)
    text = repr(doc)
    for name in doc['components']['schemas']:
        assert '#/components/schemas/%s' % name in text or name == 'Error'
    for ref in set(_refs(doc)):
        assert ref.split('/')[-1] in doc['components']['schemas'], ref


def _refs(node):
    if isinstance(node, dict):
        for key, value in node.items():
            if key == '$ref':
                yield value
            else:
                yield from _refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _refs(value)


# RFC 3339 date-time: jsonschema checks it only with an optional package.
FORMATS = jsonschema.FormatChecker()


@FORMATS.checks('date-time', raises=ValueError)
def _date_time(value: object) -> bool:
    if not isinstance(value, str):
        return True
    parsed = datetime.datetime.fromisoformat(value.replace('Z', '+00:00'))
    return 'T' in value and parsed.tzinfo is not None


def _check(doc, path, method, response):
    op = doc['paths'][path][method.lower()]
    spec = op['responses'].get(str(response.status_int))
    assert spec is not None, (path, method, response.status_int)
    if 'content' in spec:
        schema = schemas.to_json_schema(
            spec['content']['application/json']['schema'],
            doc['components']['schemas'])
        jsonschema.validate(response.json, schema,
                            format_checker=FORMATS)


@pytest.fixture
def served(api_app):
    config.register_xjob_opts(cfg.CONF)
    return api_app


def test_real_responses_match_the_document(served):
    doc = call(served, 'GET', '/v1.0/openapi.json').json
    assert doc == openapi.document()
    pod_res = call(served, 'POST', '/v1.0/pods', {'pod': {
        'region_name': 'RegionOne', 'az_name': 'az1'}})
    _check(doc, '/v1.0/pods', 'POST', pod_res)
    pod_id = pod_res.json['pod']['pod_id']
    _check(doc, '/v1.0/pods', 'GET', call(served, 'GET', '/v1.0/pods'))
    routing = call(served, 'POST', '/v1.0/routings', {'routing': {
        'top_id': 't', 'bottom_id': 'b', 'pod_id': pod_id,
        'project_id': 'p', 'resource_type': 'port'}})
    _check(doc, '/v1.0/routings', 'POST', routing)
    db_api.create_routing({'top_id': 't2', 'bottom_id': None,
                           'pod_id': pod_id, 'project_id': None,
                           'resource_type': 'port'})
    _check(doc, '/v1.0/routings', 'GET',
           call(served, 'GET', '/v1.0/routings?limit=1'))
    rid = '/v1.0/routings/%d' % routing.json['routing']['id']
    _check(doc, '/v1.0/routings/{routing_id}', 'PUT',
           call(served, 'PUT', rid, {'routing': {'bottom_id': 'c'}}))
    _check(doc, '/v1.0/routings/{routing_id}', 'GET',
           call(served, 'GET', rid + '0'))  # a 404 body
    _check(doc, '/v1.0/jobs/schemas', 'GET',
           call(served, 'GET', '/v1.0/jobs/schemas'))
    job = call(served, 'POST', '/v1.0/jobs', {'job': {
        'type': 'sync_resource', 'project_id': 'p',
        'resource': {'pod_id': pod_id, 'resource_type': 'network',
                     'resource_id': 'n'}}})
    _check(doc, '/v1.0/jobs', 'POST', job)
    _check(doc, '/v1.0/jobs', 'GET', call(served, 'GET', '/v1.0/jobs'))
    _check(doc, '/v1.0/jobs', 'GET', call(served, 'GET', '/v1.0/jobs?x=1'))
    _check(doc, '/v1.0/jobs/{job_id}', 'DELETE', call(
        served, 'DELETE', '/v1.0/jobs/%s' % job.json['job']['id']))


def test_path_parameters_exclude_the_fixed_routes_beside_them():
    """/v1.0/jobs/detail is not the job "detail": the job_id schema says
    so (schemathesis once sent DELETE /v1.0/jobs/detail as a job)."""
    doc = openapi.document()
    paths = set(doc['paths'])
    for path, methods in doc['paths'].items():
        head, _, last = path.rpartition('/')
        if not last.startswith('{'):
            continue
        fixed = {p.rpartition('/')[2] for p in paths
                 if p.rpartition('/')[0] == head and '{' not in p[len(head):]}
        for op in methods.values():
            param = next(p for p in op['parameters']
                         if p['name'] == last[1:-1])
            excluded = set(param['schema'].get('not', {}).get('enum', []))
            assert fixed <= excluded, (path, fixed)
