"""Resource types: what each is and how its regional copy is built.

One module per resource type with a ``SPEC`` (see ``base.ResourceSpec``);
this package names every type by a constant and finds specs by name. The
plugins, XJob and the Admin API use these constants, never literals.
"""
from __future__ import annotations

from tricircle.common import exceptions as t_exc
from tricircle.resources import address_group
from tricircle.resources import base
from tricircle.resources import floatingip
from tricircle.resources import network
from tricircle.resources import port
from tricircle.resources import router
from tricircle.resources import security_group
from tricircle.resources import subnet

NETWORK = network.RESOURCE_NAME
SUBNET = subnet.RESOURCE_NAME
PORT = port.RESOURCE_NAME
SECURITY_GROUP = security_group.RESOURCE_NAME
ADDRESS_GROUP = address_group.RESOURCE_NAME
ROUTER = router.RESOURCE_NAME
# No spec: a floating IP's copy is made by floatingip_setup alone.
FLOATINGIP = floatingip.RESOURCE_NAME
# Types with no spec yet: regions do not copy them (routings may still
# name them, as the original's Admin API accepted them).
SECURITY_GROUP_RULE = 'security_group_rule'
DEFAULT_SECURITY_GROUP_RULE = 'default_security_group_rule'
TRUNK = 'trunk'
QOS_POLICY = 'qos_policy'
PORT_PAIR = 'port_pair'
PORT_PAIR_GROUP = 'port_pair_group'
FLOW_CLASSIFIER = 'flow_classifier'
PORT_CHAIN = 'port_chain'

SPECS: dict[str, base.ResourceSpec] = {
    spec.name: spec for spec in (network.SPEC, subnet.SPEC, port.SPEC,
                                 address_group.SPEC, security_group.SPEC,
                                 router.SPEC)}

# Types a resource routing may map (the Admin API's routing types).
ROUTING_TYPES = (NETWORK, SUBNET, PORT, ROUTER, SECURITY_GROUP, FLOATINGIP,
                 TRUNK, PORT_PAIR, PORT_PAIR_GROUP, FLOW_CLASSIFIER, PORT_CHAIN,
                 QOS_POLICY, ADDRESS_GROUP)

# API collection of every type a peer is called for.
COLLECTIONS: dict[str, str] = {
    **{name: spec.collection for name, spec in SPECS.items()},
    FLOATINGIP: 'floatingips',
    SECURITY_GROUP_RULE: 'security_group_rules',
    DEFAULT_SECURITY_GROUP_RULE: 'default_security_group_rules',
}


def get(resource_type: str) -> base.ResourceSpec:
    """The spec of a resource type regions copy."""
    try:
        return SPECS[resource_type]
    except KeyError:
        raise t_exc.InvalidInput(
            reason='resource type %s has no regional copies (known: %s)' %
            (resource_type, ', '.join(sorted(SPECS))))
