"""Central and local plugins on the real sandbox: same ids everywhere,
addresses and segments from central."""
from __future__ import annotations

import os
import time
import uuid

import netaddr
import openstack.exceptions as os_exc
import pytest
import sqlalchemy

from tricircle.resources import reserved


def _name(prefix: str) -> str:
    return '%s-%s' % (prefix, uuid.uuid4().hex[:6])


def _eventually(predicate, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, 'not within %.0fs' % timeout
        time.sleep(0.1)


def _routings(sandbox, top_id: str) -> list:
    engine = sqlalchemy.create_engine(sandbox.tricircle_db)
    try:
        with engine.connect() as conn:
            return list(conn.execute(sqlalchemy.text(
                'SELECT top_id, pod_id, resource_type FROM resource_routings'
                ' WHERE top_id = :t'), {'t': top_id}))
    finally:
        engine.dispose()


@pytest.mark.parametrize('provider', [
    {},
    {'provider_network_type': 'vlan', 'provider_physical_network':
     'physnet1'},
    {'provider_network_type': 'flat', 'provider_physical_network': None},
])
def test_region_copies_network_and_subnet_with_central_ids(
        central, regions, provider):
    if provider.get('provider_network_type') == 'flat':
        provider = dict(provider, provider_physical_network=_name('phys'))
    net = central.network.create_network(name=_name('net'), **provider)
    subnet = central.network.create_subnet(
        network_id=net.id, cidr='10.50.0.0/24', ip_version=4)
    local = regions['RegionTwo'].network.get_network(net.id)
    assert local.id == net.id
    assert local.provider_network_type == net.provider_network_type
    assert local.provider_segmentation_id == net.provider_segmentation_id
    assert local.provider_physical_network == net.provider_physical_network

    local_subnet = regions['RegionTwo'].network.get_subnet(subnet.id)
    assert local_subnet.cidr == subnet.cidr
    # The region's gateway is an address reserved for it on central ...
    gw_ports = list(central.network.ports(
        name=reserved.gateway_port_name('RegionTwo', subnet.id)))
    assert len(gw_ports) == 1
    assert local_subnet.gateway_ip == gw_ports[0].fixed_ips[0]['ip_address']
    pools = netaddr.IPSet()
    for pool in local_subnet.allocation_pools:
        pools.add(netaddr.IPRange(pool['start'], pool['end']))
    assert local_subnet.gateway_ip not in pools
    # ... and the DHCP port is central's, same id, IP and MAC.
    dhcp = list(central.network.ports(
        name=reserved.dhcp_port_name(subnet.id)))[0]
    local_dhcp = regions['RegionTwo'].network.get_port(dhcp.id)
    assert local_dhcp.mac_address == dhcp.mac_address
    assert local_dhcp.fixed_ips == dhcp.fixed_ips


def test_port_in_region_gets_address_and_mac_from_central(central, regions):
    net = central.network.create_network(name=_name('net'))
    subnet = central.network.create_subnet(
        network_id=net.id, cidr='10.51.0.0/24', ip_version=4)
    port = regions['RegionOne'].network.create_port(
        network_id=net.id, name='vm-port', device_owner='compute:nova',
        device_id=str(uuid.uuid4()))
    top = central.network.get_port(port.id)
    assert top.mac_address == port.mac_address
    assert top.fixed_ips == port.fixed_ips
    assert port.fixed_ips[0]['subnet_id'] == subnet.id

    regions['RegionOne'].network.update_port(
        port.id, binding_host_id='host-r1-a')
    assert central.network.get_port(port.id).binding_host_id == 'host-r1-a'

    # Deleting the VM's port in the region deletes it on central too.
    regions['RegionOne'].network.delete_port(port.id)
    with pytest.raises(os_exc.ResourceNotFound):
        central.network.get_port(port.id)


def _central_ports_match(central, local_ports) -> None:
    for port in local_ports:
        top = central.network.get_port(port.id)
        assert (top.mac_address, top.fixed_ips) == \
            (port.mac_address, port.fixed_ips)


def test_proposals_taken_in_another_region_fall_back_cleanly(
        sandbox, central, regions):
    """RegionOne proposes addresses it sees free; most of them are
    RegionTwo's on central, which refuses them: RegionOne then asks central
    first. Every port ends up with central's id, MAC and address, once."""
    net = central.network.create_network(name=_name('net'))
    subnet = central.network.create_subnet(
        network_id=net.id, cidr='10.53.0.0/25', ip_version=4)
    vm = dict(network_id=net.id, device_owner='compute:nova')
    # RegionOne uses the network first: it sees none of RegionTwo's ports.
    first = regions['RegionOne'].network.create_port(name='r1-first', **vm)
    theirs = [regions['RegionTwo'].network.create_port(
        name='r2-%d' % i, **vm) for i in range(70)]
    log = os.path.join(sandbox.state_dir, 'logs', 'neutron-RegionOne.log')
    with open(log) as f:
        f.seek(0, os.SEEK_END)
        ours = [regions['RegionOne'].network.create_port(
            name='r1-%d' % i, **vm) for i in range(10)]
        refusals = f.read().count('central refused the proposal')
    # 70 of the ~120 addresses RegionOne sees free are RegionTwo's: ten
    # proposals all granted has a chance of (50/120)**10, about 1e-4.
    assert refusals >= 1
    ports = [first] + theirs + ours
    addresses = [p.fixed_ips[0]['ip_address'] for p in ports]
    assert len(set(addresses)) == len(ports)
    assert len({p.mac_address for p in ports}) == len(ports)
    _central_ports_match(central, ports)
    # Refused proposals left nothing behind, here or on central.
    ours_ids = {p.id for p in [first] + ours}
    assert {p.id for p in regions['RegionOne'].network.ports(
        network_id=net.id, device_owner='compute:nova')} == ours_ids
    assert len(list(central.network.ports(
        network_id=net.id, device_owner='compute:nova'))) == len(ports)
    assert all(ip['subnet_id'] == subnet.id for p in ports
               for ip in p.fixed_ips)


def test_port_with_fixed_ip_uses_or_reserves_the_central_address(
        central, regions):
    net = central.network.create_network(name=_name('net'))
    # The fixed addresses lie outside the pool, where no reservation of
    # central's (a region's gateway, DHCP) can take them first.
    central.network.create_subnet(network_id=net.id, cidr='10.52.0.0/24',
                                  ip_version=4, allocation_pools=[{
                                      'start': '10.52.0.100',
                                      'end': '10.52.0.200'}])
    # Not reserved yet: central IPAM grants it to a new central port.
    granted = regions['RegionOne'].network.create_port(
        network_id=net.id, fixed_ips=[{'ip_address': '10.52.0.76'}])
    on_central = central.network.get_port(granted.id)
    assert [ip['ip_address'] for ip in on_central.fixed_ips] == \
        ['10.52.0.76']
    assert on_central.mac_address == granted.mac_address
    # Reserved on central beforehand (nova boot --nic port-id style): the
    # region's port is that port.
    reserved = central.network.create_port(
        network_id=net.id, fixed_ips=[{'ip_address': '10.52.0.77'}])
    local = regions['RegionOne'].network.create_port(
        network_id=net.id, fixed_ips=[{'ip_address': '10.52.0.77'}])
    assert local.id == reserved.id
    assert local.mac_address == reserved.mac_address
    # A port that RegionOne bound is not RegionTwo's to take.
    bound = regions['RegionOne'].network.create_port(
        network_id=net.id, fixed_ips=[{'ip_address': '10.52.0.78'}],
        binding_host_id='RegionOne-h1', device_owner='compute:nova')
    assert bound.binding_vif_type == 'ovs'  # the host's OVS agent
    with pytest.raises(os_exc.ConflictException) as err:
        regions['RegionTwo'].network.create_port(
            network_id=net.id, fixed_ips=[{'ip_address': '10.52.0.78'}])
    assert 'RegionOne' in str(err.value)


def test_network_hinted_to_one_region_is_refused_by_another(central,
                                                            regions):
    net = central.network.create_network(
        name=_name('r1only'), availability_zone_hints=['RegionOne'])
    assert regions['RegionOne'].network.get_network(net.id).id == net.id
    with pytest.raises(os_exc.BadRequestException) as err:
        regions['RegionTwo'].network.get_network(net.id)
    assert 'RegionTwo' in str(err.value)
    # An availability zone hint names the regions of that zone.
    by_az = central.network.create_network(
        name=_name('az'), availability_zone_hints=['az-RegionTwo'])
    assert regions['RegionTwo'].network.get_network(by_az.id).id == by_az.id
    with pytest.raises(os_exc.BadRequestException):
        central.network.create_network(
            name=_name('bad'), availability_zone_hints=['nowhere'])


def test_a_region_finds_a_central_network_by_name(central, regions):
    """``openstack --os-cloud RegionTwo network show NAME`` works before
    the network was ever used there by id."""
    name = _name('byname')
    net = central.network.create_network(name=name)
    found = regions['RegionTwo'].network.find_network(name)
    assert found is not None and found.id == net.id
    assert [n.id for n in regions['RegionTwo'].network.networks(
        name=name)] == [net.id]
    # One not allowed in that region says so, rather than "not found".
    hinted = central.network.create_network(
        name=_name('hinted'), availability_zone_hints=['RegionOne'])
    with pytest.raises(os_exc.BadRequestException) as err:
        regions['RegionTwo'].network.find_network(hinted.name)
    assert 'NetworkNotInRegion' in str(err.value) or \
        'not available in region RegionTwo' in str(err.value)
    assert regions['RegionOne'].network.find_network(hinted.name).id == \
        hinted.id
    assert regions['RegionTwo'].network.find_network(_name('none')) is None


def test_update_on_central_reaches_regional_copies(central, regions):
    net = central.network.create_network(name=_name('net'))
    for region in regions.values():
        region.network.get_network(net.id)
    central.network.update_network(net.id, description='changed centrally',
                                   admin_state_up=False)
    # Pushed by sync_resource jobs that tricircle-xjob runs.
    for region in regions.values():
        _eventually(lambda: region.network.get_network(net.id).description
                    == 'changed centrally')
        assert region.network.get_network(net.id).is_admin_state_up is False


def test_security_group_copied_with_central_rules(central, regions):
    sg = central.network.create_security_group(name=_name('sg'))
    central.network.create_security_group_rule(
        security_group_id=sg.id, direction='ingress', protocol='tcp',
        port_range_min=22, port_range_max=22, remote_ip_prefix='0.0.0.0/0')
    top_rules = {r['id'] for r in
                 central.network.get_security_group(sg.id).security_group_rules}
    copy = regions['RegionOne'].network.get_security_group(sg.id)
    assert {r['id'] for r in copy.security_group_rules} == top_rules


def test_delete_on_central_removes_every_copy_and_routing(sandbox, central,
                                                          regions):
    net = central.network.create_network(name=_name('net'))
    subnet = central.network.create_subnet(
        network_id=net.id, cidr='10.53.0.0/24', ip_version=4)
    for region in regions.values():
        region.network.get_network(net.id)
    assert len(_routings(sandbox, net.id)) == 2
    central.network.delete_network(net.id)
    for region in regions.values():
        with pytest.raises(os_exc.ResourceNotFound):
            region.network.get_network(net.id)
        with pytest.raises(os_exc.ResourceNotFound):
            region.network.get_subnet(subnet.id)
    assert _routings(sandbox, net.id) == []
    assert _routings(sandbox, subnet.id) == []


def test_network_deletes_leave_no_traceback_in_the_servers_logs(
        sandbox, central, regions):
    # Neutron's segments plugin, made by the first network delete, would
    # then tell Placement (none here) of every segment deleted, from a
    # thread that dies with a traceback (tricircle.network.segment_deletes).
    servers = ('neutron-central', 'neutron-RegionOne', 'neutron-RegionTwo')
    sizes = {name: os.path.getsize(sandbox.log_of(name)) for name in servers}
    for cidr in ('10.57.0.0/24', '10.57.1.0/24'):
        net = central.network.create_network(name=_name('net'))
        central.network.create_subnet(network_id=net.id, cidr=cidr,
                                      ip_version=4)
        for region in regions.values():
            region.network.get_network(net.id)
        central.network.delete_network(net.id)
    time.sleep(5)  # Neutron's notifiers send every 2 s
    for name, size in sizes.items():
        with open(sandbox.log_of(name), errors='replace') as log:
            log.seek(size)
            written = log.read()
        assert 'Traceback' not in written, (name, written[-3000:])


def test_network_with_vm_port_is_not_deleted_anywhere(central, regions):
    net = central.network.create_network(name=_name('net'))
    central.network.create_subnet(network_id=net.id, cidr='10.54.0.0/24',
                                  ip_version=4)
    port = regions['RegionOne'].network.create_port(
        network_id=net.id, device_owner='compute:nova', device_id='vm1')
    with pytest.raises(os_exc.ConflictException):
        central.network.delete_network(net.id)
    assert regions['RegionOne'].network.get_network(net.id).id == net.id
    assert regions['RegionOne'].network.get_port(port.id).id == port.id


def test_subnet_in_use_refused_but_slaac_subnet_goes_with_addresses(
        central, regions):
    """As in Neutron: a user's port keeps an IPv4 subnet in use; the
    addresses of an IPv6 SLAAC subnet go with the subnet."""
    net = central.network.create_network(name=_name('net'))
    v4 = central.network.create_subnet(network_id=net.id, ip_version=4,
                                       cidr='10.56.0.0/24')
    slaac = central.network.create_subnet(
        network_id=net.id, ip_version=6, cidr='2001:db8:56::/64',
        ipv6_ra_mode='slaac', ipv6_address_mode='slaac')
    port = regions['RegionOne'].network.create_port(
        network_id=net.id, device_owner='compute:nova', device_id='vm1')
    assert {ip['subnet_id'] for ip in port.fixed_ips} == {v4.id, slaac.id}
    with pytest.raises(os_exc.ConflictException):
        central.network.delete_subnet(v4.id)
    central.network.delete_subnet(slaac.id)
    for conn in (central, regions['RegionOne']):
        left = conn.network.get_port(port.id).fixed_ips
        assert [ip['subnet_id'] for ip in left] == [v4.id]
        assert conn.network.find_subnet(slaac.id) is None
    assert central.network.get_subnet(v4.id).id == v4.id


def test_segment_exhaustion_is_clean(central, regions):
    """physnet3 has 4 VLANs in the sandbox: the 5th network fails like
    Neutron's own, and nothing is half-created."""
    created = []
    try:
        for _ in range(4):
            created.append(central.network.create_network(
                name=_name('vl'), provider_network_type='vlan',
                provider_physical_network='physnet3'))
        name = _name('one-too-many')
        with pytest.raises(os_exc.HttpException) as err:
            central.network.create_network(
                name=name, provider_network_type='vlan',
                provider_physical_network='physnet3')
        assert err.value.status_code == 503
        assert list(central.network.networks(name=name)) == []
        for region in regions.values():
            assert list(region.network.networks(name=name)) == []
    finally:
        for net in created:
            central.network.delete_network(net.id)


def test_port_deleted_on_central_goes_from_regions_by_job(central, regions):
    net = central.network.create_network(name=_name('net'))
    central.network.create_subnet(network_id=net.id, cidr='10.55.0.0/24',
                                  ip_version=4)
    port = central.network.create_port(network_id=net.id)
    for region in regions.values():
        assert region.network.get_port(port.id).id == port.id
    central.network.delete_port(port.id)

    def gone_everywhere():
        return all(region.network.find_port(port.id) is None
                   for region in regions.values())
    _eventually(gone_everywhere)


def test_vlan_tag_extensions_not_advertised_nor_accepted(central, regions):
    """No region carries a tenant's own VLAN tags end to end: neither
    central nor a region offers vlan-transparent or qinq."""
    for conn in (central, *regions.values()):
        aliases = {ext.alias for ext in conn.network.extensions()}
        assert 'availability_zone' in aliases
        assert not aliases & {'vlan-transparent', 'qinq'}
    name = _name('transparent')
    resp = central.network.post('/networks', json={'network': {
        'name': name, 'vlan_transparent': True}})
    assert resp.status_code == 400, resp.text
    assert resp.json()['NeutronError']['type'] == 'HTTPBadRequest'
    assert list(central.network.networks(name=name)) == []
