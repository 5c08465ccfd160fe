"""What the convergence benchmarks share: a sandbox for one measurement,
and percentiles."""
from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import tempfile
from typing import Iterator

from tricircle.common import config
from tricircle.sandbox import state as sb_state

BIN = os.path.join(os.path.dirname(sys.executable), 'tricircle-sandbox')


def percentile(samples: list[float], pct: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(round(pct / 100 *
                                                   (len(ordered) - 1))))]


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
