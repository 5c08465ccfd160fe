"""``/v1.0/routings``: which regional resource stands for a central one.

Operators fix routings by hand after a failure, so every write is
validated as strictly as the plugins' own writes.
"""
from __future__ import annotations

from typing import Any

import webob
from oslo_context import context as o_context
from oslo_log import log as logging

from tricircle.api import openapi
from tricircle.api import policy
from tricircle.api import schemas
from tricircle.api import validation
from tricircle.api.controllers import base
from tricircle.common import exceptions as t_exc
from tricircle.db import api as db_api

LOG = logging.getLogger(__name__)


def _routing_id(raw: str) -> int:
    try:
        return int(raw)
    except ValueError:
        raise t_exc.RoutingNotFound(routing_id=raw) from None


def _validate(routing: dict[str, Any], schema: str) -> dict[str, Any]:
    """The document's rules, then: the pod must exist."""
    validation.check(routing, schemas.ref(schema), 'routing')
    if 'pod_id' in routing:
        try:
            db_api.get_pod(routing['pod_id'])
        except t_exc.PodNotFound:
            raise t_exc.ReferenceNotFound(kind='pod',
                                          id=routing['pod_id']) from None
    return routing


def _view(routing: dict[str, Any]) -> dict[str, Any]:
    return base.timestamps(routing, 'created_at', 'updated_at')


class RoutingsController:

    def index(self, req: webob.Request,
              context: o_context.RequestContext) -> base.Result:
        policy.authorize(context, 'routings:list')
        query = validation.query(req, openapi.routing_filters())
        limit = base.page_size(query.pop('limit', None))
        marker = query.pop('marker', None)
        for key in ('created_at', 'updated_at'):
            if key in query:
                query[key] = [validation.timestamp(v, key)
                              for v in query[key]]
        if not context.is_admin:  # a project sees its own routings only
            query['project_id'] = context.project_id
        rows = sorted(db_api.list_routings(query), key=lambda r: r['id'],
                      reverse=True)
        page, next_marker = base.paginate(rows, limit, marker, 'routing')
        body: dict[str, Any] = {'routings': [_view(r) for r in page]}
        if next_marker is not None:
            body['routings_links'] = [base.next_link(
                req, dict(req.GET.dict_of_lists(), limit=limit),
                limit, next_marker)]
        return 200, body

    def show(self, req: webob.Request, context: o_context.RequestContext,
             routing_id: str) -> base.Result:
        policy.authorize(context, 'routings:show')
        return 200, {'routing': _view(
            db_api.get_routing(_routing_id(routing_id)))}

    def create(self, req: webob.Request,
               context: o_context.RequestContext) -> base.Result:
        policy.authorize(context, 'routings:create')
        values = _validate(validation.resource_body(req, 'routing'),
                           'RoutingCreate')
        routing = db_api.create_routing(values)
        LOG.info('routing %(id)s created by hand: %(resource_type)s '
                 '%(top_id)s -> %(bottom_id)s in pod %(pod_id)s', routing)
        return 201, {'routing': _view(routing)}

    def update(self, req: webob.Request, context: o_context.RequestContext,
               routing_id: str) -> base.Result:
        policy.authorize(context, 'routings:put')
        rid = _routing_id(routing_id)
        db_api.get_routing(rid)  # 404 before judging the body
        values = _validate(validation.resource_body(req, 'routing'),
                           'RoutingUpdate')
        routing = db_api.update_routing(rid, values)
        LOG.info('routing %s updated by hand: %s', rid, values)
        return 200, {'routing': _view(routing)}

    def delete(self, req: webob.Request, context: o_context.RequestContext,
               routing_id: str) -> base.Result:
        policy.authorize(context, 'routings:delete')
        rid = _routing_id(routing_id)
        db_api.get_routing(rid)
        db_api.delete_routings({'id': rid})
        LOG.info('routing %s deleted by hand', rid)
        return 204, None
