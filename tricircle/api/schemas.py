"""JSON schemas of the Admin API: what the document promises and the
requests are validated against (one definition for both).

String limits come from the columns of ``tricircle.db.models``, so a value
the API accepts fits the database on every backend (SQLite does not
enforce VARCHAR lengths).
"""
from __future__ import annotations

import copy
from typing import Any

import sqlalchemy as sa

from tricircle import resources
from tricircle.db import audits
from tricircle.db import models
from tricircle.db import pod_health
from tricircle.db import sync_states
from tricircle.resources import jobs as job_shapes
from tricircle.xjob import registry

# C0 and C1 control characters, NUL included: never part of a name or an
# id (PostgreSQL cannot even store NUL).
_CONTROL = '\\u0000-\\u001f\\u007f-\\u009f'
NO_CONTROL = '^[^%s]*$' % _CONTROL
# ... and not blank: at least one character that is not white space.
NON_BLANK = '^[^%s]*[^\\s%s][^%s]*$' % (_CONTROL, _CONTROL, _CONTROL)
# A job's resource value: also without the key separator.
_JOB_CHARS = '%s%s' % (_CONTROL, job_shapes.SEPARATOR)
JOB_VALUE = '^[^%s]*[^\\s%s][^%s]*$' % (_JOB_CHARS, _JOB_CHARS, _JOB_CHARS)
PATTERN_TEXT = {
    NO_CONTROL: 'a string without control characters',
    NON_BLANK: 'a non-blank string without control characters',
    JOB_VALUE: 'a non-blank string without control characters or "%s"'
               % job_shapes.SEPARATOR,
}
# resource_routings.id is a BIGINT.
INT64 = {'type': 'integer', 'format': 'int64', 'minimum': -2 ** 63,
         'maximum': 2 ** 63 - 1}
TIMESTAMP = {'type': 'string', 'format': 'date-time', 'nullable': True}


def column_length(model: type[models.Base], name: str) -> int:
    """The declared length of a String column."""
    column_type = model.__table__.c[name].type
    assert isinstance(column_type, sa.String) and column_type.length
    return column_type.length


def text(model: type[models.Base], name: str, pattern: str = NON_BLANK,
         **extra: Any) -> dict[str, Any]:
    """A string that fits column ``name`` of ``model``."""
    return dict({'type': 'string', 'maxLength': column_length(model, name),
                 'pattern': pattern}, **extra)


def obj(properties: dict[str, Any], required: tuple[str, ...] = (),
        **extra: Any) -> dict[str, Any]:
    schema: dict[str, Any] = {'type': 'object', 'properties': properties,
                              'additionalProperties': False, **extra}
    if required:
        schema['required'] = list(required)
    return schema


def ref(name: str) -> dict[str, str]:
    return {'$ref': '#/components/schemas/%s' % name}


def wrapped(key: str, schema: dict[str, Any]) -> dict[str, Any]:
    return obj({key: schema}, (key,))


STRING = {'type': 'string'}
NULLABLE_STRING = {'type': 'string', 'nullable': True}
LINKS = {'type': 'array', 'items': obj(
    {'rel': STRING, 'href': {'type': 'string', 'format': 'uri'}},
    ('rel', 'href'))}

Pod, Routing = models.Pod, models.ResourceRouting
POD_FIELDS = {
    'region_name': text(Pod, 'region_name'),
    # az_name '' is the central pod; the other two may be empty too.
    'az_name': text(Pod, 'az_name', NO_CONTROL),
    'pod_az_name': text(Pod, 'pod_az_name', NO_CONTROL),
    'dc_name': text(Pod, 'dc_name', NO_CONTROL),
}
ROUTING_FIELDS = {
    'top_id': text(Routing, 'top_id'),
    'bottom_id': text(Routing, 'bottom_id'),
    'pod_id': text(Routing, 'pod_id'),
    'project_id': text(Routing, 'project_id'),
    'resource_type': {'type': 'string',
                      'enum': list(resources.ROUTING_TYPES)},
}
JOB_STATUSES = ('NEW', 'RUNNING', 'SUCCESS', 'FAIL')
# The status filter is read case-insensitively.
JOB_STATUS_FILTER = {'type': 'string', 'pattern': '^(%s)$' % '|'.join(
    ''.join('[%s%s]' % (c.upper(), c.lower()) for c in status)
    for status in JOB_STATUSES)}


def job_type_names() -> list[str]:
    return [t.name for t in registry.all_types()]


def job_resource(job_type: registry.JobType) -> dict[str, Any]:
    """Exactly the type's keys; the values, joined, fit the resource_id
    column: a pod id fits pods.pod_id, the others share what is left."""
    budget = column_length(models.AsyncJob, 'resource_id')
    keys = job_type.resource_keys
    budget -= len(keys) - 1  # the separators
    pod_len = column_length(Pod, 'pod_id')
    others = [k for k in keys if k != 'pod_id']
    budget -= pod_len * (len(keys) - len(others))
    share = budget // len(others) if others else 0
    props = {k: {'type': 'string', 'pattern': JOB_VALUE,
                 'maxLength': pod_len if k == 'pod_id' else share}
             for k in keys}
    return obj(props, tuple(keys))


