"""The Admin API described as data, served as OpenAPI 3.0.

``operations()`` is the one description of every endpoint; the document
at ``GET /v1.0/openapi.json`` is built from it, the controllers validate
requests with its schemas (``tricircle.api.validation``), and unit tests
check that it names exactly the routes and methods the application
serves and that real responses match it.
"""
from __future__ import annotations

from typing import Any

from tricircle.api import schemas as s
from tricircle.api.controllers import root
from tricircle.db import models
from tricircle import resources

SECURITY_SCHEME = 'keystone'


def _many(item: dict[str, Any]) -> dict[str, Any]:
    """A filter that may be repeated: "any of" the values."""
    return {'type': 'array', 'items': item}


def pod_filters() -> dict[str, dict[str, Any]]:
    return {'pod_id': _many(s.text(models.Pod, 'pod_id', s.NO_CONTROL)),
            **{k: _many(v) for k, v in s.POD_FIELDS.items()}}


def routing_filters() -> dict[str, dict[str, Any]]:
    when = _many({'type': 'string', 'format': 'date-time'})
    filters = {k: _many(s.text(models.ResourceRouting, k, s.NO_CONTROL))
               for k in ('top_id', 'bottom_id', 'pod_id', 'project_id')}
    return {'limit': {'type': 'integer'}, 'marker': s.INT64,
            'id': _many(s.INT64), **filters,
            'resource_type': _many(s.text(models.ResourceRouting,
                                          'resource_type', s.NO_CONTROL)),
            'created_at': when, 'updated_at': when}


def job_filters() -> dict[str, dict[str, Any]]:
    return {'limit': {'type': 'integer'},
            'marker': s.text(models.AsyncJob, 'id', s.NO_CONTROL),
            'project_id': s.text(models.AsyncJob, 'project_id',
                                 s.NO_CONTROL),
            'type': {'type': 'string', 'enum': s.job_type_names()},
            'status': s.JOB_STATUS_FILTER}


# Path parameters: an id longer than its column names nothing (404).
# /v1.0/jobs/detail and /v1.0/jobs/schemas are routes of their own.
JOB_SUBPATHS = ('detail', 'schemas')
PATH_PARAMS = {
    'pod_id': s.text(models.Pod, 'pod_id', s.NO_CONTROL),
    'routing_id': s.INT64,
    'resource_type': {'type': 'string', 'enum': sorted(resources.SPECS)},
    'resource_id': s.text(models.SyncState, 'resource_id', s.NO_CONTROL),
    'audit_id': s.text(models.DriftAudit, 'id', s.NO_CONTROL),
    'job_id': s.text(models.AsyncJob, 'id', s.NO_CONTROL,
                     **{'not': {'enum': list(JOB_SUBPATHS)}}),
}


def _list_of(key: str, item: str, paged: bool = True) -> dict[str, Any]:
    props: dict[str, Any] = {key: {'type': 'array', 'items': s.ref(item)}}
    if paged:
        props[key + '_links'] = s.LINKS
    return s.obj(props, (key,))


