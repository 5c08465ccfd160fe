"""Floating IPs: each lives in the region of its external network.

An external network lives in exactly one region, the one its router's
copy takes the gateway in (see tricircle.resources.router). A central
floating IP has a copy there, with central's address, associated with:

- the VM's own port, when the VM is in that region;
- otherwise a *proxy port*: a port of Tricircle's own on a network of its
  own in the gateway region, made there alone (central has neither: an
  address the region's Neutron NATs to, nothing else). Its subnet has the
  CIDR of the VM's subnet and its address is the VM's. Neutron there
  then NATs the floating IP to the VM's address, and the router's copy
  routes that address over the transit network to the VM's region (one
  route per remote subnet, as for east-west). The VM's region routes the
  replies, and all its default traffic, back to the gateway region: one
  NAT, at the gateway.

A proxy port says which router serves it by its ``device_id``, so that
the region's L3 plugin takes that router for the floating IP (the VM's
subnet is not on the copy there). A proxy port is named after the
floating IP's external network and address, which it gets before central
has committed the floating IP (floatingip_ahead), and goes with the
association. It is on the router's proxy network there (type ``local``:
no segment to take from the ones central allocates), whose subnets, one
per CIDR the proxies need, stay while the router's copy keeps its
gateway there (tricircle.xjob.floatingip_proxies).
"""
from __future__ import annotations

from neutron_lib.api.definitions import provider_net

from tricircle.resources import base

RESOURCE_NAME = 'floatingip'
COLLECTION_NAME = 'floatingips'

PROXY_NAME = 'tricircle-fip-%s-%s'  # % (external network id, address)
PROXY_NETWORK_NAME = 'tricircle-fip-router-%s'  # % router id
# Neither a VM's ("compute:...") nor Neutron's own ("network:..."): Neutron
# gives floating IPs to any port but a DHCP port.
PROXY_DEVICE_OWNER = 'tricircle:floatingip_proxy'

_COPIED = ('floating_network_id', 'floating_ip_address', 'project_id',
           'description')


def proxy_name(network_id: str, address: str) -> str:
    """The proxy of the floating IP at ``address`` on external network
    ``network_id``."""
    return PROXY_NAME % (network_id, address)


def proxy_network_name(router_id: str) -> str:
    """The network (and subnets) of the proxies served by ``router_id``."""
    return PROXY_NETWORK_NAME % router_id


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
            'description': 'Tricircle: holds the VM addresses floating IPs '
                           'are translated to'}
    if project_id:
        body['project_id'] = project_id
    return body


def proxy_subnet_body(name: str, network_id: str, cidr: str,
                      project_id: str | None) -> dict:
    body = {'name': name, 'network_id': network_id,
            'ip_version': 4, 'cidr': cidr, 'gateway_ip': None,
            'enable_dhcp': False}
    if project_id:
        body['project_id'] = project_id
    return body


def proxy_port_body(name: str, router_id: str, network_id: str,
                    subnet_id: str, ip_address: str,
                    project_id: str | None) -> dict:
    body = {'name': name, 'network_id': network_id,
            'device_owner': PROXY_DEVICE_OWNER, 'device_id': router_id,
            'fixed_ips': [{'subnet_id': subnet_id,
                           'ip_address': ip_address}],
            'port_security_enabled': False}
    if project_id:
        body['project_id'] = project_id
    return body
