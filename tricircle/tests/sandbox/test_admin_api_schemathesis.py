"""Schemathesis against the served ``/v1.0/openapi.json`` (issue 15).

A real ``tricircle-api`` process with ``auth_strategy = keystone`` behind
a real Keystone 30, both started by the sandbox's own code
(``tricircle.sandbox.keystone``), on SQLite; no Neutron and no XJob, so
nothing but the requests changes the Tricircle DB. Every operation of the
document, positive and negative data, coverage and fuzzing phases, with
an admin token; seeded and derandomized, a fixed number of examples and a
hard time bound. It asserts no 5xx, no failed check (status codes,
content types, response schemas and headers conformance, negative data
rejected, auth enforced, ...), and that no 4xx changed the DB.
"""
from __future__ import annotations

import collections
import dataclasses
import json
import os
import sys
import threading
import time
import urllib.error
import urllib.request
from typing import Any, Iterator

import jsonschema
import pytest
import schemathesis
import sqlalchemy as sa

from tricircle.api import openapi
from tricircle.api import schemas
from tricircle.db.migration import cli as migration
from tricircle.sandbox import keystone as sb_keystone
from tricircle.sandbox import processes
from tricircle.sandbox import up as sb_up

pytestmark = pytest.mark.sandbox

SEED = 15
MAX_EXAMPLES = 20       # per operation and generation mode (fuzzing)
HARD_LIMIT = 420.0      # seconds: the run is stopped, and fails, past it
REQUEST_TIMEOUT = 30
# A schema-valid body or query may name a pod or a marker that does not
# exist; the server says so with these error types (400).
UNKNOWN_REFERENCES = {'ReferenceNotFound', 'MarkerNotFound'}


@dataclasses.dataclass
class AdminAPI:
    url: str
    token: str = dataclasses.field(repr=False)  # not in failure output
    db_url: str
    log: str


@pytest.fixture(scope='module')
def keystone_api(tmp_path_factory) -> Iterator[AdminAPI]:
    """Keystone + tricircle-api (keystone auth), stopped by PID after."""
    state_dir = str(tmp_path_factory.mktemp('st-admin-api') / 'state')
    ks = sb_keystone.SandboxKeystone.create(state_dir)
    ks.write_files()
    logs = os.path.join(state_dir, 'logs')
    pids: list[int] = []
    try:
        pids.append(ks.launch())
        db_url = 'sqlite:///%s' % os.path.join(state_dir, 'tricircle.sqlite')
        migration.upgrade(db_url)
        port = processes.free_port()
        url = 'http://127.0.0.1:%d' % port
        conf = os.path.join(ks.etc, 'tricircle-api.conf')
        with open(conf, 'w') as f:
            f.write('[DEFAULT]\ntricircle_db_connection = %s\n'
                    'bind_host = 127.0.0.1\nbind_port = %d\n' % (db_url,
                                                                port))
        ks.protect(conf, api_server=True)  # as `up --keystone` does
        log = os.path.join(logs, 'tricircle-api.log')
        pids.append(processes.launch([os.path.join(
            os.path.dirname(sys.executable), 'tricircle-api'),
            '--config-file', conf], log))
        ks.wait(pids[0], 120)
        ks.create_catalog(None, {}, url)
        processes.wait_http(url + '/', pids[1], 60, log)
        api = AdminAPI(url, ks.token(sb_keystone.ADMIN), db_url, log)
        _seed(api)
        yield api
    finally:
        for pid in reversed(pids):
            processes.stop(pid)


def _seed(api: AdminAPI) -> None:
    """A central pod, two regions, a routing and a job to find."""
    def post(path: str, body: dict) -> dict:
        return sb_up.http_json('POST', api.url + path, body, token=api.token)
    post('/v1.0/pods', {'pod': {'region_name': 'CentralRegion',
                                'az_name': ''}})
    pods = [post('/v1.0/pods', {'pod': {
        'region_name': r, 'az_name': 'az-' + r}})['pod']['pod_id']
        for r in ('RegionOne', 'RegionTwo')]
    post('/v1.0/routings', {'routing': {
        'top_id': 'net-1', 'bottom_id': 'net-1', 'pod_id': pods[0],
        'project_id': 'demo', 'resource_type': 'network'}})
    post('/v1.0/jobs', {'job': {'type': 'sync_resource',
                                'project_id': 'demo', 'resource': {
                                    'pod_id': pods[1],
                                    'resource_type': 'network',
                                    'resource_id': 'net-1'}}})


