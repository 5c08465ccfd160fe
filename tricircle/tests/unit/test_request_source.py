"""Which peer sent a request, and the plugin's own calls inside it."""
from neutron_lib import context as n_context
import pytest
import webob
import webob.dec

from tricircle.network import request_source
from tricircle.resources import regions


def _served_context(headers: dict, is_admin: bool):
    """The context the app behind the filter sees."""
    seen = {}

    @webob.dec.wsgify
    def app(req):
        seen['context'] = req.environ['neutron.context']
        return webob.Response()

    ctx = n_context.Context('user', 'project', is_admin=is_admin)
    req = webob.Request.blank('/v2.0/ports', headers=headers)
    req.environ['neutron.context'] = ctx
    req.get_response(request_source.RequestSource(app))
    return seen['context']


def test_header_from_a_service_names_the_region():
    ctx = _served_context({regions.SOURCE_HEADER: 'RegionOne'}, True)
    assert request_source.requesting_peer(ctx) == 'RegionOne'


def test_header_from_an_ordinary_user_is_ignored():
    ctx = _served_context({regions.SOURCE_HEADER: 'RegionOne'}, False)
    assert request_source.requesting_peer(ctx) is None


def test_inner_calls_hide_the_region_and_restore_it():
    ctx = n_context.get_admin_context()
    setattr(ctx, request_source.CONTEXT_ATTR, 'RegionTwo')
    with request_source.plugin_own_reads(ctx) as region:
        assert region == 'RegionTwo'
        assert request_source.requesting_peer(ctx) is None
        # what ML2 derives inside the call does not carry it either
        assert request_source.requesting_peer(ctx.elevated()) is None
    assert request_source.requesting_peer(ctx) == 'RegionTwo'


def test_inner_calls_restore_the_region_after_an_error():
    ctx = n_context.get_admin_context()
    setattr(ctx, request_source.CONTEXT_ATTR, 'RegionTwo')
    with pytest.raises(RuntimeError):
        with request_source.plugin_own_reads(ctx):
            raise RuntimeError('ML2 failed')
    assert request_source.requesting_peer(ctx) == 'RegionTwo'


def test_inner_calls_of_a_user_request_change_nothing():
    ctx = n_context.Context('user', 'project')
    with request_source.plugin_own_reads(ctx) as region:
        assert region is None
    assert request_source.requesting_peer(ctx) is None


PORT_ID = '0b9e7d2a-5b55-4a8e-9d0c-6e9f2a3c1d44'


@pytest.mark.parametrize('headers, is_admin, expected', [
    ({regions.SOURCE_HEADER: 'RegionOne',
      regions.RESOURCE_ID_HEADER: PORT_ID}, True, PORT_ID),
    # only a region's service request may name the id of a new port
    ({regions.RESOURCE_ID_HEADER: PORT_ID}, True, None),
    ({regions.SOURCE_HEADER: 'RegionOne',
      regions.RESOURCE_ID_HEADER: PORT_ID}, False, None),
    ({regions.SOURCE_HEADER: 'RegionOne',
      regions.RESOURCE_ID_HEADER: 'not-a-uuid'}, True, None),
])
def test_proposed_id(headers, is_admin, expected):
    ctx = _served_context(headers, is_admin)
    assert request_source.proposed_id(ctx) == expected
