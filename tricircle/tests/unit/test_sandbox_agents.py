"""The config files the sandbox writes for Neutron's agents and servers."""
from __future__ import annotations

import configparser

from tricircle.sandbox import agents
from tricircle.sandbox import neutron_conf
from tricircle.sandbox.dataplane import ovs


def _read(path: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(interpolation=None)
    parser.read(path)
    return parser


def test_bridges_carry_the_fabric_prefix_and_fit_in_an_ifname():
    bridges = ovs.bridge_names('ab12', ['physnet1', 'physnet2'])
    assert bridges['int'] == 'tcsbab12-int'
    assert bridges['physnet2'] == 'tcsbab12-v2'
    assert all(b.startswith('tcsbab12') and len(b) <= 15
               for b in bridges.values())


def test_ovs_agent_uses_vxlan_l2pop_the_ovs_firewall_and_netdev(tmp_path):
    bridges = ovs.bridge_names('ab12', ['physnet1'])
    conf = _read(agents.write_ovs_agent(
        str(tmp_path), 'R1-h1', 'rabbit://u:p@127.0.0.1:5672/R1',
        str(tmp_path / 'state'), '172.30.1.1', bridges,
        {'physnet1': bridges['physnet1']}, '/x/db.sock'))
    assert conf['DEFAULT']['host'] == 'R1-h1'
    assert conf['agent']['tunnel_types'] == 'vxlan'
    assert conf['agent']['l2_population'] == 'true'
    assert conf['agent']['arp_responder'] == 'true'
    assert conf['agent']['root_helper'] == 'env'
    assert conf['securitygroup']['firewall_driver'] == 'openvswitch'
    assert conf['ovs']['datapath_type'] == 'netdev'
    assert conf['ovs']['local_ip'] == '172.30.1.1'
    assert conf['ovs']['integration_bridge'] == 'tcsbab12-int'
    assert conf['ovs']['bridge_mappings'] == 'physnet1:tcsbab12-v1'
    assert conf['ovs']['ovsdb_connection'] == 'unix:/x/db.sock'


def test_l3_agent_plugs_with_veths_and_runs_no_metadata_proxy(tmp_path):
    bridges = ovs.bridge_names('ab12', [])
    conf = _read(agents.write_l3_agent(
        str(tmp_path), 'R1-h1', 'rabbit://u:p@127.0.0.1:5672/R1',
        str(tmp_path / 'state'), bridges, '/x/db.sock'))
    assert conf['DEFAULT']['interface_driver'] == 'openvswitch'
    assert conf['DEFAULT']['ovs_use_veth'] == 'true'
    assert conf['DEFAULT']['enable_metadata_proxy'] == 'false'
    # Its own /run/netns: mounted inside the agent's mount namespace.
    argv = agents.l3_agent_argv('tcsbab12-h-R1-h1', 'l3.ini')
    assert argv[:4] == ['ip', 'netns', 'exec', 'tcsbab12-h-R1-h1']
    assert 'mount -t tmpfs' in argv[6]


def test_region_with_agents_loads_ovs_and_l2pop_before_shadows(tmp_path):
    conf = _read(neutron_conf.write_server(
        str(tmp_path), 'RegionOne', neutron_conf.LOCAL, 'sqlite://',
        str(tmp_path / 'data'), central_url='http://c',
        transport_url='rabbit://u:p@127.0.0.1:1/RegionOne'))
    assert conf['ml2']['mechanism_drivers'] == \
        'openvswitch,l2population,tricircle_host'
    assert conf['DEFAULT']['transport_url'].endswith('/RegionOne')
    assert conf['DEFAULT']['rpc_workers'] == '1'
    lite = _read(neutron_conf.write_server(
        str(tmp_path), 'RegionTwo', neutron_conf.LOCAL, 'sqlite://',
        str(tmp_path / 'data2'), central_url='http://c'))
    assert lite['ml2']['mechanism_drivers'] == 'tricircle_host'
    assert 'transport_url' not in lite['DEFAULT']
