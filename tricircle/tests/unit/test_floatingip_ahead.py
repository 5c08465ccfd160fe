"""floatingip_ahead makes a new floating IP's copy from central's hint,
floatingip_setup takes that copy rather than making one, and a run
without a hint deletes a copy made ahead of a floating IP central does
not have."""
from __future__ import annotations

import threading
import time
import types

import pytest

from tricircle.db import api as db_api
from tricircle.db import jobs as db_jobs
from tricircle import resources
from tricircle.resources import floatingip as fip_res
from tricircle.resources import jobs as job_shapes
from tricircle.resources import regions
from tricircle.tests.unit.test_floatingip_copy import _converge
from tricircle.tests.unit.test_floatingip_copy import _routed
from tricircle.tests.unit.test_floatingip_copy import FIP
from tricircle.tests.unit.test_floatingip_copy import pod  # noqa: F401
from tricircle.tests.unit.test_floatingip_copy import Region as _Region
from tricircle.xjob import head_starts
from tricircle.xjob.jobs import floatingip_ahead
from tricircle.xjob.jobs import floatingip_setup

KEY = {'floating_network_id': 'ext', 'floating_ip_address': FIP[
    'floating_ip_address']}
HINT = {'floatingip': fip_res.regional_body(FIP, 'vm'), 'region': 'R1'}


class Region(_Region):
    def delete(self, resource, res_id):
        self.calls.append('delete %s' % resource)
        return self.fips.pop(res_id, None) is not None


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
    assert region.calls == []
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
    {'floatingip': dict(HINT['floatingip'],
                        floating_ip_address='203.0.113.99'),
     'region': 'R1'},
    {'floatingip': HINT['floatingip']},
])
def test_a_hint_for_something_else_makes_no_copy(pod, hint):  # noqa
    region = Region()
    _run(region, hint)
    assert region.calls == ['list floatingip']   # the tidy's look
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
    assert region.calls == []


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
    assert region.calls == ['create floatingip']


def test_a_copy_made_ahead_in_another_region_is_not_taken(pod):  # noqa
    head_starts.floatingips.put(('ext', FIP['floating_ip_address']),
                                ('R2', _ahead_copy()))
    region = Region()
    assert _converge(region, pod) == [
        'copy copy-0 created, associated with vm (port vm)']
