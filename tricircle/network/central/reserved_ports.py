"""The ports Tricircle reserves on central: DHCP and per-region gateways.

``ml2`` everywhere is ML2's own plugin API (the central plugin's super()):
these ports are made and removed below the central plugin's own rules.
"""
from __future__ import annotations

from neutron_lib import constants as n_const

from tricircle.common import exceptions as common_exc
from tricircle.db import api as db_api
from tricircle.db import creation_lock
from tricircle.network.central import uses
from tricircle import resources
from tricircle.resources import reserved


def reserve_dhcp_port(ml2, context, subnet: dict) -> dict:
    """One DHCP address per subnet, the same in every region."""
    return ml2.create_port(context.elevated(), {'port': {
        'name': reserved.dhcp_port_name(subnet['id']),
        'network_id': subnet['network_id'],
        'project_id': subnet['project_id'],
        'fixed_ips': [{'subnet_id': subnet['id']}],
        'device_id': reserved.RESERVED_DHCP_DEVICE,
        'device_owner': n_const.DEVICE_OWNER_DHCP,
        'admin_state_up': True,
        'mac_address': n_const.ATTR_NOT_SPECIFIED,
        'security_groups': []}})


def on_subnet(ml2, context, subnet_id: str, *devices: str) -> list[dict]:
    return ml2.get_ports(context.elevated(), filters={
        'fixed_ips': {'subnet_id': [subnet_id]},
        'device_id': list(devices or reserved.RESERVED_DEVICES)})


def delete(ml2, context, port: dict) -> None:
    ml2.delete_port(context.elevated(), port['id'])
    if port['name']:
        # A gateway port's routing is keyed by its name.
        uses.forget(resources.PORT, port['name'])


def delete_on_network(ml2, context, network_id: str) -> None:
    for port in ml2.get_ports(context.elevated(), filters={
            'network_id': [network_id],
            'device_id': list(reserved.RESERVED_DEVICES)}):
        delete(ml2, context, port)


def gateway_port(ml2, context, attrs: dict) -> dict:
    """A region's own gateway address on a subnet, reserved once even
    when several requests of the region ask at the same time."""
    name = attrs.get('name') or ''
    admin = context.elevated()

    def find():
        ports = ml2.get_ports(admin, filters={
            'name': [name], 'device_id': [reserved.RESERVED_GATEWAY_DEVICE]})
        return ports[0]['id'] if ports else None

    def create():
        return ml2.create_port(context, {'port': attrs})['id']

    top_pod = db_api.get_top_pod()
    if top_pod is None:
        raise common_exc.CentralPodNotRegistered()
    _created, port_id = creation_lock.get_or_create(
        name, top_pod['pod_id'], resources.PORT, attrs.get('project_id'),
        create, find)
    return ml2.get_port(admin, port_id)
