"""tricircle-sandbox: a real multi-region Tricircle on one machine.

A typical first session:

  tricircle-sandbox up                 # central + 2 regions, ~30 s
  tricircle-sandbox demo               # VMs in two regions that ping
  tricircle-sandbox status             # processes, endpoints, log files
  tricircle-sandbox vm create vm1 --region RegionOne --network net1
  tricircle-sandbox outside ping 203.0.113.1   # the internet, on extnet
  tricircle-sandbox down               # stop it all (the logs are kept)

Every subcommand but tempest works on the sandbox in --state-dir (default
.sandbox). "tricircle-sandbox help COMMAND" explains a command.
"""
from __future__ import annotations

import argparse
import os
import sys
import traceback

from tricircle.sandbox import down as sb_down
from tricircle.sandbox import host_steps
from tricircle.sandbox import outside_cli
from tricircle.sandbox import processes
from tricircle.sandbox import state as sb_state
from tricircle.sandbox import tempest as sb_tempest
from tricircle.sandbox import up as sb_up
from tricircle.sandbox import vm_cli

DEFAULT_STATE_DIR = '.sandbox'


def hint(command: str, state_dir: str) -> str:
    """A command line for the user to run on this state dir."""
    line = 'tricircle-sandbox ' + command
    if os.path.abspath(state_dir) != os.path.abspath(DEFAULT_STATE_DIR):
        line += ' --state-dir ' + state_dir
    return line


def cmd_up(args: argparse.Namespace) -> int:
    try:  # before anything: a mistake starts nothing
        sb_up.external_regions(
            args.external_region, sb_state.region_names(
                1 if args.plain else args.regions), args.agents)
    except sb_up.SandboxError as exc:
        print('ERROR: %s' % exc, file=sys.stderr)
        return 2
    if args.reuse and _healthy(args.state_dir):
        state = sb_state.SandboxState.load(args.state_dir)
        print('a sandbox is already up in %s (%s): reusing it; "%s" stops '
              'it' % (state.state_dir, ', '.join(state.regions),
                      hint('down', args.state_dir)))
        return 0
    # Before anything is made: a sandbox in the way stays as it is.
    sb_up.check_state_dir_free(args.state_dir,
                               lambda cmd: hint(cmd, args.state_dir))
    db = args.db or ('postgresql' if args.agents == host_steps.AGENTS_OVS
                     else 'sqlite')
    up = sb_up.Up(args.state_dir, regions=args.regions, db=db,
                  plain=args.plain, keystone=args.keystone,
                  agents=args.agents, external=args.external_region,
                  audit_interval=args.audit_interval)
    try:
        up.run()
    except sb_up.AlreadyUp:
        raise  # another up got there first: it is not ours to stop
    except BaseException as exc:
        # Everything in this state dir is this run's own (the check
        # above): stop it all, keep the logs for the diagnosis.
        if args.debug:
            traceback.print_exc()
        print('ERROR: %s' % ('interrupted' if isinstance(
            exc, KeyboardInterrupt) else _error_text(exc)), file=sys.stderr)
        print('stopping what this "up" started', file=sys.stderr)
        sb_down.down(args.state_dir, out=lambda line: print(
            line, file=sys.stderr))
        return 130 if isinstance(exc, KeyboardInterrupt) else 1
    if not args.plain and args.regions >= 2:
        print('next: "%s" shows VMs in two regions that ping each other'
              % hint('demo', args.state_dir))
    return 0


def _healthy(state_dir: str) -> bool:
    state = sb_state.SandboxState.load(state_dir)
    return bool(state and state.pids
                and len(sb_down.running(state)) == len(state.pids))


