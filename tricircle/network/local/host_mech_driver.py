"""ML2 mechanism driver of a regional Neutron for Tricircle host agents.

A host agent (the sandbox's stand-in for the OVS agent with L2
population) reports one agent row per compute host, with the host's
tunnel endpoint in its configurations. Shadow agents, which the local
plugin creates for hosts of other regions, have the same type: a shadow
port binds to its remote host exactly like a local port to a local host,
so every agent of the region tunnels to it.
"""
from __future__ import annotations

from neutron.plugins.ml2.drivers import mech_agent
from neutron_lib.api.definitions import portbindings
from neutron_lib import constants as n_const
from oslo_log import log as logging

from tricircle.network import extensions
from tricircle.resources import shadow

LOG = logging.getLogger(__name__)

NETWORK_TYPES = (n_const.TYPE_VXLAN, n_const.TYPE_VLAN, n_const.TYPE_FLAT,
                 n_const.TYPE_LOCAL)


class HostAgentMechanismDriver(mech_agent.SimpleAgentMechanismDriverBase):
    """Binds ports to hosts that run (or shadow) a Tricircle host agent."""

    def __init__(self) -> None:
        super().__init__(shadow.AGENT_TYPE, portbindings.VIF_TYPE_TAP,
                         {portbindings.CAP_PORT_FILTER: False})

    @property
    def connectivity(self) -> str:
        return portbindings.CONNECTIVITY_L2

    def initialize(self) -> None:
        LOG.info('Tricircle host agent mechanism driver initialized')

    def supported_extensions(self, extensions_: set) -> set:
        return extensions.supported(extensions_)

    def get_allowed_network_types(self, agent=None):
        return NETWORK_TYPES

    def get_mappings(self, agent):
        return agent['configurations'].get(shadow.BRIDGE_MAPPINGS, {})

    def _insert_provisioning_block(self, context):
        # The host agent has no RPC channel to clear a block: a bound
        # port is as far as this region can take it.
        return
