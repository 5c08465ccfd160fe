"""Thin wrappers over ``ip`` and ``bridge`` that fail loudly.

Guard rails, because stray test traffic in the root namespace leaves
the machine: every write goes to a named namespace; the root namespace
can only be *read* (``root_links``) or have a link of ours deleted by
name (``delete_root_link``); no command runs without a namespace
(``netns_exec``). iproute2's JSON output (``-j``) is parsed, not text.
"""
from __future__ import annotations

import json
import subprocess
from typing import Any, Sequence


class CommandError(RuntimeError):
    """A command failed; the message carries the command and its stderr."""


def run(*argv: str, check: bool = True, timeout: float = 30,
        stdin: str | None = None) -> subprocess.CompletedProcess:
    proc = subprocess.run(list(argv), capture_output=True, text=True,
                          timeout=timeout, input=stdin)
    if check and proc.returncode != 0:
        raise CommandError('%s failed (rc %d): %s' % (
            ' '.join(argv), proc.returncode,
            (proc.stderr or proc.stdout).strip()))
    return proc


def _need_ns(ns: str | None, what: str) -> str:
    if not ns:
        raise CommandError('refusing to run %s outside a namespace' % what)
    return ns


def ip(ns: str, *args: str, check: bool = True
       ) -> subprocess.CompletedProcess:
    """``ip -n ns args``; a namespace is mandatory."""
    return run('ip', '-n', _need_ns(ns, 'ip ' + ' '.join(args)), *args,
               check=check)


def ip_json(ns: str, *args: str) -> list[dict[str, Any]]:
    """``ip -j -n ns args`` parsed; [] when there is nothing to show."""
    out = ip(ns, '-j', *args).stdout.strip()
    return json.loads(out) if out else []


def bridge(ns: str, *args: str, check: bool = True
           ) -> subprocess.CompletedProcess:
    """``bridge -n ns args``; a namespace is mandatory."""
    return run('bridge', '-n', _need_ns(ns, 'bridge ' + ' '.join(args)),
               *args, check=check)


def bridge_json(ns: str, *args: str) -> list[dict[str, Any]]:
    out = bridge(ns, '-j', *args).stdout.strip()
    return json.loads(out) if out else []


def netns_exec(ns: str, argv: Sequence[str], check: bool = True,
               timeout: float = 30, stdin: str | None = None
               ) -> subprocess.CompletedProcess:
    """Run ``argv`` inside namespace ``ns``; never without one.

    ``ip netns exec`` fails by itself if ``ns`` does not exist, so a
    typo can never fall back to the root namespace.
    """
    if isinstance(argv, str):  # a bare string would be split per char
        raise TypeError('argv must be a list of arguments, not a string')
    _need_ns(ns, ' '.join(argv))
    return run('ip', 'netns', 'exec', ns, *argv, check=check,
               timeout=timeout, stdin=stdin)


def netns_spawn(ns: str, argv: Sequence[str]) -> int:
    """Start ``argv`` inside ``ns`` in the background (short-lived work
    that must not hold up the caller); its PID. It is not waited for."""
    if isinstance(argv, str):
        raise TypeError('argv must be a list of arguments, not a string')
    _need_ns(ns, ' '.join(argv))
    return subprocess.Popen(
        ['ip', 'netns', 'exec', ns, *argv], stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True).pid


def namespaces() -> list[str]:
    """Names of all network namespaces (``ip netns list``)."""
    out = run('ip', 'netns', 'list').stdout
    # Lines look like "name (id: 3)" or just "name".
    return [line.split()[0] for line in out.splitlines() if line.strip()]


def add_namespace(ns: str) -> None:
    """``ip netns add``; losing a race to another process is success."""
    if ns in namespaces():
        return
    proc = run('ip', 'netns', 'add', ns, check=False)
    if proc.returncode and ns not in namespaces():
        raise CommandError('ip netns add %s failed: %s'
                           % (ns, proc.stderr.strip()))


def delete_namespace(ns: str) -> bool:
    """``ip netns del``; False if it was already gone."""
    if ns not in namespaces():
        return False
    proc = run('ip', 'netns', 'del', ns, check=False)
    if proc.returncode and ns in namespaces():
        raise CommandError('ip netns del %s failed: %s'
                           % (ns, proc.stderr.strip()))
    return True


def link_exists(ns: str, name: str) -> bool:
    return ip(ns, 'link', 'show', 'dev', name, check=False).returncode == 0


def links(ns: str) -> list[str]:
    return [link['ifname'] for link in ip_json(ns, 'link', 'show')]


def root_links() -> list[str]:
    """Link names in the root namespace (read only)."""
    out = run('ip', '-j', 'link', 'show').stdout.strip()
    return [link['ifname'] for link in json.loads(out or '[]')]


def delete_root_link(name: str, prefix: str) -> None:
    """Delete a root-namespace link, only if its name is ours."""
    if not prefix or not name.startswith(prefix):
        raise CommandError('refusing to delete root link %s: not under '
                           'prefix %r' % (name, prefix))
    run('ip', 'link', 'del', 'dev', name, check=False)
