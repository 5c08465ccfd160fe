"""What the Admin API controllers share: request parsing helpers.

A controller method takes ``(req, context, **url_params)`` and returns
``(status, body)``; ``body`` None means no content. Errors are raised as
exceptions from ``tricircle.common.exceptions``.
"""
from __future__ import annotations

import json
import urllib.parse
from typing import Any, Iterable

import webob
from oslo_config import cfg

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


def integer(value: Any, name: str) -> int:
    """``value`` as an int; 400 naming the parameter otherwise."""
    if isinstance(value, list):
        raise t_exc.InvalidInput(reason='%s may be given once' % name)
    try:
        return int(value)
    except (TypeError, ValueError):
        raise t_exc.InvalidInput(
            reason='%s must be an integer' % name) from None


def page_size(raw: Any) -> int:
    """``limit`` as the original read it: absent or <= 0 means the max."""
    limit_max = cfg.CONF.pagination_max_limit
    if raw is None:
        return limit_max
    limit = integer(raw, 'limit')
    return limit_max if limit <= 0 else min(limit, limit_max)


def paginate(rows: list[dict[str, Any]], limit: int, marker: Any,
             kind: str) -> tuple[list[dict[str, Any]], Any]:
    """The page after ``marker`` and the next marker (None on the last)."""
    start = 0
    if marker is not None:
        ids = [r['id'] for r in rows]
        if marker not in ids:
            raise t_exc.InvalidInput(reason='marker %s is not a %s of this '
                                     'list' % (marker, kind))
        start = ids.index(marker) + 1
    page = rows[start:start + limit]
    more = start + limit < len(rows) and page
    return page, (page[-1]['id'] if more else None)


def next_link(req: webob.Request, query: dict[str, Any], limit: int,
              marker: Any) -> dict[str, str]:
    params = dict(query, limit=limit, marker=marker)
    return {'rel': 'next', 'href': '%s?%s' % (
        req.path_url, urllib.parse.urlencode(sorted(params.items()),
                                             doseq=True))}


def timestamps(row: dict[str, Any], *fields: str) -> dict[str, Any]:
    """``row`` with its datetime ``fields`` in ISO 8601, as JSON needs."""
    return dict(row, **{f: row[f].isoformat() if row.get(f) else row.get(f)
                        for f in fields})
