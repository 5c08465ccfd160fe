"""A router's floating IP proxy in its external network's region (see
tricircle.resources.floatingip): a network of type ``local``, one
subnet and one port, all named after the router and made there alone,
when the router's first floating IP for a VM of another region needs it
(floatingip_ahead or floatingip_setup). Every such floating IP of the
router is associated with that port, at its VM's own address.

The proxy stays while the router's copy keeps its gateway there, so that
a floating IP through it costs the region one request, as one for a VM
of the region does; tricircle.xjob.router_copy removes it with the
gateway or the copy.
"""
from __future__ import annotations

from neutron_lib.api.definitions import provider_net
from oslo_config import cfg
from oslo_log import log as logging

from tricircle import resources
from tricircle.resources import floatingip as fip_res

LOG = logging.getLogger(__name__)


def _project() -> str | None:
    return cfg.CONF.xjob.service_project_id


def _ports(client, router_id: str) -> list[dict]:
    # Only services set a proxy's device owner (a tenant's port copied
    # here cannot pass for one).
    return client.list(resources.PORT, device_owner=fip_res.PROXY_DEVICE_OWNER,
                       device_id=router_id)


def _networks(client, router_id: str) -> list[dict]:
    """The networks named as the router's proxy that are Tricircle's:
    type ``local``, of the service project (a tenant's network of that
    name, copied here from central, is neither)."""
    project = _project()
    return [net for net in client.list(resources.NETWORK,
                                       name=fip_res.proxy_name(router_id))
            if net.get(provider_net.NETWORK_TYPE) == 'local' and
            (project is None or net.get('project_id') == project)]


def _make(client, router_id: str) -> dict:
    """A new proxy of the router (on its network and subnet if a run
    that stopped made them); its port."""
    name = fip_res.proxy_name(router_id)
    nets = _networks(client, router_id)
    net = nets[0] if nets else client.create(
        resources.NETWORK, fip_res.proxy_network_body(name, _project()))
    subnets = client.list(resources.SUBNET, network_id=net['id'])
    subnet = subnets[0] if subnets else client.create(
        resources.SUBNET, fip_res.proxy_subnet_body(name, net['id'],
                                                    _project()))
    port = client.create(resources.PORT, fip_res.proxy_port_body(
        name, router_id, net['id'], subnet['id'], _project()))
    LOG.info('floating IP proxy port %s of router %s made', port['id'],
             router_id)
    return port


def ensure(client, router_id: str) -> dict:
    """The router's proxy port, made if it has none. Two jobs making it
    at once may make two: either serves, and both go together."""
    ports = _ports(client, router_id)
    return ports[0] if ports else _make(client, router_id)


def remove(client, router_id: str) -> int:
    """Delete the router's proxies, ports, subnets and networks (the
    copy is losing its gateway, or is deleted: no floating IP is served
    through them); how many there were."""
    ports = _ports(client, router_id)
    for port in ports:
        client.delete(resources.PORT, port['id'])
    nets = _networks(client, router_id)
    for net in nets:
        others = client.list(resources.PORT, network_id=net['id'])
        if others:  # not Tricircle's to delete
            LOG.warning('network %s (%s) kept: it has ports %s', net['id'],
                        net['name'], ', '.join(p['id'] for p in others))
            continue
        client.delete(resources.NETWORK, net['id'])
        LOG.info('floating IP proxy network %s of router %s deleted',
                 net['id'], router_id)
    return len(ports) + len(nets)
