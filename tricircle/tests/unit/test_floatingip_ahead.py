"""floatingip_ahead makes a new floating IP's copy from central's hint,
floatingip_setup takes that copy rather than making one, and a run
without a hint deletes a copy made ahead of a floating IP central does
not have."""
from __future__ import annotations

import threading
import time
import types

from oslo_config import cfg
import pytest

from tricircle.common import config

from tricircle.db import api as db_api
from tricircle.db import jobs as db_jobs
from tricircle import resources
from tricircle.resources import floatingip as fip_res
from tricircle.resources import jobs as job_shapes
from tricircle.resources import regions
from tricircle.tests.unit.test_floatingip_copy import _converge
from tricircle.tests.unit.test_floatingip_copy import _routed
from tricircle.tests.unit.test_floatingip_copy import FIP
from tricircle.tests.unit.test_floatingip_copy import VM_PORT
from tricircle.tests.unit.test_floatingip_copy import pod  # noqa: F401
from tricircle.tests.unit.test_floatingip_copy import Region as _Region
from tricircle.xjob import floatingip_proxies
from tricircle.xjob import head_starts
from tricircle.xjob.jobs import floatingip_ahead
from tricircle.xjob.jobs import floatingip_setup

KEY = {'floating_network_id': 'ext', 'floating_ip_address': FIP[
    'floating_ip_address']}
HINT = {'floatingip': fip_res.regional_body(FIP, 'vm'), 'region': 'R1',
        'proxy': None}
# A VM of another region, behind router r1.
PROXY_HINT = dict(HINT, proxy={'router_id': 'r1'})
PROXY = fip_res.proxy_name('r1')


class Region(_Region):
    """Floating IPs, and the networks, subnets and ports of proxies
    (``rows``)."""

    def __init__(self, *copies: dict, **kwargs) -> None:
        super().__init__(*copies, **kwargs)
        self.rows: dict[str, dict] = {}
        self.serial = 0

    def get(self, resource, res_id, headers=None):
        if resource == resources.FLOATINGIP:
            return super().get(resource, res_id, headers)
        self.calls.append('get %s' % resource)
        return self.rows.get(res_id)

    def list(self, resource, **filters):
        if resource == resources.FLOATINGIP:
            return super().list(resource, **filters)
        self.calls.append('list %s' % resource)
        return [r for r in self.rows.values() if r['type'] == resource and
                all(r.get(k) == v for k, v in filters.items())]

    def create(self, resource, body):
        if resource == resources.FLOATINGIP:
            return super().create(resource, body)
        self.calls.append('create %s' % resource)
        self.serial += 1
        row = dict(body, id='%s-%d' % (resource, self.serial),
                   type=resource)
        self.rows[row['id']] = row
        return row

    def delete(self, resource, res_id):
        self.calls.append('delete %s' % resource)
        if resource == resources.FLOATINGIP:
            return self.fips.pop(res_id, None) is not None
        if resource == resources.NETWORK:   # its subnets go with it
            for subnet in self.list(resources.SUBNET, network_id=res_id):
                del self.rows[subnet['id']]
        return self.rows.pop(res_id, None) is not None


class Central:
    """Central's floating IPs (``fips``) and the external network."""

    def __init__(self, *fips: dict) -> None:
        self.fips = list(fips)

    def list(self, resource, **filters):
        assert resource == resources.FLOATINGIP
        return [f for f in self.fips if all(f.get(k) == v
                                            for k, v in filters.items())]

    def get(self, resource, res_id, headers=None):
        assert resource == resources.NETWORK
        return {'id': res_id, 'availability_zone_hints': ['R1']}


def _run(region: Region, hint: dict | None, central=None) -> None:
    ctx = types.SimpleNamespace(hint=hint, region_client=lambda name: region,
                                central_client=lambda: central or Central())
    floatingip_ahead.floatingip_ahead(ctx, dict(KEY))


@pytest.fixture(autouse=True)
def no_record():
    config.register_xjob_opts(cfg.CONF)
    head_starts.floatingips.forget(('ext', FIP['floating_ip_address']))


def test_the_copy_made_ahead_is_taken_by_floatingip_setup(pod):  # noqa
    region = Region()
    _run(region, HINT)
    assert region.calls == ['create floatingip']
    assert region.fips['copy-0']['port_id'] == 'vm'
    assert region.fips['copy-0']['fixed_ip_address'] == '10.0.0.5'
    # floatingip_setup, once central committed it: no request at all.
    region.calls.clear()
    changes = _converge(region, pod)
    assert changes == ['copy copy-0 made ahead of central taken']
    assert region.calls == ['get floatingip']   # its status
    assert _routed(pod) == ['copy-0']


