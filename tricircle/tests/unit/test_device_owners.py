"""Only services set the device owner of floating IP proxy ports."""
import types

import pytest

from tricircle.network import device_owners
from tricircle.network import exceptions as t_exc
from tricircle.resources import floatingip as fip_res


def _ctx(is_admin: bool):
    return types.SimpleNamespace(is_admin=is_admin)


def test_a_member_cannot_make_or_turn_a_port_into_a_proxy():
    attrs = {'device_owner': fip_res.PROXY_DEVICE_OWNER, 'device_id': 'r'}
    with pytest.raises(t_exc.DeviceOwnerReserved) as err:
        device_owners.refuse_proxy_owner(_ctx(False), attrs)
    assert fip_res.PROXY_DEVICE_OWNER in str(err.value)
    device_owners.refuse_proxy_owner(_ctx(True), attrs)  # XJob may
    device_owners.refuse_proxy_owner(_ctx(False),
                                     {'device_owner': 'compute:nova'})