def cmd_down(args: argparse.Namespace) -> int:
    if sb_state.SandboxState.load(args.state_dir) is None and \
            not os.path.isdir(args.state_dir):
        print('no sandbox in %s: nothing to do'
              % os.path.abspath(args.state_dir))
        return 0
    sb_down.down(args.state_dir, purge=args.purge)
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    state = sb_state.SandboxState.load(args.state_dir)
    if state is None:
        print('no sandbox in %s ("%s" starts one)' % (
            os.path.abspath(args.state_dir), hint('up', args.state_dir)))
        return 1
    alive = sb_down.running(state)
    print('%-30s %-7s %-8s %10s  %s' % ('PROCESS', 'PID', 'STATE', 'PSS',
                                         'LOG'))
    total = 0.0
    for name, pid in state.pids.items():
        mem = processes.pss_mib(pid) if name in alive else 0.0
        total += mem
        print('%-30s %-7d %-8s %6.1f MiB  %s' % (
            name, pid, 'running' if name in alive else 'DEAD', mem,
            _short(state.log_of(name))))
    print('%-30s %-7s %-8s %6.1f MiB  (with children)' % ('total', '', '',
                                                          total))
    if state.agents == host_steps.AGENTS_OVS and alive:
        from tricircle.sandbox import agent_status
        print('agents (openstack network agent list, per region):')
        for line in agent_status.table(state):
            print(line)
    if state.external_regions:
        for line in _outside_status(state):
            print(line)
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
    print('all logs: %s (after "down": %s/<time>/)' % (
        _short(state.logs_dir), _short(sb_down.archive_root(
            state.state_dir))))
    if len(alive) != len(state.pids):
        print('some processes are DEAD: see their logs; "%s" stops the '
              'rest' % hint('down', args.state_dir))
        return 1
    return 0


def _outside_status(state: sb_state.SandboxState) -> list[str]:
    from tricircle.sandbox import hosts, outside, outside_world
    world = outside_world.OutsideWorld(state)
    lines = ['outside: namespace %s on %s of %s' % (
        world.ns, outside.EXTNET, ', '.join(
            hosts.l3_host(r) for r in state.external_regions))]
    if not world.exists():
        return lines + ['  MISSING (no such namespace)']
    return lines + ['  %s' % a for a in world.addresses()]


def _short(path: str) -> str:
    """``path`` relative to the working dir when it is below it."""
    rel = os.path.relpath(path)
    return path if rel.startswith('..') else rel


