"""North-south through Neutron's real L3 agents: one external network in
one region, one SNAT there, floating IPs for VMs in any region, and a
local router with its region's own external network.

The sandbox's "outside" namespace stands for the internet on physical
network ``extnet`` (203.0.113.1, and 198.51.100.1 on VLAN 101); it
records the source address of every packet it receives
(``tricircle-sandbox outside seen``), which shows where the NAT happened.
"""
from __future__ import annotations

import re

import netaddr
import openstack.exceptions as os_exc
import pytest

from tricircle.tests.sandbox.conftest import NEEDS_DATA_PLANE
from tricircle.tests.sandbox.conftest import ping
from tricircle.tests.sandbox.conftest import sandbox_cmd
from tricircle.tests.sandbox.conftest import wait_for
from tricircle.tests.sandbox.conftest import xjob_idle
from tricircle.tests.sandbox.test_l3 import ROUTED
from tricircle.tests.sandbox.test_l3 import network

pytestmark = NEEDS_DATA_PLANE

OUTSIDE = '203.0.113.1'
OUTSIDE_VLAN = '198.51.100.1'
FIP_PROXY = 'tricircle-fip-proxy-'


def outside_seen(sandbox, clear: bool = True) -> set[str]:
    args = ['outside', 'seen', '--state-dir', sandbox.state_dir]
    out = sandbox_cmd(*args, *(['--clear'] if clear else [])).stdout
    return set(out.split())


def outside_pings(sandbox, ip: str, timeout: float = ROUTED) -> bool:
    return sandbox_cmd('outside', 'ping', '--timeout', str(timeout), ip,
                       '--state-dir', sandbox.state_dir,
                       check=False, timeout=timeout + 30).returncode == 0


def external_network(central, name: str, region: str, cidr: str,
                     gateway: str, **provider):
    provider = provider or {'provider_network_type': 'flat'}
    net = central.network.create_network(
        name=name, is_router_external=True,
        provider_physical_network='extnet',
        availability_zone_hints=[region], **provider)
    block = netaddr.IPNetwork(cidr)
    subnet = central.network.create_subnet(
        network_id=net.id, cidr=cidr, ip_version=4, gateway_ip=gateway,
        enable_dhcp=False, name=name + '-subnet', allocation_pools=[
            {'start': str(block[10]), 'end': str(block[99])}])
    return net, subnet


@pytest.fixture(scope='module')
def public_one(central):
    """RegionOne's external network: flat on extnet (203.0.113.0/24).
    Central's ML2 has one flat network per physical network: the demo's,
    when it ran on this sandbox first, serves."""
    for net in central.network.networks(is_router_external=True):
        if net.provider_network_type == 'flat' and \
                net.provider_physical_network == 'extnet':
            return net
    return external_network(central, 'ns-public', 'RegionOne',
                            '203.0.113.0/24', OUTSIDE)[0]


@pytest.fixture(scope='module')
def public_two(central):
    """RegionTwo's own external network: VLAN 101 on extnet."""
    return external_network(
        central, 'ns-public2', 'RegionTwo', '198.51.100.0/24', OUTSIDE_VLAN,
        provider_network_type='vlan', provider_segmentation_id=101)[0]


def proxies(conn, router) -> list:
    """The floating IP proxy ports of ``router`` (the demo may have its
    own router): in its external network's region."""
    return list(conn.network.ports(name=FIP_PROXY + router.id))


def proxy_networks(conn, router) -> list:
    return list(conn.network.networks(name=FIP_PROXY + router.id))


def gateway_ip(router) -> str:
    return router.external_gateway_info['external_fixed_ips'][0][
        'ip_address']


