"""Device owners only Tricircle's services set (central and regions)."""
from __future__ import annotations

from tricircle.network import exceptions as t_exc
from tricircle.resources import floatingip as fip_res


def refuse_proxy_owner(context, attrs: dict) -> None:
    """A floating IP's proxy port names the router that NATs to its
    address: only XJob (an admin) makes them, or a tenant's floating IP
    could be served by another tenant's router."""
    if attrs.get('device_owner') == fip_res.PROXY_DEVICE_OWNER and \
            not context.is_admin:
        raise t_exc.DeviceOwnerReserved(device_owner=attrs['device_owner'])
