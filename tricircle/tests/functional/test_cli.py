"""The real ``openstack multiregion networking`` commands against a real
``tricircle-api`` process (noauth, SQLite)."""
from __future__ import annotations

import json
import os
import subprocess

import pytest

from tricircle.db.migration import cli as migration
from tricircle.tests.conftest import free_port
from tricircle.tests.unit.conftest import BIN_DIR
from tricircle.tests.unit.test_api_server import _wait_until_up


@pytest.fixture(scope='module')
def api_server(tmp_path_factory):
    """(URL, DB URL) of a real tricircle-api process."""
    tmp = tmp_path_factory.mktemp('cli')
    url_db = 'sqlite:///%s' % (tmp / 'tricircle.sqlite')
    migration.upgrade(url_db)
    port = free_port()
    conf = tmp / 'api.conf'
    conf.write_text('[DEFAULT]\ntricircle_db_connection = %s\n'
                    'bind_host = 127.0.0.1\nbind_port = %d\n'
                    'auth_strategy = noauth\n' % (url_db, port))
    log = tmp / 'api.log'
    with open(log, 'wb') as out:
        proc = subprocess.Popen(
            [os.path.join(BIN_DIR, 'tricircle-api'), '--config-file',
             str(conf)], stdout=out, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL)
    url = 'http://127.0.0.1:%d' % port
    try:
        _wait_until_up(url + '/', proc, log)
        yield url, url_db
    finally:
        proc.terminate()
        proc.wait(10)


@pytest.fixture(scope='module')
def api_url(api_server):
    return api_server[0]


def osc(url: str, *args: str, check: bool = True
        ) -> subprocess.CompletedProcess:
    env = dict(os.environ, OS_TRICIRCLE_API_URL=url)
    for key in list(env):
        if key.startswith('OS_') and key != 'OS_TRICIRCLE_API_URL':
            del env[key]
    proc = subprocess.run(
        [os.path.join(BIN_DIR, 'openstack'), '--os-auth-type', 'none',
         '--os-endpoint', url, 'multiregion', 'networking', *args],
        capture_output=True, text=True, env=env, timeout=60)
    if check:
        assert proc.returncode == 0, proc.stderr
    return proc


def osc_json(url: str, *args: str):
    return json.loads(osc(url, *args, '-f', 'json').stdout)


def test_pods_routings_and_jobs_through_the_cli(api_url):
    central = osc_json(api_url, 'pod', 'create', '--region-name',
                       'CentralRegion')
    assert central['az_name'] == ''
    region = osc_json(api_url, 'pod', 'create', '--region-name', 'RegionOne',
                      '--availability-zone', 'az1', '--data-center', 'dc1')
    listed = osc_json(api_url, 'pod', 'list')
    assert {p['region_name'] for p in listed} == {'CentralRegion',
                                                  'RegionOne'}
    shown = osc_json(api_url, 'pod', 'show', region['pod_id'])
    assert shown['az_name'] == 'az1' and shown['dc_name'] == 'dc1'

    made = [osc_json(api_url, 'routing', 'create', '--top-id', 't%d' % i,
                     '--bottom-id', 'b%d' % i, '--pod-id', region['pod_id'],
                     '--project-id', 'p1', '--resource-type', 'network')
            for i in range(3)]
    # Without --limit the CLI follows next links: all three come back.
    every = osc_json(api_url, 'routing', 'list', '--pod-id',
                     region['pod_id'])
    assert [r['id'] for r in every] == sorted((r['id'] for r in made),
                                              reverse=True)
    page = osc_json(api_url, 'routing', 'list', '--limit', '2')
    assert len(page) == 2
    updated = osc_json(api_url, 'routing', 'update', str(made[0]['id']),
                       '--bottom-id', 'changed')
    assert updated['bottom_id'] == 'changed'
    osc(api_url, 'routing', 'delete', str(made[1]['id']))
    assert len(osc_json(api_url, 'routing', 'list')) == 2

    schemas = {s['type']: s['resource'] for s in
               osc_json(api_url, 'job', 'schema', 'list')}
    assert schemas['shadow_port_setup'] == 'network_id'
    job = osc_json(api_url, 'job', 'create', '--type', 'sync_resource',
                   '--project-id', 'p1', '--pod-id', region['pod_id'],
                   '--resource', 'resource_type=network',
                   '--resource', 'resource_id=n1')
    assert job['status'] == 'NEW'
    assert job['resource'] == {'pod_id': region['pod_id'],
                               'resource_type': 'network',
                               'resource_id': 'n1'}
    assert [j['id'] for j in osc_json(api_url, 'job', 'list', '--status',
                                      'new')] == [job['id']]
    assert osc_json(api_url, 'job', 'list', '--status', 'fail') == []
    shown = osc_json(api_url, 'job', 'show', job['id'])
    assert shown['id'] == job['id'] and shown['next_run_at'] is None
    assert osc_json(api_url, 'job', 'redo', job['id'])['id'] == job['id']
    osc(api_url, 'job', 'delete', job['id'])
    assert osc_json(api_url, 'job', 'list') == []

    osc(api_url, 'pod', 'delete', central['pod_id'])
    assert len(osc_json(api_url, 'pod', 'list')) == 1