def test_a_refused_head_start_leaves_the_copy_to_floatingip_setup(
        pod):  # noqa: F811
    region = Region(refuse_port=True)
    _run(region, HINT)   # logged, not raised
    assert region.fips == {}
    region._refuse_port = False
    assert _converge(region, pod) == [
        'copy copy-0 created, associated with vm (port vm)']


def test_a_region_found_down_gets_no_request(monkeypatch, pod):  # noqa
    monkeypatch.setattr(regions, 'down_regions', lambda: {'R1'})
    region = Region()
    _run(region, HINT)
    assert region.calls == []


@pytest.mark.parametrize('hint', [
    dict(HINT, region=None),
    dict(HINT, floatingip=dict(HINT['floatingip'],
                               floating_ip_address='203.0.113.99')),
    {'floatingip': HINT['floatingip'], 'region': 'R1'},
])
def test_a_hint_for_something_else_makes_no_copy(pod, hint):  # noqa
    region = Region()
    _run(region, hint)
    # the tidy's look: the copies at the address
    assert region.calls == ['list floatingip']
    assert region.fips == {}


def _ahead_copy() -> dict:
    return dict(HINT['floatingip'], id='ahead')


def test_the_tidy_deletes_a_copy_central_has_no_floating_ip_for(
        pod):  # noqa: F811
    region = Region(_ahead_copy())
    _run(region, None)
    assert region.fips == {}


def test_the_tidy_leaves_a_copy_of_a_floating_ip_central_has(
        pod):  # noqa: F811
    region = Region(_ahead_copy())
    _run(region, None, Central(FIP))
    assert list(region.fips) == ['ahead']
    assert region.calls == ['list floatingip']


def test_the_tidy_deletes_another_projects_copy_at_an_address_reused(
        pod):  # noqa: F811
    """Central refused project p's floating IP after its head start, and
    gave the address to project q before the tidy ran: p's copy goes."""
    region = Region(_ahead_copy())
    _run(region, None, Central(dict(FIP, id='f9', project_id='q')))
    assert region.fips == {}


def test_a_copy_served_before_central_committed_gets_its_status(
        pod):  # noqa: F811
    region = Region()
    _run(region, HINT)
    region.fips['copy-0']['status'] = 'ACTIVE'   # the L3 agent's, early
    reported = []
    central = types.SimpleNamespace(
        list=lambda resource, **filters: [],
        update=lambda resource, res_id, body, headers=None:
        reported.append((res_id, headers)))
    ctx = types.SimpleNamespace(region_client=lambda name: region)
    changes = floatingip_setup._converge(ctx, central, 'R1', pod,
                                         dict(FIP, status='DOWN'), VM_PORT)
    assert changes[-1] == 'its status ACTIVE reported'
    assert reported == [('f1', {regions.STATUS_HEADER: 'ACTIVE'})]


def test_the_tidy_leaves_a_copy_a_routing_names(pod):  # noqa: F811
    # A deleted floating IP's copy: its floatingip_setup deletes it.
    db_api.ensure_routing('f0', 'ahead', pod, 'p', resources.FLOATINGIP)
    region = Region(_ahead_copy())
    _run(region, None)
    assert list(region.fips) == ['ahead']


def test_floatingip_setup_waits_for_a_head_start_at_work(pod):  # noqa
    """The head start's request is queued when floatingip_setup runs; the
    run takes its copy once it is done."""
    job_id = job_shapes.resource_id(job_shapes.FLOATINGIP_AHEAD, KEY)
    db_jobs.submit(job_shapes.FLOATINGIP_AHEAD.name, job_id, 'p', HINT)
    region = Region()

    def head_start() -> None:
        time.sleep(0.3)
        claim = db_jobs.claim(job_shapes.FLOATINGIP_AHEAD.name, job_id,
                              'w1', expire=60)
        _run(region, claim.hint)
        db_jobs.succeed(claim)

    worker = threading.Thread(target=head_start)
    worker.start()
    try:
        changes = _converge(region, pod)
    finally:
        worker.join()
    assert changes == ['copy copy-0 made ahead of central taken']
    assert region.calls == ['create floatingip', 'get floatingip']


def test_a_copy_made_ahead_in_another_region_is_not_taken(pod):  # noqa
    head_starts.floatingips.put(('ext', FIP['floating_ip_address']),
                                ('R2', _ahead_copy()))
    region = Region()
    assert _converge(region, pod) == [
        'copy copy-0 created, associated with vm (port vm)']


def _proxy_rows(region: Region) -> list[str]:
    """The region's rows named as router r1's proxy."""
    return sorted(r['type'] for r in region.rows.values()
                  if r.get('name') == PROXY)


VM_PORT_R2 = {'id': 'vm', 'device_owner': 'compute:nova',
              'fixed_ips': [{'subnet_id': 'vm-subnet',
                             'ip_address': '10.0.0.5'}],
              'binding:host_id': 'h2', 'binding:profile': {
                  'region': 'R2', 'tunnel_ip': '10.2.0.1'}}


