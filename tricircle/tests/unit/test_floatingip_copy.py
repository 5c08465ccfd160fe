"""floatingip_setup makes a floating IP's copy with one request when the
region has none, and takes the one the region has at its address when it
has (a run that stopped before recording it)."""
from __future__ import annotations

import types

from neutron_lib.api.definitions import portbindings
import pytest

from tricircle.db import api as db_api
from tricircle import resources
from tricircle.resources import binding
from tricircle.resources import neutron_client
from tricircle.xjob.jobs import floatingip_setup

FIP = {'id': 'f1', 'project_id': 'p', 'floating_network_id': 'ext',
       'floating_ip_address': '203.0.113.20', 'port_id': 'vm',
       'fixed_ip_address': '10.0.0.5', 'router_id': 'r1', 'description': ''}
VM_PORT = {'id': 'vm', 'device_owner': 'compute:nova',
           portbindings.HOST_ID: 'h1',
           portbindings.PROFILE: {binding.PROFILE_REGION: 'R1',
                                  binding.PROFILE_TUNNEL_IP: '10.1.0.1'}}


class Region:
    """A region's floating IPs, and the requests made for them."""

    def __init__(self, *copies: dict, refuse_port: bool = False):
        self.fips = {c['id']: dict(c) for c in copies}
        self.calls: list[str] = []
        self._refuse_port = refuse_port

    def get(self, resource, res_id, headers=None):
        self.calls.append('get %s' % resource)
        return self.fips.get(res_id)

    def list(self, resource, **filters):
        self.calls.append('list %s' % resource)
        return [f for f in self.fips.values() if all(
            f.get(k) == v for k, v in filters.items())]

    def create(self, resource, body):
        self.calls.append('create %s' % resource)
        if any(f['floating_ip_address'] == body['floating_ip_address']
               for f in self.fips.values()):
            raise neutron_client.RemoteConflict(
                server='R1', status=409, reason='IP address in use')
        if self._refuse_port:
            raise neutron_client.RemoteConflict(
                server='R1', status=409, reason='port has a floating IP')
        copy = dict(body, id='copy-%d' % len(self.fips))
        self.fips[copy['id']] = copy
        return copy

    def update(self, resource, res_id, body):
        self.calls.append('update %s' % resource)
        self.fips[res_id].update(body)


@pytest.fixture
def pod(sqlite_db) -> str:
    pod_id = db_api.create_pod({'region_name': 'R1', 'az_name': 'R1',
                                'pod_az_name': 'R1',
                                'dc_name': 'dc'})['pod_id']
    db_api.ensure_routing('ext', 'ext', pod_id, 'p', resources.NETWORK)
    return pod_id


def _converge(region: Region, pod_id: str) -> list[str]:
    ctx = types.SimpleNamespace(region_client=lambda name: region)
    central = types.SimpleNamespace(
        list=lambda resource, **filters: [])  # no proxy network
    return floatingip_setup._converge(ctx, central, 'R1', pod_id, FIP,
                                      VM_PORT)


def _routed(pod_id: str) -> list[str]:
    return [r['bottom_id'] for r in db_api.list_routings(
        {'top_id': 'f1', 'pod_id': pod_id,
         'resource_type': resources.FLOATINGIP})]


def test_a_new_copy_costs_one_request_and_is_recorded(pod):
    region = Region()
    changes = _converge(region, pod)
    assert region.calls == ['create floatingip']
    assert changes == ['copy copy-0 created, associated with vm (port vm)']
    assert _routed(pod) == ['copy-0']
    # Once recorded, the next run reads it and changes nothing.
    assert _converge(region, pod) == []
    assert region.calls[1:] == ['get floatingip']


def test_a_copy_made_before_at_its_address_is_taken_and_associated(pod):
    stale = {'id': 'old', 'floating_network_id': 'ext', 'project_id': 'p',
             'floating_ip_address': '203.0.113.20', 'port_id': None,
             'fixed_ip_address': None}
    region = Region(stale)
    changes = _converge(region, pod)
    assert changes == ['copy old found at its address',
                       'copy old associated with vm (port vm)']
    assert region.fips['old']['port_id'] == 'vm'
    assert list(region.fips) == ['old']
    assert _routed(pod) == ['old']


def test_another_projects_copy_at_the_address_is_never_taken(pod):
    """A refused floating IP's head start, say, before its tidy."""
    theirs = {'id': 'theirs', 'floating_network_id': 'ext',
              'project_id': 'q', 'floating_ip_address': '203.0.113.20',
              'port_id': 'their-vm', 'fixed_ip_address': '10.9.0.9'}
    region = Region(theirs)
    with pytest.raises(neutron_client.RemoteNeutronError):
        _converge(region, pod)
    assert region.fips['theirs']['port_id'] == 'their-vm'
    assert _routed(pod) == []


def test_another_conflict_is_raised_and_nothing_is_recorded(pod):
    region = Region(refuse_port=True)
    with pytest.raises(neutron_client.RemoteConflict):
        _converge(region, pod)
    assert region.fips == {}
    assert _routed(pod) == []


class Central:
    """Central's API as the job reads it: the floating IP, its port and
    external network (hinted to R1), and no proxy network."""

    def __init__(self) -> None:
        self.reads: list[str] = []

    def get(self, resource, res_id, headers=None):
        self.reads.append('get %s' % resource)
        return {resources.FLOATINGIP: FIP, resources.PORT: VM_PORT,
                resources.NETWORK: {'id': 'ext', 'availability_zone_hints':
                                    ['R1']}}[resource]

    def list(self, resource, **filters):
        return []


def _run(pod_id: str, hint: dict | None) -> tuple[Central, Region]:
    central, region = Central(), Region()
    ctx = types.SimpleNamespace(hint=hint, central_client=lambda: central,
                                region_client=lambda name: region)
    floatingip_setup.floatingip_setup(ctx, {'floatingip_id': 'f1'})
    return central, region


HINT = {'floatingip': FIP, 'port': VM_PORT, 'region': 'R1'}


def test_a_new_floating_ips_run_takes_what_central_committed(pod):
    """Central's hint (the floating IP, its port, its region) spares the
    run its three reads of central; the copy is the same."""
    central, region = _run(pod, HINT)
    assert central.reads == []
    assert region.calls == ['create floatingip']
    assert _routed(pod) == ['copy-0']
    assert region.fips['copy-0']['port_id'] == 'vm'


@pytest.mark.parametrize('hint', [
    None,
    dict(HINT, floatingip=dict(FIP, id='f2')),   # another floating IP's
    dict(HINT, region=None),                     # no one region
    {'floatingip': FIP},                         # not the whole of it
])
def test_without_a_usable_hint_the_run_reads_central(pod, hint):
    central, region = _run(pod, hint)
    assert sorted(central.reads) == ['get floatingip', 'get network',
                                     'get port']
    assert region.calls == ['create floatingip']
    assert _routed(pod) == ['copy-0']
