"""The Admin API described as data, served as OpenAPI 3.0.

``OPERATIONS`` is the one description of every endpoint; the document
at ``GET /v1.0/openapi.json`` is built from it, and a unit test checks
that it names exactly the routes and methods the application serves.
"""
from __future__ import annotations

from typing import Any

from tricircle.api.controllers import root

STRING = {'type': 'string'}
NULLABLE_STRING = {'type': 'string', 'nullable': True}
TIMESTAMP = {'type': 'string', 'format': 'date-time', 'nullable': True}


def _object(properties: dict[str, Any], required: tuple[str, ...] = ()
            ) -> dict[str, Any]:
    schema: dict[str, Any] = {'type': 'object', 'properties': properties,
                              'additionalProperties': False}
    if required:
        schema['required'] = list(required)
    return schema


def _ref(name: str) -> dict[str, str]:
    return {'$ref': '#/components/schemas/%s' % name}


def _wrapped(key: str, schema: dict[str, Any]) -> dict[str, Any]:
    return _object({key: schema}, (key,))


def _links() -> dict[str, Any]:
    return {'type': 'array', 'items': _object(
        {'rel': STRING, 'href': {'type': 'string', 'format': 'uri'}})}


POD_FIELDS = {'region_name': STRING, 'az_name': STRING,
              'pod_az_name': STRING, 'dc_name': STRING}
ROUTING_FIELDS = {'top_id': STRING, 'bottom_id': STRING, 'pod_id': STRING,
                  'project_id': STRING, 'resource_type': STRING}

SCHEMAS: dict[str, Any] = {
    'Error': _wrapped('NeutronError', _object(
        {'type': STRING, 'message': STRING, 'detail': STRING},
        ('type', 'message', 'detail'))),
    'PodCreate': _object(POD_FIELDS, ('region_name',)),
    'Pod': _object(dict(POD_FIELDS, pod_id=STRING)),
    'RoutingCreate': _object(ROUTING_FIELDS, tuple(ROUTING_FIELDS)),
    'RoutingUpdate': _object(ROUTING_FIELDS),
    'Routing': _object(dict(ROUTING_FIELDS, id={'type': 'integer'},
                            bottom_id=NULLABLE_STRING,
                            project_id=NULLABLE_STRING,
                            created_at=TIMESTAMP, updated_at=TIMESTAMP)),
    'JobCreate': _object({'type': STRING, 'project_id': STRING,
                          'resource': {'type': 'object',
                                       'additionalProperties': STRING}},
                         ('type', 'project_id', 'resource')),
    'Job': _object({
        'id': STRING, 'project_id': NULLABLE_STRING, 'type': STRING,
        'timestamp': TIMESTAMP,
        'status': {'type': 'string',
                   'enum': ['NEW', 'RUNNING', 'SUCCESS', 'FAIL']},
        'resource': {'type': 'object', 'additionalProperties': STRING},
        'attempts': {'type': 'integer'}, 'last_error': NULLABLE_STRING}),
    'JobSchema': _object({'type': STRING, 'description': STRING,
                          'resource': {'type': 'array', 'items': STRING}}),
}

PAGING = ('limit', 'marker')
ROUTING_FILTERS = ('id', 'top_id', 'bottom_id', 'pod_id', 'project_id',
                   'resource_type', 'created_at', 'updated_at')
JOB_FILTERS = ('project_id', 'type', 'status')


def _list_of(key: str, item: str, paged: bool = True) -> dict[str, Any]:
    props: dict[str, Any] = {key: {'type': 'array', 'items': _ref(item)}}
    if paged:
        props[key + '_links'] = _links()
    return _object(props, (key,))


