"""The worker threads of one XJob daemon.

``[xjob] workers`` threads run due jobs. A hung region (its Neutron
accepts connections and answers nothing) holds every call to it until
the client's timeout, 30 s by default, and a job spanning regions may
make such a call before the probe finds the region down. With a fixed
pool, two such jobs stop the daemon for every region. So a worker
waiting on a pod that is down does not count: a spare worker starts in
its place, up to ``[xjob] spare_workers``, and spares leave once the
stall is over.
"""
from __future__ import annotations

import threading
import time
from typing import Callable

from oslo_log import log as logging

LOG = logging.getLogger(__name__)


class WorkerPool:
    def __init__(self, work: Callable[[str], bool], size: int,
                 max_spares: int, idle_wait: Callable[[], None],
                 stopping: threading.Event) -> None:
        """``work(worker)`` runs one due job and says whether it ran one;
        ``idle_wait()`` waits for more work."""
        self._work = work
        self._size = size
        self._max_spares = max_spares
        self._idle_wait = idle_wait
        self._stopping = stopping
        self._lock = threading.Lock()
        self._busy = 0
        self._spares_wanted = 0
        self._spares: set[str] = set()
        self._serial = 0
        self.threads: list[threading.Thread] = []

    def start(self) -> None:
        for i in range(self._size):
            self._start('/%d' % i)

    @property
    def spares(self) -> int:
        with self._lock:
            return len(self._spares)

    def rebalance(self, stalled: int) -> None:
        """``stalled``: calls now waiting on pods that are down. A spare
        runs for each, up to the busy workers: an upper bound of the
        workers held, since one job may make several calls at once."""
        with self._lock:
            wanted = min(stalled, self._busy, self._max_spares)
            self._spares_wanted = wanted
            missing = wanted - len(self._spares)
            names = []
            for _ in range(max(0, missing)):
                self._serial += 1
                names.append('/spare%d' % self._serial)
                self._spares.add(names[-1])
        if missing > 0:
            LOG.warning('%d calls wait on pods that are down; %d spare '
                        'workers run meanwhile', stalled, wanted)
        for name in names:
            self._start(name)

    def _start(self, name: str) -> None:
        thread = threading.Thread(target=self._loop, args=(name,),
                                  name='xjob-worker' + name, daemon=True)
        thread.start()
        with self._lock:  # spares that left are forgotten
            self.threads = [t for t in self.threads if t.is_alive()]
            self.threads.append(thread)

    def join(self, deadline: float) -> None:
        """Wait until every worker is done, or ``deadline``
        (time.monotonic())."""
        with self._lock:
            threads = list(self.threads)
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))

    def _leaves(self, name: str) -> bool:
        """A spare leaves when fewer spares are wanted than run."""
        with self._lock:
            if name in self._spares and \
                    len(self._spares) > self._spares_wanted:
                self._spares.discard(name)
                return True
        return False

    def _loop(self, name: str) -> None:
        while not self._stopping.is_set() and not self._leaves(name):
            with self._lock:
                self._busy += 1
            try:
                ran = self._work(name)
            except Exception:  # the DB may be briefly unavailable
                LOG.exception('job loop error; retrying')
                ran = False
            finally:
                with self._lock:
                    self._busy -= 1
            if not ran:
                self._idle_wait()
