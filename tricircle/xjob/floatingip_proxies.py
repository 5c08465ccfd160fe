"""Floating IP proxies in the external network's region (see
tricircle.resources.floatingip), made there alone:

- one network of type ``local`` per router, named after it;
- on it, one subnet per CIDR of the router's subnets in other regions,
  made when a floating IP first needs it;
- one port per floating IP, named after its address, at the VM's
  address.

A floating IP's port comes and goes with its association
(floatingip_ahead makes it while central commits a new floating IP,
floatingip_setup keeps it and removes it). The network and its subnets
stay while the router's copy keeps its gateway there, so that the next
floating IP through that router makes one port, not three resources:
tricircle.xjob.router_copy removes them with the gateway or the copy.
"""
from __future__ import annotations

import netaddr
from oslo_config import cfg
from oslo_log import log as logging

from tricircle import resources
from tricircle.resources import floatingip as fip_res
from tricircle.resources import neutron_client
from tricircle.resources import regions

LOG = logging.getLogger(__name__)


def _project() -> str | None:
    return cfg.CONF.xjob.service_project_id


def _in_use(client, port_id: str) -> bool:
    return bool(client.list(resources.FLOATINGIP, port_id=port_id))


def _fits(port: dict, subnet_ids: set[str], address: str,
          router_id: str) -> bool:
    ips = port['fixed_ips']
    return (fip_res.is_proxy(port) and port['device_id'] == router_id and
            len(ips) == 1 and ips[0]['ip_address'] == address and
            ips[0]['subnet_id'] in subnet_ids)


def _network(client, router_id: str) -> dict:
    """The router's proxy network, made if it has none. Two jobs making
    it at once may make two: both serve, and both go together."""
    name = fip_res.proxy_network_name(router_id)
    nets = client.list(resources.NETWORK, name=name)
    if nets:
        return nets[0]
    net = client.create(resources.NETWORK,
                        fip_res.proxy_network_body(name, _project()))
    LOG.info('proxy network %s of router %s made', net['id'], router_id)
    return net


def _clear_overlaps(client, net: dict, cidr: str) -> None:
    """Delete the network's subnets that overlap ``cidr`` (of a subnet
    the router no longer has), with their unused ports."""
    new = netaddr.IPNetwork(cidr)
    for subnet in client.list(resources.SUBNET, network_id=net['id']):
        old = netaddr.IPNetwork(subnet['cidr'])
        if old == new or not (old in new or new in old):
            continue
        for port in client.list(resources.PORT, network_id=net['id']):
            if any(ip['subnet_id'] == subnet['id']
                   for ip in port['fixed_ips']):
                if _in_use(client, port['id']):
                    raise neutron_client.RemoteConflict(
                        server=client.name, status=409, reason='proxy subnet '
                        '%s (%s) overlaps %s and a floating IP uses it' % (
                            subnet['id'], subnet['cidr'], cidr))
                client.delete(resources.PORT, port['id'])
        client.delete(resources.SUBNET, subnet['id'])
        LOG.info('proxy subnet %s (%s) deleted: it overlapped %s',
                 subnet['id'], subnet['cidr'], cidr)


def _subnet(client, router_id: str, cidr: str) -> dict:
    """The router's proxy subnet of ``cidr``, made (with the network) if
    it has none."""
    net = _network(client, router_id)
    name = fip_res.proxy_network_name(router_id)
    _clear_overlaps(client, net, cidr)
    try:
        subnet = client.create(resources.SUBNET, fip_res.proxy_subnet_body(
            name, net['id'], cidr, _project()))
    except neutron_client.RemoteBadRequest:
        # Made meanwhile by another job (Neutron refuses an overlap).
        made = client.list(resources.SUBNET, network_id=net['id'],
                           cidr=cidr)
        if not made:
            raise
        return made[0]
    LOG.info('proxy subnet %s (%s) of router %s made', subnet['id'], cidr,
             router_id)
    return subnet


def _free_address(client, subnet: dict, address: str) -> bool:
    """Delete an unused proxy port holding ``address`` on ``subnet`` (of
    a floating IP whose removal has not run yet); whether one was."""
    freed = False
    for port in client.list(resources.PORT, network_id=subnet['network_id'],
                            fixed_ips=['ip_address=%s' % address]):
        if fip_res.is_proxy(port) and not _in_use(client, port['id']):
            client.delete(resources.PORT, port['id'])
            freed = True
    return freed


def ensure(client, name: str, cidr: str, address: str,
           router_id: str) -> dict:
    """The proxy port called ``name``: at ``address`` on the router's
    proxy subnet of ``cidr``, made (again, if the floating IP moved to
    another address) when it is not so."""
    ports, subnets = regions.at_once(
        lambda: client.list(resources.PORT, name=name),
        lambda: client.list(resources.SUBNET, cidr=cidr,
                            name=fip_res.proxy_network_name(router_id)))
    subnet_ids = {s['id'] for s in subnets}
    for port in ports:
        if _fits(port, subnet_ids, address, router_id):
            return port
    for port in ports:  # the floating IP's proxy, at its old address
        client.delete(resources.PORT, port['id'])
    subnet = subnets[0] if subnets else _subnet(client, router_id, cidr)
    body = fip_res.proxy_port_body(name, router_id, subnet['network_id'],
                                   subnet['id'], address, _project())
    try:
        port = client.create(resources.PORT, body)
    except neutron_client.RemoteConflict:
        if not _free_address(client, subnet, address):
            raise
        port = client.create(resources.PORT, body)
    LOG.info('proxy port %s (%s) for %s made', port['id'], name, address)
    return port


def _remove_port(client, port: dict) -> bool:
    """Delete a proxy port unless a floating IP copy uses it: a new
    floating IP at the same address may have taken the proxy of a
    deleted one before the delete's run came."""
    if _in_use(client, port['id']):
        LOG.info('proxy port %s (%s) kept: a floating IP uses it',
                 port['id'], port.get('name'))
        return False
    client.delete(resources.PORT, port['id'])
    LOG.info('proxy port %s (%s) deleted', port['id'], port.get('name'))
    return True


def remove(client, name: str) -> bool:
    """Delete the proxy port called ``name`` if no floating IP uses it."""
    removed = False
    for port in client.list(resources.PORT, name=name):
        if fip_res.is_proxy(port):
            removed = _remove_port(client, port) or removed
    return removed


def remove_of_port(client, port_id: str | None) -> bool:
    """Delete ``port_id`` (the port a copy left) if it is a proxy no
    floating IP uses."""
    port = client.get(resources.PORT, port_id) if port_id else None
    return port is not None and fip_res.is_proxy(port) and \
        _remove_port(client, port)


def remove_networks(client, router_id: str) -> int:
    """Delete the router's proxy networks, their ports and subnets (the
    copy lost its gateway, or is deleted: no floating IP is served
    through it); how many there were."""
    nets = client.list(resources.NETWORK,
                       name=fip_res.proxy_network_name(router_id))
    for net in nets:
        for port in client.list(resources.PORT, network_id=net['id']):
            client.delete(resources.PORT, port['id'])
        client.delete(resources.NETWORK, net['id'])
        LOG.info('proxy network %s of router %s deleted', net['id'],
                 router_id)
    return len(nets)