def test_one_snat_and_floating_ips_for_vms_in_any_region(
        sandbox, central, regions, vms, public_one):
    public = public_one
    net1, sub1 = network(central, 'ns-one', '10.62.1.0/24', ['RegionOne'])
    net2, sub2 = network(central, 'ns-two', '10.62.2.0/24', ['RegionTwo'])
    a = vms('ns-a', 'RegionOne', net1.id)
    b = vms('ns-b', 'RegionTwo', net2.id)
    router = central.network.create_router(
        name='ns-r', external_gateway_info={'network_id': public.id})
    central.network.add_interface_to_router(router, subnet_id=sub1.id)
    central.network.add_interface_to_router(router, subnet_id=sub2.id)
    gw = gateway_ip(central.network.get_router(router.id))
    # The external network is in RegionOne only.
    assert regions['RegionTwo'].network.find_network(public.id) is None

    # B (only in RegionTwo) reaches the outside through RegionOne's copy:
    # one SNAT, to the router's gateway address (once the path is up:
    # while the L3 agent builds it, a packet may leave before its NAT).
    assert ping(sandbox, b.name, OUTSIDE, deadline=ROUTED)
    outside_seen(sandbox)
    assert ping(sandbox, b.name, OUTSIDE, deadline=ROUTED)
    assert outside_seen(sandbox) == {gw}
    copy_one = regions['RegionOne'].network.get_router(router.id)
    assert gateway_ip(copy_one) == gw
    assert not regions['RegionTwo'].network.get_router(
        router.id).external_gateway_info

    # A floating IP for B: reached from outside, and B's pings leave
    # from it.
    fip = central.network.create_ip(floating_network_id=public.id,
                                    port_id=b.port_id)
    assert outside_pings(sandbox, fip.floating_ip_address)
    outside_seen(sandbox)
    assert ping(sandbox, b.name, OUTSIDE, deadline=ROUTED)
    assert outside_seen(sandbox) == {fip.floating_ip_address}
    wait_for(lambda: central.network.get_ip(fip.id).status == 'ACTIVE',
             ROUTED)
    # RegionOne's copy is on the router's proxy port, at B's address,
    # which the port does not have. The proxy is RegionOne's alone.
    proxy, = proxies(regions['RegionOne'], router)
    assert [(c.port_id, c.fixed_ip_address) for c in regions[
        'RegionOne'].network.ips(floating_ip_address=fip.floating_ip_address)
    ] == [(proxy.id, b.ip)]
    assert b.ip not in [ip['ip_address'] for ip in proxy.fixed_ips]
    assert not proxies(central, router)
    assert not proxy_networks(central, router)
    # Central asked XJob as soon as the gateway port, then the floating
    # IP, was committed, not at the end of each request.
    with open(sandbox.log_of('neutron-central')) as f:
        central_log = f.read()
    assert 'router %s: gateway port on network %s committed, router_setup ' \
        'asked for now' % (router.id, public.id) in central_log
    assert 'floating IP %s committed, floatingip_setup asked for now' % \
        fip.id in central_log

    # Moved to A in RegionOne: A's pings leave from it, B's from the
    # gateway again (B has no floating IP any more).
    central.network.update_ip(fip, port_id=a.port_id)
    wait_for(lambda: [c.port_id for c in regions['RegionOne'].network.ips(
        floating_ip_address=fip.floating_ip_address)] == [a.port_id],
        ROUTED)
    outside_seen(sandbox)
    assert ping(sandbox, a.name, OUTSIDE, deadline=ROUTED)
    wait_for(lambda: ping(sandbox, b.name, OUTSIDE, deadline=2) and
             outside_seen(sandbox) == {gw}, ROUTED)
    outside_seen(sandbox)
    assert ping(sandbox, a.name, OUTSIDE, deadline=ROUTED)
    assert outside_seen(sandbox) == {fip.floating_ip_address}
    assert outside_pings(sandbox, fip.floating_ip_address)
    assert [c.port_id for c in regions['RegionOne'].network.ips(
        floating_ip_address=fip.floating_ip_address)] == [a.port_id]

    # Deleted: no answer from outside, nothing left in either region.
    central.network.delete_ip(fip)
    wait_for(lambda: not list(regions['RegionOne'].network.ips(
        floating_ip_address=fip.floating_ip_address)), ROUTED)
    # The L3 agent takes the address off the gateway shortly after.
    print('floating IP silent %.1f s after its copy went' % wait_for(
        lambda: not outside_pings(sandbox, fip.floating_ip_address,
                                  timeout=1), ROUTED))
    assert not outside_pings(sandbox, fip.floating_ip_address, timeout=3)
    wait_for(lambda: xjob_idle(sandbox), ROUTED)
    # The router's proxy stays for its next floating IP.
    assert [p.id for p in proxies(regions['RegionOne'], router)] == \
        [proxy.id]

    # A new floating IP for A, in the gateway region: its copy is made
    # once central's port has the address, while central commits it
    # (floatingip_ahead), and floatingip_setup takes that copy.
    fip2 = central.network.create_ip(floating_network_id=public.id,
                                     port_id=a.port_id)
    address = fip2.floating_ip_address
    assert outside_pings(sandbox, address)
    wait_for(lambda: central.network.get_ip(fip2.id).status == 'ACTIVE',
             ROUTED)
    wait_for(lambda: 'floating IP %s (%s) in RegionOne: copy' % (
        fip2.id, address) in open(sandbox.log_of('tricircle-xjob')).read(),
        ROUTED)
    with open(sandbox.log_of('tricircle-xjob')) as f:
        xjob_log = f.read()
    assert 'floating IP %s in RegionOne, ahead of central: copy' % \
        address in xjob_log
    assert re.search(r'floating IP %s \(%s\) in RegionOne: copy \S+ made '
                     r'ahead of central taken' % (fip2.id, re.escape(
                         address)), xjob_log)
    # A second one for the same address of A is refused (409) after its
    # head start was asked for: nothing of it is left in RegionOne.
    with pytest.raises(os_exc.ConflictException):
        central.network.create_ip(floating_network_id=public.id,
                                  port_id=a.port_id)
    wait_for(lambda: xjob_idle(sandbox), ROUTED)
    assert [c.port_id for c in regions['RegionOne'].network.ips(
        port_id=a.port_id)] == [a.port_id]
    assert [f.id for f in central.network.ips(port_id=a.port_id)] == \
        [fip2.id]
    central.network.delete_ip(fip2)
    wait_for(lambda: not list(regions['RegionOne'].network.ips(
        port_id=a.port_id)), ROUTED)
    wait_for(lambda: xjob_idle(sandbox), ROUTED)
    assert not list(regions['RegionOne'].network.ips(
        floating_ip_address=address))

    # The gateway removed: no way out, no gateway or default route left.
    central.network.update_router(router, external_gateway_info={})
    wait_for(lambda: not regions['RegionOne'].network.get_router(
        router.id).external_gateway_info, ROUTED)
    wait_for(lambda: all(
        r['destination'] != '0.0.0.0/0' for r in
        regions['RegionTwo'].network.get_router(router.id).routes), ROUTED)
    wait_for(lambda: not ping(sandbox, b.name, OUTSIDE, deadline=1), ROUTED)
    assert not ping(sandbox, a.name, OUTSIDE, deadline=3)
    assert not list(regions['RegionOne'].network.ports(
        network_id=public.id, device_id=router.id))
    # The router's proxy stayed for its next floating IPs while it had
    # its gateway; it went with it.
    wait_for(lambda: not proxy_networks(regions['RegionOne'], router),
             ROUTED)
    assert not proxies(regions['RegionOne'], router)

    # Set again on the router whose copy RegionOne holds: the copy gets
    # it once central's gateway port is made (router_gateway_ahead), and
    # RegionTwo's copy its default route to RegionOne's meanwhile.
    wait_for(lambda: xjob_idle(sandbox), ROUTED)
    central.network.update_router(router, external_gateway_info={
        'network_id': public.id})
    gw = gateway_ip(central.network.get_router(router.id))
    assert ping(sandbox, b.name, OUTSIDE, deadline=ROUTED)
    outside_seen(sandbox)
    assert ping(sandbox, b.name, OUTSIDE, deadline=ROUTED)
    assert outside_seen(sandbox) == {gw}
    with open(sandbox.log_of('tricircle-xjob')) as f:
        xjob_log = f.read()
    assert 'router %s in RegionOne, ahead of central: gateway set on ' \
        '%s (%s)' % (router.id, public.id, gw) in xjob_log
    assert 'router %s in RegionTwo, ahead of central: routes ' \
        '0.0.0.0/0 via ' % router.id in xjob_log
    central.network.update_router(router, external_gateway_info={})
    wait_for(lambda: not regions['RegionOne'].network.get_router(
        router.id).external_gateway_info, ROUTED)
    for subnet in (sub1, sub2):
        central.network.remove_interface_from_router(router,
                                                     subnet_id=subnet.id)
    central.network.delete_router(router)


