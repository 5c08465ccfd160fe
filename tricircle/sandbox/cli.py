"""``tricircle-sandbox``: a real multi-region Tricircle on one machine.

    tricircle-sandbox up [--regions N] [--db sqlite|postgresql] [--plain]
                         [--keystone]
    tricircle-sandbox status
    tricircle-sandbox demo
    tricircle-sandbox down
    tricircle-sandbox vm create|delete|list|ping ...
    tricircle-sandbox tempest [--plain] [--smoke|--regex RE]

Every subcommand but tempest (whose sandbox lives in its workspace) takes
``--state-dir DIR`` (default ``.sandbox``).
"""
from __future__ import annotations

import argparse
import os
import shutil
import sys

from tricircle.sandbox import processes
from tricircle.sandbox import state as sb_state
from tricircle.sandbox import tempest as sb_tempest
from tricircle.sandbox import up as sb_up
from tricircle.sandbox import vm_cli

DEFAULT_STATE_DIR = '.sandbox'


def cmd_up(args) -> int:
    try:
        sb_up.Up(args.state_dir, regions=args.regions, db=args.db,
                 plain=args.plain, keystone=args.keystone).run()
    except (sb_up.SandboxError, processes.ProcessError) as exc:
        print('ERROR: %s' % exc, file=sys.stderr)
        print('stopping what was started', file=sys.stderr)
        down(args.state_dir)
        return 1
    return 0


def down(state_dir: str, out=print) -> None:
    """Stop every process the sandbox started, by PID; remove its files."""
    state_dir = os.path.abspath(state_dir)
    state = sb_state.SandboxState.load(state_dir)
    if state is not None:
        for name, pid in reversed(list(state.pids.items())):
            if name == 'postgres':
                continue  # last: the servers above still hold connections
            if processes.owned_by(pid, state_dir):
                out('stopping %s (pid %d)' % (name, pid))
                processes.stop(pid)
        if state.postgres:
            _stop_postgres(state, out)
        if not state.plain:
            _destroy_fabric(state, out)
    if os.path.isdir(state_dir):
        shutil.rmtree(state_dir)
        out('removed %s' % state_dir)


def _stop_postgres(state: sb_state.SandboxState, out) -> None:
    from tricircle.sandbox import postgres
    pg_pid = state.pids.get('postgres')
    if pg_pid and processes.is_running(pg_pid):
        out('stopping postgres (pid %d)' % pg_pid)
        postgres.PostgresServer(state.postgres['data_dir'],
                                state.postgres['port']).stop()
    root = state.postgres.get('root')
    if root and os.path.basename(root).startswith('tricircle-pg-'):
        shutil.rmtree(root, ignore_errors=True)


def _destroy_fabric(state: sb_state.SandboxState, out) -> None:
    """Every namespace and link of the sandbox's hosts and VMs, by name."""
    from tricircle.sandbox import hosts
    from tricircle.sandbox.dataplane import fabric
    fab = fabric.Fabric(hosts.fabric_tag(state))
    left = fab.list_namespaces()
    fab.destroy()
    if left:
        out('removed %d namespaces of the sandbox hosts and VMs' % len(left))


def cmd_down(args) -> int:
    down(args.state_dir)
    return 0


def cmd_status(args) -> int:
    state = sb_state.SandboxState.load(args.state_dir)
    if state is None:
        print('no sandbox in %s' % os.path.abspath(args.state_dir))
        return 1
    healthy = True
    for name, pid in state.pids.items():
        alive = processes.is_running(pid)
        healthy &= alive
        print('%-22s pid %-7d %-8s RSS %6.1f MiB' % (
            name, pid, 'running' if alive else 'DEAD',
            processes.rss_mib(pid)))
    if state.central:
        print('central Neutron: %s' % state.central['neutron'])
    for region, urls in state.regions.items():
        print('%s Neutron: %s' % (region, urls['neutron']))
    if state.admin_api:
        print('Admin API: %s' % state.admin_api)
    if state.keystone:
        print('Keystone: %s' % state.keystone)
    print('clouds.yaml: %s' % os.path.join(state.state_dir,
                                           sb_state.CLOUDS_FILE))
    return 0 if healthy else 1


def cmd_demo(args) -> int:
    from tricircle.sandbox import demo
    return demo.run(args.state_dir)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog='tricircle-sandbox',
                                     description=__doc__.split('\n')[0])
    sub = parser.add_subparsers(dest='command', required=True)

    def _add(name, func, help_text, subparsers=None):
        p = (subparsers or sub).add_parser(name, help=help_text)
        p.add_argument('--state-dir', default=DEFAULT_STATE_DIR,
                       help='where the sandbox keeps its state '
                            '(default: %(default)s)')
        p.set_defaults(func=func)
        return p

    p = _add('up', cmd_up, 'start central + regional Neutrons and the '
                           'Admin API')
    p.add_argument('--regions', type=int, default=2,
                   help='number of regions (default: %(default)s)')
    p.add_argument('--db', choices=('sqlite', 'postgresql'),
                   default='sqlite', help='database backend')
    p.add_argument('--plain', action='store_true',
                   help='one plain ML2 Neutron region, no Tricircle code')
    p.add_argument('--keystone', action='store_true',
                   help='a real shared Keystone: every API validates '
                        'tokens (default: noauth)')
    _add('down', cmd_down, 'stop everything and remove the state dir')
    _add('status', cmd_status, 'show processes and endpoints')
    _add('demo', cmd_demo, 'run the short demo against a running sandbox')
    sb_tempest.add_command(sub)
    vm_cli.add_commands(sub, lambda subparsers, name, func, help_text: _add(
        name, func, help_text, subparsers))
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if getattr(args, 'regions', 1) < 1:
        print('ERROR: --regions must be at least 1', file=sys.stderr)
        return 2
    return args.func(args)


if __name__ == '__main__':
    sys.exit(main())
