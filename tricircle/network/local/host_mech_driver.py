"""ML2 mechanism driver of a regional Neutron for shadow and host agents.

Shadow agents, which the local plugin creates for hosts of other
regions, carry the remote tunnel endpoint; a shadow port binds to its
remote host here, and L2 population then programs the region's OVS
agents to tunnel to it. Listed after ``openvswitch``, this driver binds
only what Neutron's own driver does not: shadow ports, and (sandbox
``--agents lite``) ports of hosts whose agent is the sandbox's host
agent, which reports agents of this same type.
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

    def bind_port(self, context) -> None:
        if not shadow.is_shadow(context.current):
            return super().bind_port(context)
        # A shadow agent has no heartbeat of its own (its host is alive
        # in another region): bind regardless of it.
        for agent in context.host_agents(self.agent_type):
            if agent['binary'] != shadow.SHADOW_AGENT_BINARY:
                continue
            for segment in context.segments_to_bind:
                if self.try_to_bind_segment_for_agent(context, segment,
                                                      agent):
                    return
        LOG.warning('shadow port %s: no segment of network %s fits the '
                    'shadow agent of host %s', context.current['id'],
                    context.network.current['id'], context.host)

    def _insert_provisioning_block(self, context):
        # The host agent has no RPC channel to clear a block: a bound
        # port is as far as this region can take it.
        return
