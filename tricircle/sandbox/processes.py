"""Start, watch and stop the sandbox's server processes, by PID only."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

import psutil


class ProcessError(RuntimeError):
    pass


def console_script(name: str) -> str:
    """A console script installed beside this interpreter."""
    return os.path.join(os.path.dirname(sys.executable), name)


# Ports free_port handed out in this process. The sandbox picks every
# server's port before it starts them, and the kernel may give a port it
# just gave (now closed) again: two servers then got the same port, the
# second failed with "Address already in use", and the first answered in
# its place.
_handed_out: set[int] = set()


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free right now and that this
    process has not handed out before."""
    for _ in range(1000):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.bind(('127.0.0.1', 0))
            port = sock.getsockname()[1]
        if port not in _handed_out:
            _handed_out.add(port)
            return port
    raise ProcessError('no free TCP port on 127.0.0.1 left to hand out')


def launch(argv: list[str], log_path: str,
           env: dict[str, str] | None = None) -> int:
    """Start a detached server process; its output goes to ``log_path``."""
    os.makedirs(os.path.dirname(log_path), exist_ok=True)
    full_env = dict(os.environ)
    full_env.setdefault('PYTHONWARNINGS', 'ignore')
    if env:
        full_env.update(env)
    with open(log_path, 'ab') as log:
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log,
                                stderr=subprocess.STDOUT, env=full_env,
                                start_new_session=True, close_fds=True)
    return proc.pid


def wait_http(url: str, pid: int, timeout: float, log_path: str) -> float:
    """Wait until ``url`` answers any HTTP status; return seconds waited."""
    start = time.monotonic()
    while True:
        try:
            urllib.request.urlopen(url, timeout=2).close()
            return time.monotonic() - start
        except urllib.error.HTTPError:
            return time.monotonic() - start
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        if not is_running(pid):
            raise ProcessError('process %d for %s died; see %s:\n%s' % (
                pid, url, log_path, tail(log_path)))
        if time.monotonic() - start > timeout:
            raise ProcessError('%s did not answer within %.0f s; see %s' % (
                url, timeout, log_path))
        time.sleep(0.1)


def wait_log(log_path: str, text: str, pid: int, timeout: float) -> float:
    """Wait until ``text`` appears in a process's log (no HTTP port)."""
    start = time.monotonic()
    while text not in tail(log_path, 200):
        if not is_running(pid):
            raise ProcessError('process %d died; see %s:\n%s' % (
                pid, log_path, tail(log_path)))
        if time.monotonic() - start > timeout:
            raise ProcessError('process %d did not log %r within %.0f s; '
                               'see %s' % (pid, text, timeout, log_path))
        time.sleep(0.1)
    return time.monotonic() - start


def is_running(pid: int) -> bool:
    try:
        proc = psutil.Process(pid)
        return proc.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def owned_by(pid: int, marker: str) -> bool:
    """True if ``pid`` is alive and its command line mentions ``marker``.

    Guards against killing an unrelated process that reused a PID.
    """
    try:
        return marker in ' '.join(psutil.Process(pid).cmdline())
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return False


def stop(pid: int, timeout: float = 10.0, sig: int = signal.SIGTERM) -> None:
    """Stop one process (and its children), SIGKILL after ``timeout``."""
    try:
        proc = psutil.Process(pid)
        children = proc.children(recursive=True)
        proc.send_signal(sig)
    except psutil.NoSuchProcess:
        return
    _gone, alive = psutil.wait_procs([proc], timeout=timeout)
    for p in alive + [c for c in children if c.is_running()]:
        try:
            p.kill()
        except psutil.NoSuchProcess:
            pass
    psutil.wait_procs(alive, timeout=5)


def rss_mib(pid: int) -> float:
    try:
        return psutil.Process(pid).memory_info().rss / 2**20
    except psutil.NoSuchProcess:
        return 0.0


def pss_mib(pid: int) -> float:
    """Proportional memory of a process and all its children (worker
    processes, privsep daemons): shared pages count once overall."""
    try:
        proc = psutil.Process(pid)
        tree = [proc] + proc.children(recursive=True)
    except psutil.NoSuchProcess:
        return 0.0
    total = 0
    for p in tree:
        try:
            total += p.memory_full_info().pss
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            pass
    return total / 2**20


def tail(path: str, lines: int = 20) -> str:
    try:
        with open(path, errors='replace') as f:
            return ''.join(f.readlines()[-lines:])
    except OSError:
        return ''
