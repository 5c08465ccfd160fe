"""Cross-region L3, east-west, through Neutron's real L3 and OVS agents.

A router made on central gets a copy (same id) in each region holding one
of its networks; the copies are joined by the router's transit network.
The networks here carry no port security: security groups across regions
are tested on their own (remote groups need the other regions' members),
so what these pings prove is the routing.
"""
from __future__ import annotations

import json
import re
import urllib.request

import openstack.exceptions as os_exc
import pytest

from tricircle.sandbox import vm as sb_vm
from tricircle.tests.sandbox.conftest import NEEDS_DATA_PLANE
from tricircle.tests.sandbox.conftest import ping
from tricircle.tests.sandbox.conftest import wait_for
from tricircle.tests.sandbox.test_sync_state import states

pytestmark = NEEDS_DATA_PLANE

# A router's path needs the job, the L3 agents and the OVS agents.
ROUTED = 45.0
TRANSIT = 'tricircle-transit-'


def network(central, name: str, cidr: str, regions=(), pool=None,
            **attrs):
    net = central.network.create_network(
        name=name, port_security_enabled=False,
        availability_zone_hints=list(regions), **attrs)
    extra = {'allocation_pools': [{'start': pool[0], 'end': pool[1]}]} \
        if pool else {}
    subnet = central.network.create_subnet(
        network_id=net.id, cidr=cidr, ip_version=4, name=name + '-subnet',
        project_id=net.project_id, **extra)
    return net, subnet


def routes_of(conn, router_id: str) -> list[tuple[str, str]]:
    return sorted((r['destination'], r['nexthop'])
                  for r in conn.network.get_router(router_id).routes)


def transit_ports(conn, router_id: str) -> list:
    return [p for p in conn.network.ports(device_id=router_id)
            if p.fixed_ips and p.fixed_ips[0]['ip_address'].startswith(
                '100.64.')]


def first_hop(sandbox, vm: str, ip: str) -> str | None:
    """The router that answers a TTL-1 ping: the VM's first hop."""
    out = sb_vm.fabric(sandbox).vm_exec(
        vm, ['ping', '-n', '-c', '1', '-t', '1', '-W', '2', ip],
        check=False).stdout
    found = re.search(r'From (\S+)', out)
    return found.group(1) if found else None


def remove_router(central, router, *subnets) -> None:
    for subnet in subnets:
        central.network.remove_interface_from_router(router,
                                                     subnet_id=subnet.id)
    central.network.delete_router(router)


def test_router_joins_two_regions_and_leaves_nothing_when_deleted(
        sandbox, central, regions, vms):
    net1, sub1 = network(central, 'l3-one', '10.61.1.0/24', ['RegionOne'])
    net2, sub2 = network(central, 'l3-two', '10.61.2.0/24', ['RegionTwo'])
    a = vms('l3-a', 'RegionOne', net1.id)
    b = vms('l3-b', 'RegionTwo', net2.id)
    router = central.network.create_router(name='l3-r')
    central.network.add_interface_to_router(router, subnet_id=sub1.id)
    assert not ping(sandbox, a.name, b.ip, deadline=2)
    central.network.add_interface_to_router(router, subnet_id=sub2.id)
    assert ping(sandbox, a.name, b.ip, deadline=ROUTED)
    assert ping(sandbox, b.name, a.ip)

    # Each copy has the central id, its region's gateway on its own
    # subnet, and one route: to the other subnet, via the other copy's
    # transit address. Central shows the user's routes (none).
    one, two = regions['RegionOne'], regions['RegionTwo']
    transit_one = transit_ports(one, router.id)[0].fixed_ips[0]['ip_address']
    transit_two = transit_ports(two, router.id)[0].fixed_ips[0]['ip_address']
    assert routes_of(one, router.id) == [('10.61.2.0/24', transit_two)]
    assert routes_of(two, router.id) == [('10.61.1.0/24', transit_one)]
    assert routes_of(central, router.id) == []
    gateways = {p.fixed_ips[0]['ip_address']
                for p in one.network.ports(device_id=router.id)}
    assert a.gateway in gateways

    # (What a member sees of the transit: test_keystone, with a real
    # member.)

    # Without the interface on net2 the path is gone.
    central.network.remove_interface_from_router(router, subnet_id=sub2.id)
    wait_for(lambda: routes_of(one, router.id) == [], timeout=ROUTED)
    # (the L3 agent applies it a moment later)
    wait_for(lambda: not ping(sandbox, a.name, b.ip, deadline=1),
             timeout=ROUTED)
    central.network.add_interface_to_router(router, subnet_id=sub2.id)
    assert ping(sandbox, a.name, b.ip, deadline=ROUTED)

    # Delete: no copy, interface, transit port or network anywhere.
    remove_router(central, router, sub1, sub2)

    def all_gone():
        for conn in regions.values():
            if conn.network.find_router(router.id) or list(
                    conn.network.ports(device_id=router.id)):
                return False
        return not [n for conn in (central, *regions.values())
                    for n in conn.network.networks()
                    if n.name == TRANSIT + router.id]
    wait_for(all_gone, timeout=ROUTED)


