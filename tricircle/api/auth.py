"""Who is calling: keystonemiddleware or noauth, then a RequestContext."""
from __future__ import annotations

from typing import Any, Callable

import webob
import webob.dec
from oslo_config import cfg
from oslo_context import context as o_context
from oslo_serialization import jsonutils

CONTEXT_KEY = 'tricircle.context'

# Identity headers of keystonemiddleware, as WSGI environ keys.
_IDENTITY_KEYS = ('HTTP_X_PROJECT_ID', 'HTTP_X_TENANT_ID', 'HTTP_X_ROLES',
                  'HTTP_X_ROLE', 'HTTP_X_USER_ID')
_NOAUTH_ADMIN = {'HTTP_X_PROJECT_ID': 'admin', 'HTTP_X_USER_ID': 'admin',
                 'HTTP_X_ROLES': 'admin'}

WSGIApp = Callable[[dict, Callable], Any]


class ContextMiddleware:
    """Attach an oslo.context RequestContext to every request.

    With ``noauth`` the identity headers are trusted as sent; a request
    without any is the admin of project ``admin`` (as in Neutron).
    """

    def __init__(self, app: WSGIApp, noauth: bool) -> None:
        self.app = app
        self.noauth = noauth

    def __call__(self, environ: dict, start_response: Callable) -> Any:
        if self.noauth and not any(environ.get(k) for k in _IDENTITY_KEYS):
            environ.update(_NOAUTH_ADMIN)
        context = o_context.RequestContext.from_environ(environ)
        context.is_admin = 'admin' in [r.lower() for r in context.roles]
        environ[CONTEXT_KEY] = context
        return self.app(environ, start_response)


class NeutronErrorOn401:
    """keystonemiddleware's 401 in the API's own error body.

    Its ``{"error": {...}}`` body is not what the document promises; the
    status and the WWW-Authenticate header are kept as they are.
    """

    def __init__(self, app: WSGIApp) -> None:
        self.app = app

    @webob.dec.wsgify
    def __call__(self, req: webob.Request) -> webob.Response:
        resp = req.get_response(self.app)
        if resp.status_int != 401:
            return resp
        message = 'The request you have made requires authentication.'
        try:
            message = jsonutils.loads(resp.body)['error']['message']
        except (ValueError, KeyError, TypeError):
            pass
        resp.content_type = 'application/json'
        resp.charset = 'utf-8'
        resp.body = jsonutils.dump_as_bytes({'NeutronError': {
            'type': 'HTTPUnauthorized', 'message': message, 'detail': ''}})
        return resp


def get_context(environ: dict) -> o_context.RequestContext:
    return environ[CONTEXT_KEY]


def wrap(app: WSGIApp, conf: cfg.ConfigOpts) -> WSGIApp:
    """Add authentication in front of ``app`` per ``auth_strategy``."""
    if conf.auth_strategy == 'noauth':
        return ContextMiddleware(app, noauth=True)
    from keystonemiddleware import auth_token
    # auth_token validates the token, strips forged identity headers and
    # sets the real ones; its options are read from [keystone_authtoken].
    return NeutronErrorOn401(auth_token.AuthProtocol(
        ContextMiddleware(app, noauth=False),
        {'oslo_config_config': conf, 'oslo_config_project': 'tricircle'}))