def test_refusals_exit_non_zero_with_the_api_message(api_url):
    missing = osc(api_url, 'pod', 'show', 'no-such-pod', check=False)
    assert missing.returncode != 0
    assert 'no-such-pod' in missing.stderr and '404' in missing.stderr
    bad = osc(api_url, 'job', 'create', '--type', 'nope', '--project-id',
              'p1', check=False)
    assert bad.returncode != 0 and 'nope' in bad.stderr
    bad_resource = osc(api_url, 'job', 'create', '--type', 'sync_resource',
                       '--project-id', 'p1', '--resource', 'oops',
                       check=False)
    assert bad_resource.returncode != 0 and 'KEY=VALUE' in bad_resource.stderr


@pytest.fixture
def states_db(api_server):
    """The API server's DB, for writing sync states as the plugins do."""
    from oslo_config import cfg
    from tricircle.common import config
    from tricircle.db import core
    config.register_db_opts(cfg.CONF)
    cfg.CONF.set_override('tricircle_db_connection', api_server[1])
    core.reset()
    yield
    core.reset()
    cfg.CONF.clear_override('tricircle_db_connection')


def test_resource_show_and_wait(api_url, states_db):
    from tricircle.db import sync_states
    one = osc_json(api_url, 'pod', 'create', '--region-name', 'SyncOne',
                   '--availability-zone', 'az-s1')['pod_id']
    two = osc_json(api_url, 'pod', 'create', '--region-name', 'SyncTwo',
                   '--availability-zone', 'az-s2')['pod_id']
    # Nothing holds it: nothing to wait for; the table has its headers.
    assert osc_json(api_url, 'resource', 'show', 'network', 'n9') == []
    assert 'region_name' in osc(api_url, 'resource', 'show', 'network',
                                'n9').stdout
    osc(api_url, 'resource', 'wait', 'network', 'n9', '--timeout', '0')
    sync_states.mark_copied('network', 'n9', one, 3)
    sync_states.mark_copied('network', 'n9', two, 3)
    sync_states.mark_pending('network', 'n9', two, 4)
    sync_states.mark_failed('network', 'n9', two, 'ConnectFailure: down')
    rows = osc_json(api_url, 'resource', 'show', 'network', 'n9')
    assert [(r['region_name'], r['state'], r['revision_number'],
             r['target_revision']) for r in rows] == [
        ('SyncOne', 'in_sync', 3, 3), ('SyncTwo', 'failed', 3, 4)]
    late = osc(api_url, 'resource', 'wait', 'network', 'n9', '--timeout',
               '1', check=False)
    assert late.returncode != 0
    assert 'SyncTwo: failed (at revision 3 of 4): ConnectFailure: down' \
        in late.stderr and 'SyncOne' not in late.stderr
    sync_states.mark_in_sync('network', 'n9', two, 4)
    done = osc_json(api_url, 'resource', 'wait', 'network', 'n9')
    assert {r['state'] for r in done} == {'in_sync'}
    bad = osc(api_url, 'resource', 'show', 'trunk', 'x', check=False)
    assert bad.returncode != 0 and 'has no regional copies' in bad.stderr
