"""Policy of the Admin API: everything is for cloud admins by default.

Operators may override any rule in ``policy.yaml`` ([oslo_policy]
policy_file); ``oslopolicy-sample-generator --namespace tricircle``
lists them through :func:`list_rules`.
"""
from __future__ import annotations

import threading
from typing import Any

from oslo_config import cfg
from oslo_context import context as o_context
from oslo_policy import policy

from tricircle.common import exceptions as t_exc

ADMIN_API = 'admin_api'

_ACTIONS = {
    'pods': [
        ('create', 'POST', '/v1.0/pods', 'Register a pod.'),
        ('delete', 'DELETE', '/v1.0/pods/{pod_id}', 'Delete a pod.'),
        ('show', 'GET', '/v1.0/pods/{pod_id}', 'Show a pod.'),
        ('list', 'GET', '/v1.0/pods', 'List pods.'),
    ],
    'routings': [
        ('create', 'POST', '/v1.0/routings', 'Create a resource routing.'),
        ('delete', 'DELETE', '/v1.0/routings/{id}', 'Delete a routing.'),
        ('put', 'PUT', '/v1.0/routings/{id}', 'Update a routing.'),
        ('show', 'GET', '/v1.0/routings/{id}', 'Show a routing.'),
        ('list', 'GET', '/v1.0/routings', 'List routings.'),
    ],
    'resources': [
        ('show', 'GET', '/v1.0/resources/{resource_type}/{resource_id}',
         "Show each region's sync state of a resource."),
    ],
    'audits': [
        ('list', 'GET', '/v1.0/audits',
         'List drift audit passes and their counts.'),
        ('show', 'GET', '/v1.0/audits/{audit_id}',
         'Show a drift audit pass.'),
    ],
    'jobs': [
        ('create', 'POST', '/v1.0/jobs', 'Create an asynchronous job.'),
        ('list', 'GET', '/v1.0/jobs', 'List jobs.'),
        ('schema_list', 'GET', '/v1.0/jobs/schemas',
         'List job schemas (also guards showing one job).'),
        ('show', 'GET', '/v1.0/jobs/{id}', 'Show a job.'),
        ('redo', 'PUT', '/v1.0/jobs/{id}', 'Redo a job.'),
        ('delete', 'DELETE', '/v1.0/jobs/{id}', 'Delete a job.'),
    ],
}


def list_rules() -> list[policy.RuleDefault]:
    """Entry point ``oslo.policy.policies: tricircle``."""
    rules: list[policy.RuleDefault] = [
        policy.RuleDefault(ADMIN_API, 'role:admin',
                           description='Cloud administrator.')]
    for resource, actions in _ACTIONS.items():
        for action, method, path, doc in actions:
            rules.append(policy.DocumentedRuleDefault(
                name='%s:%s:%s' % (ADMIN_API, resource, action),
                check_str='rule:%s' % ADMIN_API, description=doc,
                operations=[{'method': method, 'path': path}]))
    return rules


_lock = threading.Lock()
_enforcer: policy.Enforcer | None = None


def get_enforcer(conf: cfg.ConfigOpts = cfg.CONF) -> policy.Enforcer:
    global _enforcer
    with _lock:
        if _enforcer is None:
            _enforcer = policy.Enforcer(conf)
            _enforcer.register_defaults(list_rules())
        return _enforcer


def reset() -> None:
    global _enforcer
    with _lock:
        if _enforcer is not None:
            _enforcer.clear()
        _enforcer = None


def authorize(context: o_context.RequestContext, action: str,
              target: dict[str, Any] | None = None) -> None:
    """Raise PolicyNotAuthorized (403) unless ``action`` is allowed.

    ``action`` is the short name, e.g. ``pods:create``.
    """
    rule = '%s:%s' % (ADMIN_API, action)
    if target is None:
        target = {'project_id': context.project_id}
    try:
        get_enforcer().authorize(rule, target, context, do_raise=True)
    except policy.PolicyNotAuthorized:
        raise t_exc.PolicyNotAuthorized(action=rule) from None
