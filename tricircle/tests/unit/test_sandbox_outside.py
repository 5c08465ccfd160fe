"""The sandbox's outside world without a sandbox: ``up``'s checks of
``--external-region``, the names, the nftables and ping commands, which
hosts get extnet, and the ``outside`` commands' errors."""
from __future__ import annotations

import configparser
import json
import os
import subprocess
import sys

import pytest

from tricircle.sandbox import cli
from tricircle.sandbox import hosts
from tricircle.sandbox import neutron_conf
from tricircle.sandbox import outside
from tricircle.sandbox import outside_world
from tricircle.sandbox import state as sb_state
from tricircle.sandbox import up as sb_up
from tricircle.sandbox.dataplane import names
from tricircle.sandbox.dataplane import ovs

SANDBOX_BIN = os.path.join(os.path.dirname(sys.executable),
                           'tricircle-sandbox')
TWO = ['RegionOne', 'RegionTwo']


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([SANDBOX_BIN, *args], capture_output=True,
                          text=True, timeout=60)


def test_external_regions_default_to_regionone_and_drop_repeats():
    assert sb_up.external_regions(None, TWO, 'ovs') == ['RegionOne']
    assert sb_up.external_regions(['RegionTwo', 'RegionOne', 'RegionTwo'],
                                  TWO, 'ovs') == ['RegionTwo', 'RegionOne']
    # lite has no L3 agent: no outside, and asking for one is a mistake
    assert sb_up.external_regions(None, TWO, 'lite') == []
    with pytest.raises(sb_up.SandboxError, match='needs --agents ovs'):
        sb_up.external_regions(['RegionOne'], TWO, 'lite')


def test_external_region_must_be_a_region_of_the_sandbox():
    with pytest.raises(sb_up.SandboxError,
                       match='RegionThree: not a region of this sandbox '
                             r'\(RegionOne, RegionTwo\)'):
        sb_up.external_regions(['RegionOne', 'RegionThree'], TWO, 'ovs')


def test_parser_repeats_external_region():
    args = cli.build_parser().parse_args(
        ['up', '--external-region', 'RegionOne', '--external-region',
         'RegionTwo'])
    assert args.external_region == ['RegionOne', 'RegionTwo']
    assert cli.build_parser().parse_args(['up']).external_region is None


@pytest.mark.parametrize('args, words', [
    (['--regions', '2', '--external-region', 'RegionThree'],
     'not a region of this sandbox'),
    # --plain has one region, RegionOne
    (['--plain', '--external-region', 'RegionTwo'],
     'RegionTwo: not a region'),
    (['--agents', 'lite', '--external-region', 'RegionOne'],
     'needs --agents ovs'),
])
def test_up_refuses_a_wrong_external_region_before_anything(tmp_path, args,
                                                            words):
    state_dir = tmp_path / 'sb'
    proc = run('up', *args, '--state-dir', str(state_dir))
    assert proc.returncode == 2, proc.stderr
    [line] = proc.stderr.strip().splitlines()
    assert line.startswith('ERROR: ') and words in line
    assert not state_dir.exists()


def test_names_carry_the_prefix_and_fit():
    assert names.outside_ns('ab12') == 'tcsbab12-outside'
    assert names.outside_bridge('ab12') == 'tcsbab12-out'
    assert names.outside_vlan_port('ab12', 101) == 'tcsbab12-o101'
    assert names.nft_table('ab12', 'outside') == 'tcsbab12_outside'
    leg = names.link('ab12', names.OUTSIDE_LEG, 'outside', 'extnet')
    ul_end = names.link('ab12', names.OUTSIDE_UL_END, 'outside', 'extnet')
    assert leg != ul_end and len(leg) == len(ul_end) == 15
    assert leg.startswith('tcsbab12o') and ul_end.startswith('tcsbab12O')


def test_extnet_bridge_keeps_the_physnet_numbers():
    plain = ovs.bridge_names('ab12', hosts.PHYSNETS)
    with_ext = ovs.bridge_names('ab12', hosts.PHYSNETS + ['extnet'])
    assert with_ext['extnet'] == 'tcsbab12-ex'
    assert {k: v for k, v in with_ext.items() if k != 'extnet'} == plain


def test_only_the_l3_hosts_of_external_regions_get_extnet(tmp_path):
    state = sb_state.SandboxState(state_dir=str(tmp_path),
                                  external_regions=['RegionTwo'])
    state.regions = {r: {} for r in TWO}
    assert 'extnet' not in hosts.PHYSNETS
    assert 'extnet' in hosts.physnets_of(state, 'RegionTwo-h1')
    for host in ('RegionTwo-h2', 'RegionOne-h1', 'RegionOne-h2'):
        assert hosts.physnets_of(state, host) == hosts.PHYSNETS
    assert hosts.ovs_host(state, 'RegionTwo-h1').bridges['extnet'] == \
        names.prefix(hosts.fabric_tag(state)) + '-ex'