def job_create_common() -> dict[str, Any]:
    """What every job request has; the resource is checked by type."""
    return obj({
        'type': {'type': 'string', 'enum': job_type_names()},
        'project_id': text(models.AsyncJob, 'project_id'),
        'resource': {'type': 'object', 'additionalProperties': {
            'type': 'string', 'pattern': JOB_VALUE}},
    }, ('type', 'project_id', 'resource'))


def job_create() -> dict[str, Any]:
    """The common part and, per job type, its resource keys."""
    return {'allOf': [job_create_common(), {'oneOf': [
        {'type': 'object', 'required': ['type', 'resource'], 'properties': {
            'type': {'type': 'string', 'enum': [t.name]},
            'resource': job_resource(t)}}
        for t in registry.all_types()]}]}


def components() -> dict[str, Any]:
    """``components.schemas`` of the document (job types as loaded)."""
    return {
        'Error': wrapped('NeutronError', obj(
            {'type': STRING, 'message': STRING, 'detail': STRING},
            ('type', 'message', 'detail'))),
        'PodCreate': obj(POD_FIELDS, ('region_name',)),
        'Pod': obj({'pod_id': STRING, 'region_name': STRING,
                    'az_name': STRING, 'pod_az_name': NULLABLE_STRING,
                    'dc_name': NULLABLE_STRING,
                    'health': {'type': 'string',
                               'enum': list(pod_health.STATES)},
                    'last_seen': TIMESTAMP},
                   ('pod_id', 'region_name', 'az_name', 'health',
                    'last_seen')),
        'RoutingCreate': obj(ROUTING_FIELDS, tuple(ROUTING_FIELDS)),
        'RoutingUpdate': obj(ROUTING_FIELDS, minProperties=1),
        'Routing': obj({'id': INT64, 'top_id': STRING,
                        'bottom_id': NULLABLE_STRING, 'pod_id': STRING,
                        'project_id': NULLABLE_STRING,
                        'resource_type': STRING, 'created_at': TIMESTAMP,
                        'updated_at': TIMESTAMP},
                       ('id', 'top_id', 'pod_id', 'resource_type')),
        'SyncState': obj({
            'region_name': STRING, 'pod_id': STRING,
            'state': {'type': 'string',
                      'enum': list(sync_states.STATES)},
            'revision_number': dict(INT64, nullable=True),
            'target_revision': dict(INT64, nullable=True),
            'last_error': NULLABLE_STRING, 'updated_at': TIMESTAMP},
            ('region_name', 'pod_id', 'state', 'revision_number',
             'target_revision')),
        'Resource': obj({
            'resource_type': STRING, 'id': STRING,
            'in_sync': {'type': 'boolean'},
            'outstanding_jobs': {'type': 'integer', 'minimum': 0},
            'regions': {'type': 'array', 'items': ref('SyncState')}},
            ('resource_type', 'id', 'in_sync', 'outstanding_jobs',
             'regions')),
        'AuditCounts': obj({kind: {'type': 'integer', 'minimum': 0}
                            for kind in audits.KINDS}, audits.KINDS),
        'Audit': obj({
            'id': STRING,
            'state': {'type': 'string',
                      'enum': [audits.RUNNING, audits.FINISHED]},
            'worker': NULLABLE_STRING, 'started_at': TIMESTAMP,
            'finished_at': TIMESTAMP,
            'checked': {'type': 'integer', 'minimum': 0},
            'found': ref('AuditCounts'), 'repaired': ref('AuditCounts'),
            'skipped_pods': {'type': 'array', 'items': STRING}},
            ('id', 'state', 'started_at', 'checked', 'found', 'repaired',
             'skipped_pods')),
        'AuditTotals': obj({'found': ref('AuditCounts'),
                            'repaired': ref('AuditCounts')},
                           ('found', 'repaired')),
        'JobCreate': job_create(),
        'Job': obj({
            'id': STRING, 'project_id': NULLABLE_STRING, 'type': STRING,
            'timestamp': TIMESTAMP,
            'status': {'type': 'string', 'enum': list(JOB_STATUSES)},
            'resource': {'type': 'object', 'additionalProperties': STRING},
            'attempts': {'type': 'integer'},
            'last_error': NULLABLE_STRING, 'next_run_at': TIMESTAMP},
            ('id', 'type', 'status', 'resource')),
        'JobSchema': obj({'type': STRING, 'description': STRING,
                          'resource': {'type': 'array', 'items': STRING}},
                         ('type', 'resource')),
        'Version': obj({'id': STRING, 'status': STRING, 'updated': STRING,
                        'links': LINKS}, ('id', 'status', 'links')),
    }


def to_json_schema(schema: Any, defs: dict[str, Any]) -> Any:
    """OpenAPI 3.0 schema -> JSON Schema: refs inlined, nullable mapped."""
    if isinstance(schema, list):
        return [to_json_schema(s, defs) for s in schema]
    if not isinstance(schema, dict):
        return schema
    if '$ref' in schema:
        return to_json_schema(defs[schema['$ref'].split('/')[-1]], defs)
    out = {k: to_json_schema(v, defs) for k, v in schema.items()
           if k != 'nullable'}
    if schema.get('nullable'):
        out['type'] = [schema['type'], 'null']
    return copy.deepcopy(out)
