"""What a regional ("bottom") copy of a central resource looks like.

The one place that decides which central attributes a region's copy of a
network, subnet, port or security group carries, and which updates reach
the regions. Ids are always the central ids.
"""
from __future__ import annotations

import netaddr
from neutron_lib.api.definitions import external_net
from neutron_lib.api.definitions import portbindings
from neutron_lib.api.definitions import provider_net
from neutron_lib import constants as n_const

# Naming conventions of the resources Tricircle reserves on central.
DHCP_PORT_NAME = 'dhcp_port_%s'             # % subnet id
GATEWAY_PORT_NAME = 'interface_%s_%s'       # % (region, subnet id)
RESERVED_DHCP_DEVICE = 'reserved_dhcp_port'
RESERVED_GATEWAY_DEVICE = 'reserved_gateway_port'
RESERVED_DEVICES = (RESERVED_DHCP_DEVICE, RESERVED_GATEWAY_DEVICE)
# A port of another region, copied so that this region tunnels to it.
SHADOW_DEVICE_OWNER = 'compute:shadow'
SHADOW_PORT_NAME = 'shadow_port_%s'          # % central port id
# binding:profile keys of a reported binding (and of a shadow port).
PROFILE_REGION = 'region'
PROFILE_TUNNEL_IP = 'tunnel_ip'

_PROVIDER_ATTRS = (provider_net.NETWORK_TYPE, provider_net.PHYSICAL_NETWORK,
                   provider_net.SEGMENTATION_ID)

# Attributes whose change on central is pushed to every region's copy.
NETWORK_UPDATABLE = ('name', 'description', 'admin_state_up', 'shared',
                     'mtu', 'port_security_enabled')
SUBNET_UPDATABLE = ('name', 'description', 'enable_dhcp', 'dns_nameservers',
                    'host_routes')
PORT_UPDATABLE = ('name', 'description', 'admin_state_up',
                  'security_groups', 'allowed_address_pairs',
                  'port_security_enabled', 'extra_dhcp_opts')


def _pick(resource: dict, keys) -> dict:
    return {k: resource[k] for k in keys if k in resource}


def network_body(central_net: dict) -> dict:
    body = _pick(central_net, ('id', 'name', 'project_id', 'admin_state_up',
                               'shared', 'description', 'mtu',
                               'port_security_enabled',
                               external_net.EXTERNAL))
    # A "local" network has no segment to share: the region allocates.
    if central_net.get(provider_net.NETWORK_TYPE) not in (None, 'local'):
        body.update(_pick(central_net, _PROVIDER_ATTRS))
    elif central_net.get(provider_net.NETWORK_TYPE) == 'local':
        body[provider_net.NETWORK_TYPE] = 'local'
    return body


def subnet_body(central_subnet: dict, gateway_ip: str | None) -> dict:
    """A region's subnet: the central one with the region's gateway IP.

    The region's pools are the central pools without the region's gateway
    IP, plus the central gateway IP (which another region may use as its
    gateway, never as an address of a port here).
    """
    body = _pick(central_subnet, ('id', 'name', 'project_id', 'network_id',
                                  'ip_version', 'cidr', 'description',
                                  'enable_dhcp', 'dns_nameservers',
                                  'host_routes', 'ipv6_ra_mode',
                                  'ipv6_address_mode'))
    body['gateway_ip'] = gateway_ip
    body['allocation_pools'] = allocation_pools(
        central_subnet['allocation_pools'], central_subnet.get('gateway_ip'),
        gateway_ip, central_subnet['cidr'])
    return body


def allocation_pools(pools: list[dict], central_gateway: str | None,
                     local_gateway: str | None, cidr: str) -> list[dict]:
    ips = netaddr.IPSet()
    for pool in pools:
        ips.add(netaddr.IPRange(pool['start'], pool['end']))
    if central_gateway and central_gateway != local_gateway:
        ips.add(central_gateway)
    if local_gateway:
        ips.remove(local_gateway)
    # Neutron refuses pools holding the network (IPv6: subnet-router
    # anycast, often the central gateway) or the IPv4 broadcast address.
    ips &= netaddr.IPSet([_allocatable_range(netaddr.IPNetwork(cidr))])
    return [{'start': str(r[0]), 'end': str(r[-1])}
            for r in ips.iter_ipranges()]


