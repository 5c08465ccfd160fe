"""A private, throwaway PostgreSQL server (tests and ``--db postgresql``).

Debian's ``initdb``/``postgres`` refuse to run as root, so when we are
root they run as the ``postgres`` system user through ``runuser``; the
data directory is then handed to that user. The server listens on
127.0.0.1 only, with trust authentication: never use it for real data.
"""
from __future__ import annotations

import glob
import os
import re
import shutil
import signal
import subprocess
import time

import psutil

PG_USER = 'postgres'
_NAME_RE = re.compile(r'^[A-Za-z_][A-Za-z0-9_]{0,62}$')


class PostgresError(RuntimeError):
    pass


def find_bin_dir(version: str | None = None) -> str | None:
    """Directory of the Debian PostgreSQL binaries (15 preferred)."""
    candidates = ([version] if version else ['15']) + ['*']
    for ver in candidates:
        dirs = sorted(glob.glob('/usr/lib/postgresql/%s/bin' % ver),
                      key=lambda d: int(d.split('/')[-2])
                      if d.split('/')[-2].isdigit() else 0)
        for bin_dir in reversed(dirs):
            if (os.access(os.path.join(bin_dir, 'initdb'), os.X_OK) and
                    os.access(os.path.join(bin_dir, 'postgres'), os.X_OK)):
                return bin_dir
    return None


