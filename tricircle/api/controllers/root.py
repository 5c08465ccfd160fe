"""``/`` and ``/v1.0``: API version discovery."""
from __future__ import annotations

from typing import Any

import webob
from oslo_config import cfg
from oslo_context import context as o_context

from tricircle.api.controllers import base

VERSION = {'id': 'v1.0', 'status': 'CURRENT', 'updated': '2015-09-09'}
RESOURCES = ('pods', 'routings', 'jobs')


def _v1_url(req: webob.Request) -> str:
    # application_url keeps a mount prefix such as /tricircle.
    return req.application_url.rstrip('/') + '/v1.0/'


class RootController:

    def versions(self, req: webob.Request,
                 context: o_context.RequestContext) -> base.Result:
        version: dict[str, Any] = dict(VERSION, links=[
            {'rel': 'self', 'href': _v1_url(req)}])
        return 200, {'versions': [version]}

    def v1(self, req: webob.Request,
           context: o_context.RequestContext) -> base.Result:
        url = _v1_url(req)
        links = [{'rel': 'self', 'href': url}]
        links += [{'rel': name, 'href': url + name} for name in RESOURCES]
        return 200, {'version': dict(VERSION, links=links)}

    def openapi(self, req: webob.Request,
                context: o_context.RequestContext) -> base.Result:
        # Imported here: the document imports this module for VERSION.
        from tricircle.api import openapi
        return 200, openapi.document(
            keystone=cfg.CONF.auth_strategy == 'keystone')