def test_stretched_network_each_region_routes_its_own_vms(
        sandbox, central, regions, vms):
    net1, sub1 = network(central, 'l3-str', '10.62.1.0/24')
    net2, sub2 = network(central, 'l3-far', '10.62.2.0/24', ['RegionTwo'])
    a1 = vms('l3-s1', 'RegionOne', net1.id)
    a2 = vms('l3-s2', 'RegionTwo', net1.id)
    c = vms('l3-c', 'RegionTwo', net2.id)
    router = central.network.create_router(name='l3-str-r')
    for subnet in (sub1, sub2):
        central.network.add_interface_to_router(router, subnet_id=subnet.id)
    for vm in (a1, a2):
        assert ping(sandbox, vm.name, c.ip, deadline=ROUTED), vm.name
        assert ping(sandbox, c.name, vm.ip), vm.name
    # Each VM's first hop is its own region's copy of the router: the
    # region's gateway address of the stretched subnet.
    assert a1.gateway != a2.gateway
    assert first_hop(sandbox, a1.name, c.ip) == a1.gateway
    assert first_hop(sandbox, a2.name, c.ip) == a2.gateway
    # RegionTwo holds both networks: no route; RegionOne routes net2.
    assert routes_of(regions['RegionTwo'], router.id) == []
    assert [d for d, _ in routes_of(regions['RegionOne'], router.id)] == [
        '10.62.2.0/24']
    remove_router(central, router, sub1, sub2)


@pytest.mark.full
def test_two_projects_with_the_same_cidrs_stay_apart(sandbox, central,
                                                     vms):
    made = {}
    for project in ('l3-tenant-a', 'l3-tenant-b'):
        # The VMs' fixed addresses lie outside the pools, where no
        # reserved port (a region's gateway) can have taken them.
        n1, s1 = network(central, project + '-1', '10.63.1.0/24',
                         ['RegionOne'], ('10.63.1.100', '10.63.1.200'),
                         project_id=project)
        n2, s2 = network(central, project + '-2', '10.63.2.0/24',
                         ['RegionTwo'], ('10.63.2.100', '10.63.2.200'),
                         project_id=project)
        a = vms(project + '-a', 'RegionOne', n1.id, '10.63.1.10')
        router = central.network.create_router(name=project + '-r',
                                               project_id=project)
        for subnet in (s1, s2):
            central.network.add_interface_to_router(router,
                                                    subnet_id=subnet.id)
        made[project] = (a, router, s1, s2, n2)
    # Only tenant B has a VM at 10.63.2.20: tenant A's VM must not reach
    # it, though the same address is routed in tenant A's router.
    a_a, _r, _s1, _s2, _n2 = made['l3-tenant-a']
    a_b, _r, _s1, _s2, n2_b = made['l3-tenant-b']
    b_b = vms('l3-tenant-b-b', 'RegionTwo', n2_b.id, '10.63.2.20')
    assert ping(sandbox, a_b.name, b_b.ip, deadline=ROUTED)
    assert not ping(sandbox, a_a.name, b_b.ip, deadline=3)
    for _a, router, s1, s2, _n in made.values():
        remove_router(central, router, s1, s2)


def _jobs(sandbox, job_type: str) -> list[dict]:
    url = '%s/v1.0/jobs?type=%s' % (sandbox.admin_api, job_type)
    with urllib.request.urlopen(url, timeout=10) as resp:
        return json.load(resp)['jobs']