# (path, method) -> operation: summary, policy rule, request body schema,
# success status and body schema, query parameters, error statuses.
OPERATIONS: dict[tuple[str, str], dict[str, Any]] = {
    ('/', 'GET'): dict(summary='List API versions', ok=(200, None)),
    ('/v1.0', 'GET'): dict(summary='Show version 1.0 and its resources',
                           ok=(200, None)),
    ('/v1.0/openapi.json', 'GET'): dict(
        summary='This document', ok=(200, None)),
    ('/v1.0/pods', 'GET'): dict(
        summary='List pods', rule='pods:list',
        ok=(200, _list_of('pods', 'Pod', paged=False))),
    ('/v1.0/pods', 'POST'): dict(
        summary='Register a pod (a region, or the central pod with an '
                'empty az_name)', rule='pods:create',
        body=_wrapped('pod', _ref('PodCreate')),
        ok=(201, _wrapped('pod', _ref('Pod'))), errors=(400, 409, 422)),
    ('/v1.0/pods/{pod_id}', 'GET'): dict(
        summary='Show a pod', rule='pods:show',
        ok=(200, _wrapped('pod', _ref('Pod'))), errors=(404,)),
    ('/v1.0/pods/{pod_id}', 'DELETE'): dict(
        summary='Delete a pod no routing refers to', rule='pods:delete',
        ok=(200, None), errors=(404, 409)),
    ('/v1.0/routings', 'GET'): dict(
        summary='List routings, newest first', rule='routings:list',
        query=PAGING + ROUTING_FILTERS,
        ok=(200, _list_of('routings', 'Routing')), errors=(400,)),
    ('/v1.0/routings', 'POST'): dict(
        summary='Create a routing', rule='routings:create',
        body=_wrapped('routing', _ref('RoutingCreate')),
        ok=(201, _wrapped('routing', _ref('Routing'))), errors=(400, 409)),
    ('/v1.0/routings/{routing_id}', 'GET'): dict(
        summary='Show a routing', rule='routings:show',
        ok=(200, _wrapped('routing', _ref('Routing'))), errors=(404,)),
    ('/v1.0/routings/{routing_id}', 'PUT'): dict(
        summary='Change a routing', rule='routings:put',
        body=_wrapped('routing', _ref('RoutingUpdate')),
        ok=(200, _wrapped('routing', _ref('Routing'))),
        errors=(400, 404, 409)),
    ('/v1.0/routings/{routing_id}', 'DELETE'): dict(
        summary='Delete a routing', rule='routings:delete',
        ok=(204, None), errors=(404,)),
    ('/v1.0/jobs', 'GET'): dict(
        summary='List live jobs then logged successes, newest first',
        rule='jobs:list', query=PAGING + JOB_FILTERS,
        ok=(200, _list_of('jobs', 'Job')), errors=(400,)),
    ('/v1.0/jobs/detail', 'GET'): dict(
        summary='Same as GET /v1.0/jobs', rule='jobs:list',
        query=PAGING + JOB_FILTERS,
        ok=(200, _list_of('jobs', 'Job')), errors=(400,)),
    ('/v1.0/jobs', 'POST'): dict(
        summary='Queue a job; it runs asynchronously', rule='jobs:create',
        body=_wrapped('job', _ref('JobCreate')),
        ok=(202, _wrapped('job', _ref('Job'))), errors=(400,)),
    ('/v1.0/jobs/schemas', 'GET'): dict(
        summary='List job types and their resource keys',
        rule='jobs:schema_list',
        ok=(200, _list_of('schemas', 'JobSchema', paged=False))),
    ('/v1.0/jobs/{job_id}', 'GET'): dict(
        summary='Show a job (live or logged)', rule='jobs:show',
        ok=(200, _wrapped('job', _ref('Job'))), errors=(404,)),
    ('/v1.0/jobs/{job_id}', 'PUT'): dict(
        summary='Redo a NEW or FAILed job now', rule='jobs:redo',
        ok=(202, _wrapped('job', _ref('Job'))), errors=(400, 404)),
    ('/v1.0/jobs/{job_id}', 'DELETE'): dict(
        summary='Delete a NEW or FAILed job', rule='jobs:delete',
        ok=(204, None), errors=(400, 404)),
}

_ERROR_TEXT = {400: 'Bad request', 401: 'Not authenticated',
               403: 'Forbidden by policy', 404: 'Not found',
               409: 'Conflict', 422: 'Unprocessable entity'}


def _operation(path: str, method: str, spec: dict[str, Any]
               ) -> dict[str, Any]:
    status, schema = spec['ok']
    ok: dict[str, Any] = {'description': 'Success'}
    if schema is not None:
        ok['content'] = {'application/json': {'schema': schema}}
    responses: dict[str, Any] = {str(status): ok}
    errors = set(spec.get('errors', ()))
    if 'rule' in spec:
        errors |= {401, 403}
    for code in sorted(errors):
        responses[str(code)] = {
            'description': _ERROR_TEXT[code],
            'content': {'application/json': {'schema': _ref('Error')}}}
    op: dict[str, Any] = {
        'summary': spec['summary'],
        'operationId': '%s %s' % (method, path), 'responses': responses}
    if 'rule' in spec:
        op['x-policy-rule'] = 'admin_api:' + spec['rule']
    params = [{'name': name, 'in': 'path', 'required': True,
               'schema': STRING}
              for name in _path_params(path)]
    params += [{'name': name, 'in': 'query', 'required': False,
                'schema': STRING} for name in spec.get('query', ())]
    if params:
        op['parameters'] = params
    if 'body' in spec:
        op['requestBody'] = {'required': True, 'content': {
            'application/json': {'schema': spec['body']}}}
    return op


def _path_params(path: str) -> list[str]:
    return [part[1:-1] for part in path.split('/')
            if part.startswith('{') and part.endswith('}')]


def document() -> dict[str, Any]:
    """The OpenAPI 3.0 document of the Admin API."""
    paths: dict[str, dict[str, Any]] = {}
    for (path, method), spec in OPERATIONS.items():
        paths.setdefault(path, {})[method.lower()] = _operation(
            path, method, spec)
    return {
        'openapi': '3.0.3',
        'info': {'title': 'Tricircle Admin API',
                 'version': root.VERSION['id'],
                 'description': 'Pods (regions), resource routings and '
                                'asynchronous cross-region jobs. Errors '
                                'use Neutron\'s NeutronError body.'},
        'paths': paths,
        'components': {'schemas': SCHEMAS},
    }
