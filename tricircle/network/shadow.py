"""Shadow ports and shadow agents in a regional Neutron.

A port bound in another region is copied here as a *shadow port*: same
id, MAC and addresses, bound to the remote host. The remote host appears
as a *shadow agent* (same agent type as the real host agents, with the
remote tunnel endpoint), so this region's agents tunnel to the port as
if it were local — Neutron's own L2 population model, across regions.
"""
from __future__ import annotations

from neutron_lib.api.definitions import portbindings
from neutron_lib.api.definitions import provider_net
from neutron_lib import constants as n_const
from oslo_db import exception as db_exc
from oslo_log import log as logging

from tricircle.common import exceptions as t_exc
from tricircle.network import bottom
from tricircle.network import host_mech_driver as host_mech

LOG = logging.getLogger(__name__)


def agent_tunnel_ip(plugin, context, host: str) -> str | None:
    """The tunnel endpoint a host agent of this region reported."""
    for agent in plugin.get_agents(context.elevated(), filters={
            'host': [host], 'agent_type': [host_mech.AGENT_TYPE]}):
        if agent['binary'] == host_mech.AGENT_BINARY:
            return agent['configurations'].get(host_mech.TUNNEL_IP)
    return None


def ensure_shadow_agent(plugin, context, host: str, region: str,
                        tunnel_ip: str, physnet: str | None) -> None:
    """Create or refresh the agent row that stands for a remote host."""
    admin = context.elevated()
    mappings: dict[str, str] = {}
    for agent in plugin.get_agents(admin, filters={
            'host': [host], 'agent_type': [host_mech.AGENT_TYPE]}):
        if agent['binary'] != host_mech.SHADOW_AGENT_BINARY:
            # A host of this region has that name: never overwrite it.
            raise t_exc.InvalidInput(reason='host %s is a host of this '
                                     'region, not of %s' % (host, region))
        mappings = dict(agent['configurations'].get(
            host_mech.BRIDGE_MAPPINGS) or {})
    if physnet:
        mappings[physnet] = physnet
    plugin.create_or_update_agent(admin, {
        'agent_type': host_mech.AGENT_TYPE,
        'binary': host_mech.SHADOW_AGENT_BINARY,
        'host': host, 'topic': 'N/A',
        'configurations': {host_mech.TUNNEL_IP: tunnel_ip,
                           host_mech.SHADOW_OF_REGION: region,
                           host_mech.BRIDGE_MAPPINGS: mappings}})


def create_shadow_port(plugin, context, attrs: dict, create) -> dict:
    """Create the shadow port central's job asked for, with its id.

    ``create(context, body)`` is ML2's own create_port.
    """
    port_id = bottom.shadow_port_id(attrs.get('name') or '')
    profile = attrs.get(portbindings.PROFILE)
    host = attrs.get(portbindings.HOST_ID)
    if not port_id or not isinstance(profile, dict) or \
            host in (None, '', n_const.ATTR_NOT_SPECIFIED):
        raise t_exc.InvalidInput(reason='a shadow port needs the name %s, '
                                 'a binding host and a binding profile'
                                 % (bottom.SHADOW_PORT_NAME % '<port id>'))
    region = profile.get(bottom.PROFILE_REGION)
    tunnel_ip = profile.get(bottom.PROFILE_TUNNEL_IP)
    if not region or not tunnel_ip:
        raise t_exc.InvalidInput(reason='the binding profile of a shadow '
                                 'port needs region and tunnel_ip')
    network = plugin.get_network(context, attrs['network_id'])
    ensure_shadow_agent(plugin, context, host, region, tunnel_ip,
                        network.get(provider_net.PHYSICAL_NETWORK))
    try:
        port = create(context, {'port': dict(attrs, id=port_id)})
    except db_exc.DBDuplicateEntry:
        port = plugin.get_port(context, port_id)
    LOG.info('shadow port %s of %s host %s (%s) created', port_id, region,
             host, tunnel_ip)
    return port


def is_shadow(port: dict) -> bool:
    return port.get('device_owner') == bottom.SHADOW_DEVICE_OWNER