class PostgresServer:
    """One ``postgres`` process on 127.0.0.1:``port`` for ``data_dir``.

    A new instance for an existing ``data_dir`` can stop a server that
    another process started: the PID comes from ``postmaster.pid``.
    """

    def __init__(self, data_dir: str, port: int,
                 bin_dir: str | None = None) -> None:
        self.data_dir = os.path.abspath(data_dir)
        self.port = port
        self.bin_dir = bin_dir or find_bin_dir()
        self.log_path = self.data_dir + '.log'
        self._proc: subprocess.Popen | None = None

    # -- helpers -------------------------------------------------------
    @property
    def _as_pg_user(self) -> list[str]:
        # Only root needs (and may) switch users.
        return ['runuser', '-u', PG_USER, '--'] if os.geteuid() == 0 else []

    def _bin(self, name: str) -> str:
        if not self.bin_dir:
            raise PostgresError('PostgreSQL binaries not found under '
                                '/usr/lib/postgresql/*/bin')
        return os.path.join(self.bin_dir, name)

    def _chown(self, path: str) -> None:
        if os.geteuid() == 0:
            shutil.chown(path, PG_USER, PG_USER)

    @property
    def pid(self) -> int | None:
        """PID of the running postmaster, or None."""
        try:
            with open(os.path.join(self.data_dir, 'postmaster.pid')) as f:
                pid = int(f.readline().strip())
        except (OSError, ValueError):
            return None
        try:
            proc = psutil.Process(pid)
            if (proc.status() == psutil.STATUS_ZOMBIE or
                    'postgres' not in proc.name()):
                return None  # stale file, or the PID was reused
        except psutil.NoSuchProcess:
            return None
        return pid

    # -- lifecycle -----------------------------------------------------
    def init(self) -> None:
        """Create the cluster (``initdb``) in an empty ``data_dir``."""
        os.makedirs(self.data_dir, mode=0o700, exist_ok=True)
        if os.listdir(self.data_dir):
            raise PostgresError('%s is not empty' % self.data_dir)
        self._chown(self.data_dir)
        if os.geteuid() == 0:
            # Every parent directory must be traversable by postgres.
            rc = subprocess.call(self._as_pg_user + ['test', '-w',
                                                     self.data_dir])
            if rc:
                raise PostgresError(
                    'user %s cannot reach %s; use a directory under a '
                    'world-traversable path such as /tmp'
                    % (PG_USER, self.data_dir))
        result = subprocess.run(
            self._as_pg_user + [self._bin('initdb'), '-D', self.data_dir,
                                '-U', PG_USER, '--auth=trust', '-E', 'UTF8',
                                '--locale=C', '--no-sync'],
            cwd='/', stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            text=True)
        if result.returncode:
            raise PostgresError('initdb failed:\n%s' % result.stdout)

    def start(self, timeout: float = 30.0) -> int:
        """Start the server in the background; return its PID.

        Returns once the postmaster wrote its PID (so :attr:`pid` can be
        saved at once), before it accepts connections: see
        :meth:`wait_ready`.
        """
        if self.pid:
            raise PostgresError('a server already runs on %s (pid %d)'
                                % (self.data_dir, self.pid))
        argv = self._as_pg_user + [
            self._bin('postgres'), '-D', self.data_dir, '-p', str(self.port),
            '-c', 'listen_addresses=127.0.0.1',
            '-c', 'unix_socket_directories=%s' % self.data_dir,
            # Throwaway data: durability is not worth the time.
            '-c', 'fsync=off', '-c', 'synchronous_commit=off',
            '-c', 'full_page_writes=off', '-c', 'max_connections=200',
            # Neutron's port query joins ~15 tables; on small, unanalysed
            # tables the planner's cost estimate passes jit_above_cost and
            # each such SELECT spent ~0.7 s compiling (measured).
            '-c', 'jit=off']
        with open(self.log_path, 'ab') as log:
            self._proc = subprocess.Popen(
                argv, cwd='/', stdin=subprocess.DEVNULL, stdout=log,
                stderr=subprocess.STDOUT, start_new_session=True)
        # Popen's PID is runuser's; the server's comes from postmaster.pid.
        deadline = time.monotonic() + timeout
        while True:
            pid = self.pid
            if pid:
                return pid
            if self._proc.poll() is not None:
                raise PostgresError('postgres exited with %s; log %s:\n%s'
                                    % (self._proc.returncode, self.log_path,
                                       self._log_tail()))
            if time.monotonic() > deadline:
                raise PostgresError('postgres wrote no PID within %.0f s; '
                                    'log %s' % (timeout, self.log_path))
            time.sleep(0.05)

    def _log_tail(self, lines: int = 20) -> str:
        try:
            with open(self.log_path, errors='replace') as f:
                return ''.join(f.readlines()[-lines:])
        except OSError:
            return ''

    def _connect(self, dbname: str = 'postgres', timeout: int = 2):
        import psycopg2
        return psycopg2.connect(host='127.0.0.1', port=self.port,
                                user=PG_USER, dbname=dbname,
                                connect_timeout=timeout)

    def wait_ready(self, timeout: float = 30.0) -> float:
        """Block until the server accepts connections; seconds waited."""
        import psycopg2
        start = time.monotonic()
        while True:
            try:
                self._connect().close()
                return time.monotonic() - start
            except psycopg2.OperationalError:
                pass
            if self._proc is not None and self._proc.poll() is not None:
                raise PostgresError('postgres exited with %s; log %s:\n%s'
                                    % (self._proc.returncode, self.log_path,
                                       self._log_tail()))
            if time.monotonic() - start > timeout:
                raise PostgresError('postgres not ready after %.0f s; log '
                                    '%s:\n%s' % (timeout, self.log_path,
                                                 self._log_tail()))
            time.sleep(0.1)

    def url(self, name: str) -> str:
        return 'postgresql+psycopg2://%s@127.0.0.1:%d/%s' % (
            PG_USER, self.port, name)

    def create_database(self, name: str) -> str:
        """Create database ``name``; return its SQLAlchemy URL."""
        if not _NAME_RE.match(name):
            raise ValueError('invalid database name %r' % name)
        conn = self._connect()
        try:
            conn.autocommit = True  # CREATE DATABASE refuses transactions
            with conn.cursor() as cur:
                cur.execute('CREATE DATABASE "%s"' % name)
        finally:
            conn.close()
        return self.url(name)

    def drop_database(self, name: str) -> None:
        if not _NAME_RE.match(name):
            raise ValueError('invalid database name %r' % name)
        conn = self._connect()
        try:
            conn.autocommit = True
            with conn.cursor() as cur:
                cur.execute('DROP DATABASE IF EXISTS "%s" WITH (FORCE)'
                            % name)
        finally:
            conn.close()

    def stop(self, timeout: float = 15.0) -> None:
        """Fast shutdown by PID (SIGINT), SIGKILL if it does not go."""
        pid = self.pid
        if pid:
            try:
                proc = psutil.Process(pid)
                proc.send_signal(signal.SIGINT)
                proc.wait(timeout)
            except psutil.NoSuchProcess:
                pass
            except psutil.TimeoutExpired:
                proc.kill()
                proc.wait(5)
        if self._proc is not None:
            # runuser exits once postgres has; reap it.
            try:
                self._proc.wait(5)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
            self._proc = None
