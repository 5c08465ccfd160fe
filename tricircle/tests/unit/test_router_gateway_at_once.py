"""router_setup sets a gateway new to the copy in its region before it
reads anything else (router_setup._gateway_at_once)."""
from __future__ import annotations

import types

import pytest

from tricircle.db import api as db_api
from tricircle.db import pod_health
from tricircle import resources
from tricircle.resources import neutron_client
from tricircle.xjob.jobs import router_setup

GATEWAY = {'network_id': 'ext', 'enable_snat': True,
           'external_fixed_ips': [{'subnet_id': 'ext-s',
                                   'ip_address': '203.0.113.20'}]}
ROUTER = {'id': 'r1', 'project_id': 'p', 'external_gateway_info': GATEWAY}


class Region:
    """A region's Neutron holding copy r1 (None: no copy)."""

    def __init__(self, copy: dict | None = None, refuse: bool = False):
        self.copy = copy
        self.calls: list[str] = []
        self._refuse = refuse

    def get(self, resource, res_id, headers=None):
        assert (resource, res_id) == (resources.ROUTER, 'r1')
        self.calls.append('get')
        return self.copy

    def update(self, resource, res_id, body):
        assert (resource, res_id) == (resources.ROUTER, 'r1')
        self.calls.append('update')
        if self._refuse:
            raise neutron_client.RemoteNotFound(
                server='R1', status=404, reason='Network ext not found')
        self.copy = dict(self.copy, **body)


@pytest.fixture
def held(sqlite_db):
    """R1 holds the external network; R1 and R2 hold the router."""
    pods = {}
    for region in ('R1', 'R2'):
        pods[region] = db_api.create_pod({
            'region_name': region, 'az_name': region,
            'pod_az_name': region, 'dc_name': 'dc'})['pod_id']
    db_api.ensure_routing('ext', 'ext', pods['R1'], 'p', resources.NETWORK)
    for region in ('R1', 'R2'):
        db_api.ensure_routing('r1', 'r1', pods[region], 'p',
                              resources.ROUTER)
    return pods


def _ctx(**clients: Region):
    return types.SimpleNamespace(region_client=lambda region: clients[region])


def test_a_gateway_new_to_the_copy_is_set_with_one_read_first(held):
    one, two = Region({'id': 'r1', 'external_gateway_info': None}), Region()
    router_setup._gateway_at_once(_ctx(R1=one, R2=two), ROUTER)
    assert one.calls == ['get', 'update']
    assert one.copy['external_gateway_info'] == GATEWAY
    assert two.calls == []  # only the gateway's region
    # A copy that has it is left alone.
    router_setup._gateway_at_once(_ctx(R1=one, R2=two), ROUTER)
    assert one.calls == ['get', 'update', 'get']


@pytest.mark.parametrize('case', ['no gateway', 'copy elsewhere only',
                                  'region down', 'copy gone'])
def test_nothing_is_set_at_once_where_the_run_must_read_first(held, case):
    one = Region(None if case == 'copy gone' else {'id': 'r1'})
    router = dict(ROUTER)
    if case == 'no gateway':
        router['external_gateway_info'] = None
    elif case == 'copy elsewhere only':
        # The gateway brings the router into R1: the run makes the copy.
        db_api.delete_routings({'top_id': 'r1', 'pod_id': held['R1']})
    elif case == 'region down':
        pod_health.record(held['R1'], 'no answer')
    router_setup._gateway_at_once(_ctx(R1=one), router)
    assert 'update' not in one.calls


def test_a_refusal_is_left_to_the_runs_own_part(held):
    one = Region({'id': 'r1'}, refuse=True)
    router_setup._gateway_at_once(_ctx(R1=one), ROUTER)  # not raised
    assert one.calls == ['get', 'update']
