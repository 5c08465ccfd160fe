"""Ports: a region's copy has central's id, MAC and addresses."""
from __future__ import annotations

from neutron_lib import constants as n_const
from neutron_lib import exceptions as n_exc

from tricircle.resources import base

RESOURCE_NAME = 'port'
COLLECTION_NAME = 'ports'

UPDATABLE = ('name', 'description', 'admin_state_up', 'fixed_ips',
             'security_groups', 'allowed_address_pairs',
             'port_security_enabled', 'extra_dhcp_opts')
_COPIED = ('id', 'name', 'project_id', 'network_id', 'mac_address',
           'admin_state_up', 'description', 'device_owner', 'device_id',
           'security_groups', 'allowed_address_pairs',
           'port_security_enabled', 'extra_dhcp_opts')


def fixed_ips(port: dict) -> list[dict]:
    return [{'subnet_id': ip['subnet_id'], 'ip_address': ip['ip_address']}
            for ip in port['fixed_ips']]


def regional_body(central_port: dict) -> dict:
    body = base.pick(central_port, _COPIED)
    body['fixed_ips'] = fixed_ips(central_port)
    if body.get('device_owner') in n_const.ROUTER_INTERFACE_OWNERS:
        # A router's interface by port (router add port) is copied free:
        # the region's copy of the router takes it (Neutron there accepts
        # only a port of no device), which sets both again.
        body.update(device_owner='', device_id='')
    return body


def dhcp_port_body(central_dhcp_port: dict) -> dict:
    """A region's copy of the DHCP port central reserved for a subnet."""
    body = regional_body(central_dhcp_port)
    body['device_owner'] = n_const.DEVICE_OWNER_DHCP
    body['security_groups'] = []
    return body


def depends_on(central_port: dict) -> list[base.Dependency]:
    return ([('network', central_port['network_id'])] +
            [('subnet', ip['subnet_id']) for ip in central_port['fixed_ips']] +
            [('security_group', sg_id)
             for sg_id in central_port.get('security_groups') or []])


SPEC = base.ResourceSpec(
    name=RESOURCE_NAME, collection=COLLECTION_NAME,
    not_found=lambda res_id: n_exc.PortNotFound(port_id=res_id),
    regional_body=regional_body, updatable=UPDATABLE, depends_on=depends_on)
