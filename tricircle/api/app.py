"""The Admin API v1.0 WSGI application (WebOb + Routes).

Errors use Neutron's body format so that clients of Neutron understand
them: ``{"NeutronError": {"type": ..., "message": ..., "detail": ""}}``.
"""
from __future__ import annotations

from typing import Any

import routes
import webob
import webob.dec
from neutron_lib import exceptions as n_exc
from oslo_config import cfg
from oslo_db import exception as db_exc
from oslo_log import log as logging

from tricircle.api import auth
from tricircle.api import policy
from tricircle.api.controllers import audits
from tricircle.api.controllers import jobs
from tricircle.api.controllers import pods
from tricircle.api.controllers import resources
from tricircle.api.controllers import root
from tricircle.api.controllers import routings
from tricircle.common import config
from tricircle.common import exceptions as t_exc
from tricircle.xjob import registry

LOG = logging.getLogger(__name__)

INTERNAL_ERROR = ('Request Failed: internal server error while processing '
                  'your request.')


def json_response(status: int, body: Any) -> webob.Response:
    if body is None:
        response = webob.Response(status=status)
        response.content_type = None  # no content, no type
        return response
    return webob.Response(status=status, json_body=body,
                          content_type='application/json', charset='utf-8')


def error_response(status: int, error_type: str,
                   message: str) -> webob.Response:
    return json_response(status, {'NeutronError': {
        'type': error_type, 'message': message, 'detail': ''}})


class AdminAPI:
    """Routes a request to ``controller.action`` by path, then method."""

    def __init__(self) -> None:
        self.mapper = routes.Mapper(explicit=True)
        # Route name -> (controller, {method: action}). Routes would turn
        # objects given as route defaults into strings.
        self.targets: dict[str, tuple[object, dict[str, str]]] = {}
        root_ctl = root.RootController()
        pods_ctl = pods.PodsController()
        self._connect('/', root_ctl, GET='versions')
        self._connect('/v1.0', root_ctl, GET='v1')
        self._connect('/v1.0/openapi.json', root_ctl, GET='openapi')
        self._connect('/v1.0/pods', pods_ctl, GET='index', POST='create')
        self._connect('/v1.0/pods/{pod_id}', pods_ctl, GET='show',
                      DELETE='delete')
        routings_ctl = routings.RoutingsController()
        self._connect('/v1.0/routings', routings_ctl, GET='index',
                      POST='create')
        self._connect('/v1.0/routings/{routing_id}', routings_ctl,
                      GET='show', PUT='update', DELETE='delete')
        self._connect('/v1.0/resources/{resource_type}/{resource_id}',
                      resources.ResourcesController(), GET='show')
        audits_ctl = audits.AuditsController()
        self._connect('/v1.0/audits', audits_ctl, GET='index')
        self._connect('/v1.0/audits/{audit_id}', audits_ctl, GET='show')
        jobs_ctl = jobs.JobsController()
        self._connect('/v1.0/jobs', jobs_ctl, GET='index', POST='create')
        # Fixed paths before '{job_id}': Routes matches in order.
        self._connect('/v1.0/jobs/detail', jobs_ctl, GET='index')
        self._connect('/v1.0/jobs/schemas', jobs_ctl, GET='schemas')
        self._connect('/v1.0/jobs/{job_id}', jobs_ctl, GET='show',
                      PUT='redo', DELETE='delete')

    def _connect(self, path: str, controller: object, **actions: str) -> None:
        # No method conditions here: a known path with another method
        # must give 405, not 404.
        self.mapper.connect(path, path)
        self.targets[path] = (controller, actions)

    @webob.dec.wsgify
    def __call__(self, req: webob.Request) -> webob.Response:
        where = _raw_path(req)  # logged as sent: it may not be UTF-8
        try:
            return self._dispatch(req)
        except n_exc.NeutronException as exc:
            status = t_exc.http_status(exc)
            if status == 500:  # a bug: log it, show no internals
                LOG.exception('%s %s failed', req.method, where)
                return error_response(500, 'HTTPInternalServerError',
                                      INTERNAL_ERROR)
            if status > 500:
                LOG.error('%s %s failed: %s', req.method, where, exc)
            else:
                LOG.info('%s %s refused (%d): %s', req.method, where,
                         status, exc)
            response = error_response(status, type(exc).__name__, str(exc))
            if isinstance(exc, t_exc.MethodNotAllowed):
                response.allow = exc.allowed
            return response
        except db_exc.DBConnectionError:
            LOG.exception('%s %s: Tricircle DB unreachable', req.method,
                          where)
            return error_response(503, 'ServiceUnavailable',
                                  'The Tricircle database is unreachable.')
        except Exception:
            LOG.exception('%s %s failed unexpectedly', req.method, where)
            return error_response(500, 'HTTPInternalServerError',
                                  INTERNAL_ERROR)

    def _dispatch(self, req: webob.Request) -> webob.Response:
        try:
            path = req.path_info.rstrip('/') or '/'
        except UnicodeDecodeError:  # not UTF-8: it names nothing here
            raise t_exc.UrlNotFound(path=_raw_path(req)) from None
        found = self.mapper.routematch(path)
        if found is None:
            raise t_exc.UrlNotFound(path=req.path_info)
        match, route = found
        controller, actions = self.targets[route.name]
        action = actions.get(req.method)
        if action is None:
            raise t_exc.MethodNotAllowed(req.method, req.path_info,
                                         list(actions))
        context = auth.get_context(req.environ)
        status, body = getattr(controller, action)(req, context, **match)
        return json_response(status, body)


def _raw_path(req: webob.Request) -> str:
    """The path as the WSGI server passed it (latin-1), never failing."""
    return req.environ.get('SCRIPT_NAME', '') + req.environ.get(
        'PATH_INFO', '')


def setup_app(conf: cfg.ConfigOpts = cfg.CONF) -> Any:
    """The Admin API behind the authentication ``auth_strategy`` asks for.

    The Tricircle DB is read from ``cfg.CONF`` (tricircle.db.core).
    """
    config.register_api_opts(conf)
    config.register_xjob_opts(conf)  # submitting jobs wakes the daemons
    registry.load(conf.xjob.job_modules)
    policy.reset()
    policy.get_enforcer(conf)
    return auth.wrap(AdminAPI(), conf)
