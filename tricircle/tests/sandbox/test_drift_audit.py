"""XJob's drift audit on the real sandbox: copies changed, deleted or
made behind central's back in RegionTwo are repaired within two passes
(the sandbox audits every 10 s), and a pass survives its daemons being
killed (kill -9) in the middle."""
from __future__ import annotations

import datetime
import json
import os
import re
import signal
import sys
import time
import urllib.parse
import urllib.request
import uuid

import pytest

from tricircle.sandbox import processes
from tricircle.sandbox import up as sb_up
from tricircle.tests.sandbox.test_sync_state import admin_cli
from tricircle.tests.sandbox.test_sync_state import resource
from tricircle.tests.sandbox.test_sync_state import states

pytestmark = pytest.mark.sandbox

XJOB = os.path.join(os.path.dirname(sys.executable), 'tricircle-xjob')
# Two passes, and the repairs of the second.
TWO_PASSES = 2 * sb_up.AUDIT_INTERVAL + 25


def _api(sandbox, path: str) -> dict:
    with urllib.request.urlopen(sandbox.admin_api + path,
                                timeout=10) as resp:
        return json.loads(resp.read())


def _when(stamp: str) -> datetime.datetime:
    return datetime.datetime.fromisoformat(stamp.replace('Z', '+00:00'))


def pass_after(sandbox, since: datetime.datetime, timeout: float,
               state: str = 'finished') -> dict:
    """The first audit pass started after ``since`` in ``state``."""
    deadline = time.monotonic() + timeout
    while True:
        for audit in reversed(_api(sandbox, '/v1.0/audits')['audits']):
            if _when(audit['started_at']) > since and \
                    audit['state'] == state:
                return audit
        assert time.monotonic() < deadline, \
            'no %s audit pass started after %s within %.0f s' % (
                state, since, timeout)
        time.sleep(0.05)


def quiet_pass(sandbox, passes: int = 4) -> dict:
    """A pass that finds nothing, within a few: what earlier tests left
    converging (deletes still queued) is done by then."""
    since = utcnow()
    for _attempt in range(passes):
        audit = pass_after(sandbox, since, TWO_PASSES)
        if audit['found'] == no_drift():
            return audit
        print('pass %s still found %s' % (audit['id'], audit['found']))
        since = _when(audit['started_at'])
    raise AssertionError('no pass without drift in %d' % passes)


def pause_between_passes(sandbox, pids: tuple[int, ...]
                         ) -> datetime.datetime:
    """SIGSTOP ``pids`` at a moment no audit pass is running; return
    when. On a slow machine passes run back to back, so this waits for
    the gap between two and checks, once paused, that none began."""
    deadline = time.monotonic() + 3 * TWO_PASSES
    while True:
        assert time.monotonic() < deadline, 'no gap between audit passes'
        if any(a['state'] == 'running'
               for a in _api(sandbox, '/v1.0/audits')['audits']):
            time.sleep(0.05)
            continue
        paused_at = utcnow()
        for pid in pids:
            os.kill(pid, signal.SIGSTOP)
        if not any(a['state'] == 'running'
                   for a in _api(sandbox, '/v1.0/audits')['audits']):
            return paused_at
        for pid in pids:
            os.kill(pid, signal.SIGCONT)


def utcnow() -> datetime.datetime:
    return datetime.datetime.now(datetime.timezone.utc)


def pod_id(sandbox, region: str) -> str:
    pods = _api(sandbox, '/v1.0/pods')['pods']
    return next(p['pod_id'] for p in pods if p['region_name'] == region)


def no_drift() -> dict:
    return {'missing': 0, 'drifted': 0, 'orphan': 0, 'stale_routing': 0,
            'unrouted': 0}


