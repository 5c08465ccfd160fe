"""``tricircle-sandbox vm create|migrate|delete|list|ping|exec``."""
from __future__ import annotations

import argparse
import os
import sys

from tricircle.sandbox import state as sb_state
from tricircle.sandbox import vm as sb_vm


def _state(args) -> sb_state.SandboxState:
    state = sb_state.SandboxState.load(args.state_dir)
    if state is None or state.plain:
        raise sb_vm.VMError('no Tricircle sandbox in %s ("tricircle-sandbox '
                            'up" starts one)' % os.path.abspath(
                                args.state_dir))
    return state


def one_error_line(*errors: type[Exception]):
    """A command whose ``errors`` print one ERROR line and exit 2."""
    def decorate(func):
        def wrapper(args) -> int:
            try:
                return func(args)
            except errors as exc:
                if getattr(args, 'debug', False):
                    raise  # main() lets it through with its traceback
                print('ERROR: %s' % exc, file=sys.stderr)
                return 2
        return wrapper
    return decorate


_run = one_error_line(sb_vm.VMError)


@_run
def cmd_create(args) -> int:
    vm = sb_vm.create(_state(args), args.name, args.region, args.network,
                      args.host, args.ip, wait=not args.no_wait)
    print('%s: %s on %s (%s), port %s, %s %s' % (
        vm.name, vm.region, vm.host, vm.ip, vm.port_id, vm.mac, vm.cidr))
    return 0


@_run
def cmd_migrate(args) -> int:
    vm = sb_vm.migrate(_state(args), args.name, args.host)
    print('%s: now on %s (port %s in %s)' % (vm.name, vm.host, vm.port_id,
                                             vm.region))
    return 0


@_run
def cmd_delete(args) -> int:
    vm = sb_vm.delete(_state(args), args.name)
    print('%s deleted (port %s in %s)' % (vm.name, vm.port_id, vm.region))
    return 0


@_run
def cmd_list(args) -> int:
    vms = sb_vm.load(_state(args))
    print('%-12s %-12s %-15s %-16s %-18s %s' % (
        'NAME', 'REGION', 'HOST', 'IP', 'MAC', 'NETWORK'))
    for vm in vms.values():
        print('%-12s %-12s %-15s %-16s %-18s %s' % (
            vm.name, vm.region, vm.host, vm.ip, vm.mac, vm.network_id))
    return 0


@_run
def cmd_ping(args) -> int:
    state = _state(args)
    ip = sb_vm.address_of(sb_vm.load(state), args.target)
    ok = sb_vm.ping(state, args.name, ip, args.deadline)
    print('%s -> %s: %s' % (args.name, ip if ip == args.target else
                            '%s (%s)' % (args.target, ip),
                            'reachable' if ok else 'UNREACHABLE'))
    return 0 if ok else 1


@_run
def cmd_exec(args) -> int:
    command = list(args.command)
    if command[:1] == ['--']:
        command = command[1:]
    argv = sb_vm.exec_argv(_state(args), args.name, command)
    sys.stdout.flush()
    # The command's own exit code, output and signals: it replaces us.
    os.execvp(argv[0], argv)
    return 127  # not reached


def add_commands(sub, add) -> None:
    """Register ``vm ...`` under the sandbox parser; ``add(sub, name,
    func, help)`` adds a subcommand with ``--state-dir``."""
    vm_parser = sub.add_parser(
        'vm', help='VMs on the sandbox hosts: create, list, ping, delete',
        description='A VM is a network namespace plugged into a compute '
        'host of a region, with a real Neutron port of that region (what '
        'Nova would do). "tricircle-sandbox help vm create" says more.')
    vm_sub = vm_parser.add_subparsers(dest='vm_command', required=True,
                                      metavar='COMMAND')
    p = add(vm_sub, 'create', cmd_create, 'create a port in a region and '
            'plug a VM into it')
    p.add_argument('name', help='name of the new VM (letters, digits, '
                                '"_.-"), used by "vm ping" and "vm delete"')
    p.add_argument('--region', required=True,
                   help='the region whose Neutron makes the port: '
                        'RegionOne, RegionTwo, ...')
    p.add_argument('--network', required=True, metavar='NETWORK',
                   help='name or id of a network of the central Neutron, '
                        'with a subnet')
    p.add_argument('--host', help='a host of the region, e.g. '
                                  'RegionOne-h2 (default: the least used)')
    p.add_argument('--ip', help='a fixed address in the network\'s subnet '
                                '(default: central IPAM picks one)')
    p.add_argument('--no-wait', action='store_true',
                   help='return once the VM is plugged, without waiting '
                        'for the host\'s OVS agent to wire its port '
                        '(ACTIVE), as "openstack server create" without '
                        '--wait')
    p = add(vm_sub, 'migrate', cmd_migrate, 'move a VM to another host of '
            'its region, as Nova\'s cold migration does')
    p.add_argument('name', help='the VM')
    p.add_argument('--host', required=True,
                   help='another host of the VM\'s region, e.g. RegionOne-h2')
    p = add(vm_sub, 'delete', cmd_delete, 'unplug a VM and delete its port')
    p.add_argument('name', help='the VM')
    add(vm_sub, 'list', cmd_list, 'list the VMs of the sandbox')
    p = add(vm_sub, 'ping', cmd_ping, 'ping from inside a VM; exit 0 if '
            'the target answers')
    p.add_argument('name', help='the VM that pings')
    p.add_argument('target', metavar='TARGET',
                   help='an IP address or the name of another VM')
    p.add_argument('--deadline', type=float, default=5.0, metavar='SECONDS',
                   help='keep trying this long (default: %(default)s)')
    p = add(vm_sub, 'exec', cmd_exec, 'run a command inside a VM; exit '
            'with its exit code')
    p.add_argument('name', help='the VM')
    p.add_argument('command', nargs=argparse.REMAINDER, metavar='COMMAND',
                   help='after "--": the command and its arguments, e.g. '
                        '"vm exec a -- python3 -m http.server 8080"')
