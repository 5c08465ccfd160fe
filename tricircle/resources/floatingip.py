"""Floating IPs: each lives in the region of its external network.

An external network lives in exactly one region, the one its router's
copy takes the gateway in (see tricircle.resources.router). A central
floating IP has a copy there, with central's address, associated with:

- the VM's own port, when the VM is in that region;
- otherwise the router's *proxy port*: a port of Tricircle's own, on a
  network of its own in the gateway region, made there alone (central
  has neither), which stands for the VMs of the router's other regions:
  the copy keeps the VM's address as its fixed IP, which the port itself
  does not have. Neutron there then NATs the floating IP to the VM's
  address, and the router's copy routes that address over the transit
  network to the VM's region (one route per remote subnet, as for
  east-west). The VM's region routes the replies, and all its default
  traffic, back to the gateway region: one NAT, at the gateway.

A proxy port names its router by its ``device_id``: the region's L3
plugin takes that router for the floating IP, and the address the copy
gives as the VM's (tricircle.network.local.l3). Its network (type
``local``: no segment to take from the ones central allocates) has one
IPv4 subnet, which Neutron's tables need and nothing routes to. The
router's proxy stays while its copy keeps the gateway there
(tricircle.xjob.floatingip_proxies).
"""
from __future__ import annotations

from neutron_lib.api.definitions import provider_net

from tricircle.resources import base

RESOURCE_NAME = 'floatingip'
COLLECTION_NAME = 'floatingips'

PROXY_NAME = 'tricircle-fip-proxy-%s'  # % router id
# The proxy's own subnet: no packet goes to it, any CIDR would do.
PROXY_CIDR = '169.254.0.0/30'
# Neither a VM's ("compute:...") nor Neutron's own ("network:..."): Neutron
# gives floating IPs to any port but a DHCP port.
PROXY_DEVICE_OWNER = 'tricircle:floatingip_proxy'

_COPIED = ('floating_network_id', 'floating_ip_address', 'project_id',
           'description')


def proxy_name(router_id: str) -> str:
    """The name of the network, subnet and port of ``router_id``'s
    floating IP proxy."""
    return PROXY_NAME % router_id


def is_proxy(port: dict) -> bool:
    return port.get('device_owner') == PROXY_DEVICE_OWNER


def regional_body(central_fip: dict, port_id: str | None) -> dict:
    """The region's copy, associated with ``port_id`` (the VM's port or
    its proxy) at the VM's address."""
    body = base.pick(central_fip, _COPIED)
    if port_id:
        body.update(port_id=port_id,
                    fixed_ip_address=central_fip['fixed_ip_address'])
    return body


def association_differs(copy: dict, port_id: str | None,
                        fixed_ip: str | None) -> bool:
    return (copy.get('port_id') != port_id or
            (port_id is not None and copy.get('fixed_ip_address') != fixed_ip))


def proxy_network_body(name: str, project_id: str | None) -> dict:
    body = {'name': name, 'admin_state_up': True, 'shared': False,
            provider_net.NETWORK_TYPE: 'local',
            'description': 'Tricircle: the floating IP proxy of a router, '
                           'for VMs of other regions'}
    if project_id:
        body['project_id'] = project_id
    return body


def proxy_subnet_body(name: str, network_id: str,
                      project_id: str | None) -> dict:
    body = {'name': name, 'network_id': network_id,
            'ip_version': 4, 'cidr': PROXY_CIDR, 'gateway_ip': None,
            'enable_dhcp': False}
    if project_id:
        body['project_id'] = project_id
    return body


def proxy_port_body(name: str, router_id: str, network_id: str,
                    subnet_id: str, project_id: str | None) -> dict:
    body = {'name': name, 'network_id': network_id,
            'device_owner': PROXY_DEVICE_OWNER, 'device_id': router_id,
            'fixed_ips': [{'subnet_id': subnet_id}],
            'port_security_enabled': False}
    if project_id:
        body['project_id'] = project_id
    return body
