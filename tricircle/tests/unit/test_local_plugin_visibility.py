"""For whom a region fetches central's resources (tenancy).

Central answers a region's fetch for a project with Neutron's own rules
(tests/sandbox/test_tenancy.py); here: which project the region names.
"""
from __future__ import annotations

from types import SimpleNamespace

from tricircle.network.local import copies
from tricircle.resources import regions


def _ctx(project_id, is_admin=False):
    return SimpleNamespace(project_id=project_id, is_admin=is_admin)


def test_a_member_fetches_for_its_project():
    assert copies.requester_headers(_ctx('A')) == {
        regions.REQUESTER_HEADER: 'A'}


def test_admin_and_noauth_fetch_for_everyone():
    assert copies.requester_headers(_ctx('B', is_admin=True)) == {}
    assert copies.requester_headers(_ctx(None)) == {}


def test_policy_lookups_with_an_anonymous_admin_act_for_the_requester():
    """Neutron's policy engine fetches a port's network with
    get_admin_context(); the request's user is the current context."""
    from neutron_lib import context as n_context
    n_context.Context(user_id='u', project_id='B')  # B's request
    admin = n_context.get_admin_context()
    assert copies.requester_headers(admin) == {regions.REQUESTER_HEADER: 'B'}
    n_context.Context(user_id='u', project_id='A')  # A's request
    assert copies.requester_headers(admin) == {regions.REQUESTER_HEADER: 'A'}


def test_elevated_contexts_keep_admin_rights():
    """ML2's own lookups (context.elevated()) are not the requester's."""
    from neutron_lib import context as n_context
    user = n_context.Context(user_id='u', project_id='B')
    assert copies.requester_headers(user.elevated()) == {}
