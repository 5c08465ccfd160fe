"""tricircle.sandbox.rabbit and .nsrelay with real processes.

RabbitMQ needs the Debian rabbitmq-server package; the relay test needs
root (it creates one network namespace, prefixed 'tcsb', and deletes it).
"""
from __future__ import annotations

import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import threading

import psutil
import pytest

from tricircle.sandbox import nsrelay, processes, rabbit


def _tree(pids: list[int]) -> list[psutil.Process]:
    procs = []
    for pid in pids:
        try:
            root = psutil.Process(pid)
            procs += [root] + root.children(recursive=True)
        except psutil.NoSuchProcess:
            pass
    return procs


def _alive(proc: psutil.Process) -> bool:
    try:
        return proc.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


@pytest.fixture
def rabbit_dir():
    if not os.access(rabbit.SERVER_BIN, os.X_OK):
        pytest.skip('%s missing (apt-get install rabbitmq-server)'
                    % rabbit.SERVER_BIN)
    base = tempfile.mkdtemp(prefix='tricircle-rabbit-')
    yield base
    shutil.rmtree(base, ignore_errors=True)


def test_rabbit_vhosts_login_isolation_and_stop(rabbit_dir):
    import kombu
    server = rabbit.RabbitServer(os.path.join(rabbit_dir, 'rmq'),
                                 processes.free_port(), ['region_a', 'b'],
                                 'tcsbtst')
    pids = server.start()
    assert set(pids) == {'epmd', 'rabbitmq'}
    try:
        server.wait_ready(90)
        tree = _tree(list(pids.values()))
        assert any(p.name() == 'beam.smp' for p in tree)
        # State survives a JSON round trip (the sandbox's state file).
        copy = rabbit.RabbitServer.from_dict(server.to_dict())
        assert copy.transport_url('b') == server.transport_url('b')
        assert server.transport_url('b') == 'rabbit://tricircle:%s@' \
            '127.0.0.1:%d/b' % (server.password, server.port)
        assert server.transport_url('b', '10.0.0.1', 1) == \
            'rabbit://tricircle:%s@10.0.0.1:1/b' % server.password

        def conn(vhost: str, user: str = rabbit.USER,
                 password: str | None = None) -> kombu.Connection:
            return kombu.Connection('amqp://%s:%s@127.0.0.1:%d/%s' % (
                user, password or server.password, server.port, vhost),
                connect_timeout=5)

        with conn('region_a') as a, conn('b') as b:
            qa = a.SimpleQueue('tcsb-test')
            qb = b.SimpleQueue('tcsb-test')
            qa.put({'hello': 'a'})
            assert qa.get(timeout=5).payload == {'hello': 'a'}
            qa.put({'only': 'a'})
            with pytest.raises(qb.Empty):
                qb.get(timeout=1)  # same queue name, other vhost
            assert qa.get(timeout=5).payload == {'only': 'a'}
            qa.close()
            qb.close()
        for user, password in (('guest', 'guest'),
                               (rabbit.USER, 'wrong')):
            with pytest.raises(Exception, match='ACCESS_REFUSED'):
                conn('b', user, password).connect()
        with pytest.raises(rabbit.RabbitError):
            server.start()  # already running
    finally:
        server.stop()
    assert server.pids == {}
    left = [p for p in tree if _alive(p)]
    assert not left, left


@pytest.fixture
def namespace():
    if os.geteuid() != 0:
        pytest.skip('creating a network namespace needs root')
    name = 'tcsbtst0-relay-%s' % secrets.token_hex(2)
    subprocess.run(['ip', 'netns', 'add', name], check=True)
    try:
        subprocess.run(['ip', '-n', name, 'link', 'set', 'lo', 'up'],
                       check=True)
        yield name
    finally:
        subprocess.run(['ip', 'netns', 'delete', name], check=False)


def _echo_server() -> socket.socket:
    listener = socket.create_server(('127.0.0.1', 0))
    listener.settimeout(0.2)  # close() does not wake a blocked accept()

    def serve() -> None:
        while True:
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return  # listener closed
            conn.settimeout(10)
            with conn:
                while data := conn.recv(65536):
                    conn.sendall(data)
    threading.Thread(target=serve, daemon=True).start()
    return listener


CLIENT = '''
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), 5)
s.sendall(b"ping through the relay")
s.shutdown(socket.SHUT_WR)
data = b""
while chunk := s.recv(100):
    data += chunk
print(data.decode())
'''


def test_nsrelay_reaches_root_loopback_from_a_namespace(namespace,
                                                        tmp_path):
    echo = _echo_server()
    listen_port = processes.free_port()
    log = str(tmp_path / 'relay.log')
    argv = nsrelay.relay_argv(echo.getsockname()[1], listen_port,
                              [namespace])
    assert argv[1:4] == ['-m', 'tricircle.sandbox.nsrelay', '--target']
    pid = processes.launch(argv, log)
    try:
        processes.wait_log(log, 'relay started', pid, 20)
        assert 'in %s' % namespace in processes.tail(log)
        # Nothing listens on that port in the root namespace.
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection(('127.0.0.1', listen_port), 2)
        out = subprocess.run(
            ['ip', 'netns', 'exec', namespace, sys.executable, '-c', CLIENT,
             str(listen_port)], capture_output=True, text=True, timeout=30)
        assert out.returncode == 0, out.stderr
        assert out.stdout.strip() == 'ping through the relay'
    finally:
        processes.stop(pid)
        echo.close()
    assert not processes.is_running(pid)
    assert 'relay stopped' in processes.tail(log)


def test_nsrelay_fails_clearly_on_a_missing_namespace(tmp_path):
    out = subprocess.run(nsrelay.relay_argv(1, 2, ['tcsb-no-such-ns']),
                         capture_output=True, text=True, timeout=30)
    assert out.returncode != 0
    assert "no namespace 'tcsb-no-such-ns'" in out.stderr
