"""Requests checked against the schemas the document serves (jsonschema).

A body or query parameter the document refuses is refused here with a
400 naming the field, before anything is read from or written to the DB.
"""
from __future__ import annotations

import json
from typing import Any

import jsonschema
import webob
from jsonschema import exceptions as js_exc
from oslo_utils import timeutils

from tricircle.api import schemas
from tricircle.common import exceptions as t_exc


def check(instance: Any, schema: dict[str, Any], where: str) -> None:
    """InvalidInput (400) unless ``instance`` matches the OpenAPI schema."""
    json_schema = schemas.to_json_schema(schema, schemas.components())
    validator = jsonschema.Draft4Validator(json_schema)
    error = js_exc.best_match(validator.iter_errors(instance))
    if error is not None:
        raise t_exc.InvalidInput(reason=_reason(error, where))


def conforms(instance: Any, schema: dict[str, Any]) -> bool:
    """Does ``instance`` match the OpenAPI schema?"""
    json_schema = schemas.to_json_schema(schema, schemas.components())
    return jsonschema.Draft4Validator(json_schema).is_valid(instance)


def _reason(error: js_exc.ValidationError, where: str) -> str:
    path = '.'.join([where] + [str(p) for p in error.absolute_path])
    kind, value = error.validator, error.validator_value
    if kind == 'maxLength':
        return '%s is longer than %d characters' % (path, value)
    if kind == 'pattern':
        return '%s must be %s' % (path, schemas.PATTERN_TEXT.get(
            value, 'a string matching %s' % value))
    if kind == 'type':
        return '%s must be of type %s' % (path, value)
    if kind == 'enum':
        return '%s: %s is not one of %s' % (path, _short(error.instance),
                                            ', '.join(map(str, value)))
    if kind == 'additionalProperties':
        allowed = sorted(error.schema.get('properties', {}))
        unknown = sorted(set(error.instance) - set(allowed))
        return '%s: unknown or read-only attribute(s) %s; allowed: %s' % (
            path, ', '.join(unknown), ', '.join(allowed))
    if kind == 'required':
        missing = [k for k in value if k not in error.instance]
        return '%s: missing attribute(s) %s' % (path, ', '.join(missing))
    if kind == 'minProperties':
        return '%s: nothing to update' % path
    if kind in ('minimum', 'maximum'):
        return '%s must be %s %d' % (path, '>=' if kind == 'minimum'
                                     else '<=', value)
    return '%s: %s' % (path, error.message[:200])


def _short(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=True)  # control characters too
    return text if len(text) <= 60 else text[:57] + '...'


def resource_body(req: webob.Request, key: str) -> dict[str, Any]:
    """``body[key]`` of ``{key: {...}}``; 400 for any other shape.

    The object itself is checked by the caller (its errors may differ).
    """
    if not req.body:
        raise t_exc.MalformedRequestBody(reason='the request has no body')
    try:
        body = json.loads(req.body)
    except ValueError as exc:  # also invalid UTF-8
        raise t_exc.MalformedRequestBody(
            reason='the body is not valid JSON (%s)' % exc) from None
    if not isinstance(body, dict):
        raise t_exc.MalformedRequestBody(reason='the body must be an object')
    if key not in body:
        raise t_exc.MalformedRequestBody(
            reason='the body must have the key "%s"' % key)
    if set(body) != {key}:
        raise t_exc.MalformedRequestBody(
            reason='the body must have "%s" as its only key; unexpected: '
            '%s' % (key, ', '.join(sorted(set(body) - {key}))))
    if not isinstance(body[key], dict):
        raise t_exc.MalformedRequestBody(
            reason='"%s" must be an object' % key)
    return body[key]


def query(req: webob.Request, params: dict[str, dict[str, Any]]
          ) -> dict[str, Any]:
    """The query parameters, converted and checked against ``params``
    (name -> schema). An array parameter may be repeated ("any of")."""
    values: dict[str, Any] = {}
    try:
        names = list(req.GET)
    except UnicodeDecodeError:
        raise t_exc.InvalidInput(
            reason='the query string is not valid UTF-8') from None
    for name in names:
        if name not in params:
            raise t_exc.UnsupportedFilter(name=name,
                                          supported=', '.join(params))
        schema = params[name]
        raw = req.GET.getall(name)
        if schema.get('type') == 'array':
            value: Any = [_convert(v, schema['items'], name) for v in raw]
        elif len(raw) > 1:
            raise t_exc.InvalidInput(reason='%s may be given once' % name)
        else:
            value = _convert(raw[0], schema, name)
        check(value, schema, name)
        values[name] = value
    return values


def _convert(raw: str, schema: dict[str, Any], name: str) -> Any:
    if schema.get('type') == 'integer':
        try:
            return int(raw)
        except ValueError:
            raise t_exc.InvalidInput(
                reason='%s must be an integer' % name) from None
    return raw


def timestamp(raw: str, name: str) -> Any:
    """An ISO 8601 date-time as the naive UTC the DB stores."""
    try:
        return timeutils.normalize_time(timeutils.parse_isotime(raw))
    except ValueError:
        raise t_exc.InvalidInput(reason='%s must be an ISO 8601 date-time'
                                 % name) from None
