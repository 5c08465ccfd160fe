"""What a head start made, for the router_setup run that follows it.

A head start (router_interface_ahead) converges a router's regions from
central's state plus the interface central is adding. When it made that
plan in every region of it, it records the plan's fingerprint here.
router_setup, asked for once central committed the interface, reads
central again: if its view has the same fingerprint, every region holds
its copy already, and the run reads no region. Reading them all at once
was most of the load on the servers while the regions' L3 agents applied
the change, and slowed them.

The record lives in this daemon only and is taken by the first run that
looks: a run in another daemon, a retried run, or one whose view differs
(central's change failed, or another came meanwhile) converges every
region as always. Drift after that is the drift audit's to repair.
"""
from __future__ import annotations

import dataclasses
import threading
import time

# A record older than this is not trusted: its router_setup run did not
# come (central's request failed before asking for it) or came late.
VALID_FOR = 60.0


@dataclasses.dataclass(frozen=True)
class Made:
    fingerprint: tuple
    regions: frozenset[str]
    at: float


_made: dict[str, Made] = {}
_lock = threading.Lock()


def record(router_id: str, fingerprint: tuple, regions: set[str]) -> None:
    """A head start made the plan of ``fingerprint`` in every one of
    ``regions`` (its plan's regions), removing nothing."""
    with _lock:
        _made[router_id] = Made(fingerprint, frozenset(regions),
                                time.monotonic())


def forget(router_id: str) -> None:
    """A head start that did not make it all: no run may trust an
    older record of the router."""
    with _lock:
        _made.pop(router_id, None)


def take(router_id: str) -> Made | None:
    """The router's record, if fresh; it is no longer kept."""
    now = time.monotonic()
    with _lock:
        made = _made.pop(router_id, None)
        for stale in [r for r, m in _made.items()
                      if now - m.at > VALID_FOR]:
            del _made[stale]
    return made if made is not None and now - made.at <= VALID_FOR \
        else None
