"""Global IPAM under real concurrency (PostgreSQL, unserialized servers)."""
from __future__ import annotations

import concurrent.futures
import uuid

import openstack.exceptions as os_exc

from tricircle.sandbox import demo

REGIONS = ('RegionOne', 'RegionTwo')


def _create_ports(state, network_id: str, per_region: int) -> list:
    def create(args):
        region, i = args
        conn = demo.connect(state, region)
        try:
            return conn.network.create_port(
                network_id=network_id, device_owner='compute:nova',
                device_id='vm-%s-%d' % (region, i))
        except os_exc.HttpException as exc:
            return exc
    jobs = [(r, i) for r in REGIONS for i in range(per_region)]
    with concurrent.futures.ThreadPoolExecutor(16) as ex:
        return list(ex.map(create, jobs))


def test_concurrent_ports_in_two_regions_get_distinct_addresses(pg_sandbox):
    central = demo.connect(pg_sandbox, 'central')
    net = central.network.create_network(name='conc-%s' %
                                         uuid.uuid4().hex[:6])
    central.network.create_subnet(network_id=net.id, cidr='10.60.0.0/24',
                                  ip_version=4)
    results = _create_ports(pg_sandbox, net.id, 50)
    errors = [r for r in results if isinstance(r, Exception)]
    assert errors == []
    ips = {p.fixed_ips[0]['ip_address'] for p in results}
    macs = {p.mac_address for p in results}
    assert len(ips) == 100 and len(macs) == 100
    top = {p.id: p for p in central.network.ports(network_id=net.id)}
    for port in results:
        assert top[port.id].mac_address == port.mac_address
        assert top[port.id].fixed_ips == port.fixed_ips


def test_exhausted_pool_fails_cleanly(pg_sandbox):
    """A /27 has 30 host addresses: the central gateway, the DHCP port and
    one gateway per region are reserved, 26 are left for 40 requests."""
    central = demo.connect(pg_sandbox, 'central')
    net = central.network.create_network(name='small-%s' %
                                         uuid.uuid4().hex[:6])
    central.network.create_subnet(network_id=net.id, cidr='10.61.0.0/27',
                                  ip_version=4)
    results = _create_ports(pg_sandbox, net.id, 20)
    created = [r for r in results if not isinstance(r, Exception)]
    errors = [r for r in results if isinstance(r, Exception)]
    assert len(created) == 26
    assert len(errors) == 14
    for err in errors:
        assert err.status_code == 409, err
        assert 'No more IP addresses available' in str(err)
    assert len({p.fixed_ips[0]['ip_address'] for p in created}) == 26
    # Nothing half-made: each region holds exactly its successful ports.
    for region in REGIONS:
        local = demo.connect(pg_sandbox, region).network.ports(
            network_id=net.id, device_owner='compute:nova')
        assert sorted(p.id for p in local) == sorted(
            p.id for p in created if p.device_id.startswith(
                'vm-%s-' % region))
