#!/usr/bin/env python3
"""Job throughput of tricircle-xjob on PostgreSQL, with 1 and 2 daemons.

Submits N jobs for N distinct resources (nothing coalesces), starts the
daemons, and prints how many jobs per second they complete. The job is the
test probe with no sleep: what is measured is the engine's own cost
(claim, run, log) on a real database.

    .venv/bin/python bench/xjob_throughput.py [--jobs 1000] [--workers 2]
"""
from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time

from oslo_config import cfg

from tricircle.common import config
from tricircle.db import core
from tricircle.db import jobs
from tricircle.db.migration import cli as migration
from tricircle.sandbox import postgres
from tricircle.sandbox import processes
from tricircle.tests import xjob_probe
from tricircle.xjob import api as xjob_api
from tricircle.xjob import registry

XJOB = os.path.join(os.path.dirname(sys.executable), 'tricircle-xjob')


def run(url: str, work: str, daemons: int, count: int, workers: int) -> float:
    conf = os.path.join(work, 'xjob-%d.conf' % daemons)
    with open(conf, 'w') as f:
        f.write('[DEFAULT]\ntricircle_db_connection = %s\n[xjob]\n'
                'workers = %d\npoll_interval = 0.05\n'
                'job_modules = tricircle.tests.xjob_probe\n' % (url, workers))
    tag = 'd%d' % daemons
    for i in range(count):
        xjob_api.submit('probe', {'name': '%s-%d' % (tag, i)}, 'bench')
    start = time.monotonic()
    pids = [processes.launch([XJOB, '--config-file', conf],
                             os.path.join(work, '%s-%d.log' % (tag, n)),
                             env={'TRICIRCLE_PROBE_SLEEP': '0'})
            for n in range(daemons)]
    try:
        while [j for j in jobs.list_all({'project_id': 'bench'})
               if j['status'] != 'SUCCESS' and
               j['resource_id'].startswith(tag)]:
            time.sleep(0.05)
        return time.monotonic() - start
    finally:
        for pid in pids:
            processes.stop(pid)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--jobs', type=int, default=1000)
    parser.add_argument('--workers', type=int, default=2,
                        help='worker threads per daemon')
    args = parser.parse_args()
    work = tempfile.mkdtemp(prefix='tricircle-pg-bench-')
    os.chmod(work, 0o755)
    server = postgres.PostgresServer(os.path.join(work, 'data'),
                                     processes.free_port())
    try:
        server.init()
        server.start()
        server.wait_ready(60)
        url = server.create_database('xjob_bench')
        migration.upgrade(url)
        config.register_xjob_opts(cfg.CONF)
        cfg.CONF([], project='tricircle')
        cfg.CONF.set_override('tricircle_db_connection', url)
        registry.register(xjob_probe.JOB)
        print('xjob throughput, PostgreSQL 15, %d jobs on distinct '
              'resources, %d workers per daemon' % (args.jobs, args.workers))
        for daemons in (1, 2):
            elapsed = run(url, work, daemons, args.jobs, args.workers)
            print('  %d daemon%s: %6.1f jobs/s (%.1f s)' % (
                daemons, 's' if daemons > 1 else ' ', args.jobs / elapsed,
                elapsed))
        core.reset()
    finally:
        server.stop()
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == '__main__':
    sys.exit(main())
