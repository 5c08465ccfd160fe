"""A floating IP's proxy in its external network's region: a network of
type ``local``, a subnet with the CIDR of the VM's subnet and a port at
the VM's address, made there alone (see tricircle.resources.floatingip).
floatingip_ahead makes it while central commits a new floating IP;
floatingip_setup keeps it, and removes it with the association."""
from __future__ import annotations

from oslo_config import cfg
from oslo_log import log as logging

from tricircle import resources
from tricircle.resources import floatingip as fip_res
from tricircle.resources import regions

LOG = logging.getLogger(__name__)


def find(client, name: str) -> dict | None:
    nets = client.list(resources.NETWORK, name=name)
    return nets[0] if nets else None


def fits(client, net: dict, cidr: str, address: str,
         router_id: str) -> dict | None:
    """The proxy port of ``net`` if the proxy serves ``address`` (on a
    subnet of ``cidr``) through ``router_id``."""
    subnets, ports = regions.at_once(
        lambda: client.list(resources.SUBNET, network_id=net['id']),
        lambda: client.list(resources.PORT, network_id=net['id']))
    if (len(subnets) == 1 and subnets[0]['cidr'] == cidr and
            len(ports) == 1 and
            ports[0]['fixed_ips'][0]['ip_address'] == address and
            ports[0]['device_id'] == router_id and
            fip_res.is_proxy(ports[0])):
        return ports[0]
    return None


def make(client, name: str, cidr: str, address: str,
         router_id: str) -> dict:
    """A new proxy called ``name``; its port."""
    project = cfg.CONF.xjob.service_project_id
    net = client.create(resources.NETWORK,
                        fip_res.proxy_network_body(name, project))
    subnet = client.create(resources.SUBNET, fip_res.proxy_subnet_body(
        name, net['id'], cidr, project))
    port = client.create(resources.PORT, fip_res.proxy_port_body(
        name, router_id, net['id'], subnet['id'], address, project))
    LOG.info('proxy port %s (%s) for %s made', port['id'], name, address)
    return port


def ensure(client, name: str, cidr: str, address: str,
           router_id: str) -> dict:
    """The proxy called ``name``, made again if it serves something else
    (the floating IP moved to another address); its port."""
    net = find(client, name)
    if net is not None:
        port = fits(client, net, cidr, address, router_id)
        if port is not None:
            return port
        remove_network(client, net, force=True)
    return make(client, name, cidr, address, router_id)


def remove_network(client, net: dict, force: bool = False) -> bool:
    """Delete a proxy's network, unless (``force`` aside) a floating IP
    copy uses its port: a new floating IP at the same address may have
    taken the proxy of a deleted one before the delete's run came."""
    ports = client.list(resources.PORT, network_id=net['id'])
    if not force and any(client.list(resources.FLOATINGIP,
                                     port_id=port['id']) for port in ports):
        LOG.info('proxy network %s (%s) kept: a floating IP uses it',
                 net['id'], net.get('name'))
        return False
    for port in ports:
        client.delete(resources.PORT, port['id'])
    client.delete(resources.NETWORK, net['id'])
    LOG.info('proxy network %s (%s) deleted', net['id'], net.get('name'))
    return True


def remove(client, name: str) -> bool:
    """Delete the proxy called ``name`` if no floating IP uses it."""
    net = find(client, name)
    return net is not None and remove_network(client, net)


def remove_of_port(client, port_id: str | None) -> bool:
    """Delete the proxy whose port is ``port_id`` (a deleted copy's), if
    it is a proxy no floating IP uses."""
    port = client.get(resources.PORT, port_id) if port_id else None
    if port is None or not fip_res.is_proxy(port):
        return False
    return remove_network(client, {'id': port['network_id'],
                                   'name': port.get('name')})
