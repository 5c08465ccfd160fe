"""A job type for tests: it records when each run starts and ends.

Environment: TRICIRCLE_PROBE_LOG (a file to append JSON lines to),
TRICIRCLE_PROBE_SLEEP (seconds a run lasts, default 0.05). A resource
named ``flaky-*`` fails its first 3 runs; ``slow-*`` lasts 30 times longer.
"""
from __future__ import annotations

import json
import os
import time

from tricircle.xjob import registry


def _record(event: dict) -> None:
    path = os.environ.get('TRICIRCLE_PROBE_LOG')
    if path:
        with open(path, 'a') as f:
            f.write(json.dumps(event) + '\n')


def probe(ctx, resource: dict) -> None:
    name = resource['name']
    sleep = float(os.environ.get('TRICIRCLE_PROBE_SLEEP', '0.05'))
    if name.startswith('slow-'):
        sleep *= 30
    _record({'name': name, 'event': 'start', 't': time.time(),
             'pid': os.getpid(), 'covers': len(ctx.claim.covers),
             'hint': ctx.hint})
    time.sleep(sleep)
    if name.startswith('flaky-') and ctx.claim.attempts < 3:
        _record({'name': name, 'event': 'fail', 't': time.time()})
        raise RuntimeError('probe failure %d' % (ctx.claim.attempts + 1))
    _record({'name': name, 'event': 'end', 't': time.time(),
             'pid': os.getpid()})


JOB = registry.JobType(name='probe', resource_keys=('name',),
                       handler=probe, description='Test probe.')
