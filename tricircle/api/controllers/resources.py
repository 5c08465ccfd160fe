"""``/v1.0/resources/{type}/{id}``: is every region's copy in line?

Per region holding a copy of a central resource: its sync state, the
central revision it has reached and the one it must reach, and the last
error. ``openstack multiregion networking resource wait`` polls this.
"""
from __future__ import annotations

from typing import Any

import webob
from oslo_context import context as o_context

from tricircle.api import openapi
from tricircle.api import policy
from tricircle.api import validation
from tricircle.api.controllers import base
from tricircle.common import exceptions as t_exc
from tricircle.db import api as db_api
from tricircle.db import sync_states
from tricircle import resources
from tricircle.resources import jobs as job_shapes

def _region_view(row: dict[str, Any], regions: dict[str, str]
                 ) -> dict[str, Any]:
    view = {k: row[k] for k in ('pod_id', 'state', 'revision_number',
                                'target_revision', 'last_error',
                                'updated_at')}
    view['region_name'] = regions.get(row['pod_id'], '')
    return base.timestamps(view, 'updated_at')


class ResourcesController:

    def show(self, req: webob.Request, context: o_context.RequestContext,
             resource_type: str, resource_id: str) -> base.Result:
        policy.authorize(context, 'resources:show')
        if resource_type not in resources.SPECS:
            raise t_exc.ResourceTypeNotSynced(
                resource_type=resource_type,
                known=', '.join(sorted(resources.SPECS)))
        # An id the document refuses (too long, control characters)
        # names nothing.
        if not validation.conforms(resource_id,
                                   openapi.PATH_PARAMS['resource_id']):
            raise t_exc.ResourceIdNotFound(resource_type=resource_type,
                                           resource_id=resource_id)
        regions = {p['pod_id']: p['region_name']
                   for p in db_api.list_pods()}
        rows = [_region_view(r, regions) for r in sync_states.list_states(
            resource_type, resource_id)]
        rows.sort(key=lambda r: r['region_name'])
        # A job not run yet may still make a copy in a region that holds
        # none (a router's first interface there): not in sync either.
        jobs = job_shapes.outstanding(resource_type, resource_id)
        return 200, {'resource': {
            'resource_type': resource_type, 'id': resource_id,
            'in_sync': not jobs and all(
                r['state'] == sync_states.IN_SYNC for r in rows),
            'outstanding_jobs': jobs, 'regions': rows}}
