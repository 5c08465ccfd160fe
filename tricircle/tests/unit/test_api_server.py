"""The real ``tricircle-api`` console script, over HTTP."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import time
import urllib.error
import urllib.request

from tricircle.db.migration import cli as migration
from tricircle.tests.unit.conftest import BIN_DIR
from tricircle.tests.conftest import free_port


def _http(method: str, url: str, body=None) -> tuple[int, dict]:
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method,
                                 headers={'Content-Type': 'application/json'})
    try:
        with urllib.request.urlopen(req, timeout=10) as res:
            return res.status, json.loads(res.read() or b'{}')
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b'{}')


def _wait_until_up(url: str, proc: subprocess.Popen, log) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        assert proc.poll() is None, 'tricircle-api exited:\n' + log.read_text()
        try:
            urllib.request.urlopen(url, timeout=1).close()
            return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.1)
    raise AssertionError('tricircle-api did not answer:\n' + log.read_text())


def test_console_script_serves_pods(tmp_path):
    url_db = 'sqlite:///%s' % (tmp_path / 'tricircle.sqlite')
    migration.upgrade(url_db)
    port = free_port()
    conf = tmp_path / 'api.conf'
    conf.write_text('[DEFAULT]\ntricircle_db_connection = %s\n'
                    'bind_host = 127.0.0.1\nbind_port = %d\n'
                    'auth_strategy = noauth\n' % (url_db, port))
    log = tmp_path / 'api.log'
    with open(log, 'wb') as out:
        proc = subprocess.Popen(
            [os.path.join(BIN_DIR, 'tricircle-api'), '--config-file',
             str(conf)], stdout=out, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL)
    base = 'http://127.0.0.1:%d' % port
    try:
        _wait_until_up(base + '/', proc, log)
        status, body = _http('POST', base + '/v1.0/pods', {
            'pod': {'region_name': 'CentralRegion', 'az_name': ''}})
        assert status == 201, body
        pod = body['pod']
        status, body = _http('GET', base + '/v1.0/pods')
        assert (status, body) == (200, {'pods': [pod]})
        status, body = _http('POST', base + '/v1.0/pods', {'pod': {}})
        assert status == 422
        assert body['NeutronError']['type'] == 'MissingRequiredField'
    finally:
        os.kill(proc.pid, signal.SIGTERM)
        rc = proc.wait(15)
    assert rc == 0  # graceful on SIGTERM
    text = log.read_text()
    assert 'serving on http://127.0.0.1:%d' % port in text
    assert 'pod %s created' % pod['pod_id'] in text
