"""Sync states in the Tricircle DB and ``GET /v1.0/resources/{type}/{id}``."""
from __future__ import annotations

import pytest

from tricircle.db import api as db_api
from tricircle.db import sync_states as st
from tricircle.tests.unit.test_api_pods import MEMBER, call, error_type


@pytest.fixture
def pods(db):
    return [db_api.create_pod({'region_name': r, 'az_name': 'az-' + r})
            ['pod_id'] for r in ('RegionOne', 'RegionTwo')]


def state_of(pod_id: str, res_id: str = 'n1') -> dict:
    return {r['pod_id']: r for r in st.list_states('network', res_id)
            }[pod_id]


def test_a_first_copy_is_in_sync_at_the_served_revision(pods):
    st.mark_copied('network', 'n1', pods[0], 4)
    row = state_of(pods[0])
    assert (row['state'], row['revision_number'], row['target_revision']) \
        == (st.IN_SYNC, 4, 4)
    # A later fetch (a region listing what it holds) changes nothing.
    st.mark_pending('network', 'n1', pods[0], 5)
    st.mark_copied('network', 'n1', pods[0], 5)
    assert state_of(pods[0])['state'] == st.PENDING


def test_pending_until_the_target_revision_is_reached(pods):
    st.mark_copied('network', 'n1', pods[0], 1)
    st.mark_pending('network', 'n1', pods[0], 3)
    # A run that applied an older revision leaves it pending ...
    st.mark_in_sync('network', 'n1', pods[0], 2)
    row = state_of(pods[0])
    assert (row['state'], row['revision_number'], row['target_revision']) \
        == (st.PENDING, 2, 3)
    # ... the one that reached it makes it in sync, the error gone.
    st.mark_failed('network', 'n1', pods[0], 'RegionTwo down')
    assert state_of(pods[0])['state'] == st.FAILED
    assert state_of(pods[0])['last_error'] == 'RegionTwo down'
    st.mark_in_sync('network', 'n1', pods[0], 3)
    row = state_of(pods[0])
    assert (row['state'], row['revision_number'], row['last_error']) == (
        st.IN_SYNC, 3, None)
    # Revisions never go back.
    st.mark_pending('network', 'n1', pods[0], 2)
    assert state_of(pods[0])['target_revision'] == 3


def test_a_copy_being_deleted_stays_deleting_until_forgotten(pods):
    st.mark_copied('network', 'n1', pods[0], 1)
    st.mark_copied('network', 'n1', pods[1], 1)
    st.mark_deleting('network', 'n1', pods[0])
    st.mark_failed('network', 'n1', pods[0], 'x' * 5000)
    st.mark_pending('network', 'n1', pods[0], 9)
    row = state_of(pods[0])
    assert row['state'] == st.DELETING
    assert len(row['last_error']) == st.ERROR_LIMIT
    assert st.forget('network', 'n1', pods[0]) == 1
    assert [r['pod_id'] for r in st.list_states('network', 'n1')] == [
        pods[1]]
    assert st.forget('network', 'n1') == 1
    assert st.list_states('network', 'n1') == []


def test_states_go_with_their_pod(pods):
    st.mark_copied('network', 'n1', pods[1], 1)
    db_api.delete_pod(pods[1])
    assert st.list_states('network', 'n1') == []


# -- the Admin API --------------------------------------------------------
@pytest.fixture
def api_pods(api_app):
    return [db_api.create_pod({'region_name': r, 'az_name': 'az-' + r})
            ['pod_id'] for r in ('RegionOne', 'RegionTwo')]


def test_show_lists_each_region_by_name(api_app, api_pods):
    st.mark_copied('network', 'n1', api_pods[1], 2)
    st.mark_copied('network', 'n1', api_pods[0], 2)
    res = call(api_app, 'GET', '/v1.0/resources/network/n1')
    assert res.status_int == 200, res.body
    body = res.json['resource']
    assert (body['resource_type'], body['id'], body['in_sync']) == (
        'network', 'n1', True)
    assert [(r['region_name'], r['state'], r['revision_number'])
            for r in body['regions']] == [('RegionOne', 'in_sync', 2),
                                          ('RegionTwo', 'in_sync', 2)]
    assert body['regions'][0]['updated_at'].endswith('+00:00')
    st.mark_failed('network', 'n1', api_pods[1], 'Timeout: RegionTwo')
    body = call(api_app, 'GET', '/v1.0/resources/network/n1').json[
        'resource']
    assert body['in_sync'] is False
    assert body['regions'][1]['last_error'] == 'Timeout: RegionTwo'


def test_show_of_a_resource_no_region_holds(api_app, api_pods):
    body = call(api_app, 'GET', '/v1.0/resources/port/p1').json['resource']
    assert body == {'resource_type': 'port', 'id': 'p1', 'in_sync': True,
                    'outstanding_jobs': 0, 'regions': []}


