"""``/v1.0/pods``: register the central pod and one pod per region."""
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
from tricircle.db import pod_health

FIELDS = tuple(schemas.POD_FIELDS)
LOG = logging.getLogger(__name__)


def _validate(pod: dict[str, Any]) -> dict[str, str]:
    region = pod.get('region_name')
    # Missing or blank: 422, as Tricircle always answered; the rest of
    # the document's rules (types, lengths, control characters) 400.
    if region is None and 'region_name' not in pod or \
            isinstance(region, str) and not region.strip():
        raise t_exc.MissingRequiredField(field='region_name')
    validation.check(pod, schemas.ref('PodCreate'), 'pod')
    return {key: pod.get(key, '') for key in FIELDS}


def _view(pod: dict[str, Any], health: dict[str, Any] | None
          ) -> dict[str, Any]:
    """A pod with its health as XJob's probe last saw it."""
    return base.timestamps(dict(pod, **pod_health.view(health)),
                           'last_seen')


class PodsController:

    def index(self, req: webob.Request,
              context: o_context.RequestContext) -> base.Result:
        policy.authorize(context, 'pods:list')
        filters = validation.query(req, openapi.pod_filters())
        health = pod_health.all_health()
        return 200, {'pods': [_view(p, health.get(p['pod_id']))
                              for p in db_api.list_pods(filters)]}

    def create(self, req: webob.Request,
               context: o_context.RequestContext) -> base.Result:
        policy.authorize(context, 'pods:create')
        values = _validate(validation.resource_body(req, 'pod'))
        # Top-pod uniqueness and region conflicts are the DB's job.
        pod = db_api.create_pod(values)
        LOG.info('pod %s created: region %s, az %r (request %s, user %s)',
                 pod['pod_id'], pod['region_name'], pod['az_name'],
                 context.request_id, context.user_id)
        return 201, {'pod': _view(pod, None)}

    def show(self, req: webob.Request, context: o_context.RequestContext,
             pod_id: str) -> base.Result:
        policy.authorize(context, 'pods:show')
        pod = db_api.get_pod(pod_id)
        return 200, {'pod': _view(pod, pod_health.all_health().get(
            pod_id))}

    def delete(self, req: webob.Request, context: o_context.RequestContext,
               pod_id: str) -> base.Result:
        policy.authorize(context, 'pods:delete')
        db_api.delete_pod(pod_id)
        LOG.info('pod %s deleted (request %s, user %s)', pod_id,
                 context.request_id, context.user_id)
        return 204, None
