"""``/v1.0/jobs``: see, submit, delete and redo cross-region jobs."""
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
from tricircle.db import jobs as db_jobs
from tricircle.db import models
from tricircle.xjob import api as xjob_api
from tricircle.xjob import registry

LOG = logging.getLogger(__name__)
ID_LENGTH = schemas.column_length(models.AsyncJob, 'id')


def _job_id(raw: str) -> str:
    """An id that cannot be a job's (too long, NUL) names none: 404."""
    if len(raw) > ID_LENGTH or '\x00' in raw:
        raise t_exc.JobNotFound(job_id=raw[:ID_LENGTH * 2])
    return raw


def _view(row: dict[str, Any]) -> dict[str, Any]:
    """A job as shown, its times (naive UTC in the DB) with a zone."""
    return xjob_api.public_view(dict(row, timestamp=base.utc(
        row['timestamp']), next_run_at=base.utc(row.get('next_run_at'))))


def _validate(job: dict[str, Any]) -> registry.JobType:
    """The document's rules: the common ones, then the type's resource
    keys (what ``JobCreate`` says with ``oneOf``, with clearer errors)."""
    validation.check(job, schemas.job_create_common(), 'job')
    job_type = registry.get(job['type'])
    validation.check(job['resource'], schemas.job_resource(job_type),
                     'job.resource')
    registry.resource_id(job_type, job['resource'])  # the type's own rules
    return job_type


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
        query = validation.query(req, openapi.job_filters())
        limit = base.page_size(query.pop('limit', None))
        marker = query.pop('marker', None)
        if 'status' in query:
            query['status'] = query['status'].upper()
        if not context.is_admin:  # a project sees its own jobs only
            query['project_id'] = context.project_id
        page, next_marker = base.paginate(db_jobs.list_all(query), limit,
                                          marker, 'job')
        body: dict[str, Any] = {
            'jobs': [_view(r) for r in page]}
        if next_marker is not None:
            body['jobs_links'] = [
                base.next_link(req, query, limit, next_marker)]
        return 200, body

    def show(self, req: webob.Request, context: o_context.RequestContext,
             job_id: str) -> base.Result:
        policy.authorize(context, 'jobs:show')
        return 200, {'job': _view(db_jobs.get(_job_id(job_id)))}

    def create(self, req: webob.Request,
               context: o_context.RequestContext) -> base.Result:
        policy.authorize(context, 'jobs:create')
        job = validation.resource_body(req, 'job')
        job_type = _validate(job)
        resource = job['resource']
        if 'pod_id' in resource:
            try:
                db_api.get_pod(resource['pod_id'])
            except t_exc.PodNotFound:
                raise t_exc.ReferenceNotFound(
                    kind='pod', id=resource['pod_id']) from None
        created = xjob_api.submit(job_type.name, resource, job['project_id'])
        LOG.info('job %s %s %s submitted (request %s)', created['id'],
                 job_type.name, resource, context.request_id)
        return 202, {'job': dict(created, timestamp=base.utc(
            created['timestamp']))}

    def delete(self, req: webob.Request, context: o_context.RequestContext,
               job_id: str) -> base.Result:
        policy.authorize(context, 'jobs:delete')
        db_jobs.delete(_job_id(job_id))
        LOG.info('job %s deleted (request %s)', job_id, context.request_id)
        return 204, None

    def redo(self, req: webob.Request, context: o_context.RequestContext,
             job_id: str) -> base.Result:
        policy.authorize(context, 'jobs:redo')
        job = db_jobs.redo(_job_id(job_id))
        LOG.info('job %s to be redone (request %s)', job_id,
                 context.request_id)
        return 202, {'job': _view(job)}
