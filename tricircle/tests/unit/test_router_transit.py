"""A router's transit on central, with a central that keeps its
resources in dicts."""
from __future__ import annotations

import itertools

from oslo_config import cfg
import pytest

from tricircle.common import config
from tricircle import resources
from tricircle.resources import neutron_client
from tricircle.resources import router as router_res
from tricircle.xjob import router_state

ROUTER = {'id': 'r1', 'project_id': 'p', 'availability_zone_hints': []}
SUBNETS = [router_res.Subnet('s1', '10.0.1.0/24', 4, 'n1',
                             frozenset({'RegionOne'})),
           router_res.Subnet('s2', '10.0.2.0/24', 4, 'n2',
                             frozenset({'RegionTwo'}))]


class Central:
    def __init__(self, fail_subnet: bool = False) -> None:
        self.made: dict[str, list[dict]] = {}
        self._ids = itertools.count(1)
        self._fail_subnet = fail_subnet

    def list(self, resource: str, **filters) -> list[dict]:
        return [r for r in self.made.get(resource, []) if all(
            r.get(k) == v for k, v in filters.items())]

    def create(self, resource: str, body: dict) -> dict:
        if resource == resources.SUBNET and self._fail_subnet:
            raise neutron_client.RemoteNotFound(
                server='central Neutron', status=404,
                reason='network deleted meanwhile')
        made = dict(body, id='%s-%d' % (resource, next(self._ids)))
        if resource == resources.PORT:
            made['fixed_ips'] = [{'ip_address': '100.64.0.%d' % (
                len(self.list(resources.PORT)) + 2)}]
        self.made.setdefault(resource, []).append(made)
        return made


@pytest.fixture(autouse=True)
def xjob_opts():
    config.register_xjob_opts(cfg.CONF)


def test_the_transit_is_made_once_and_each_region_gets_its_port():
    central = Central()
    wanted = {'RegionOne', 'RegionTwo'}
    with router_state.CentralTransit(None, central, ROUTER, SUBNETS,
                                     None, wanted) as transit:
        subnet_id = transit.subnet_id()
        ports = {region: transit.port(region) for region in wanted}
        plans = {region: transit.plan(region) for region in wanted}
    assert [s['id'] for s in central.list(resources.SUBNET)] == [subnet_id]
    assert len(central.list(resources.PORT)) == 2
    assert ports['RegionOne']['id'] != ports['RegionTwo']['id']
    # Each copy routes the other region's subnet to that region's port.
    assert plans['RegionOne'].routes == [{
        'destination': '10.0.2.0/24',
        'nexthop': ports['RegionTwo']['fixed_ips'][0]['ip_address']}]
    assert transit.plan('RegionOne') is plans['RegionOne'], \
        'planned once for all regions'


def test_a_404_on_central_is_no_regions_nothing_to_do():
    """in_parallel takes a region's 404 for "its copy is gone, done": a
    transit deleted on central meanwhile must fail the region instead."""
    with router_state.CentralTransit(
            None, Central(fail_subnet=True), ROUTER, SUBNETS, None,
            {'RegionOne', 'RegionTwo'}) as transit:
        with pytest.raises(neutron_client.RemoteConflict):
            transit.subnet_id()
        with pytest.raises(neutron_client.RemoteConflict):
            transit.port('RegionOne')
