"""Ports that Tricircle reserves on central, and how they are named.

Each subnet has one DHCP port (the same address in every region) and,
per region using it, one gateway port holding that region's own gateway
address. They are found again by name: the name is the idempotency key.
"""
from __future__ import annotations

DHCP_PORT_NAME = 'dhcp_port_%s'             # % subnet id
GATEWAY_PORT_NAME = 'interface_%s_%s'       # % (region, subnet id)
RESERVED_DHCP_DEVICE = 'reserved_dhcp_port'
RESERVED_GATEWAY_DEVICE = 'reserved_gateway_port'
RESERVED_DEVICES = (RESERVED_DHCP_DEVICE, RESERVED_GATEWAY_DEVICE)


def dhcp_port_name(subnet_id: str) -> str:
    return DHCP_PORT_NAME % subnet_id


def gateway_port_name(region: str, subnet_id: str) -> str:
    return GATEWAY_PORT_NAME % (region, subnet_id)


def gateway_port_body(region: str, network_id: str, project_id: str,
                      subnet_id: str, ip_address: str | None = None) -> dict:
    """What a region asks central to reserve as its gateway on a subnet
    (any free address, or ``ip_address``)."""
    fixed_ip = {'subnet_id': subnet_id}
    if ip_address:
        fixed_ip['ip_address'] = ip_address
    return {'name': gateway_port_name(region, subnet_id),
            'network_id': network_id, 'project_id': project_id,
            'fixed_ips': [fixed_ip],
            'device_id': RESERVED_GATEWAY_DEVICE, 'device_owner': '',
            'security_groups': []}


def is_reserved(port: dict) -> bool:
    return port.get('device_id') in RESERVED_DEVICES


def is_user_port(port: dict) -> bool:
    """Not one of the ports Tricircle or Neutron itself reserves."""
    return (not is_reserved(port) and
            not (port.get('device_owner') or '').startswith('network:'))
