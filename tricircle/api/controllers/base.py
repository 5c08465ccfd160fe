"""What the Admin API controllers share: paging and views.

A controller method takes ``(req, context, **url_params)`` and returns
``(status, body)``; ``body`` None means no content. Errors are raised as
exceptions from ``tricircle.common.exceptions``.
"""
from __future__ import annotations

import datetime
import urllib.parse
from typing import Any

import webob
from oslo_config import cfg

from tricircle.common import exceptions as t_exc

Result = tuple[int, Any]


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
            raise t_exc.MarkerNotFound(marker=marker, kind=kind)
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


def utc(value: Any) -> Any:
    """A DB timestamp (naive UTC) as ISO 8601 with its zone, or None."""
    if isinstance(value, str):  # already formatted, maybe without a zone
        value = datetime.datetime.fromisoformat(value)
    if not isinstance(value, datetime.datetime):
        return value
    if value.tzinfo is None:
        value = value.replace(tzinfo=datetime.timezone.utc)
    return value.isoformat()


def timestamps(row: dict[str, Any], *fields: str) -> dict[str, Any]:
    """``row`` with its datetime ``fields`` in ISO 8601, zone included."""
    return dict(row, **{f: utc(row.get(f)) for f in fields})