def _allocatable_range(net: netaddr.IPNetwork) -> netaddr.IPRange:
    if net.version == 4 and net.prefixlen > 30:
        return netaddr.IPRange(net.first, net.last)
    last = net.last - 1 if net.version == 4 else net.last
    return netaddr.IPRange(net.first + 1, last)


def port_body(central_port: dict) -> dict:
    """A region's copy of a central port: same id, MAC and addresses."""
    body = _pick(central_port, ('id', 'name', 'project_id', 'network_id',
                                'mac_address', 'admin_state_up',
                                'description', 'device_owner', 'device_id',
                                'security_groups', 'allowed_address_pairs',
                                'port_security_enabled', 'extra_dhcp_opts'))
    body['fixed_ips'] = [{'subnet_id': ip['subnet_id'],
                          'ip_address': ip['ip_address']}
                         for ip in central_port['fixed_ips']]
    return body


def shadow_port_body(central_port: dict) -> dict:
    """The shadow of a port bound in another region, for a region's API.

    Neutron's API takes no id: the name carries it to the local plugin.
    """
    profile = central_port.get(portbindings.PROFILE) or {}
    return {
        'name': SHADOW_PORT_NAME % central_port['id'],
        'network_id': central_port['network_id'],
        'project_id': central_port['project_id'],
        'mac_address': central_port['mac_address'],
        'fixed_ips': [{'subnet_id': ip['subnet_id'],
                       'ip_address': ip['ip_address']}
                      for ip in central_port['fixed_ips']],
        'device_owner': SHADOW_DEVICE_OWNER,
        'device_id': central_port.get('device_id') or '',
        'admin_state_up': True,
        'security_groups': [],
        'port_security_enabled': False,
        portbindings.HOST_ID: central_port[portbindings.HOST_ID],
        portbindings.PROFILE: {
            PROFILE_REGION: profile.get(PROFILE_REGION),
            PROFILE_TUNNEL_IP: profile.get(PROFILE_TUNNEL_IP)},
    }


def shadow_port_id(name: str) -> str | None:
    """The central id a shadow port's name carries, or None."""
    prefix = SHADOW_PORT_NAME % ''
    return name[len(prefix):] if name and name.startswith(prefix) else None


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


def dhcp_port_body(central_dhcp_port: dict) -> dict:
    body = port_body(central_dhcp_port)
    body['device_owner'] = n_const.DEVICE_OWNER_DHCP
    body['security_groups'] = []
    return body


def security_group_body(central_sg: dict) -> dict:
    return _pick(central_sg, ('id', 'name', 'project_id', 'description',
                              'stateful'))


def security_group_rule_body(rule: dict) -> dict:
    return _pick(rule, ('id', 'project_id', 'security_group_id', 'direction',
                        'ethertype', 'protocol', 'port_range_min',
                        'port_range_max', 'remote_ip_prefix',
                        'remote_group_id', 'remote_address_group_id',
                        'description'))


def binding_report(region: str, port: dict,
                   tunnel_ip: str | None = None) -> dict:
    """What a region tells central about a port it bound (or unbound)."""
    return {
        portbindings.HOST_ID: port.get(portbindings.HOST_ID) or '',
        portbindings.PROFILE: {
            PROFILE_REGION: region,
            PROFILE_TUNNEL_IP: tunnel_ip,
            'vif_type': port.get(portbindings.VIF_TYPE),
            'vif_details': port.get(portbindings.VIF_DETAILS) or {},
            'vnic_type': port.get(portbindings.VNIC_TYPE),
        },
    }


def updated_attrs(original: dict, updated: dict, keys) -> dict:
    """The attributes among ``keys`` that an update changed."""
    return {k: updated[k] for k in keys
            if k in updated and original.get(k) != updated.get(k)}