def test_a_vm_of_another_region_gets_its_routers_proxy_ahead(
        pod):  # noqa: F811
    region = Region()
    _run(region, PROXY_HINT)
    assert _proxy_rows(region) == ['network', 'port', 'subnet']
    net = region.list(resources.NETWORK, name=PROXY)[0]
    assert net['provider:network_type'] == 'local'
    port = region.list(resources.PORT, name=PROXY)[0]
    assert port['device_id'] == 'r1' and fip_res.is_proxy(port)
    assert port['network_id'] == net['id']
    # The copy keeps the VM's address, which the port does not have.
    assert region.fips['copy-0']['port_id'] == port['id']
    assert region.fips['copy-0']['fixed_ip_address'] == '10.0.0.5'
    # floatingip_setup, once central committed it: the copy is taken and
    # the proxy found as it is; nothing is made anew.
    region.calls.clear()
    ctx = types.SimpleNamespace(region_client=lambda name: region)
    changes = floatingip_setup._converge(ctx, None, 'R1', pod, FIP,
                                         VM_PORT_R2)
    assert changes == ['copy copy-0 made ahead of central taken']
    assert not [c for c in region.calls if c.startswith('create')]
    assert _routed(pod) == ['copy-0']
    # Moved to a VM of R1: the copy leaves the proxy, which stays for the
    # router's next floating IP.
    local = dict(FIP, port_id='vm1')
    changes = floatingip_setup._converge(ctx, None, 'R1', pod, local,
                                         dict(VM_PORT_R2, id='vm1', **{
                                             'binding:profile': {
                                                 'region': 'R1',
                                                 'tunnel_ip': '10.1.0.1'}}))
    assert changes == ['copy copy-0 associated with vm1 (port vm1)']
    assert _proxy_rows(region) == ['network', 'port', 'subnet']


def _run_for(region: Region, address: str, vm_address: str) -> None:
    body = dict(HINT['floatingip'], floating_ip_address=address,
                fixed_ip_address=vm_address)
    ctx = types.SimpleNamespace(hint=dict(PROXY_HINT, floatingip=body),
                                region_client=lambda name: region,
                                central_client=Central)
    floatingip_ahead.floatingip_ahead(ctx, {
        'floating_network_id': 'ext', 'floating_ip_address': address})


def test_the_routers_next_floating_ip_costs_the_region_one_create(
        pod):  # noqa: F811
    region = Region()
    _run(region, PROXY_HINT)
    region.calls.clear()
    _run_for(region, '203.0.113.21', '10.0.1.6')
    assert region.calls == ['list port', 'create floatingip']
    port = region.list(resources.PORT, name=PROXY)[0]
    assert sorted((f['port_id'], f['fixed_ip_address'])
                  for f in region.fips.values()) == [
        (port['id'], '10.0.0.5'), (port['id'], '10.0.1.6')]


def test_a_proxy_a_stopped_run_left_half_made_is_finished(
        pod):  # noqa: F811
    region = Region()
    net = region.create(resources.NETWORK, fip_res.proxy_network_body(
        PROXY, None))
    _run(region, PROXY_HINT)
    assert _proxy_rows(region) == ['network', 'port', 'subnet']
    assert region.list(resources.PORT, name=PROXY)[0]['network_id'] == \
        net['id']


def test_the_router_losing_its_gateway_takes_its_proxy(pod):  # noqa
    region = Region()
    _run(region, PROXY_HINT)
    del region.fips['copy-0']   # Neutron there refuses it before
    assert floatingip_proxies.remove(region, 'r1')
    assert region.rows == {}
    assert floatingip_proxies.remove(region, 'r1') == 0


def test_a_tenants_network_of_the_proxys_name_is_neither_taken_nor_removed(
        pod):  # noqa: F811
    """Central's networks are copied here with their names."""
    region = Region()
    tenant = region.create(resources.NETWORK, {
        'name': PROXY, 'provider:network_type': 'vxlan', 'project_id': 't'})
    vm = region.create(resources.PORT, {'network_id': tenant['id'],
                                        'device_owner': 'compute:nova'})
    _run(region, PROXY_HINT)
    port = region.list(resources.PORT,
                       device_owner=fip_res.PROXY_DEVICE_OWNER)[0]
    assert port['network_id'] != tenant['id']
    del region.fips['copy-0']
    floatingip_proxies.remove(region, 'r1')
    assert sorted(region.rows) == sorted([tenant['id'], vm['id']])


def test_the_tidy_leaves_the_routers_proxy(pod):  # noqa: F811
    region = Region()
    _run(region, PROXY_HINT)
    del region.fips['copy-0']
    region.calls.clear()
    _run(region, None)
    assert region.calls == ['list floatingip']
    assert _proxy_rows(region) == ['network', 'port', 'subnet']
