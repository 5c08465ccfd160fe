"""``/v1.0/jobs``: see, submit, delete and redo cross-region jobs."""
from __future__ import annotations

from typing import Any

import webob
from oslo_context import context as o_context
from oslo_log import log as logging

from tricircle.api import policy
from tricircle.api.controllers import base
from tricircle.common import exceptions as t_exc
from tricircle.db import api as db_api
from tricircle.db import jobs as db_jobs
from tricircle.xjob import api as xjob_api
from tricircle.xjob import registry

LOG = logging.getLogger(__name__)
FILTERS = ('project_id', 'type', 'status')
STATUSES = (db_jobs.NEW, db_jobs.RUNNING, db_jobs.SUCCESS, db_jobs.FAIL)


class JobsController:

    def schemas(self, req: webob.Request,
                context: o_context.RequestContext) -> base.Result:
        policy.authorize(context, 'jobs:schema_list')
        return 200, {'schemas': [
            {'type': t.name, 'resource': list(t.resource_keys),
             'description': t.description} for t in registry.all_types()]}

    def index(self, req: webob.Request,
              context: o_context.RequestContext) -> base.Result:
        policy.authorize(context, 'jobs:list')
        query = base.query_filters(req, FILTERS + ('limit', 'marker'))
        limit = base.page_size(query.pop('limit', None))
        marker = query.pop('marker', None)
        if 'status' in query:
            query['status'] = str(query['status']).upper()
            if query['status'] not in STATUSES:
                raise t_exc.InvalidInput(reason='status must be one of %s'
                                         % ', '.join(STATUSES))
        if 'type' in query:
            registry.get(query['type'])  # 400 for an unknown type
        if not context.is_admin:  # a project sees its own jobs only
            query['project_id'] = context.project_id
        page, next_marker = base.paginate(db_jobs.list_all(query), limit,
                                          marker, 'job')
        body: dict[str, Any] = {
            'jobs': [xjob_api.public_view(r) for r in page]}
        if next_marker is not None:
            body['jobs_links'] = [
                base.next_link(req, query, limit, next_marker)]
        return 200, body

    def show(self, req: webob.Request, context: o_context.RequestContext,
             job_id: str) -> base.Result:
        policy.authorize(context, 'jobs:show')
        return 200, {'job': xjob_api.public_view(db_jobs.get(job_id))}

    def create(self, req: webob.Request,
               context: o_context.RequestContext) -> base.Result:
        policy.authorize(context, 'jobs:create')
        job = base.resource_body(req, 'job')
        unknown = sorted(set(job) - {'type', 'project_id', 'resource'})
        if unknown:
            raise t_exc.InvalidInput(reason='unknown job attribute(s): %s'
                                     % ', '.join(unknown))
        for field in ('type', 'project_id'):
            value = job.get(field)
            if not isinstance(value, str) or not value.strip():
                raise t_exc.InvalidInput(reason='%s is required and must be'
                                         ' a non-blank string' % field)
        resource = job.get('resource')
        if not isinstance(resource, dict):
            raise t_exc.InvalidInput(reason='resource is required and must '
                                     'be an object')
        job_type = registry.get(job['type'])
        registry.resource_id(job_type, resource)  # exact keys, clean values
        if 'pod_id' in resource:
            try:
                db_api.get_pod(resource['pod_id'])
            except t_exc.PodNotFound:
                raise t_exc.InvalidInput(reason='pod %s does not exist' %
                                         resource['pod_id'])
        created = xjob_api.submit(job_type.name, resource, job['project_id'])
        LOG.info('job %s %s %s submitted (request %s)', created['id'],
                 job_type.name, resource, context.request_id)
        return 202, {'job': created}

    def delete(self, req: webob.Request, context: o_context.RequestContext,
               job_id: str) -> base.Result:
        policy.authorize(context, 'jobs:delete')
        db_jobs.delete(job_id)
        LOG.info('job %s deleted (request %s)', job_id, context.request_id)
        return 204, None

    def redo(self, req: webob.Request, context: o_context.RequestContext,
             job_id: str) -> base.Result:
        policy.authorize(context, 'jobs:redo')
        job = db_jobs.redo(job_id)
        LOG.info('job %s to be redone (request %s)', job_id,
                 context.request_id)
        return 202, {'job': xjob_api.public_view(job)}
