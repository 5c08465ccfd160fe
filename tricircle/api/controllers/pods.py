"""``/v1.0/pods``: register the central pod and one pod per region."""
from __future__ import annotations

import webob
from oslo_context import context as o_context
from oslo_log import log as logging

from tricircle.api import policy
from tricircle.api.controllers import base
from tricircle.common import exceptions as t_exc
from tricircle.db import api as db_api

FIELDS = ('region_name', 'az_name', 'pod_az_name', 'dc_name')
FILTERS = ('pod_id',) + FIELDS
LOG = logging.getLogger(__name__)
MAX_LENGTH = 255  # all pod columns are VARCHAR(255)


def _validate(pod: dict) -> dict[str, str]:
    unknown = sorted(set(pod) - set(FIELDS))
    if unknown:
        raise t_exc.InvalidInput(reason='unknown pod attribute(s): %s; '
                                 'allowed: %s' % (', '.join(unknown),
                                                  ', '.join(FIELDS)))
    for key, value in pod.items():
        if not isinstance(value, str):
            raise t_exc.InvalidInput(reason='%s must be a string' % key)
        if len(value) > MAX_LENGTH:
            raise t_exc.InvalidInput(reason='%s is longer than %d '
                                     'characters' % (key, MAX_LENGTH))
    if not pod.get('region_name', '').strip():
        raise t_exc.MissingRequiredField(field='region_name')
    values = {key: pod.get(key, '') for key in FIELDS}
    return values


class PodsController:

    def index(self, req: webob.Request,
              context: o_context.RequestContext) -> base.Result:
        policy.authorize(context, 'pods:list')
        filters = base.query_filters(req, FILTERS)
        return 200, {'pods': db_api.list_pods(filters)}

    def create(self, req: webob.Request,
               context: o_context.RequestContext) -> base.Result:
        policy.authorize(context, 'pods:create')
        values = _validate(base.resource_body(req, 'pod'))
        # Top-pod uniqueness and region conflicts are the DB's job.
        pod = db_api.create_pod(values)
        LOG.info('pod %s created: region %s, az %r (request %s, user %s)',
                 pod['pod_id'], pod['region_name'], pod['az_name'],
                 context.request_id, context.user_id)
        return 201, {'pod': pod}

    def show(self, req: webob.Request, context: o_context.RequestContext,
             pod_id: str) -> base.Result:
        policy.authorize(context, 'pods:show')
        return 200, {'pod': db_api.get_pod(pod_id)}

    def delete(self, req: webob.Request, context: o_context.RequestContext,
               pod_id: str) -> base.Result:
        policy.authorize(context, 'pods:delete')
        db_api.delete_pod(pod_id)
        LOG.info('pod %s deleted (request %s, user %s)', pod_id,
                 context.request_id, context.user_id)
        return 204, None
