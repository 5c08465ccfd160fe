"""A private, throwaway RabbitMQ server for one sandbox (agents' RPC).

Everything lives under ``base_dir``: config, definitions, mnesia, logs
and the Erlang cookie (``HOME``). The server gets its own ``epmd`` on a
private port, started in the foreground so that we own its PID, and a
private distribution port; AMQP listens on 127.0.0.1 only. Vhosts and
the single user are loaded at boot from a definitions file, which is
much faster than ``rabbitmqctl`` calls. The ``guest`` user is never
created. Processes are stopped by PID only.
"""
from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import os
import secrets
import socket
import time
import urllib.parse

import psutil

from tricircle.sandbox import processes

USER = 'tricircle'
SERVER_BIN = '/usr/lib/rabbitmq/bin/rabbitmq-server'
EPMD_BIN = '/usr/bin/epmd'
READY_TEXT = 'Server startup complete'


class RabbitError(processes.ProcessError):
    pass


def password_hash(password: str) -> str:
    """rabbit_password_hashing_sha256: base64(salt + sha256(salt + pw))."""
    salt = os.urandom(4)
    digest = hashlib.sha256(salt + password.encode()).digest()
    return base64.b64encode(salt + digest).decode()


def _wait_epmd(port: int, pid: int, timeout: float, log_path: str) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection(('127.0.0.1', port), 0.5) as sock:
                # NAMES_REQ: a bare connect makes epmd log "partial packet".
                sock.sendall(b'\x00\x01n')
                if sock.recv(4):
                    return
        except OSError:
            pass
        if not processes.is_running(pid) or time.monotonic() > deadline:
            raise RabbitError('epmd not up on port %d; see %s:\n%s' % (
                port, log_path, processes.tail(log_path)))
        time.sleep(0.05)


def _tree(pids) -> list[psutil.Process]:
    procs = []
    for pid in pids:
        with contextlib.suppress(psutil.NoSuchProcess):
            root = psutil.Process(pid)
            procs += [root] + root.children(recursive=True)
    return procs


def _stop_tree(pid: int, marker: str, timeout: float) -> None:
    """SIGTERM ``pid``, then SIGKILL whatever of its tree is left.

    The tree (beam.smp, erl_child_setup, inet_gethost) is taken before
    signalling, from our PID, never by name; ``marker`` must be in the
    command line, so that a reused PID is left alone.
    """
    if not processes.owned_by(pid, marker):
        return
    tree = _tree([pid])
    with contextlib.suppress(IndexError, psutil.NoSuchProcess):
        tree[0].terminate()
    alive = psutil.wait_procs(tree, timeout=timeout)[1]
    for proc in alive:
        with contextlib.suppress(psutil.NoSuchProcess):
            proc.kill()
    psutil.wait_procs(alive, timeout=5)