def test_a_local_router_uses_its_regions_own_external_network(
        sandbox, central, regions, vms, public_two):
    public2 = public_two
    net3, sub3 = network(central, 'ns-three', '10.62.3.0/24', ['RegionTwo'])
    c = vms('ns-c', 'RegionTwo', net3.id)
    router = central.network.create_router(
        name='ns-local', availability_zone_hints=['RegionTwo'],
        external_gateway_info={'network_id': public2.id})
    central.network.add_interface_to_router(router, subnet_id=sub3.id)
    gw = gateway_ip(central.network.get_router(router.id))
    assert ping(sandbox, c.name, OUTSIDE_VLAN, deadline=ROUTED)
    outside_seen(sandbox)
    assert ping(sandbox, c.name, OUTSIDE_VLAN, deadline=ROUTED)
    assert outside_seen(sandbox) == {gw}
    assert regions['RegionOne'].network.find_router(router.id) is None
    central.network.remove_interface_from_router(router, subnet_id=sub3.id)
    central.network.delete_router(router)


@pytest.mark.full
def test_local_routers_north_south_and_a_router_across_them_east_west(
        sandbox, central, regions, vms, public_one, public_two):
    """The original's "multiple north-south with east-west": each region's
    VMs leave through their local router's gateway; a cross-region router
    joins the two networks through ports of its own (router add port),
    and each local router routes the other region's subnet to it, as
    with two routers on one subnet in plain Neutron."""
    net1, sub1 = network(central, 'mn-one', '10.63.1.0/24', ['RegionOne'])
    net2, sub2 = network(central, 'mn-two', '10.63.2.0/24', ['RegionTwo'])
    a = vms('mn-a', 'RegionOne', net1.id)
    b = vms('mn-b', 'RegionTwo', net2.id)
    local = {}
    for region, sub, public in (('RegionOne', sub1, public_one),
                                ('RegionTwo', sub2, public_two)):
        local[region] = central.network.create_router(
            name='mn-' + region, availability_zone_hints=[region],
            external_gateway_info={'network_id': public.id})
        central.network.add_interface_to_router(local[region],
                                                subnet_id=sub.id)
    across = central.network.create_router(name='mn-across')
    ports = {}
    for region, net, sub in (('RegionOne', net1, sub1),
                             ('RegionTwo', net2, sub2)):
        ports[region] = central.network.create_port(network_id=net.id)
        central.network.add_interface_to_router(across,
                                                port_id=ports[region].id)
    for region, other in (('RegionOne', sub2), ('RegionTwo', sub1)):
        central.network.add_extra_routes_to_router(local[region], {
            'router': {'routes': [{
                'destination': other.cidr, 'nexthop':
                ports[region].fixed_ips[0]['ip_address']}]}})

    # North-south: each through its own region.
    for vm, region, outside_ip in ((a, 'RegionOne', OUTSIDE),
                                   (b, 'RegionTwo', OUTSIDE_VLAN)):
        assert ping(sandbox, vm.name, outside_ip, deadline=ROUTED)
        outside_seen(sandbox)
        assert ping(sandbox, vm.name, outside_ip, deadline=ROUTED)
        assert outside_seen(sandbox) == {gateway_ip(
            central.network.get_router(local[region].id))}
    # East-west: through the router across regions, on its own ports.
    assert ping(sandbox, a.name, b.ip, deadline=ROUTED)
    assert ping(sandbox, b.name, a.ip, deadline=ROUTED)
    copy = regions['RegionOne'].network.get_port(ports['RegionOne'].id)
    assert copy.device_id == across.id
    # Without the router across them, no east-west.
    for region in ('RegionOne', 'RegionTwo'):
        central.network.remove_interface_from_router(
            across, port_id=ports[region].id)
    wait_for(lambda: regions['RegionTwo'].network.find_router(
        across.id) is None, ROUTED)
    wait_for(lambda: not ping(sandbox, a.name, b.ip, deadline=1), ROUTED)
    central.network.delete_router(across)
    for region, sub in (('RegionOne', sub1), ('RegionTwo', sub2)):
        central.network.update_router(local[region], routes=[])
        central.network.remove_interface_from_router(local[region],
                                                     subnet_id=sub.id)
        central.network.delete_router(local[region])


