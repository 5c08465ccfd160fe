"""Shadow ports and shadow agents in a regional Neutron.

What they are: tricircle.resources.shadow. Here: creating them in the
region's DB, below the API (the shadow agent is no agent of this region,
and the shadow port keeps central's id).
"""
from __future__ import annotations

from neutron_lib.api.definitions import portbindings
from neutron_lib.api.definitions import provider_net
from neutron_lib import constants as n_const
from oslo_db import exception as db_exc
from oslo_log import log as logging

from tricircle.common import exceptions as t_exc
from tricircle.resources import binding
from tricircle.resources import shadow as shadow_res

LOG = logging.getLogger(__name__)


def agent_tunnel_ip(plugin, context, host: str) -> str | None:
    """The tunnel endpoint an L2 agent of this region reported for
    ``host``: Neutron's OVS agent or the sandbox's host agent, both as
    ``tunneling_ip`` (never a shadow agent: those are other regions')."""
    for agent in plugin.get_agents(context.elevated(),
                                   filters={'host': [host]}):
        if agent['binary'] != shadow_res.SHADOW_AGENT_BINARY:
            ip = (agent.get('configurations') or {}).get(
                shadow_res.TUNNEL_IP)
            if ip:
                return ip
    return None


def ensure_shadow_agent(plugin, context, host: str, region: str,
                        tunnel_ip: str, physnet: str | None) -> None:
    """Create or refresh the agent row that stands for a remote host."""
    admin = context.elevated()
    mappings: dict[str, str] = {}
    for agent in plugin.get_agents(admin, filters={
            'host': [host], 'agent_type': [shadow_res.AGENT_TYPE]}):
        if agent['binary'] != shadow_res.SHADOW_AGENT_BINARY:
            # A host of this region has that name: never overwrite it.
            raise t_exc.InvalidInput(reason='host %s is a host of this '
                                     'region, not of %s' % (host, region))
        mappings = dict(agent['configurations'].get(
            shadow_res.BRIDGE_MAPPINGS) or {})
    if physnet:
        mappings[physnet] = physnet
    plugin.create_or_update_agent(admin, {
        'agent_type': shadow_res.AGENT_TYPE,
        'binary': shadow_res.SHADOW_AGENT_BINARY,
        'host': host, 'topic': 'N/A',
        'configurations': {shadow_res.TUNNEL_IP: tunnel_ip,
                           shadow_res.TUNNEL_TYPES: [n_const.TYPE_VXLAN],
                           shadow_res.SHADOW_OF_REGION: region,
                           shadow_res.BRIDGE_MAPPINGS: mappings}})


def _agent_for(plugin, context, network_id: str, host: str,
               profile: dict) -> str:
    """Record the shadow agent a shadow port binds to on ``host``; its
    tunnel endpoint."""
    region = profile.get(binding.PROFILE_REGION)
    tunnel_ip = profile.get(binding.PROFILE_TUNNEL_IP)
    if not host or not region or not tunnel_ip:
        raise t_exc.InvalidInput(reason='the binding profile of a shadow '
                                 'port needs region and tunnel_ip')
    network = plugin.get_network(context, network_id)
    ensure_shadow_agent(plugin, context, host, region, tunnel_ip,
                        network.get(provider_net.PHYSICAL_NETWORK))
    return tunnel_ip


def create_shadow_port(plugin, context, attrs: dict, create) -> dict:
    """Create the shadow port central's job asked for, with its id.

    ``create(context, body)`` is ML2's own create_port.
    """
    port_id = shadow_res.port_id_of(attrs.get('name') or '')
    profile = attrs.get(portbindings.PROFILE)
    host = attrs.get(portbindings.HOST_ID)
    if not port_id or not isinstance(profile, dict) or \
            host in (None, '', n_const.ATTR_NOT_SPECIFIED):
        raise t_exc.InvalidInput(reason='a shadow port needs the name %s, '
                                 'a binding host and a binding profile'
                                 % (shadow_res.SHADOW_PORT_NAME % '<port id>'))
    tunnel_ip = _agent_for(plugin, context, attrs['network_id'], host,
                           profile)
    attrs = dict(attrs, id=port_id, security_groups=_groups_here(
        plugin, context, attrs.get('security_groups')))
    try:
        port = create(context, {'port': attrs})
    except db_exc.DBDuplicateEntry:
        port = plugin.get_port(context, port_id)
    if port['status'] != n_const.PORT_STATUS_ACTIVE:
        # No agent wires a shadow port: it is up where it lives. ACTIVE
        # is what makes L2 population announce it (FDB entries, and the
        # flood entry of its host) to this region's OVS agents.
        plugin.update_port_status(context, port_id,
                                  n_const.PORT_STATUS_ACTIVE, host=host)
        port['status'] = n_const.PORT_STATUS_ACTIVE
    LOG.info('shadow port %s of %s host %s (%s) created', port_id,
             profile.get(binding.PROFILE_REGION), host, tunnel_ip)
    return port


def update_shadow_port(plugin, context, original: dict, attrs: dict,
                       update) -> dict:
    """Update a shadow in place: central's job moves it to its port's new
    host, or gives it new addresses or groups.

    ``update(context, port_id, body)`` is ML2's own update_port.
    """
    host = attrs.get(portbindings.HOST_ID)
    moved = host not in (None, n_const.ATTR_NOT_SPECIFIED) and \
        host != original.get(portbindings.HOST_ID)
    if moved:
        profile = attrs.get(portbindings.PROFILE)
        tunnel_ip = _agent_for(plugin, context, original['network_id'], host,
                               profile if isinstance(profile, dict) else {})
    port = update(context, original['id'], {'port': attrs})
    if port['status'] != n_const.PORT_STATUS_ACTIVE:
        # ML2 sets a port it binds again DOWN: ACTIVE again, on its new
        # host, for L2 population to announce it there.
        plugin.update_port_status(context, port['id'],
                                  n_const.PORT_STATUS_ACTIVE,
                                  host=port.get(portbindings.HOST_ID))
        port['status'] = n_const.PORT_STATUS_ACTIVE
    if moved:
        LOG.info('shadow port %s moved to host %s (%s)', port['id'], host,
                 tunnel_ip)
    return port


def _groups_here(plugin, context, sg_ids) -> list[str]:
    """The port's security groups that this region holds.

    A group is copied here when a port of this region uses it; one that
    only remote ports use matters to no rule here.
    """
    if not sg_ids or sg_ids is n_const.ATTR_NOT_SPECIFIED:
        return []
    # default_sg=True: a lookup, never a default group made on the way.
    here = plugin.get_security_groups(context.elevated(),
                                      filters={'id': list(sg_ids)},
                                      fields=['id'], default_sg=True)
    return [sg['id'] for sg in here]
