"""What the convergence benchmarks share: a sandbox for one measurement,
and percentiles."""
from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import tempfile
import time
from typing import Iterator
import urllib.request

from tricircle.common import config
from tricircle.sandbox import processes
from tricircle.sandbox import state as sb_state

BIN = processes.console_script('tricircle-sandbox')


def percentile(samples: list[float], pct: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(round(pct / 100 *
                                                   (len(ordered) - 1))))]


# Seconds both setups rest after a change settles, before the next timed
# one: the agents finish applying it (see settle).
SETTLE = 3.0


# Untimed runs of each case before the timed ones, in both setups: the
# first change after the set-up overlapped the set-up's last agent work
# and was the slowest sample of every earlier run, in both setups.
WARMUP = 1


def add_warmup_option(parser) -> None:
    parser.add_argument(
        '--warmup', type=int, default=WARMUP, metavar='N',
        help='untimed runs of each case before the timed ones, in both '
             'setups alike (default %(default)s)')


def add_settle_option(parser) -> None:
    parser.add_argument(
        '--settle', type=float, default=SETTLE, metavar='SECONDS',
        help='rest before each timed change (after the set-up or the '
             'undo of the change before), in both setups alike, once '
             'XJob has no job left (default %(default)s; 0: the agents '
             'may still be applying what came before)')


def samples_line(samples: list[float]) -> str:
    """Every sample, in the order measured (a slow first run shows)."""
    return '  samples: ' + ' '.join('%.2f' % x for x in samples)


def _live_jobs(state) -> int:
    count = 0
    for status in ('new', 'running'):
        url = '%s/v1.0/jobs?status=%s' % (state.admin_api, status)
        with urllib.request.urlopen(url, timeout=10) as resp:
            count += len(json.load(resp)['jobs'])
    return count


def settle(state, seconds: float, give_up: float = 60.0) -> None:
    """Before a timed change, what came before it (the set-up, or the
    undo of the last change) is done: with Tricircle, XJob holds no job
    new or running (it is in every region's API); then, in both setups
    alike, ``seconds`` more for the L3 and OVS agents to apply it.
    Timing a change while the agents still apply the one before
    measures the two at once."""
    if state.admin_api and not state.plain:
        end = time.monotonic() + give_up
        while _live_jobs(state):
            if time.monotonic() > end:
                raise SystemExit('XJob still busy after %.0fs' % give_up)
            time.sleep(0.2)
    time.sleep(seconds)


def keep_logs(state_dir: str) -> str:
    """A copy of the sandbox's logs as they are now; its directory."""
    kept = tempfile.mkdtemp(prefix='tricircle-bench-logs-')
    subprocess.run(['cp', '-r', os.path.join(state_dir, 'logs'), kept])
    return kept


def _default_audit_interval() -> str:
    return str(next(opt.default for opt in config.xjob_opts
                    if opt.name == 'audit_interval'))


@contextlib.contextmanager
def sandbox(*up_args: str) -> Iterator[sb_state.SandboxState]:
    """``tricircle-sandbox up *up_args`` in a temporary directory, down
    again afterwards; the logs of a failed run are kept (and named) for
    whoever reads the error.

    XJob's drift audit runs at its default interval unless ``up_args``
    say otherwise: the sandbox's own (10 s) lets tests see repairs soon,
    and would load the 2 cores and hold a worker every 10 s of a
    measurement."""
    if '--plain' not in up_args and '--audit-interval' not in up_args:
        up_args += ('--audit-interval', _default_audit_interval())
    with tempfile.TemporaryDirectory(prefix='tricircle-bench-') as tmp:
        state_dir = os.path.join(tmp, 'state')
        subprocess.run([BIN, 'up', *up_args, '--state-dir', state_dir],
                       check=True, stdout=subprocess.DEVNULL)
        try:
            yield sb_state.SandboxState.load(state_dir)
        except BaseException:
            print('logs kept in %s' % keep_logs(state_dir),
                  file=sys.stderr)
            raise
        finally:
            subprocess.run([BIN, 'down', '--state-dir', state_dir],
                           stdout=subprocess.DEVNULL)