def test_bad_north_south_input_is_refused_and_changes_nothing(
        central, vms):
    before = {n.id for n in central.network.networks()}
    with pytest.raises(os_exc.BadRequestException) as err:
        central.network.create_network(
            name='ns-two-regions', is_router_external=True,
            availability_zone_hints=['RegionOne', 'RegionTwo'])
    assert 'exactly one region' in str(err.value)
    assert {n.id for n in central.network.networks()} == before

    inner, inner_sub = network(central, 'ns-inner', '10.62.4.0/24',
                               ['RegionOne'])
    with pytest.raises(os_exc.BadRequestException):
        central.network.create_ip(floating_network_id=inner.id)
    assert not [f for f in central.network.ips()
                if f.floating_network_id == inner.id]

    # A port on a network no router with a gateway reaches.
    public3, _ = external_network(central, 'ns-public3', 'RegionOne',
                                  '192.0.2.0/24', '192.0.2.1',
                                  provider_network_type='vlan',
                                  provider_segmentation_id=102)
    port = central.network.create_port(network_id=inner.id)
    with pytest.raises(os_exc.NotFoundException):
        central.network.create_ip(floating_network_id=public3.id,
                                  port_id=port.id)
    assert not list(central.network.ips(floating_network_id=public3.id))
    central.network.delete_port(port)
