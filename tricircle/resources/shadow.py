"""Shadow ports and shadow agents: a region's view of another region's VMs.

A port bound in another region is copied into each region holding its
network as a *shadow port*: same id, MAC, addresses and security groups,
bound to the remote host, ACTIVE. The remote host appears as a *shadow
agent* carrying the remote tunnel endpoint the way Neutron's OVS agent
reports its own (``tunneling_ip``, ``tunnel_types``), so L2 population
tells the region's OVS agents to tunnel to the port as if it were local.
"""
from __future__ import annotations

from neutron_lib.api.definitions import portbindings

from tricircle.resources import binding

SHADOW_DEVICE_OWNER = binding.SHADOW_DEVICE_OWNER
SHADOW_PORT_NAME = 'shadow_port_%s'          # % central port id

# The agents ports bind to: the sandbox's host agents, and their shadows.
AGENT_TYPE = 'Tricircle host agent'
AGENT_BINARY = 'tricircle-host-agent'
SHADOW_AGENT_BINARY = 'tricircle-shadow-agent'
# Agent configuration keys: Neutron's OVS agent's own, which L2
# population reads (a shadow agent's tunnel endpoint and tunnel types are
# what makes a region's OVS agents tunnel to the remote host).
TUNNEL_IP = 'tunneling_ip'
TUNNEL_TYPES = 'tunnel_types'
BRIDGE_MAPPINGS = 'bridge_mappings'
SHADOW_OF_REGION = 'shadow_of_region'


def is_shadow(port: dict) -> bool:
    return port.get('device_owner') == SHADOW_DEVICE_OWNER


def port_id_of(name: str) -> str | None:
    """The central id a shadow port's name carries, or None."""
    prefix = SHADOW_PORT_NAME % ''
    return name[len(prefix):] if name and name.startswith(prefix) else None


def port_body(central_port: dict) -> dict:
    """The shadow of a port bound in another region, for a region's API.

    Neutron's API takes no id: the name carries it to the local plugin.
    """
    return {
        'name': SHADOW_PORT_NAME % central_port['id'],
        'network_id': central_port['network_id'],
        'project_id': central_port['project_id'],
        'mac_address': central_port['mac_address'],
        'fixed_ips': _addresses(central_port),
        'device_owner': SHADOW_DEVICE_OWNER,
        'device_id': central_port.get('device_id') or '',
        'admin_state_up': True,
        # The port's groups (those copied here): a group whose rules
        # name it as a remote group then admits the remote VM's address.
        'security_groups': list(central_port.get('security_groups') or []),
        'port_security_enabled': central_port.get('port_security_enabled',
                                                  True),
        # Members' pairs are members' addresses too (remote groups).
        'allowed_address_pairs': _pairs(central_port),
        **_binding(central_port),
    }


def _binding(central_port: dict) -> dict:
    """Where the shadow binds: the remote host and its tunnel endpoint."""
    profile = central_port.get(portbindings.PROFILE) or {}
    return {portbindings.HOST_ID: central_port[portbindings.HOST_ID],
            portbindings.PROFILE: {
                binding.PROFILE_REGION: profile.get(binding.PROFILE_REGION),
                binding.PROFILE_TUNNEL_IP: profile.get(
                    binding.PROFILE_TUNNEL_IP)}}


def _addresses(port: dict) -> list[dict]:
    return sorted(({'subnet_id': ip['subnet_id'],
                    'ip_address': ip['ip_address']}
                   for ip in port['fixed_ips']),
                  key=lambda ip: (ip['subnet_id'], ip['ip_address']))


def _pairs(port: dict) -> list[dict]:
    return sorted(({'ip_address': p['ip_address'],
                    'mac_address': p.get('mac_address') or
                    port['mac_address']}
                   for p in port.get('allowed_address_pairs') or []),
                  key=lambda p: (p['ip_address'], p['mac_address']))


def matches(shadow: dict, central_port: dict) -> bool:
    """Whether a region's shadow can go on standing for the central port
    (its MAC, which Neutron lets change only on an unbound port); what
    :func:`updates` names aside."""
    return shadow['mac_address'] == central_port['mac_address']


def updates(shadow: dict, central_port: dict) -> dict:
    """What an update of a matching shadow must set: its binding (the
    port moved to another host of its region), addresses, port security,
    groups (the members of a remote group here) and address pairs.

    In place rather than by deleting and making it again: the agents'
    caches of a region's ports (Neutron's RemoteResourceCache) take a
    deleted id as gone for good and ignore a port made again with it.
    """
    changes = {}
    where = _binding(central_port)
    if _binding(shadow) != where:
        changes.update(where)
    if _addresses(shadow) != _addresses(central_port):
        changes['fixed_ips'] = _addresses(central_port)
    security = central_port.get('port_security_enabled', True)
    if shadow.get('port_security_enabled', True) != security:
        changes['port_security_enabled'] = security
    groups = sorted(central_port.get('security_groups') or [])
    if sorted(shadow.get('security_groups') or []) != groups:
        changes['security_groups'] = groups
    if _pairs(shadow) != _pairs(central_port):
        changes['allowed_address_pairs'] = _pairs(central_port)
    return changes
