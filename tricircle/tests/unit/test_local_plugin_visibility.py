"""Who may make a region copy central's resources (tenancy)."""
from __future__ import annotations

from types import SimpleNamespace

from tricircle.network.local import copies


def _ctx(project_id, is_admin=False):
    return SimpleNamespace(project_id=project_id, is_admin=is_admin)


NET_A = {'id': 'n1', 'project_id': 'A', 'shared': False}
SHARED_B = {'id': 'n2', 'project_id': 'B', 'shared': True}


def test_owner_sees_its_resource():
    assert copies.visible(_ctx('A'), NET_A, NET_A)
    assert copies.visible(_ctx('A'), {'project_id': 'A'})


def test_other_project_does_not():
    assert not copies.visible(_ctx('B'), NET_A, NET_A)
    assert not copies.visible(_ctx('B'), {'project_id': 'A'})


def test_shared_network_is_visible_to_all():
    assert copies.visible(_ctx('A'), SHARED_B, SHARED_B)
    # 'shared' only counts for the network itself.
    assert not copies.visible(_ctx('A'), {'project_id': 'B',
                                                 'shared': True})


def test_admin_and_noauth_see_everything():
    assert copies.visible(_ctx('B', is_admin=True), NET_A, NET_A)
    assert copies.visible(_ctx(None), NET_A, NET_A)


def test_missing_is_invisible():
    assert not copies.visible(_ctx('A', is_admin=True), None)


def test_policy_lookups_with_an_anonymous_admin_act_for_the_requester():
    """Neutron's policy engine fetches a port's network with
    get_admin_context(); the request's user is the current context."""
    from neutron_lib import context as n_context
    n_context.Context(user_id='u', project_id='B')  # B's request
    admin = n_context.get_admin_context()
    assert not copies.visible(admin, NET_A, NET_A)
    assert copies.visible(admin, SHARED_B, SHARED_B)
    n_context.Context(user_id='u', project_id='A')  # A's request
    assert copies.visible(admin, NET_A, NET_A)


def test_elevated_contexts_keep_admin_rights():
    """ML2's own lookups (context.elevated()) are not the requester's."""
    from neutron_lib import context as n_context
    user = n_context.Context(user_id='u', project_id='B')
    assert copies.visible(user.elevated(), NET_A, NET_A)
