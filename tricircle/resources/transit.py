"""A router's transit network: Tricircle's own link between its copies.

A router with copies in several regions gets one transit network on
central, stretched to those regions like any network, and one transit
port per region, which that region's copy takes as an internal interface.
A packet between regions then crosses one link, between two copies of the
same router; the router's external gateway stays free for north-south.

The network, its subnet and ports belong to the service project and are
not shared: tenants neither see nor use them. The subnet is the first
block of the configured pool (RFC 6598 space by default) that overlaps
none of the router's own subnets: transit networks of different routers
never meet, so they may reuse the same block.
"""
from __future__ import annotations

import netaddr

NETWORK_NAME = 'tricircle-transit-%s'        # % router id
SUBNET_NAME = 'tricircle-transit-%s'         # % router id
PORT_NAME = 'tricircle-transit-%s-%s'        # % (router id, region)
# What the transit ports are, on central (their copies are interfaces).
DEVICE_OWNER = ''


def network_name(router_id: str) -> str:
    return NETWORK_NAME % router_id


def port_name(router_id: str, region: str) -> str:
    return PORT_NAME % (router_id, region)


def region_of_port(router_id: str, name: str) -> str | None:
    prefix = PORT_NAME % (router_id, '')
    return name[len(prefix):] if name.startswith(prefix) else None


class NoTransitBlock(Exception):
    pass


def choose_cidr(pool: str, prefixlen: int, avoid: list[str]) -> str:
    """The first ``/prefixlen`` of ``pool`` overlapping none of ``avoid``."""
    taken = netaddr.IPSet(c for c in avoid
                          if netaddr.IPNetwork(c).version == 4)
    for block in netaddr.IPNetwork(pool).subnet(prefixlen):
        if not taken & netaddr.IPSet([block]):
            return str(block)
    raise NoTransitBlock('no /%d of %s is free of the router\'s subnets %s'
                         % (prefixlen, pool, ', '.join(avoid)))


def network_body(router_id: str, project_id: str | None) -> dict:
    body = {'name': network_name(router_id), 'admin_state_up': True,
            'shared': False,
            'description': 'Tricircle: links the copies of router %s'
                           % router_id}
    if project_id:
        body['project_id'] = project_id
    return body


def subnet_body(router_id: str, network_id: str, cidr: str,
                project_id: str | None) -> dict:
    body = {'name': SUBNET_NAME % router_id, 'network_id': network_id,
            'ip_version': 4, 'cidr': cidr, 'gateway_ip': None,
            'enable_dhcp': False}
    if project_id:
        body['project_id'] = project_id
    return body


def port_body(router_id: str, region: str, network_id: str,
              project_id: str | None) -> dict:
    body = {'name': port_name(router_id, region), 'network_id': network_id,
            'device_owner': DEVICE_OWNER, 'device_id': '',
            'security_groups': []}
    if project_id:
        body['project_id'] = project_id
    return body
