"""``tricircle-sandbox vm create|delete|list|ping``."""
from __future__ import annotations

import sys

from tricircle.sandbox import state as sb_state
from tricircle.sandbox import vm as sb_vm


def _state(args) -> sb_state.SandboxState:
    state = sb_state.SandboxState.load(args.state_dir)
    if state is None or state.plain:
        raise sb_vm.VMError('no Tricircle sandbox in %s' % args.state_dir)
    return state


def _run(func):
    def wrapper(args) -> int:
        try:
            return func(args)
        except sb_vm.VMError as exc:
            print('ERROR: %s' % exc, file=sys.stderr)
            return 2
    return wrapper


@_run
def cmd_create(args) -> int:
    vm = sb_vm.create(_state(args), args.name, args.region, args.network,
                      args.host, args.ip)
    print('%s: %s on %s (%s), port %s, %s %s' % (
        vm.name, vm.region, vm.host, vm.ip, vm.port_id, vm.mac, vm.cidr))
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
    ok = sb_vm.ping(_state(args), args.name, args.ip, args.deadline)
    print('%s -> %s: %s' % (args.name, args.ip, 'reachable' if ok
                            else 'UNREACHABLE'))
    return 0 if ok else 1


def add_commands(sub, add) -> None:
    """Register ``vm ...`` under the sandbox parser; ``add(sub, name,
    func, help)`` adds a subcommand with ``--state-dir``."""
    vm_parser = sub.add_parser('vm', help='VMs (namespaces) on the '
                                          'sandbox hosts')
    vm_sub = vm_parser.add_subparsers(dest='vm_command', required=True)
    p = add(vm_sub, 'create', cmd_create, 'create a port and plug a VM')
    p.add_argument('name')
    p.add_argument('--region', required=True)
    p.add_argument('--network', required=True, help='network id')
    p.add_argument('--host', help='a host of the region (default: the '
                                  'least used)')
    p.add_argument('--ip', help='a fixed address (default: one central '
                                'IPAM picks)')
    p = add(vm_sub, 'delete', cmd_delete, 'unplug a VM, delete its port')
    p.add_argument('name')
    add(vm_sub, 'list', cmd_list, 'list VMs')
    p = add(vm_sub, 'ping', cmd_ping, 'ping from inside a VM')
    p.add_argument('name')
    p.add_argument('ip')
    p.add_argument('--deadline', type=float, default=5.0,
                   help='seconds to keep trying (default: %(default)s)')
