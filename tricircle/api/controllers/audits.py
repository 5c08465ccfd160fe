"""``/v1.0/audits``: what XJob's drift audit found and repaired.

Each pass of the audit (tricircle.xjob.jobs.drift_audit) compares central
with every region that is up and repairs the drift through sync jobs.
The list shows the newest passes first and the totals over them.
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
from tricircle.db import audits

# Passes a list shows unless ``limit`` says otherwise.
DEFAULT_LIMIT = 20


def _view(row: dict[str, Any]) -> dict[str, Any]:
    return base.timestamps({k: row[k] for k in audits.FIELDS},
                           'started_at', 'finished_at')


class AuditsController:

    def index(self, req: webob.Request,
              context: o_context.RequestContext) -> base.Result:
        policy.authorize(context, 'audits:list')
        query = validation.query(
            req, openapi.query_params('/v1.0/audits', 'GET'))
        limit = query.get('limit', DEFAULT_LIMIT)
        return 200, {'audits': [_view(r) for r in audits.list_recent(limit)],
                     'totals': audits.totals()}

    def show(self, req: webob.Request, context: o_context.RequestContext,
             audit_id: str) -> base.Result:
        policy.authorize(context, 'audits:show')
        if not validation.conforms(audit_id, openapi.PATH_PARAMS['audit_id']):
            raise t_exc.AuditNotFound(audit_id=audit_id[:72])
        return 200, {'audit': _view(audits.get(audit_id))}
