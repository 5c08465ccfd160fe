"""Subnets: a region's copy has the region's own gateway address."""
from __future__ import annotations

import netaddr
from neutron_lib import exceptions as n_exc

from tricircle.resources import base

RESOURCE_NAME = 'subnet'
COLLECTION_NAME = 'subnets'

UPDATABLE = ('name', 'description', 'enable_dhcp', 'dns_nameservers',
             'host_routes')
_COPIED = ('id', 'name', 'project_id', 'network_id', 'ip_version', 'cidr',
           'description', 'enable_dhcp', 'dns_nameservers', 'host_routes',
           'ipv6_ra_mode', 'ipv6_address_mode')


def regional_body(central_subnet: dict,
                  gateway_ip: str | None = None) -> dict:
    """A region's subnet: the central one with the region's gateway IP.

    The region's pools are the central pools without the region's gateway
    IP, plus the central gateway IP (which another region may use as its
    gateway, never as an address of a port here).
    """
    body = base.pick(central_subnet, _COPIED)
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


SPEC = base.ResourceSpec(
    name=RESOURCE_NAME, collection=COLLECTION_NAME,
    not_found=lambda res_id: n_exc.SubnetNotFound(subnet_id=res_id),
    regional_body=regional_body, updatable=UPDATABLE,
    # A subnet comes with its network: copying the network copies all
    # its subnets (see the local plugin).
    depends_on=lambda central: [('network', central['network_id'])])
