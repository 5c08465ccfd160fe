"""The sandbox's compute hosts: names, tunnel endpoints, clients.

Each region gets ``HOSTS_PER_REGION`` hosts named ``<region>-h<n>`` with
tunnel endpoints ``172.30.<region #>.<host #>`` on one underlay that
joins every host of every region (a WAN in one bridge).
"""
from __future__ import annotations

import hashlib
import os

from tricircle.sandbox import neutron_conf
from tricircle.sandbox import outside
from tricircle.sandbox import state as sb_state

HOSTS_PER_REGION = 2
UNDERLAY_PREFIX = '172.30'
UNDERLAY_PREFIXLEN = 16
# Every host's physnets; the L3 host of an external region has extnet too.
PHYSNETS = sorted({r.split(':')[0]
                   for r in neutron_conf.VLAN_RANGES.split(',')}
                  - {outside.EXTNET})


def host_names(region: str) -> list[str]:
    return ['%s-h%d' % (region, i + 1) for i in range(HOSTS_PER_REGION)]


def l3_host(region: str) -> str:
    """The region's host that runs neutron-l3-agent: its first."""
    return host_names(region)[0]


def physnets_of(state: sb_state.SandboxState, host: str) -> list[str]:
    """The physnets in the host's bridge_mappings."""
    external = {l3_host(r) for r in state.external_regions}
    return sorted(PHYSNETS + [outside.EXTNET]) if host in external \
        else list(PHYSNETS)


def hosts_of(state: sb_state.SandboxState, region: str) -> dict[str, str]:
    """Host name -> tunnel IP for one region of the sandbox."""
    # By region ordinal, not dict order: sandbox.json sorts its keys.
    index = sb_state.region_names(len(state.regions)).index(region) + 1
    return {name: '%s.%d.%d' % (UNDERLAY_PREFIX, index, i + 1)
            for i, name in enumerate(host_names(region))}


def all_hosts(state: sb_state.SandboxState) -> dict[str, tuple[str, str]]:
    """Host name -> (region, tunnel IP) for every region."""
    return {host: (region, ip) for region in state.regions
            for host, ip in hosts_of(state, region).items()}


def fabric_tag(state: sb_state.SandboxState) -> str:
    """A short tag unique to this state dir: two sandboxes never share
    a namespace or link name."""
    return hashlib.sha1(os.path.abspath(state.state_dir).encode()
                        ).hexdigest()[:4]


def ovs_host(state: sb_state.SandboxState, host: str):
    """The Open vSwitch of a host of an ``--agents ovs`` sandbox."""
    from tricircle.sandbox.dataplane import fabric
    from tricircle.sandbox.dataplane import ovs
    return ovs.OvsHost(fabric.Fabric(fabric_tag(state)), host,
                       os.path.join(state.state_dir, 'data', 'hosts', host),
                       physnets_of(state, host))


def neutron_connection(state: sb_state.SandboxState, cloud: str):
    """An openstacksdk connection to a cloud of the sandbox's clouds.yaml."""
    import openstack.config
    import openstack.connection
    # Not OS_CLIENT_CONFIG_FILE: it would win over this sandbox's file,
    # and a caller may have pointed it at another sandbox.
    config = openstack.config.OpenStackConfig(config_files=[os.path.join(
        state.state_dir, sb_state.CLOUDS_FILE)], load_envvars=False)
    return openstack.connection.Connection(
        config=config.get_one(cloud=cloud))
