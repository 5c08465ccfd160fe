"""Names shared by the plugins, the Admin API and XJob."""

# Resource types a routing may map (the original's valid types).
RT_NETWORK = 'network'
RT_SUBNET = 'subnet'
RT_PORT = 'port'
RT_ROUTER = 'router'
RT_SECURITY_GROUP = 'security_group'
RT_TRUNK = 'trunk'
RT_PORT_PAIR = 'port_pair'
RT_PORT_PAIR_GROUP = 'port_pair_group'
RT_FLOW_CLASSIFIER = 'flow_classifier'
RT_PORT_CHAIN = 'port_chain'
RT_QOS_POLICY = 'qos_policy'
RESOURCE_TYPES = (RT_NETWORK, RT_SUBNET, RT_PORT, RT_ROUTER,
                  RT_SECURITY_GROUP, RT_TRUNK, RT_PORT_PAIR,
                  RT_PORT_PAIR_GROUP, RT_FLOW_CLASSIFIER, RT_PORT_CHAIN,
                  RT_QOS_POLICY)