def operations() -> dict[tuple[str, str], dict[str, Any]]:
    """(path, method) -> summary, policy rule, request body schema,
    success status and body schema, query parameters, error statuses."""
    pod = s.wrapped('pod', s.ref('Pod'))
    routing = s.wrapped('routing', s.ref('Routing'))
    job = s.wrapped('job', s.ref('Job'))
    jobs = _list_of('jobs', 'Job')
    return {
        ('/', 'GET'): dict(summary='List API versions', ok=(200, s.obj(
            {'versions': {'type': 'array', 'items': s.ref('Version')}},
            ('versions',)))),
        ('/v1.0', 'GET'): dict(
            summary='Show version 1.0 and its resources',
            ok=(200, s.wrapped('version', s.ref('Version')))),
        ('/v1.0/openapi.json', 'GET'): dict(
            summary='This document', ok=(200, {'type': 'object'})),
        ('/v1.0/pods', 'GET'): dict(
            summary='List pods, by region name', rule='pods:list',
            query=pod_filters(),
            ok=(200, _list_of('pods', 'Pod', paged=False)),
            errors=(400,)),
        ('/v1.0/pods', 'POST'): dict(
            summary='Register a pod (a region, or the central pod with an '
                    'empty az_name); 422 if region_name is missing or '
                    'blank', rule='pods:create',
            body=s.wrapped('pod', s.ref('PodCreate')),
            ok=(201, pod), errors=(400, 409, 422)),
        ('/v1.0/pods/{pod_id}', 'GET'): dict(
            summary='Show a pod', rule='pods:show', ok=(200, pod),
            errors=(404,)),
        ('/v1.0/pods/{pod_id}', 'DELETE'): dict(
            summary='Delete a pod no routing refers to',
            rule='pods:delete', ok=(204, None), errors=(404, 409)),
        ('/v1.0/routings', 'GET'): dict(
            summary='List routings, newest first', rule='routings:list',
            query=routing_filters(), ok=(200, _list_of('routings',
                                                       'Routing')),
            errors=(400,)),
        ('/v1.0/routings', 'POST'): dict(
            summary='Create a routing', rule='routings:create',
            body=s.wrapped('routing', s.ref('RoutingCreate')),
            ok=(201, routing), errors=(400, 409)),
        ('/v1.0/routings/{routing_id}', 'GET'): dict(
            summary='Show a routing', rule='routings:show',
            ok=(200, routing), errors=(404,)),
        ('/v1.0/routings/{routing_id}', 'PUT'): dict(
            summary='Change a routing', rule='routings:put',
            body=s.wrapped('routing', s.ref('RoutingUpdate')),
            ok=(200, routing), errors=(400, 404, 409)),
        ('/v1.0/routings/{routing_id}', 'DELETE'): dict(
            summary='Delete a routing', rule='routings:delete',
            ok=(204, None), errors=(404,)),
        ('/v1.0/resources/{resource_type}/{resource_id}', 'GET'): dict(
            summary="Show each region's sync state of a central resource "
                    '(no region listed: no region holds a copy)',
            rule='resources:show',
            ok=(200, s.wrapped('resource', s.ref('Resource'))),
            errors=(404,)),
        ('/v1.0/audits', 'GET'): dict(
            summary='List drift audit passes, newest first, with the '
                    'totals found and repaired over those kept',
            rule='audits:list',
            query={'limit': {'type': 'integer', 'minimum': 1,
                             'maximum': 1000}},
            ok=(200, s.obj({'audits': {'type': 'array',
                                       'items': s.ref('Audit')},
                            'totals': s.ref('AuditTotals')},
                           ('audits', 'totals'))),
            errors=(400,)),
        ('/v1.0/audits/{audit_id}', 'GET'): dict(
            summary='Show one drift audit pass', rule='audits:show',
            ok=(200, s.wrapped('audit', s.ref('Audit'))), errors=(404,)),
        ('/v1.0/jobs', 'GET'): dict(
            summary='List live jobs then logged successes, newest first',
            rule='jobs:list', query=job_filters(), ok=(200, jobs),
            errors=(400,)),
        ('/v1.0/jobs/detail', 'GET'): dict(
            summary='Same as GET /v1.0/jobs', rule='jobs:list',
            query=job_filters(), ok=(200, jobs), errors=(400,)),
        ('/v1.0/jobs', 'POST'): dict(
            summary='Queue a job; it runs asynchronously. The resource '
                    'keys of each type are in GET /v1.0/jobs/schemas',
            rule='jobs:create', body=s.wrapped('job', s.ref('JobCreate')),
            ok=(202, job), errors=(400,)),
        ('/v1.0/jobs/schemas', 'GET'): dict(
            summary='List job types and their resource keys',
            rule='jobs:schema_list',
            ok=(200, _list_of('schemas', 'JobSchema', paged=False))),
        ('/v1.0/jobs/{job_id}', 'GET'): dict(
            summary='Show a job (live or logged)', rule='jobs:show',
            ok=(200, job), errors=(404,)),
        ('/v1.0/jobs/{job_id}', 'PUT'): dict(
            summary='Redo a NEW or FAILed job now', rule='jobs:redo',
            ok=(202, job), errors=(400, 404)),
        ('/v1.0/jobs/{job_id}', 'DELETE'): dict(
            summary='Delete a NEW or FAILed job', rule='jobs:delete',
            ok=(204, None), errors=(400, 404)),
    }