def test_an_interface_starts_in_its_region_while_central_adds_it(
        sandbox, central, regions):
    """``router add subnet``: the region holding the subnet's network
    makes the copy and adds its interface while central makes its own
    (router_interface_ahead), so that its L3 agent starts sooner, and
    the router, now across regions, gets its transit and routes in both;
    router_setup then finds it all there without reading the regions. An
    add central refuses (an
    overlap) sends nothing ahead."""
    net1, sub1 = network(central, 'l3-hs1', '10.66.1.0/24', ['RegionOne'])
    net2, sub2 = network(central, 'l3-hs2', '10.66.2.0/24', ['RegionTwo'])
    net3, sub3 = network(central, 'l3-hs3', '10.66.2.128/25',
                         ['RegionTwo'])
    for net, region in ((net1, 'RegionOne'), (net2, 'RegionTwo'),
                        (net3, 'RegionTwo')):
        regions[region].network.create_port(network_id=net.id)  # held
    router = central.network.create_router(name='l3-hs-r')
    central.network.add_interface_to_router(router, subnet_id=sub1.id)
    # (A head start is skipped while router_setup runs for the router.)
    wait_for(lambda: not [j for j in _jobs(sandbox, 'router_setup')
                          if j['resource']['router_id'] == router.id and
                          j['status'] in ('NEW', 'RUNNING')])
    central.network.add_interface_to_router(router, subnet_id=sub2.id)
    one, two = regions['RegionOne'], regions['RegionTwo']
    wait_for(lambda: len(routes_of(one, router.id)) == 1 and
             len(routes_of(two, router.id)) == 1, timeout=ROUTED)
    # The head start sets the routes itself: its job and router_setup's
    # may still run then.
    wait_for(lambda: not [
        j for job_type in ('router_interface_ahead', 'router_setup')
        for j in _jobs(sandbox, job_type)
        if j['resource']['router_id'] == router.id and
        j['status'] in ('NEW', 'RUNNING')], timeout=ROUTED)

    ahead = {(j['resource']['subnet_id'], j['status'])
             for j in _jobs(sandbox, 'router_interface_ahead')
             if j['resource']['router_id'] == router.id}
    assert ahead == {(sub1.id, 'SUCCESS'), (sub2.id, 'SUCCESS')}
    with open(sandbox.log_of('tricircle-xjob')) as f:
        log = f.read()
    assert 'router %s in RegionTwo, ahead of central: copy created; ' \
        'interface on subnet %s added' % (router.id, sub2.id) in log
    assert 'router %s in RegionOne, ahead of central: transit interface ' \
        'added; routes set to 10.66.2.0/24 via' % router.id in log
    # router_setup found it there, from central's view alone (it reads
    # no region after a head start that made it all): one interface, no
    # failed run, both regions in sync.
    assert 'router %s: its head start made it in RegionOne, RegionTwo ' \
        'already; no region read' % router.id in log
    assert [ip['subnet_id'] for p in two.network.ports(device_id=router.id)
            for ip in p.fixed_ips if ip['subnet_id'] == sub2.id] == [sub2.id]
    assert not [j for j in _jobs(sandbox, 'router_setup')
                if j['resource']['router_id'] == router.id and
                j['status'] == 'FAIL']
    assert {region: row['state'] for region, row in states(
        sandbox, 'router', router.id).items()} == {
            'RegionOne': 'in_sync', 'RegionTwo': 'in_sync'}

    with pytest.raises(os_exc.BadRequestException) as err:
        central.network.add_interface_to_router(router, subnet_id=sub3.id)
    assert 'overlaps' in str(err.value)
    assert not [j for j in _jobs(sandbox, 'router_interface_ahead')
                if j['resource']['subnet_id'] == sub3.id]
    assert not [p for p in two.network.ports(device_id=router.id)
                for ip in p.fixed_ips if ip['subnet_id'] == sub3.id]
    remove_router(central, router, sub1, sub2)


def test_central_refuses_what_plain_neutron_refuses(central):
    _net1, sub1 = network(central, 'l3-ovl1', '10.64.0.0/24')
    _net2, sub2 = network(central, 'l3-ovl2', '10.64.0.0/25')
    router = central.network.create_router(name='l3-ovl-r')
    central.network.add_interface_to_router(router, subnet_id=sub1.id)
    with pytest.raises(os_exc.BadRequestException) as err:
        central.network.add_interface_to_router(router, subnet_id=sub2.id)
    assert 'overlaps' in str(err.value)
    remove_router(central, router, sub1)


def test_local_router_lives_in_its_region_only(sandbox, central, regions,
                                               vms):
    stretched, sub = network(central, 'l3-loc', '10.65.1.0/24')
    _other, sub_two = network(central, 'l3-loc2', '10.65.2.0/24',
                              ['RegionTwo'])
    router = central.network.create_router(
        name='l3-local', availability_zone_hints=['RegionOne'])
    with pytest.raises(os_exc.BadRequestException) as err:
        central.network.add_interface_to_router(router, subnet_id=sub_two.id)
    assert 'RegionOne' in str(err.value)
    central.network.add_interface_to_router(router, subnet_id=sub.id)
    vms('l3-loc-b', 'RegionTwo', stretched.id)
    wait_for(lambda: regions['RegionOne'].network.find_router(router.id),
             timeout=ROUTED)
    # A VM of the network in RegionTwo does not bring the router there.
    assert regions['RegionTwo'].network.find_router(router.id) is None
    assert not transit_ports(regions['RegionOne'], router.id)
    assert central.network.get_router(router.id).availability_zones == [
        'RegionOne']
    remove_router(central, router, sub)
