"""Neutron's own agents on the sandbox hosts (``--agents ovs``).

Each compute host runs ``neutron-openvswitch-agent`` (VXLAN with L2
population and the ARP responder, the OVS firewall, the userspace
datapath); the first host of each region also runs ``neutron-l3-agent``.
They reach their region's RabbitMQ vhost through the relay on the host's
own 127.0.0.1 (:mod:`tricircle.sandbox.nsrelay`).

Workarounds this machine needs (see docs/sandbox.md): ``root_helper =
env`` (the agents run as root, and there is no sudo), the OVS agent's
privileged calls in its own process (no privsep daemons: ~150 MB less
per host), and a private ``/run/netns`` for each L3 agent, or two L3
agents on one machine delete each other's routers.
"""
from __future__ import annotations

import os
import sys

from tricircle.sandbox import neutron_conf

OVS_AGENT = 'ovs-agent'
L3_AGENT = 'l3-agent'
# What neutron-openvswitch-agent logs once its stale-flow cleanup ran.
OVS_AGENT_CLEANED = 'cleanup stale flows. Elapsed'
# Their agent_type in "openstack network agent list".
OVS_TYPE = 'Open vSwitch agent'
L3_TYPE = 'L3 agent'
RELAY_PORT = 5672       # the AMQP port inside every host namespace
REPORT_INTERVAL = 10    # seconds between an agent's state reports


def _bin_dir() -> str:
    return os.path.dirname(sys.executable)


def agent_env(ovs_env: dict[str, str]) -> dict[str, str]:
    """The environment of an agent of one host: its OVS, and the venv's
    ``privsep-helper`` on PATH (``root_helper = env`` finds it there)."""
    return dict(ovs_env, PATH=_bin_dir() + os.pathsep +
                os.environ.get('PATH', '/usr/sbin:/usr/bin:/sbin:/bin'))


def _common(host: str, transport_url: str, state_path: str,
            ovs: dict) -> dict[str, dict[str, str]]:
    return {
        'DEFAULT': {'host': host, 'transport_url': transport_url,
                    'state_path': state_path, 'debug': 'false',
                    'use_stderr': 'true'},
        'agent': {'root_helper': 'env', 'report_interval':
                  str(REPORT_INTERVAL)},
        'oslo_concurrency': {'lock_path': os.path.join(state_path, 'lock')},
        'ovs': ovs,
    }


def write_ovs_agent(etc_dir: str, host: str, transport_url: str,
                    state_path: str, tunnel_ip: str,
                    bridges: dict[str, str], mappings: dict[str, str],
                    db_sock: str) -> str:
    """The OVS agent's config file for ``host``."""
    sections = _common(host, transport_url, state_path, {
        'local_ip': tunnel_ip,
        'datapath_type': 'netdev',
        'integration_bridge': bridges['int'],
        'tunnel_bridge': bridges['tun'],
        'bridge_mappings': ','.join('%s:%s' % kv
                                    for kv in sorted(mappings.items())),
        'ovsdb_connection': 'unix:' + db_sock,
    })
    sections['agent'].update({'tunnel_types': 'vxlan',
                              'l2_population': 'true',
                              'arp_responder': 'true',
                              # A VM's port is wired within a second.
                              'polling_interval': '1'})
    sections['securitygroup'] = {'firewall_driver': 'openvswitch',
                                 'enable_security_group': 'true'}
    return _write(etc_dir, 'ovs-agent-%s.ini' % host, sections)


def write_l3_agent(etc_dir: str, host: str, transport_url: str,
                   state_path: str, bridges: dict[str, str],
                   db_sock: str) -> str:
    """The L3 agent's config file for ``host`` (no metadata proxy)."""
    sections = _common(host, transport_url, state_path, {
        'integration_bridge': bridges['int'],
        'ovsdb_connection': 'unix:' + db_sock,
    })
    sections['DEFAULT'].update({'interface_driver': 'openvswitch',
                                'ovs_use_veth': 'true',
                                'enable_metadata_proxy': 'false'})
    return _write(etc_dir, 'l3-agent-%s.ini' % host, sections)


def _write(etc_dir: str, name: str, sections) -> str:
    path = os.path.join(etc_dir, name)
    with open(path, 'w') as f:
        neutron_conf.ini_parser(sections).write(f)
    return path


def ovs_agent_argv(ns: str, conf: str) -> list[str]:
    return ['ip', 'netns', 'exec', ns, sys.executable, '-m',
            'tricircle.sandbox.agent_main', 'ovs', '--config-file', conf]


def l3_agent_argv(ns: str, conf: str) -> list[str]:
    # "ip netns exec" gives the command a mount namespace of its own: a
    # tmpfs on /run/netns there keeps this agent's qrouter namespaces
    # out of every other agent's sight. "nsenter -t PID -m ip netns"
    # looks inside.
    return ['ip', 'netns', 'exec', ns, 'sh', '-c',
            'mount -t tmpfs tcsb-netns /run/netns && exec "$@"', 'l3-agent',
            sys.executable, '-m', 'tricircle.sandbox.agent_main', 'l3',
            '--config-file', conf]
