"""Policy rules, context building and the keystone pipeline."""
from __future__ import annotations

import pytest
import webob
from neutron_lib import exceptions as n_exc
from oslo_config import cfg
from oslo_context import context as o_context

from tricircle.api import app as api_app
from tricircle.api import auth
from tricircle.api import openapi
from tricircle.api import schemas
from tricircle.api import policy
from tricircle.common import exceptions as t_exc


def test_rules_are_documented_and_admin_only():
    rules = {r.name: r for r in policy.list_rules()}
    assert rules['admin_api'].check_str == 'role:admin'
    for resource, actions in [
            ('pods', 'create delete show list'),
            ('routings', 'create delete put show list'),
            ('jobs', 'create list schema_list redo delete')]:
        for action in actions.split():
            rule = rules['admin_api:%s:%s' % (resource, action)]
            assert rule.check_str == 'rule:admin_api'
            assert rule.operations and rule.description


@pytest.mark.parametrize('roles,allowed', [
    (['admin'], True), (['member', 'admin'], True), (['member'], False),
    (['reader'], False), ([], False)])
def test_authorize(roles, allowed):
    policy.reset()
    ctx = o_context.RequestContext(project_id='p', user_id='u', roles=roles)
    if allowed:
        policy.authorize(ctx, 'pods:list')
    else:
        with pytest.raises(t_exc.PolicyNotAuthorized):
            policy.authorize(ctx, 'pods:list')


def _context_of(headers: dict, noauth: bool) -> o_context.RequestContext:
    seen = {}

    def app(environ, start_response):
        seen['ctx'] = auth.get_context(environ)
        start_response('204 No Content', [])
        return []
    webob.Request.blank('/', headers=headers).get_response(
        auth.ContextMiddleware(app, noauth=noauth))
    return seen['ctx']


def test_noauth_context():
    ctx = _context_of({}, noauth=True)
    assert (ctx.project_id, ctx.user_id, ctx.roles, ctx.is_admin) == (
        'admin', 'admin', ['admin'], True)
    ctx = _context_of({'X-Project-Id': 'p1', 'X-Roles': 'member'},
                      noauth=True)
    assert (ctx.project_id, ctx.roles, ctx.is_admin) == ('p1', ['member'],
                                                         False)
    # Behind keystonemiddleware, no headers means no identity at all ...
    assert _context_of({}, noauth=False).roles == []
    # ... and the headers it sets make the context.
    ctx = _context_of({'X-Project-Id': 'p2', 'X-User-Id': 'u2',
                       'X-Roles': 'Admin,member'}, noauth=False)
    assert (ctx.project_id, ctx.user_id, ctx.is_admin) == ('p2', 'u2', True)


def test_keystone_strategy_requires_a_token(sqlite_db):
    from keystonemiddleware import auth_token
    for group, opts in auth_token.list_opts():
        cfg.CONF.register_opts(opts, group=group)
    # Where clients are sent to get a token; never contacted here.
    cfg.CONF.set_override('www_authenticate_uri', 'http://keystone.invalid',
                          group='keystone_authtoken')
    cfg.CONF.set_override('auth_strategy', 'keystone')
    try:
        app = api_app.setup_app(cfg.CONF)
        # Forged identity headers without a token do not get in.
        res = webob.Request.blank('/v1.0/pods', headers={
            'X-Roles': 'admin', 'X-Project-Id': 'p'}).get_response(app)
        assert res.status_int == 401
        assert 'keystone.invalid' in res.headers['WWW-Authenticate']
        # The body is the API's own error, as the document says.
        assert res.content_type == 'application/json'
        assert res.json == {'NeutronError': {
            'type': 'HTTPUnauthorized', 'detail': '',
            'message': 'The request you have made requires '
                       'authentication.'}}
        doc = openapi.document(keystone=True)
        for path, methods in doc['paths'].items():
            for method, op in methods.items():
                assert op['responses']['401']['content'][
                    'application/json']['schema'] == schemas.ref('Error')
        assert doc['security'] == [{'keystone': []}]
        assert doc['components']['securitySchemes']['keystone'][
            'name'] == 'X-Auth-Token'
        # Even the versions need a token here: the document says so.
        res = webob.Request.blank('/').get_response(app)
        assert res.status_int == 401 and 'NeutronError' in res.json
    finally:
        cfg.CONF.clear_override('www_authenticate_uri',
                                group='keystone_authtoken')
        cfg.CONF.clear_override('auth_strategy')
        policy.reset()


@pytest.mark.parametrize('exc,status', [
    (t_exc.PodNotFound(pod_id='x'), 404), (t_exc.PodInUse(pod_id='x'), 409),
    (t_exc.DuplicateRegionName(region_name='R'), 409),
    (t_exc.MissingRequiredField(field='f'), 422),
    (t_exc.MalformedRequestBody(reason='r'), 400),
    (t_exc.PolicyNotAuthorized(action='a'), 403),
    (t_exc.MethodNotAllowed('PUT', '/', ['GET']), 405),
    (n_exc.NeutronException(), 500), (ValueError(), 500)])
def test_http_status(exc, status):
    assert t_exc.http_status(exc) == status