class DBState:
    """Every row of every Tricircle table, read straight from the DB."""

    def __init__(self, url: str) -> None:
        self.engine = sa.create_engine(url)
        self.metadata = sa.MetaData()
        self.metadata.reflect(self.engine)

    def snapshot(self) -> dict[str, list]:
        with self.engine.connect() as conn:
            return {name: sorted(map(tuple, conn.execute(table.select())),
                                 key=repr)
                    for name, table in self.metadata.tables.items()}

    def counts(self) -> dict[str, int]:
        return {name: len(rows) for name, rows in self.snapshot().items()}


@dataclasses.dataclass
class Tally:
    """What the run sent and got, from the scenarios' recorders."""
    statuses: collections.Counter = dataclasses.field(
        default_factory=collections.Counter)
    operations: set = dataclasses.field(default_factory=set)
    checks: collections.Counter = dataclasses.field(
        default_factory=collections.Counter)
    before: dict = dataclasses.field(default_factory=dict)
    compared: int = 0  # 4xx responses whose DB state was compared
    checked_4xx: int = 0
    tolerated: int = 0  # failures filter_failure dropped
    changed_by_4xx: list = dataclasses.field(default_factory=list)

    def line(self, total_operations: int, seconds: float) -> str:
        count = sum(self.statuses.values())
        by_class = collections.Counter(s // 100 for s in self.elements())
        return ('schemathesis: %d operations (%d in the document), %d '
                'requests, %d 2xx, %d 4xx, %d 5xx, in %.0fs' % (
                    len(self.operations), total_operations, count,
                    by_class[2], by_class[4], by_class[5], seconds))

    def elements(self) -> Iterator[int]:
        return self.statuses.elements()

    def record(self, recorder: Any) -> None:
        for case_id, interaction in recorder.interactions.items():
            if interaction.response is None:
                continue
            status = interaction.response.status_code
            self.statuses[status] += 1
            self.operations.add(recorder.cases[case_id].value.operation.label)
            # Requests a check sends itself (e.g. ignored_auth's, without
            # a token) are not checked, so not compared either.
            if case_id in recorder.checks and 400 <= status < 500:
                self.checked_4xx += 1
        for checks in recorder.checks.values():
            self.checks.update(c.name for c in checks)
        self.tolerated += sum(recorder.filtered_failures.values())


def _config(url: str, token: str) -> Any:
    return schemathesis.Config.from_dict({
        'base-url': url,
        'seed': SEED,
        'workers': 1,  # SQLite and Keystone serve one request at a time
        'request-timeout': REQUEST_TIMEOUT,
        'auth': {'openapi': {'keystone': {'api_key': token}}},
        'cache': {'enabled': False},  # nothing replayed from a past run
        'generation': {'mode': 'all', 'max-examples': MAX_EXAMPLES,
                       'deterministic': True, 'database': 'none'},
        'phases': {'examples': {'enabled': False},
                   'stateful': {'enabled': False}},
    })


def _register(tally: Tally, state: DBState) -> list:
    """A hook snapshots the DB before each call, a check compares after
    a 4xx; a filter drops one kind of failure. Hooks returned for
    unregistering."""
    def before_call(context, case, **kwargs):
        tally.before[case.id] = state.snapshot()

    def no_state_change_after_4xx(ctx, response, case):
        before = tally.before.pop(case.id, None)
        if before is None or not 400 <= response.status_code < 500:
            return None
        after = state.snapshot()
        tally.compared += 1
        if after != before:
            tally.changed_by_4xx.append((case.operation.label,
                                         response.status_code))
            changed = sorted(t for t in after if after[t] != before[t])
            raise AssertionError('%d response changed %s' % (
                response.status_code, ', '.join(changed)))
        return None

    def filter_failure(context, failure, case, response):
        """Keep every failure but positive data refused for naming a pod
        or marker that does not exist (the schema cannot know ids), and
        the answers to a job id that is a fixed route (its schema
        excludes it; by OpenAPI's rule /v1.0/jobs/detail is that route)."""
        if case.operation.path == '/v1.0/jobs/{job_id}' and \
                (case.path_parameters or {}).get('job_id') in \
                openapi.JOB_SUBPATHS:
            return False
        if type(failure).__name__ != 'RejectedPositiveData':
            return True
        try:
            kind = response.json()['NeutronError']['type']
        except Exception:  # noqa: BLE001 (no such body: keep it)
            return True
        return kind not in UNKNOWN_REFERENCES

    hooks = [schemathesis.hook(before_call),
             schemathesis.hook(filter_failure)]
    schemathesis.check(no_state_change_after_4xx)
    return hooks


def _unregister(hooks: list) -> None:
    from schemathesis import hooks as st_hooks
    from schemathesis.checks import CHECKS
    for hook in hooks:
        st_hooks.unregister(hook)
    CHECKS.unregister('no_state_change_after_4xx')


def _run(schema: Any, tally: Tally) -> tuple[list[str], Any]:
    """Run every phase; the failures found and the last event."""
    from schemathesis.engine import events
    from schemathesis.engine import from_schema
    problems: list[str] = []
    stream = from_schema(schema).execute()
    watchdog = threading.Timer(HARD_LIMIT, stream.stop)
    watchdog.start()
    last = None
    try:
        for event in stream:
            last = event
            if isinstance(event, events.NonFatalError):
                problems.append('error in %s: %s' % (event.label,
                                                     event.info.message))
            elif isinstance(event, events.FatalError):
                problems.append('fatal: %r' % event.exception)
            elif isinstance(event, events.ScenarioFinished):
                problems += _failures(event.recorder)
                tally.record(event.recorder)
    finally:
        watchdog.cancel()
    return problems, last


def _failures(recorder: Any) -> list[str]:
    found = []
    for case_id, checks in recorder.checks.items():
        for check in checks:
            if check.failure_info is None:
                continue
            case = recorder.cases[case_id].value
            failure = check.failure_info.failure
            found.append('%s: %s %s -> %s' % (
                check.name, case.method, case.formatted_path,
                failure.title + ': ' + failure.message[:300]))
    return found


def test_every_operation_keeps_the_document(keystone_api, capsys):
    state = DBState(keystone_api.db_url)
    rows_before = state.counts()
    tally = Tally()
    hooks = _register(tally, state)
    started = time.monotonic()
    try:
        # The served document, loaded as data: schemathesis leaves out the
        # operation that served the schema it loaded from a URL.
        served = sb_up.http_json('GET', keystone_api.url +
                                 '/v1.0/openapi.json',
                                 token=keystone_api.token)
        schema = schemathesis.openapi.from_dict(
            served, config=_config(keystone_api.url, keystone_api.token))
        problems, last = _run(schema, tally)
    finally:
        _unregister(hooks)
    took = time.monotonic() - started
    documented = {'%s %s' % (method.upper(), path)
                  for path, methods in schema.raw_schema['paths'].items()
                  for method in methods}
    with capsys.disabled():
        print('\n' + tally.line(len(documented), took))
        print('schemathesis: %d 4xx responses compared with the DB '
              'before them; %d failures tolerated (schema-valid data naming '
              'an unknown pod or marker; a job id that is a fixed route)'
              % (tally.compared, tally.tolerated))
        print('schemathesis: checks run %s' % dict(sorted(
            tally.checks.items())))
        print('schemathesis: rows before %s, after %s' % (
            rows_before, state.counts()))
    assert last is not None and last.stop_reason == 'completed', (
        'stopped: %s after %.0fs' % (getattr(last, 'stop_reason', None),
                                     took))
    assert not problems, '\n'.join(sorted(set(problems))[:40])
    assert not [s for s in tally.elements() if s >= 500]
    assert not tally.changed_by_4xx
    # the hook saw every 4xx: none escaped the comparison
    assert tally.compared == tally.checked_4xx
    assert tally.operations == documented
    assert took < HARD_LIMIT


def test_401_bodies_are_the_documented_error(keystone_api):
    """keystonemiddleware's refusals, as the served document says."""
    served = sb_up.http_json('GET', keystone_api.url + '/v1.0/openapi.json',
                             token=keystone_api.token)
    for path, token in (('/v1.0/pods', None), ('/', None),
                        ('/v1.0/jobs', 'not-a-token')):
        headers = {'X-Auth-Token': token} if token else {}
        req = urllib.request.Request(keystone_api.url + path,
                                     headers=headers)
        with pytest.raises(urllib.error.HTTPError) as info:
            urllib.request.urlopen(req, timeout=REQUEST_TIMEOUT)
        assert info.value.code == 401
        assert 'Keystone uri=' in info.value.headers['WWW-Authenticate']
        body = json.loads(info.value.read())
        method = served['paths'][path]['get']
        schema = method['responses']['401']['content'][
            'application/json']['schema']
        jsonschema.validate(body, schemas.to_json_schema(
            schema, served['components']['schemas']))
        assert body['NeutronError']['type'] == 'HTTPUnauthorized'