def cmd_demo(args: argparse.Namespace) -> int:
    from tricircle.sandbox import demo
    return demo.run(args.state_dir)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog='tricircle-sandbox', description=__doc__.split('\n\n', 1)[1],
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--debug', action='store_true',
                        help='show the traceback of an error')
    sub = parser.add_subparsers(dest='command', required=True,
                                metavar='COMMAND')

    def _add(name, func, help_text, subparsers=None, description=None):
        p = (subparsers or sub).add_parser(
            name, help=help_text, description=description or help_text)
        p.add_argument('--state-dir', default=DEFAULT_STATE_DIR,
                       metavar='DIR',
                       help='the sandbox\'s directory: its state, config '
                            'files, databases and logs (default: '
                            '%(default)s)')
        p.add_argument('--debug', action='store_true',
                       default=argparse.SUPPRESS,
                       help='show the traceback of an error')
        p.set_defaults(func=func)
        return p

    p = _add('up', cmd_up, 'start a sandbox: central and regional Neutron '
             'servers, the Admin API, XJob and compute hosts',
             description='Start a central Neutron, N regional Neutrons, '
             'the Admin API, the XJob daemon and two compute hosts per '
             'region, all on 127.0.0.1. Refuses (and changes nothing) if '
             'a sandbox is already in DIR.')
    p.add_argument('--regions', type=int, default=2, metavar='N',
                   help='number of regions: RegionOne, RegionTwo, ... '
                        '(default: %(default)s)')
    p.add_argument('--agents', choices=host_steps.AGENT_MODES,
                   default=host_steps.AGENTS_OVS,
                   help='what wires the compute hosts: ovs (Neutron\'s own '
                        'OVS and L3 agents over RabbitMQ, each host with '
                        'its own Open vSwitch) or lite (the sandbox\'s '
                        'light host agent: no RabbitMQ, no L3, no security '
                        'groups; for control-plane runs) (default: '
                        '%(default)s)')
    p.add_argument('--db', choices=('sqlite', 'postgresql'),
                   default=None,
                   help='database of every server: sqlite (files under '
                        'DIR, one request at a time; lite only) or '
                        'postgresql (a private server, real concurrency) '
                        '(default: postgresql with ovs, sqlite with lite)')
    p.add_argument('--plain', action='store_true',
                   help='one plain ML2 Neutron region, no Tricircle code '
                        '(the baseline for benchmarks), with the same '
                        'agents (--agents)')
    p.add_argument('--keystone', action='store_true',
                   help='put every API behind a real Keystone (default: '
                        'no authentication)')
    p.add_argument('--external-region', action='append', metavar='REGION',
                   help='a region whose L3 host (its first host) reaches '
                        'the outside world on the physical network '
                        'extnet; repeat it for more (default: RegionOne; '
                        'ovs agents only; "tricircle-sandbox help '
                        'outside" says more)')
    p.add_argument('--audit-interval', type=float, metavar='SECONDS',
                   default=sb_up.AUDIT_INTERVAL,
                   help='seconds between two passes of XJob\'s drift audit '
                        '(0: none; benchmarks start their own) (default: '
                        '%(default)s)')
    p.add_argument('--reuse', action='store_true',
                   help='if a healthy sandbox is already up in DIR, use it '
                        'and exit 0 ("make sandbox" does this)')
    p = _add('down', cmd_down, 'stop the sandbox and remove its files, '
             'but keep its logs',
             description='Stop every process of the sandbox (by PID), '
             'remove its namespaces and files, and move its logs to '
             'DIR-logs/<time>/ (the last %d runs are kept).'
             % sb_down.KEEP_RUNS)
    p.add_argument('--purge', action='store_true',
                   help='remove the logs too')
    _add('status', cmd_status, 'show processes, their log files and the '
         'endpoints; exit 1 unless all run')
    _add('demo', cmd_demo, 'VMs in two regions on one network, a ping '
         'between them, and where Tricircle put each port',
         description='Boot a VM in each of two regions on one network, '
         'ping across, show the ports in central and the shadow ports in '
         'the regions, and what the Admin API shows. Leaves everything '
         'up; a second run replaces the previous demo\'s VMs.')
    p = sb_tempest.add_command(sub)
    p.add_argument('--debug', action='store_true', default=argparse.SUPPRESS,
                   help='show the traceback of an error')
    vm_cli.add_commands(sub, lambda subparsers, name, func, help_text: _add(
        name, func, help_text, subparsers))
    outside_cli.add_commands(sub, lambda subparsers, name, func, help_text:
                             _add(name, func, help_text, subparsers))
    p = sub.add_parser('help', help='show the help of a command',
                       description='Show the help of a command, e.g. '
                       '"tricircle-sandbox help vm create".')
    p.add_argument('topic', nargs='*', metavar='COMMAND',
                   help='a command, e.g. up or vm create')
    p.set_defaults(func=lambda args: _help(parser, args.topic))
    return parser


def _help(parser: argparse.ArgumentParser, topic: list[str]) -> int:
    """``help [COMMAND ...]``: the usage of that (sub)command."""
    target = parser
    for word in topic:
        choices = next((a.choices for a in target._actions
                        if isinstance(a, argparse._SubParsersAction)), {})
        if word not in choices:
            print('ERROR: no command "%s"; "tricircle-sandbox help" lists '
                  'them' % ' '.join(topic), file=sys.stderr)
            return 2
        target = choices[word]
    target.print_help()
    return 0


def _error_text(exc: BaseException) -> str:
    """What the user sees of an error: one line, unless it is the
    sandbox's own error, whose extra lines are a log's tail."""
    from tricircle.sandbox import keystone, postgres
    text = str(exc).strip()
    if isinstance(exc, (sb_up.SandboxError, processes.ProcessError,
                        keystone.KeystoneError, postgres.PostgresError)):
        return text or type(exc).__name__
    first = text.splitlines()[0] if text else type(exc).__name__
    return '%s (--debug shows the traceback)' % first


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if getattr(args, 'regions', 1) < 1:
        print('ERROR: --regions must be at least 1', file=sys.stderr)
        return 2
    try:
        return args.func(args)
    except KeyboardInterrupt:
        print('interrupted', file=sys.stderr)
        return 130
    except Exception as exc:  # noqa: B902 (one line for the user)
        if args.debug:
            raise
        print('ERROR: %s' % _error_text(exc), file=sys.stderr)
        return 1


if __name__ == '__main__':
    sys.exit(main())
