"""What the Admin API controllers share: request parsing helpers.

A controller method takes ``(req, context, **url_params)`` and returns
``(status, body)``; ``body`` None means no content. Errors are raised as
exceptions from ``tricircle.common.exceptions``.
"""
from __future__ import annotations

import json
from typing import Any, Iterable

import webob

from tricircle.common import exceptions as t_exc

Result = tuple[int, Any]


def json_body(req: webob.Request) -> Any:
    """The decoded JSON body; 400 if it is missing or not JSON."""
    if not req.body:
        raise t_exc.MalformedRequestBody(reason='the request has no body')
    try:
        return json.loads(req.body)
    except ValueError as exc:  # also invalid UTF-8
        raise t_exc.MalformedRequestBody(
            reason='the body is not valid JSON (%s)' % exc) from None


def resource_body(req: webob.Request, key: str) -> dict[str, Any]:
    """``body[key]`` of ``{key: {...}}``; 400 for any other shape."""
    body = json_body(req)
    if not isinstance(body, dict):
        raise t_exc.MalformedRequestBody(reason='the body must be an object')
    if key not in body:
        raise t_exc.MalformedRequestBody(
            reason='the body must have the key "%s"' % key)
    if not isinstance(body[key], dict):
        raise t_exc.MalformedRequestBody(
            reason='"%s" must be an object' % key)
    return body[key]


def query_filters(req: webob.Request,
                  supported: Iterable[str]) -> dict[str, Any]:
    """Query parameters as DB filters; a repeated one means "any of"."""
    supported = tuple(supported)
    filters: dict[str, Any] = {}
    for key in req.GET:
        if key not in supported:
            raise t_exc.UnsupportedFilter(name=key,
                                          supported=', '.join(supported))
        values = req.GET.getall(key)
        filters[key] = values[0] if len(values) == 1 else values
    return filters