def test_drift_behind_centrals_back_is_repaired(sandbox, central, regions):
    two = regions['RegionTwo']
    name = 'drift-%s' % uuid.uuid4().hex[:6]
    net = central.network.create_network(name=name)
    kept = central.network.create_subnet(network_id=net.id, ip_version=4,
                                         cidr='10.95.0.0/24')
    lost = central.network.create_subnet(network_id=net.id, ip_version=4,
                                         cidr='10.95.1.0/24',
                                         is_dhcp_enabled=False)
    orphan = port = None
    try:
        assert two.network.get_network(net.id).id == net.id
        port = two.network.create_port(network_id=net.id, name=name + '-p',
                                       fixed_ips=[{'subnet_id': kept.id}])
        resource(sandbox, 'wait', 'network', net.id, '--timeout', '30')
        # A pass over all this as it is finds nothing to repair in it.
        quiet = quiet_pass(sandbox)
        print('audit pass with nothing drifted: %s' % quiet)
        assert quiet['checked'] > 0

        # Behind central's back, in RegionTwo (as its admin):
        two.network.update_network(net.id, name=name + '-tampered')
        two.network.update_port(port.id, name=name + '-p-tampered')
        two.network.delete_subnet(lost.id)
        orphan = two.network.create_network(name=name + '-orphan')
        admin_cli(sandbox, 'routing', 'create', '--top-id', orphan.id,
                  '--bottom-id', orphan.id,
                  '--pod-id', pod_id(sandbox, 'RegionTwo'),
                  '--project-id', orphan.project_id,
                  '--resource-type', 'network')
        tampered = utcnow()
        start = time.monotonic()
        audit = pass_after(sandbox, tampered, TWO_PASSES)
        print('drift repaired by pass %s, %.1f s after the changes: found '
              '%s, repaired %s' % (audit['id'], time.monotonic() - start,
                                   audit['found'], audit['repaired']))
        want = dict(no_drift(), missing=1, drifted=2, orphan=1)
        assert audit['found'] == want, audit
        assert audit['repaired'] == want, audit
        shown = admin_cli(sandbox, 'audit', 'show', audit['id'], '-f',
                          'json')
        assert json.loads(shown.stdout)['repaired'] == \
            'drifted=2, missing=1, orphan=1'

        assert two.network.get_network(net.id).name == name
        assert two.network.get_port(port.id).name == name + '-p'
        assert two.network.get_subnet(lost.id).cidr == '10.95.1.0/24'
        assert two.network.find_network(orphan.id) is None
        assert not _api(sandbox, '/v1.0/routings?top_id=%s'
                        % orphan.id)['routings']
        orphan = None
        resource(sandbox, 'wait', 'network', net.id, '--timeout', '10')
        net = central.network.get_network(net.id)
        assert states(sandbox, 'network', net.id)['RegionTwo'][
            'revision_number'] == net.revision_number
        # Repaired for good: the next pass finds nothing.
        quiet_pass(sandbox)
    finally:
        if orphan is not None:
            two.network.delete_network(orphan.id, ignore_missing=True)
        if port is not None:
            two.network.delete_port(port.id, ignore_missing=True)
        central.network.delete_network(net.id, ignore_missing=True)


def _runs(log_paths: list[str], killed_at: datetime.datetime
          ) -> dict[str, list[tuple[datetime.datetime, datetime.datetime]]]:
    """sync_resource key -> the (start, end) of each run in the logs; a
    run its killed daemon never ended lasts till the kill. A log holds
    the runs of each daemon that wrote it, told apart by pid."""
    stamp = r'^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+) (\d+) '
    runs: dict[str, list] = {}
    for path in log_paths:
        open_runs: dict[tuple[str, str], datetime.datetime] = {}
        with open(path, errors='replace') as f:
            for line in f:
                m = re.match(stamp + r".*running sync_resource \{.*?"
                             r"'resource_id': '([^']+)'", line)
                if m:
                    open_runs[(m.group(2), m.group(3))] = \
                        datetime.datetime.fromisoformat(m.group(1))
                    continue
                m = re.match(stamp + r'.*job sync_resource (\S+) '
                             r'(succeeded|failed)', line)
                if m:
                    key = (m.group(2), _key_of(m.group(3)))
                    if key in open_runs:
                        runs.setdefault(key[1], []).append(
                            (open_runs.pop(key),
                             datetime.datetime.fromisoformat(m.group(1))))
        for (_pid, res_id), when in open_runs.items():
            runs.setdefault(res_id, []).append((when, killed_at))
    return runs


def _key_of(resource_id: str) -> str:
    return resource_id.rsplit('#', 1)[-1]


