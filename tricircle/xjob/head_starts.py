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
- gateways (router_gateway_ahead): the gateway it set on the copy in
  the external network's region, when it also gave the other regions
  their routes and central's gateway port was still there at its end.
  The setup run that follows, finding that gateway on central, is put
  off until ``[xjob] gateway_setup_delay`` seconds after it was set:
  the region's L3 and OVS agents are building the gateway then, and the
  run's reads of central and every region would only slow them down on
  the same servers.

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
from tricircle.resources import router as router_res

# How long a router's head start waits for a router_setup run of its
# router to end (a run for the change before, often still tidying up).
SETUP_WAIT = 5.0

# A record older than this is not trusted: its setup run did not come
# (central's request failed before asking for it) or came late.
VALID_FOR = 60.0


class Records:
    """Records by key, each taken once, none trusted after
    ``valid_for`` seconds."""

    def __init__(self, valid_for: float = VALID_FOR) -> None:
        self._made: dict[Hashable, tuple[float, Any]] = {}
        self._lock = threading.Lock()
        self._valid_for = valid_for

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
                          if now - at > self._valid_for]:
                del self._made[stale]
        return made[1] if made is not None and \
            now - made[0] <= self._valid_for else None


@dataclasses.dataclass(frozen=True)
class Made:
    fingerprint: tuple
    regions: frozenset[str]


_routers = Records()
# (external network id, floating IP address) -> (region, the copy there)
floatingips = Records()


@dataclasses.dataclass(frozen=True)
class GatewaySet:
    """A gateway a head start set on the router's copy in its region."""
    gateway: router_res.Gateway
    at: float   # time.monotonic() when set


# A gateway's record is for the router_setup central asks for once it
# commits the gateway, a second or so after: no later run may take it.
GATEWAY_VALID_FOR = 10.0
# router id -> GatewaySet
gateways = Records(GATEWAY_VALID_FOR)


def record(router_id: str, fingerprint: tuple, regions: set[str]) -> None:
    """A head start made the plan of ``fingerprint`` in every one of
    ``regions`` (its plan's regions), removing nothing."""
    _routers.put(router_id, Made(fingerprint, frozenset(regions)))


def forget(router_id: str) -> None:
    """A head start begins, or did not make it all: no run may trust an
    older record of the router (its plan, or a gateway set)."""
    _routers.forget(router_id)
    gateways.forget(router_id)


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
