"""What a head start made, for the setup run that follows it.

A head start converges a resource's regions from what central is about
to commit, while central still works on the request; the setup run asked
for once central has committed reads central again and has the last
word. What the head start made is recorded here, so that the setup run
need not read the regions to find it:

- routers (router_interface_ahead): when a head start made its plan in
  every region, the plan's fingerprint. router_setup, whose view of
  central has the same fingerprint, knows every region holds its copy
  and reads none. Reading them all at once was most of the load on the
  servers while the regions' L3 agents applied the change.
- floating IPs (floatingip_ahead): the copy it created in the external
  network's region, by address; floatingip_setup takes it as the copy.
- gateways (router_gateway_ahead): that it set the gateway on the copy
  in the external network's region, with central's request going
  through. The setup run that follows is put off a little
  (``[xjob] gateway_setup_delay``): the region's L3 and OVS agents are
  building the gateway then, and its reads of central and every region
  would only slow them down on the same servers.

A record lives in this daemon only and is taken by the first run that
looks: a run in another daemon, a retried run, or one whose view differs
(central's change failed, or another came meanwhile) converges as
always.
"""
from __future__ import annotations

import dataclasses
import enum
import threading
import time
from typing import Any, Hashable

from tricircle.db import jobs as db_jobs
from tricircle.resources import jobs as job_shapes

# How long a router's head start waits for a router_setup run of its
# router to end (a run for the change before, often still tidying up).
SETUP_WAIT = 5.0

# A record older than this is not trusted: its setup run did not come
# (central's request failed before asking for it) or came late.
VALID_FOR = 60.0


class Records:
    """Records by key, each taken once, none trusted after VALID_FOR."""

    def __init__(self) -> None:
        self._made: dict[Hashable, tuple[float, Any]] = {}
        self._lock = threading.Lock()

    def put(self, key: Hashable, value: Any) -> None:
        with self._lock:
            self._made[key] = (time.monotonic(), value)

    def forget(self, key: Hashable) -> None:
        with self._lock:
            self._made.pop(key, None)

    def take(self, key: Hashable) -> Any | None:
        """The record of ``key``, if fresh; it is no longer kept."""
        now = time.monotonic()
        with self._lock:
            made = self._made.pop(key, None)
            for stale in [k for k, (at, _v) in self._made.items()
                          if now - at > VALID_FOR]:
                del self._made[stale]
        return made[1] if made is not None and now - made[0] <= VALID_FOR \
            else None


@dataclasses.dataclass(frozen=True)
class Made:
    fingerprint: tuple
    regions: frozenset[str]


_routers = Records()
# (external network id, floating IP address) -> (region, the copy there)
floatingips = Records()
# router id -> the external network its head start set the gateway on
gateways = Records()


def record(router_id: str, fingerprint: tuple, regions: set[str]) -> None:
    """A head start made the plan of ``fingerprint`` in every one of
    ``regions`` (its plan's regions), removing nothing."""
    _routers.put(router_id, Made(fingerprint, frozenset(regions)))


def forget(router_id: str) -> None:
    """A head start that did not make it all: no run may trust an
    older record of the router."""
    _routers.forget(router_id)


def take(router_id: str) -> Made | None:
    """The router's record, if fresh; it is no longer kept."""
    return _routers.take(router_id)


class Start(enum.Enum):
    """Whether a router's head start may begin (clear_to_start)."""
    SKIP = 'skip'
    CLEAR = 'clear'
    # A router_setup ran beside this head start's submission: it may have
    # read the regions before the head start changes them, and central's
    # change may have failed meanwhile. The head start asks for another
    # router_setup when it is done, which removes what central lacks.
    AFTER_A_RUN = 'after a run'


def clear_to_start(router_id: str) -> Start:
    """Whether a router's head start may begin: once no router_setup runs
    for the router (waiting a little for one that does) and none is
    queued. A run works from central's state before this change (it may
    be removing what the head start would add to); a queued one means
    central's change is in already (or failed), and that run makes it
    without waiting for the head start."""
    end = time.monotonic() + SETUP_WAIT
    waited = False
    while True:
        live = db_jobs.live_statuses(job_shapes.ROUTER_SETUP.name,
                                     router_id)
        if db_jobs.RUNNING not in live:
            if db_jobs.NEW in live:
                return Start.SKIP
            return Start.AFTER_A_RUN if waited else Start.CLEAR
        if time.monotonic() > end:
            return Start.SKIP
        waited = True
        time.sleep(0.05)


def done(router_id: str, start: Start, project_id: str | None) -> None:
    """A head start that began ``start`` is done: after a router_setup
    run beside it, another one has the last word."""
    if start is Start.AFTER_A_RUN:
        job_shapes.setup_router(router_id, project_id)