def test_audit_finishes_after_its_daemons_are_killed(sandbox, central,
                                                     regions):
    two = regions['RegionTwo']
    tag = 'killaudit-%s' % uuid.uuid4().hex[:6]
    conf = os.path.join(sandbox.state_dir, 'etc', 'tricircle-xjob.conf')
    logs = [sandbox.log_of('tricircle-xjob')]
    extra_log = os.path.join(sandbox.logs_dir, 'tricircle-xjob-2.log')
    extra = processes.launch([XJOB, '--config-file', conf], extra_log)
    nets = [central.network.create_network(name='%s-%d' % (tag, i))
            for i in range(40)]
    try:
        processes.wait_log(extra_log, 'started', extra, 60)
        logs.append(extra_log)
        for net in nets:
            two.network.get_network(net.id)
        daemons = (sandbox.pids['tricircle-xjob'], extra)

        def tampered_left() -> int:
            return len([n for n in two.network.networks()
                        if n.name.startswith(tag) and
                        n.name.endswith('-tampered')])
        for _attempt in range(3):
            # The daemons are paused between two passes while RegionTwo is
            # changed: the next pass finds all of it. (A pass paused
            # half-way would repair it before the next one starts.)
            paused_at = pause_between_passes(sandbox, daemons)
            try:
                for net in nets:
                    two.network.update_network(net.id,
                                               name=net.name + '-tampered')
            finally:
                for pid in daemons:
                    os.kill(pid, signal.SIGCONT)
            audit = pass_after(sandbox, paused_at, TWO_PASSES,
                               state='running')
            at_start = tampered_left()
            if at_start > 1:
                break
        else:
            raise AssertionError('no pass found the changes to repair')
        # Kill once this pass is repairing: some of ours done, not all.
        deadline = time.monotonic() + 60
        while True:
            left = tampered_left()
            if 0 < left < at_start:
                break
            assert left, 'every repair was done before the kill'
            assert time.monotonic() < deadline, 'no repair started'
        killed_at = datetime.datetime.now()
        for pid in daemons:
            os.kill(pid, signal.SIGKILL)
        print('killed both XJob daemons during pass %s, %d of %d repairs '
              'left' % (audit['id'], left, len(nets)))
        time.sleep(1)
        assert _api(sandbox, '/v1.0/audits/%s' % audit['id'])['audit'][
            'state'] == 'running'
        start = time.monotonic()
        sandbox.pids['tricircle-xjob'] = processes.launch(
            [XJOB, '--config-file', conf], logs[0])
        sandbox.save()
        deadline = time.monotonic() + 90
        while _api(sandbox, '/v1.0/audits/%s' % audit['id'])['audit'][
                'state'] != 'finished':
            assert time.monotonic() < deadline, 'the pass did not finish'
            time.sleep(0.5)
        print('pass %s finished %.1f s after one daemon restarted'
              % (audit['id'], time.monotonic() - start))
        for net in nets:
            deadline = time.monotonic() + 60
            while not _api(sandbox, '/v1.0/resources/network/%s'
                           % net.id)['resource']['in_sync']:
                assert time.monotonic() < deadline, net.id
                time.sleep(0.2)
            assert two.network.get_network(net.id).name == net.name
        ran = _runs(logs, killed_at)
        ours = {net.id for net in nets}
        assert ours & set(ran), 'no repair of ours in the logs'
        for key, spans in ran.items():
            spans.sort()
            for (_s1, end1), (start2, _e2) in zip(spans, spans[1:]):
                assert start2 >= end1, 'two runs of %s at once: %s' % (
                    key, spans)
    finally:
        if processes.is_running(extra):
            processes.stop(extra)
        if not processes.is_running(sandbox.pids['tricircle-xjob']):
            # The tests after this one need an XJob.
            sandbox.pids['tricircle-xjob'] = processes.launch(
                [XJOB, '--config-file', conf], logs[0])
            sandbox.save()
        for net in nets:
            central.network.delete_network(net.id, ignore_missing=True)


def _list(url: str, collection: str, headers: dict | None = None,
          **params) -> list[dict]:
    query = urllib.parse.urlencode(
        [('fields', 'id'), ('fields', 'revision_number')] +
        list(params.items()))
    req = urllib.request.Request('%s/v2.0/%s?%s' % (
        url.rstrip('/'), collection, query), headers=headers or {})
    with urllib.request.urlopen(req, timeout=30) as resp:
        return json.loads(resp.read())[collection.replace('-', '_')]


def test_the_audits_listing_matches_neutrons(sandbox, central):
    """What the audit reads (ids and revisions straight from the tables,
    page by page) is what Neutron's own listing says."""
    central.network.create_network(name='listing-%s' % uuid.uuid4().hex[:6])
    urls = [sandbox.central['neutron']] + [
        r['neutron'] for r in sandbox.regions.values()]
    cheap = {'X-Tricircle-Listing': 'revisions'}
    for url in urls:
        for collection in ('networks', 'subnets', 'ports',
                           'security-groups'):
            # An agent may bump a port's revision between two reads.
            for _attempt in range(3):
                plain = {(r['id'], r['revision_number'])
                         for r in _list(url, collection)}
                paged = _paged(url, collection, cheap)
                if {(r['id'], r['revision_number'])
                        for r in paged} == plain:
                    break
            assert {(r['id'], r['revision_number'])
                    for r in paged} == plain, (url, collection)
            if url == urls[0] and collection == 'networks':
                assert plain  # central holds the one made above
            assert [r['id'] for r in paged] == sorted(r['id'] for r in paged)


def _paged(url: str, collection: str, headers: dict) -> list[dict]:
    paged, marker = [], None
    while True:
        params = {'limit': 3, 'sort_key': 'id', 'sort_dir': 'asc'}
        if marker:
            params['marker'] = marker
        page = _list(url, collection, headers, **params)
        paged += page
        if len(page) < 3:
            return paged
        marker = page[-1]['id']