def test_a_job_still_to_run_keeps_a_resource_out_of_sync(api_app,
                                                        api_pods):
    from tricircle.db import jobs as db_jobs
    # A router's first interface in a region: no copy there yet, only a
    # router_setup job to make it.
    job = db_jobs.submit('router_setup', 'r1', 'p1')
    body = call(api_app, 'GET', '/v1.0/resources/router/r1').json[
        'resource']
    assert (body['in_sync'], body['outstanding_jobs']) == (False, 1)
    db_jobs.delete(job['id'])
    # A sync of this network in any region counts; another's does not.
    db_jobs.submit('sync_resource', '%s#network#n1' % api_pods[1], 'p1')
    db_jobs.submit('sync_resource', '%s#network#n1x' % api_pods[1], 'p1')
    db_jobs.submit('sync_resource', '%s#subnet#n1' % api_pods[1], 'p1')
    body = call(api_app, 'GET', '/v1.0/resources/network/n1').json[
        'resource']
    assert (body['in_sync'], body['outstanding_jobs']) == (False, 1)
    assert call(api_app, 'GET', '/v1.0/resources/network/_1').json[
        'resource']['outstanding_jobs'] == 0


@pytest.mark.parametrize('path, kind', [
    ('/v1.0/resources/trunk/t1', 'ResourceTypeNotSynced'),
    ('/v1.0/resources/network/' + 'x' * 128, 'ResourceIdNotFound'),
    ('/v1.0/resources/network/a%01b', 'ResourceIdNotFound'),
])
def test_show_names_nothing(api_app, api_pods, path, kind):
    res = call(api_app, 'GET', path)
    assert res.status_int == 404
    assert error_type(res) == kind


def test_show_is_for_admins(api_app, api_pods):
    res = call(api_app, 'GET', '/v1.0/resources/network/n1',
               headers=MEMBER)
    assert res.status_int == 403


# -- pod health -----------------------------------------------------------
class _Client:
    def __init__(self, answers: list[bool]) -> None:
        self.answers = answers

    def probe(self, timeout: float) -> None:
        from tricircle.resources import neutron_client
        if not self.answers.pop(0):
            raise neutron_client.RemoteUnavailable(
                server='RegionTwo Neutron', status='no answer',
                reason='timed out')


class _Engine:
    def __init__(self, answers: dict[str, list[bool]]) -> None:
        self.clients = {r: _Client(a) for r, a in answers.items()}

    def central_client(self):
        return self.clients['CentralRegion']

    def region_client(self, region: str):
        return self.clients[region]


def test_probe_records_health_and_retries_failed_jobs_on_return(
        api_app, parsed_conf):
    from tricircle.db import jobs as db_jobs
    from tricircle.db import pod_health
    from tricircle.xjob import probe
    config_pods = {r: db_api.create_pod({'region_name': r, 'az_name': az})
                   ['pod_id'] for r, az in (('CentralRegion', ''),
                                            ('RegionOne', 'az1'),
                                            ('RegionTwo', 'az2'))}
    returned = []
    engine = _Engine({'CentralRegion': [True] * 3, 'RegionOne': [True] * 3,
                      'RegionTwo': [False, False, True]})
    pods = probe.PodProbe(engine, parsed_conf,
                          on_return=lambda: returned.append(1))
    # A job that failed on RegionTwo waits out its backoff ...
    job = db_jobs.submit('sync_resource', '%s#network#n1' % config_pods[
        'RegionTwo'], 'p1')
    claim = db_jobs.claim('sync_resource', job['resource_id'], 'w', 60)
    db_jobs.fail(claim, 'RemoteUnavailable', 300)
    assert pods.run_once() == {'CentralRegion': 'up', 'RegionOne': 'up',
                               'RegionTwo': 'down'}
    two = call(api_app, 'GET', '/v1.0/pods/%s' % config_pods['RegionTwo']
               ).json['pod']
    assert (two['health'], two['last_seen']) == ('down', None)
    assert pods.run_once()['RegionTwo'] == 'down'
    assert db_jobs.runnable_keys(60) == [] and returned == []
    # ... until RegionTwo answers again: then it is due at once.
    assert pods.run_once()['RegionTwo'] == 'up'
    assert returned == [1]
    assert db_jobs.runnable_keys(60) == [('sync_resource',
                                          job['resource_id'])]
    listed = {p['region_name']: p for p in call(
        api_app, 'GET', '/v1.0/pods').json['pods']}
    assert {r: p['health'] for r, p in listed.items()} == {
        'CentralRegion': 'up', 'RegionOne': 'up', 'RegionTwo': 'up'}
    assert listed['RegionTwo']['last_seen'].endswith('+00:00')
    assert pod_health.all_health()[config_pods['RegionTwo']][
        'last_error'] is None


def test_a_down_pods_jobs_wait_and_others_run(api_app, parsed_conf):
    from tricircle.db import jobs as db_jobs
    from tricircle.db import pod_health
    from tricircle.xjob import engine as xjob_engine
    from tricircle.xjob import registry
    one, two = (db_api.create_pod({'region_name': r, 'az_name': az})
                ['pod_id'] for r, az in (('RegionOne', 'az1'),
                                         ('RegionTwo', 'az2')))
    ran = []
    registry.register(registry.JobType(
        'sync_resource', ('pod_id', 'resource_type', 'resource_id'),
        lambda ctx, resource: ran.append(resource['pod_id'])))
    try:
        db_jobs.submit('sync_resource', '%s#network#n1' % two, 'p1')
        db_jobs.submit('sync_resource', '%s#network#n1' % one, 'p1')
        pod_health.record(two, 'RemoteUnavailable: no answer')
        engine = xjob_engine.Engine(parsed_conf)
        assert engine.run_once() and ran == [one]
        assert not engine.run_once()  # RegionTwo's waits
        pod_health.record(two, None)
        assert engine.run_once() and ran == [one, two]
    finally:
        registry._TYPES.clear()
