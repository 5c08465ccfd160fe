"""The drift audit's sorting of one region's copies (tricircle.xjob.drift)
and its counts in the Tricircle DB (tricircle.db.audits)."""
from __future__ import annotations

from tricircle.db import audits
from tricircle import resources
from tricircle.xjob import drift


def _state(central_rev, regional_rev):
    return {'revision_number': central_rev,
            'regional_revision': regional_rev}


def test_each_kind_of_drift_is_found():
    central = {'same': 3, 'moved': 4, 'lost': 1, 'unrouted': 2, 'busy': 9}
    regional = {'same': 7, 'moved': 7, 'orphan': 1, 'unrouted': 5,
                'busy': 1, 'local': 1}
    routed = {'same', 'moved', 'lost', 'orphan', 'gone', 'busy'}
    states = {'same': _state(3, 7), 'moved': _state(3, 7)}
    found = drift.classify(resources.NETWORK, central, regional, routed,
                           states, busy={'busy'})
    assert found.found == {
        audits.MISSING: ['lost'], audits.DRIFTED: [],
        audits.ORPHAN: ['orphan'], audits.STALE_ROUTING: ['gone'],
        audits.UNROUTED: ['unrouted']}
    # Only the copy whose revisions moved is read and compared.
    assert found.to_compare == ['moved']
    # The region's own network (never routed, not on central) is not
    # Tricircle's: untouched, unchecked.
    assert found.checked == 7


def test_a_region_side_change_alone_is_compared():
    found = drift.classify(resources.PORT, {'p': 5}, {'p': 8}, {'p'},
                           {'p': _state(5, 7)}, busy=set())
    assert found.to_compare == ['p']
    found = drift.classify(resources.PORT, {'p': 5}, {'p': 7}, {'p'},
                           {'p': _state(5, 7)}, busy=set())
    assert found.to_compare == []


def test_ports_without_routing_are_left_alone():
    # A shadow port shares its id with central's port; it is the region's.
    found = drift.classify(resources.PORT, {'p': 1}, {'p': 1}, set(), {},
                           busy=set())
    assert found.found[audits.UNROUTED] == []


def test_reserved_and_shadow_ports_are_ignored():
    listing = [{'id': 'vm', 'revision_number': 1, 'device_owner': 'compute:x',
                'device_id': 'd'},
               {'id': 'dhcp', 'revision_number': 1, 'device_owner': '',
                'device_id': 'reserved_dhcp_port'},
               {'id': 'sh', 'revision_number': 1,
                'device_owner': 'compute:shadow', 'device_id': 'd'}]
    seen, skip = drift.revisions(iter(listing), resources.PORT)
    assert seen == {'vm': 1}
    assert skip == {'dhcp', 'sh'}


def test_pages_follow_the_marker():
    calls = []

    class Client:
        def list(self, resource_type, **params):
            calls.append(params.get('marker'))
            ids = [str(i) for i in range(7)]
            start = ids.index(params['marker']) + 1 if 'marker' in params \
                else 0
            return [{'id': i} for i in ids[start:start + params['limit']]]

    got = [r['id'] for r in drift.pages(Client(), resources.NETWORK, 3,
                                        ('id',))]
    assert got == [str(i) for i in range(7)]
    assert calls == [None, '2', '5']


def test_a_step_is_counted_once(db):
    audit = audits.resume_or_start('w1')
    counts = {audits.DRIFTED: 2, audits.ORPHAN: 1}
    audits.step_done(audit['id'], 'pod/network', 10, counts, counts)
    # The daemon died after recording it; its successor records it again.
    audits.step_done(audit['id'], 'pod/network', 10, counts, counts)
    resumed = audits.resume_or_start('w2')
    assert resumed['id'] == audit['id']
    assert resumed['done'] == ['pod/network']
    assert resumed['checked'] == 10
    assert resumed['found'][audits.DRIFTED] == 2
    assert not audits.due(600)
    done = audits.finish(audit['id'])
    assert done['state'] == audits.FINISHED
    assert not audits.due(600)   # one started within the interval
    assert audits.due(0)
    assert audits.totals()['repaired'][audits.ORPHAN] == 1
    assert audits.resume_or_start('w3')['id'] != audit['id']


def test_a_down_region_is_not_called(db):
    from tricircle.db import api as db_api
    from tricircle.db import pod_health
    from tricircle.resources import neutron_client
    from tricircle.resources import regions

    up = db_api.create_pod({'region_name': 'RegionOne', 'az_name': 'az1'})
    down = db_api.create_pod({'region_name': 'RegionTwo', 'az_name': 'az2'})
    pod_health.record(up['pod_id'], None)
    pod_health.record(down['pod_id'], 'ConnectTimeout')
    called = []
    outcome = regions.in_parallel(['RegionOne', 'RegionTwo'],
                                  lambda r: called.append(r) or r, 'test',
                                  skip_down=True)
    assert called == ['RegionOne']
    assert outcome.results == {'RegionOne': 'RegionOne'}
    assert isinstance(outcome.errors['RegionTwo'],
                      neutron_client.RemoteUnavailable)
    # Without skip_down (central's own calls decide for themselves).
    both = regions.in_parallel(['RegionOne', 'RegionTwo'], lambda r: r,
                               'test')
    assert set(both.results) == {'RegionOne', 'RegionTwo'}