class RabbitServer:
    """One RabbitMQ node ``<name_prefix>@localhost`` on 127.0.0.1:port."""

    def __init__(self, base_dir: str, port: int, vhosts: list[str],
                 name_prefix: str, log_dir: str | None = None) -> None:
        self.base_dir = os.path.abspath(base_dir)
        self.port = port
        self.vhosts = list(vhosts)
        self.name_prefix = name_prefix
        # 'localhost' is always in /etc/hosts; the hostname may not be.
        self.node = '%s@localhost' % name_prefix
        self.password: str | None = None
        self.epmd_port: int | None = None
        self.dist_port: int | None = None
        self.pids: dict[str, int] = {}
        logs = log_dir or self.base_dir
        self.log_path = os.path.join(logs, 'rabbitmq.log')
        self.epmd_log_path = os.path.join(logs, 'epmd.log')

    def to_dict(self) -> dict:
        """What the sandbox's JSON state needs; see :meth:`from_dict`."""
        return {'base_dir': self.base_dir, 'port': self.port,
                'vhosts': self.vhosts, 'name_prefix': self.name_prefix,
                'password': self.password, 'epmd_port': self.epmd_port,
                'dist_port': self.dist_port, 'pids': dict(self.pids)}

    @classmethod
    def from_dict(cls, data: dict) -> RabbitServer:
        server = cls(data['base_dir'], data['port'], data['vhosts'],
                     data['name_prefix'])
        for key in ('password', 'epmd_port', 'dist_port'):
            setattr(server, key, data.get(key))
        server.pids = dict(data.get('pids') or {})
        return server

    def _path(self, name: str) -> str:
        return os.path.join(self.base_dir, name)

    def _write_files(self) -> None:
        for sub in ('mnesia', 'log'):
            os.makedirs(self._path(sub), exist_ok=True)
        definitions = {
            'users': [{'name': USER, 'tags': ['administrator'],
                       'password_hash': password_hash(self.password),
                       'hashing_algorithm':
                           'rabbit_password_hashing_sha256'}],
            'vhosts': [{'name': v} for v in self.vhosts],
            'permissions': [{'user': USER, 'vhost': v, 'configure': '.*',
                             'write': '.*', 'read': '.*'}
                            for v in self.vhosts]}
        # base_dir is 0700: the hash is not for other users' eyes.
        with open(self._path('definitions.json'), 'w') as f:
            json.dump(definitions, f)
        with open(self._path('rabbitmq.conf'), 'w') as f:
            f.write('listeners.tcp.default = 127.0.0.1:%d\n'
                    'definitions.import_backend = local_filesystem\n'
                    'definitions.local.path = %s\n'
                    # A sandbox machine may have little free disk.
                    'disk_free_limit.absolute = 50MB\n'
                    % (self.port, self._path('definitions.json')))
        # No plugins: faster boot, less memory, no management port.
        open(self._path('enabled_plugins'), 'w').close()
        # Shadows /etc/rabbitmq/rabbitmq-env.conf.
        open(self._path('rabbitmq-env.conf'), 'w').close()

    def _env(self) -> dict[str, str]:
        erl_args = ('-start_epmd false '  # never `epmd -daemon`
                    '-kernel inet_dist_use_interface {127,0,0,1}')
        return {
            'HOME': self.base_dir,  # the Erlang cookie goes there
            'RABBITMQ_NODENAME': self.node,
            'RABBITMQ_USE_LONGNAME': 'false',
            'RABBITMQ_NODE_IP_ADDRESS': '127.0.0.1',
            'RABBITMQ_NODE_PORT': str(self.port),
            'RABBITMQ_DIST_PORT': str(self.dist_port),
            'ERL_EPMD_PORT': str(self.epmd_port),
            'RABBITMQ_CONF_ENV_FILE': self._path('rabbitmq-env.conf'),
            'RABBITMQ_CONFIG_FILE': self._path('rabbitmq.conf'),
            'RABBITMQ_ADVANCED_CONFIG_FILE': self._path('advanced.config'),
            'RABBITMQ_ENABLED_PLUGINS_FILE': self._path('enabled_plugins'),
            'RABBITMQ_MNESIA_BASE': self._path('mnesia'),
            'RABBITMQ_LOG_BASE': self._path('log'),
            'RABBITMQ_LOGS': '-',  # to stdout, i.e. self.log_path
            'RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS': erl_args,
            'ERL_CRASH_DUMP': self._path('erl_crash.dump'),
        }

    # -- lifecycle -----------------------------------------------------
    def start(self) -> dict[str, int]:
        """Start epmd then RabbitMQ; return their PIDs (not yet ready)."""
        if not (os.access(SERVER_BIN, os.X_OK) and
                os.access(EPMD_BIN, os.X_OK)):
            raise RabbitError('%s or %s missing (apt-get install '
                              'rabbitmq-server)' % (SERVER_BIN, EPMD_BIN))
        if self.is_running():
            raise RabbitError('RabbitMQ already runs for %s (pids %s)'
                              % (self.base_dir, self.pids))
        os.makedirs(self.base_dir, exist_ok=True)
        os.chmod(self.base_dir, 0o700)
        self.password = secrets.token_urlsafe(18)
        self.epmd_port = processes.free_port()
        self.dist_port = processes.free_port()
        self._write_files()
        if os.path.exists(self.log_path):
            # wait_ready looks for READY_TEXT: not the last run's.
            os.replace(self.log_path, self.log_path + '.old')
        self.pids = {'epmd': processes.launch(
            [EPMD_BIN, '-port', str(self.epmd_port), '-address', '127.0.0.1'],
            self.epmd_log_path)}
        try:
            # The node registers with epmd as soon as it boots.
            _wait_epmd(self.epmd_port, self.pids['epmd'], 10,
                       self.epmd_log_path)
            # The marker argument (an unused Erlang init flag) puts
            # base_dir in the command lines, for owned_by() at stop.
            self.pids['rabbitmq'] = processes.launch(
                [SERVER_BIN, '-tricircle_sandbox', self.base_dir],
                self.log_path, self._env())
        except BaseException:
            self.stop()
            raise
        return dict(self.pids)

    def wait_ready(self, timeout: float = 60.0) -> float:
        """Block until every vhost accepts our AMQP login; seconds waited."""
        start = time.monotonic()
        pid = self.pids.get('rabbitmq')
        if not pid:
            raise RabbitError('RabbitMQ was not started')
        processes.wait_log(self.log_path, READY_TEXT, pid, timeout)
        import kombu
        pending = list(self.vhosts)
        while pending:
            try:
                # kombu calls py-amqp's transport 'amqp', not 'rabbit'.
                url = 'amqp' + self.transport_url(pending[0])[len('rabbit'):]
                with kombu.Connection(url, connect_timeout=2) as conn:
                    conn.connect()
                pending.pop(0)
                continue
            except Exception as exc:  # refused, or auth not loaded yet
                error = exc
            if (not processes.is_running(pid) or
                    time.monotonic() - start > timeout):
                raise RabbitError('no AMQP login on vhost %r: %s; see %s:\n%s'
                                  % (pending[0], error, self.log_path,
                                     processes.tail(self.log_path)))
            time.sleep(0.2)
        return time.monotonic() - start

    def transport_url(self, vhost: str, host: str = '127.0.0.1',
                      port: int | None = None) -> str:
        """oslo.messaging URL for ``vhost`` (host/port: e.g. a relay)."""
        return 'rabbit://%s:%s@%s:%d/%s' % (
            USER, self.password, host, port or self.port,
            urllib.parse.quote(vhost, safe=''))

    def is_running(self) -> bool:
        pid = self.pids.get('rabbitmq')
        return bool(pid) and processes.owned_by(pid, self.base_dir)

    def stop(self, timeout: float = 20.0) -> None:
        """Stop RabbitMQ, then epmd, by PID; nothing is left behind."""
        pid = self.pids.pop('rabbitmq', None)
        if pid:
            _stop_tree(pid, self.base_dir, timeout)
        pid = self.pids.pop('epmd', None)
        if pid:
            _stop_tree(pid, '-port %d -address' % self.epmd_port, 5)

    def memory(self) -> dict[str, float]:
        """RSS and PSS in MiB of our processes and their children."""
        rss = pss = 0
        for proc in _tree(self.pids.values()):
            with contextlib.suppress(psutil.NoSuchProcess):  # short-lived sh
                info = proc.memory_full_info()
                rss, pss = rss + info.rss, pss + info.pss
        return {'rss_mib': round(rss / 2**20, 1),
                'pss_mib': round(pss / 2**20, 1)}
