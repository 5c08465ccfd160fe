"""sync_resource: what it leaves to other jobs."""
from __future__ import annotations

import pytest

from tricircle.db import api as db_api
from tricircle.resources import regions
from tricircle.xjob.jobs import sync_resource as job


class Neutron:
    """One Neutron (central or a region) holding ``ports``."""

    def __init__(self, ports: dict[str, dict]):
        self.ports = ports
        self.deleted: list[str] = []

    def get(self, resource, res_id, headers=None):
        return self.ports.get(res_id)

    def delete(self, resource, res_id):
        self.deleted.append(res_id)
        return self.ports.pop(res_id, None) is not None


class Ctx:
    def __init__(self, central: Neutron, region: Neutron):
        self.central, self.region = central, region

    def region_of_pod(self, pod_id):
        return 'RegionOne'

    def region_client(self, name):
        return self.region

    def central_client(self):
        return self.central


@pytest.fixture
def pod(sqlite_db) -> str:
    return db_api.create_pod({'region_name': 'RegionOne',
                              'az_name': 'az1'})['pod_id']


def _held(pod_id: str, port_id: str) -> None:
    db_api.ensure_routing(top_id=port_id, bottom_id=port_id, pod_id=pod_id,
                          project_id='p', resource_type='port')


@pytest.mark.parametrize('owner', ['network:router_gateway',
                                   'network:router_interface'])
def test_a_router_copys_own_port_is_left_to_router_setup(pod, owner):
    """Central deleted the router's port (its gateway was cleared): the
    region's port goes with the copy's gateway or interface, which
    Neutron would not delete as a port (409 ServicePortInUse)."""
    _held(pod, 'gw')
    region = Neutron({'gw': {'id': 'gw', 'device_owner': owner,
                             'device_id': 'r1'}})
    job.sync_resource(Ctx(Neutron({}), region), {
        'pod_id': pod, 'resource_type': 'port', 'resource_id': 'gw'})
    assert region.deleted == []
    assert regions.holding('port', 'gw') == {}


def test_a_vm_port_gone_from_central_is_deleted_in_the_region(pod):
    _held(pod, 'vm')
    region = Neutron({'vm': {'id': 'vm', 'device_owner': 'compute:nova',
                             'device_id': 'i1'}})
    job.sync_resource(Ctx(Neutron({}), region), {
        'pod_id': pod, 'resource_type': 'port', 'resource_id': 'vm'})
    assert region.deleted == ['vm']
    assert regions.holding('port', 'vm') == {}
