"""A port's binding as one region reports it to central.

A region that binds a port tells central the host, the host's tunnel
endpoint and the VIF in ``binding:profile``; central shows it, and the
other regions build shadow ports from it (see ``shadow``).
"""
from __future__ import annotations

from neutron_lib.api.definitions import portbindings

# binding:profile keys of a reported binding (and of a shadow port).
PROFILE_REGION = 'region'
PROFILE_TUNNEL_IP = 'tunnel_ip'
PROFILE_VIF_TYPE = 'vif_type'
PROFILE_VIF_DETAILS = 'vif_details'
PROFILE_VNIC_TYPE = 'vnic_type'
# The port's status in its region (ACTIVE once its agent wired it).
PROFILE_STATUS = 'status'
# A port of another region, copied so that this region tunnels to it.
SHADOW_DEVICE_OWNER = 'compute:shadow'


def report(region: str, port: dict, tunnel_ip: str | None = None) -> dict:
    """What a region tells central about a port it bound (or unbound)."""
    return {
        portbindings.HOST_ID: port.get(portbindings.HOST_ID) or '',
        portbindings.PROFILE: {
            PROFILE_REGION: region,
            PROFILE_TUNNEL_IP: tunnel_ip,
            PROFILE_VIF_TYPE: port.get(portbindings.VIF_TYPE),
            PROFILE_VIF_DETAILS: port.get(portbindings.VIF_DETAILS) or {},
            PROFILE_VNIC_TYPE: port.get(portbindings.VNIC_TYPE),
            PROFILE_STATUS: port.get('status'),
        },
    }


def split_status(attrs: dict) -> tuple[dict, str | None]:
    """A region's report without its status, and the status.

    Central keeps the status as the port's own ``status``, not in the
    profile: a profile that changed would make ML2 bind the port again.
    """
    profile = attrs.get(portbindings.PROFILE)
    if not isinstance(profile, dict) or PROFILE_STATUS not in profile:
        return attrs, None
    profile = dict(profile)
    status = profile.pop(PROFILE_STATUS)
    return dict(attrs, **{portbindings.PROFILE: profile}), status


def remote_binding(central_port: dict) -> tuple[str, str, str] | None:
    """(region, host, tunnel_ip) of a port a region reported bound."""
    profile = central_port.get(portbindings.PROFILE) or {}
    host = central_port.get(portbindings.HOST_ID)
    region = profile.get(PROFILE_REGION)
    tunnel_ip = profile.get(PROFILE_TUNNEL_IP)
    if not (host and region and tunnel_ip) or \
            central_port.get('device_owner') == SHADOW_DEVICE_OWNER:
        return None
    return region, host, tunnel_ip