def query_params(path: str, method: str) -> dict[str, dict[str, Any]]:
    """The query parameters of one operation: name -> schema."""
    return operations()[(path, method)].get('query', {})


_ERROR_TEXT = {400: 'Bad request', 403: 'Forbidden by policy',
               404: 'Not found', 409: 'Conflict',
               422: 'Unprocessable entity'}
_UNAUTHORIZED = {
    'description': 'No valid Keystone token (auth_strategy = keystone)',
    'headers': {'WWW-Authenticate': {
        'description': 'Where to get a token', 'schema': s.STRING}},
    'content': {'application/json': {'schema': s.ref('Error')}}}


def _operation(path: str, method: str, spec: dict[str, Any],
               keystone: bool) -> dict[str, Any]:
    status, schema = spec['ok']
    ok: dict[str, Any] = {'description': 'Success'}
    if schema is not None:
        ok['content'] = {'application/json': {'schema': schema}}
    responses: dict[str, Any] = {str(status): ok}
    errors = set(spec.get('errors', ()))
    if 'rule' in spec:
        errors.add(403)
    for code in sorted(errors):
        responses[str(code)] = {
            'description': _ERROR_TEXT[code],
            'content': {'application/json': {'schema': s.ref('Error')}}}
    if keystone:  # every path is behind keystonemiddleware
        responses['401'] = _UNAUTHORIZED
    op: dict[str, Any] = {
        'summary': spec['summary'],
        'operationId': '%s %s' % (method, path), 'responses': responses}
    if 'rule' in spec:
        op['x-policy-rule'] = 'admin_api:' + spec['rule']
    params = [{'name': name, 'in': 'path', 'required': True,
               'schema': PATH_PARAMS[name]}
              for name in _path_params(path)]
    params += [{'name': name, 'in': 'query', 'required': False,
                'schema': schema}
               for name, schema in spec.get('query', {}).items()]
    if params:
        op['parameters'] = params
    if 'body' in spec:
        op['requestBody'] = {'required': True, 'content': {
            'application/json': {'schema': spec['body']}}}
    return op


def _path_params(path: str) -> list[str]:
    return [part[1:-1] for part in path.split('/')
            if part.startswith('{') and part.endswith('}')]


def document(keystone: bool = False) -> dict[str, Any]:
    """The OpenAPI 3.0 document of the Admin API.

    ``keystone``: the server runs with ``auth_strategy = keystone``, so
    every operation needs an ``X-Auth-Token`` and may answer 401.
    """
    paths: dict[str, dict[str, Any]] = {}
    for (path, method), spec in operations().items():
        paths.setdefault(path, {})[method.lower()] = _operation(
            path, method, spec, keystone)
    doc: dict[str, Any] = {
        'openapi': '3.0.3',
        'info': {'title': 'Tricircle Admin API',
                 'version': root.VERSION['id'],
                 'description': 'Pods (regions), resource routings and '
                                'asynchronous cross-region jobs. Errors '
                                'use Neutron\'s NeutronError body.'},
        'paths': paths,
        'components': {'schemas': s.components()},
    }
    if keystone:
        doc['components']['securitySchemes'] = {SECURITY_SCHEME: {
            'type': 'apiKey', 'in': 'header', 'name': 'X-Auth-Token',
            'description': 'A Keystone token'}}
        doc['security'] = [{SECURITY_SCHEME: []}]
    return doc
