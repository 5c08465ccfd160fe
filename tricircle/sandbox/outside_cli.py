"""``tricircle-sandbox outside address|ping|seen``."""
from __future__ import annotations

from tricircle.sandbox import outside
from tricircle.sandbox import outside_world
from tricircle.sandbox import vm_cli


_run = vm_cli.one_error_line(outside_world.OutsideError)


@_run
def cmd_address(args) -> int:
    outside_world.load(args.state_dir)  # a sandbox with an outside
    if not args.all:
        print(outside.PRIMARY.ip)
        return 0
    for address in outside.ADDRESSES:
        print(address.describe())
    return 0


@_run
def cmd_ping(args) -> int:
    ip = outside_world.check_ip(args.ip)
    if args.timeout <= 0:
        raise outside_world.OutsideError('--timeout must be positive')
    waited = outside_world.load(args.state_dir).ping(ip, args.timeout)
    if waited is None:
        print('outside -> %s: UNREACHABLE within %.0f s' % (ip,
                                                            args.timeout))
        return 1
    print('outside -> %s: reachable after %.1f s' % (ip, waited))
    return 0


@_run
def cmd_seen(args) -> int:
    for ip in outside_world.load(args.state_dir).seen(clear=args.clear):
        print(ip)
    return 0


def add_commands(sub, add) -> None:
    """Register ``outside ...`` under the sandbox parser; ``add(sub,
    name, func, help)`` adds a subcommand with ``--state-dir``."""
    parser = sub.add_parser(
        'outside', help='the outside world of north-south tests: its '
        'addresses, a ping from it, what it received',
        description='The namespace standing for the internet, on the '
        'physical network %s of each external region\'s L3 host: %s. It '
        'records the source address of every packet it receives.' % (
            outside.EXTNET, ', '.join(a.describe()
                                      for a in outside.ADDRESSES)))
    osub = parser.add_subparsers(dest='outside_command', required=True,
                                 metavar='COMMAND')
    p = add(osub, 'address', cmd_address, 'print the outside\'s primary '
            'address (%s)' % outside.PRIMARY.ip)
    p.add_argument('--all', action='store_true',
                   help='every address with its prefix and VLAN, one a '
                        'line')
    p = add(osub, 'ping', cmd_ping, 'ping an address from the outside; '
            'exit 0 if it answers, 1 if not')
    p.add_argument('ip', metavar='IP', help='the IPv4 address to ping')
    p.add_argument('--timeout', type=float, default=outside.PING_TIMEOUT,
                   metavar='SECONDS',
                   help='keep trying ("ping -c 1 -W 1") this long '
                        '(default: %(default)s)')
    p = add(osub, 'seen', cmd_seen, 'print the source addresses of the '
            'packets the outside received, one a line, sorted')
    p.add_argument('--clear', action='store_true',
                   help='then forget them')