def test_ml2_takes_vlans_on_extnet_without_a_range(tmp_path):
    parser = configparser.ConfigParser(interpolation=None)
    parser.read(neutron_conf.write_shared(str(tmp_path)))
    ranges = parser['ml2_type_vlan']['network_vlan_ranges'].split(',')
    assert 'extnet' in ranges  # bare: provider segments only
    assert parser['ml2_type_flat']['flat_networks'] == '*'


def test_state_keeps_the_external_regions(tmp_path):
    state = sb_state.SandboxState(state_dir=str(tmp_path),
                                  external_regions=['RegionOne'])
    state.save()
    assert sb_state.SandboxState.load(str(tmp_path)).external_regions == \
        ['RegionOne']
    with open(state.path, 'w') as f:
        json.dump({'pids': {}}, f)  # an older sandbox: no outside
    assert sb_state.SandboxState.load(str(tmp_path)).external_regions == []


def test_nft_ruleset_records_every_source_in_a_dynamic_set():
    text = outside_world.nft_ruleset('tcsbab12_outside')
    assert text.startswith('table ip tcsbab12_outside {}\n'
                           'delete table ip tcsbab12_outside\n')
    assert 'set seen { type ipv4_addr; flags dynamic; }' in text
    assert 'type filter hook input priority 0; policy accept;' in text
    assert 'add @seen { ip saddr }' in text
    assert text.count('{') == text.count('}')


def test_parse_set_sorts_numerically():
    out = json.dumps({'nftables': [
        {'metainfo': {'version': '1.0.6'}},
        {'set': {'family': 'ip', 'name': 'seen', 'elem': [
            '203.0.113.1', '10.0.0.10', {'elem': {'val': '10.0.0.9'}}]}}]})
    assert outside_world.parse_set(out) == ['10.0.0.9', '10.0.0.10',
                                            '203.0.113.1']
    empty = json.dumps({'nftables': [{'set': {'name': 'seen'}}]})
    assert outside_world.parse_set(empty) == []


def test_ping_is_one_packet_one_second():
    assert outside_world.ping_argv('10.0.0.1') == [
        'ping', '-n', '-q', '-c', '1', '-W', '1', '10.0.0.1']
    with pytest.raises(outside_world.OutsideError, match='not an IPv4'):
        outside_world.check_ip('10.0.0')


def test_addresses_are_the_documented_ones():
    assert outside.PRIMARY.cidr == '203.0.113.1/24'
    assert [a.describe() for a in outside.ADDRESSES] == [
        '203.0.113.1/24 untagged', '198.51.100.1/24 vlan 101']


@pytest.mark.parametrize('args', [
    ('outside', 'address'), ('outside', 'seen', '--clear'),
    ('outside', 'ping', '203.0.113.1')])
def test_outside_commands_without_a_sandbox(tmp_path, args):
    proc = run(*args, '--state-dir', str(tmp_path / 'no'))
    assert proc.returncode == 2 and 'Traceback' not in proc.stderr
    [line] = proc.stderr.strip().splitlines()
    assert line.startswith('ERROR: no sandbox in')


def test_outside_commands_on_a_sandbox_without_outside(tmp_path):
    state = sb_state.SandboxState(state_dir=str(tmp_path / 'sb'),
                                  agents='lite')
    os.makedirs(state.state_dir)
    state.save()
    proc = run('outside', 'address', '--state-dir', state.state_dir)
    assert proc.returncode == 2 and 'has no outside world' in proc.stderr
    bad = run('outside', 'ping', 'nope', '--state-dir', state.state_dir)
    assert bad.returncode == 2 and 'not an IPv4 address' in bad.stderr


def test_outside_address_prints_the_primary_and_all(tmp_path):
    state = sb_state.SandboxState(state_dir=str(tmp_path / 'sb'),
                                  external_regions=['RegionOne'])
    os.makedirs(state.state_dir)
    state.save()
    one = run('outside', 'address', '--state-dir', state.state_dir)
    assert one.returncode == 0 and one.stdout == '203.0.113.1\n'
    every = run('outside', 'address', '--all', '--state-dir',
                state.state_dir)
    assert every.stdout.splitlines() == ['203.0.113.1/24 untagged',
                                         '198.51.100.1/24 vlan 101']
