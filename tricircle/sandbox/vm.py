"""``tricircle-sandbox vm ...``: what Nova would do, on namespaces.

``create`` makes a port in the region's Neutron (bound to a host,
``compute:nova``), then plugs a VM namespace into that host's bridge of
the network with the port's MAC, address and gateway. The host agent
connects the bridge to the other hosts and regions.
"""
from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import re
import time
import uuid
from typing import Iterator

import netaddr

from tricircle.sandbox import hosts as sb_hosts
from tricircle.sandbox import state as sb_state
from tricircle.sandbox.dataplane import fabric as dp_fabric

VMS_FILE = 'vms.json'
VXLAN_MTU = 1450  # 1500 minus the VXLAN overhead, as Neutron computes
OVS = 'ovs'       # state.agents of a sandbox with Neutron's own agents
ACTIVE_TIMEOUT = 30.0
# A port not ACTIVE this long after its plug, and never tagged by the OVS
# agent, is plugged once more.
REPLUG_AFTER = 10.0
# Namespace names map other characters to "_": two names could clash.
_NAME = re.compile(r'[A-Za-z0-9_.-]+')


class VMError(RuntimeError):
    pass


@dataclasses.dataclass
class VM:
    name: str
    region: str
    host: str
    network_id: str
    port_id: str
    mac: str
    ip: str
    cidr: str
    gateway: str | None


def _vms_path(state: sb_state.SandboxState) -> str:
    return os.path.join(state.state_dir, VMS_FILE)


def load(state: sb_state.SandboxState) -> dict[str, VM]:
    try:
        with open(_vms_path(state)) as f:
            return {name: VM(**vm) for name, vm in json.load(f).items()}
    except FileNotFoundError:
        return {}


def _save(state: sb_state.SandboxState, vms: dict[str, VM]) -> None:
    tmp = _vms_path(state) + '.tmp'
    with open(tmp, 'w') as f:
        json.dump({n: dataclasses.asdict(v) for n, v in vms.items()}, f,
                  indent=2, sort_keys=True)
    os.replace(tmp, _vms_path(state))


def fabric(state: sb_state.SandboxState) -> dp_fabric.Fabric:
    return dp_fabric.Fabric(sb_hosts.fabric_tag(state))


def create(state: sb_state.SandboxState, name: str, region: str,
           network: str, host: str | None = None,
           ip: str | None = None, wait: bool = True) -> VM:
    """Boot VM ``name`` in ``region`` on ``network`` (a name or an id,
    looked up on central, as ``openstack`` would). With real agents,
    ``wait`` returns once the host's agent has wired the port (ACTIVE),
    as ``openstack server create --wait``; without, once it is plugged,
    as ``openstack server create``."""
    vms = load(state)
    if not _NAME.fullmatch(name):
        raise VMError('a VM name is letters, digits and "_.-" only: %r'
                      % name)
    if name in vms:
        raise VMError('a VM named %s exists already (in %s)' % (
            name, vms[name].region))
    if region not in state.regions:
        raise VMError('no region %s in this sandbox (regions: %s)' % (
            region, ', '.join(state.regions)))
    region_hosts = sb_hosts.hosts_of(state, region)
    if host is None:  # spread VMs over the region's hosts
        used = [v.host for v in vms.values() if v.region == region]
        host = min(region_hosts, key=lambda h: (used.count(h), h))
    elif host not in region_hosts:
        raise VMError('host %s is not a host of %s (hosts: %s)' % (
            host, region, ', '.join(region_hosts)))
    # A plain sandbox has no central: its one region owns the networks.
    network_id = _central_network(
        state, region if state.plain else 'central', network, ip)
    conn = sb_hosts.neutron_connection(state, region)
    with neutron_errors(region):
        # The region creates it with the central id, or says why not
        # (e.g. the network is not allowed in this region).
        net = conn.network.get_network(network_id)
        extra = {'fixed_ips': [{'ip_address': ip}]} if ip else {}
        port = conn.network.create_port(
            network_id=network_id, name='vm-%s' % name,
            device_owner='compute:nova',
            device_id=str(uuid.uuid5(uuid.NAMESPACE_DNS, name)),
            binding_host_id=host, **extra)
    try:
        if port.binding_vif_type in (None, 'unbound', 'binding_failed'):
            raise VMError('port %s could not be bound to %s (vif_type %s)'
                          % (port.id, host, port.binding_vif_type))
        if not port.fixed_ips:
            raise VMError('port %s got no address' % port.id)
        fixed = port.fixed_ips[0]
        # The region's copy: its gateway is the region's own where a
        # router spans regions, not central's.
        with neutron_errors(region):
            subnet = conn.network.get_subnet(fixed['subnet_id'])
        cidr = netaddr.IPNetwork(subnet.cidr)
        vm = VM(name=name, region=region, host=host, network_id=network_id,
                port_id=port.id, mac=port.mac_address,
                ip=fixed['ip_address'], cidr=str(cidr),
                gateway=subnet.gateway_ip)
        if state.agents == OVS:
            _plug_ovs(state, conn, vm, port, net, cidr.prefixlen, wait)
        else:
            _plug_lite(state, vm, net, cidr.prefixlen)
    except BaseException:
        if state.agents == OVS:
            sb_hosts.ovs_host(state, host).unplug(
                fabric(state).vm_tap(name, port.id))
        fabric(state).unplug_vm(name)
        conn.network.delete_port(port.id, ignore_missing=True)
        raise
    vms[name] = vm
    _save(state, vms)
    return vm


def _plug_lite(state, vm: VM, net, prefixlen: int) -> None:
    """Plug the VM into its host's bridge of the network, which the light
    host agent connects."""
    mtu = VXLAN_MTU if net.provider_network_type == 'vxlan' else 1500
    fabric(state).plug_vm(vm.host, vm.name,
                          _network_bridge(state, vm.host, net), vm.mac,
                          '%s/%d' % (vm.ip, prefixlen), vm.gateway, mtu,
                          port_id=vm.port_id)


def _plug_ovs(state, conn, vm: VM, port, net, prefixlen: int,
              wait: bool = True) -> None:
    """Plug the VM as Nova's os-vif does, then (``wait``) wait for its
    port to go ACTIVE: the host's OVS agent has wired it (VLAN tag,
    flows, firewall) and told Neutron."""
    mtu = net.mtu or 1500
    fab = fabric(state)
    fab.plug_vm(vm.host, vm.name, None, vm.mac,
                '%s/%d' % (vm.ip, prefixlen), vm.gateway, mtu,
                port_id=port.id, announce=False)
    ovs_host = sb_hosts.ovs_host(state, vm.host)
    tap = fab.vm_tap(vm.name, port.id)
    ovs_host.plug(tap, port.id, vm.mac, port.device_id, mtu)
    if not wait:
        return
    start = time.monotonic()
    end = start + ACTIVE_TIMEOUT
    replugged = False
    status = None
    while time.monotonic() < end:
        with neutron_errors(vm.region):
            status = conn.network.get_port(port.id).status
        if status == 'ACTIVE':
            # Wired: the guest's announcements now reach its neighbours.
            fab.announce(vm.name, vm.ip)
            return
        if not replugged and time.monotonic() - start > REPLUG_AFTER and \
                not ovs_host.wired(tap):
            # The OVS agent may have read the new port from its OVSDB
            # replica before vswitchd's ofport reached it ("has no valid
            # ofport ... retried on the next iteration"), and then never
            # looks again: seen under load, the port stayed DOWN, never
            # tagged. A new plug is a new port to it.
            ovs_host.unplug(tap)
            ovs_host.plug(tap, port.id, vm.mac, port.device_id, mtu)
            replugged = True
        time.sleep(0.05)  # Nova hears of it at once (vif-plugged event)
    raise VMError('port %s is %s %.0f s after plugging%s: the OVS agent '
                  'of %s did not wire it (its log: logs/ovs-agent-%s.log)' % (
                      port.id, status, ACTIVE_TIMEOUT,
                      ' (plugged again after %.0f s)' % REPLUG_AFTER
                      if replugged else '', vm.host, vm.host))


@contextlib.contextmanager
def neutron_errors(where: str) -> Iterator[None]:
    """A Neutron refusal or an unreachable server as one VMError line."""
    import keystoneauth1.exceptions as ks_exc
    import openstack.exceptions as os_exc
    try:
        yield
    except os_exc.HttpException as exc:
        detail = exc.details if isinstance(exc.details, str) else None
        raise VMError('%s Neutron: %s' % (where, (detail or exc.message)
                                          .strip())) from exc
    except ks_exc.ConnectionError as exc:
        raise VMError('%s Neutron does not answer (is the sandbox up? '
                      '"tricircle-sandbox status" tells)' % where) from exc


def _central_network(state: sb_state.SandboxState, cloud: str,
                     network: str, ip: str | None) -> str:
    """The id of ``network`` (name or id) on central (``cloud``), once it
    is known to have a subnet that ``ip`` (if given) belongs to."""
    import openstack.exceptions as os_exc
    central = sb_hosts.neutron_connection(state, cloud)
    with neutron_errors('central'):
        try:
            net = central.network.find_network(network, ignore_missing=True)
        except os_exc.DuplicateResource:
            raise VMError('more than one network is named %s; give its id '
                          '(openstack --os-cloud central network list '
                          '--name %s)' % (network, network))
        if net is None:
            raise VMError('no network %s on central (neither a name nor an '
                          'id); "openstack --os-cloud central network list" '
                          'lists them' % network)
        cidrs = [s.cidr for s in central.network.subnets(network_id=net.id)]
    if not cidrs:
        raise VMError('network %s has no subnet, so a VM gets no address; '
                      'add one: openstack --os-cloud central subnet create '
                      '--network %s --subnet-range 10.0.0.0/24 %s-subnet'
                      % (network, net.id, net.name or 'net'))
    if ip is not None:
        try:
            addr = netaddr.IPAddress(ip)
        except (netaddr.AddrFormatError, ValueError):
            raise VMError('--ip %s is not an IP address' % ip)
        if not any(addr in netaddr.IPNetwork(c) for c in cidrs):
            raise VMError('%s is outside the subnets of network %s (%s)' % (
                ip, network, ', '.join(cidrs)))
    return net.id


def _network_bridge(state, host: str, network) -> str:
    """The host's bridge of the network (the host agent makes the same)."""
    fab = fabric(state)
    net_type = network.provider_network_type
    if net_type == 'vxlan':
        return fab.ensure_vxlan(host, network.id,
                                network.provider_segmentation_id)
    if net_type in ('vlan', 'flat'):
        return fab.ensure_vlan(host, network.provider_physical_network,
                               network.provider_segmentation_id or 0)
    raise VMError('network type %s is not supported by the sandbox hosts'
                  % net_type)


def migrate(state: sb_state.SandboxState, name: str, host: str) -> VM:
    """Move VM ``name`` to another host of its region, as Nova's cold
    migration does: unplugged from its host, its port bound to the new
    one (a port update in the region), plugged there; with real agents,
    returns once the new host's agent has wired it (ACTIVE)."""
    vms = load(state)
    vm = vms.get(name)
    if vm is None:
        raise VMError('no VM named %s (%s)' % (name, _known(vms)))
    region_hosts = sb_hosts.hosts_of(state, vm.region)
    if host not in region_hosts:
        raise VMError('host %s is not a host of %s (hosts: %s)' % (
            host, vm.region, ', '.join(region_hosts)))
    if host == vm.host:
        raise VMError('%s is on %s already' % (name, host))
    conn = sb_hosts.neutron_connection(state, vm.region)
    with neutron_errors(vm.region):
        net = conn.network.get_network(vm.network_id)
    prefixlen = netaddr.IPNetwork(vm.cidr).prefixlen
    if state.agents == OVS:
        sb_hosts.ovs_host(state, vm.host).unplug(
            fabric(state).vm_tap(name, vm.port_id))
    with neutron_errors(vm.region):
        port = conn.network.update_port(vm.port_id, binding_host_id=host)
    if port.binding_vif_type in (None, 'unbound', 'binding_failed'):
        raise VMError('port %s could not be bound to %s (vif_type %s)'
                      % (port.id, host, port.binding_vif_type))
    vm.host = host
    vms[name] = vm
    _save(state, vms)
    if state.agents == OVS:
        _plug_ovs(state, conn, vm, port, net, prefixlen)
    else:
        _plug_lite(state, vm, net, prefixlen)
    return vm


def delete(state: sb_state.SandboxState, name: str) -> VM:
    vms = load(state)
    vm = vms.get(name)
    if vm is None:
        raise VMError('no VM named %s (%s)' % (name, _known(vms)))
    if state.agents == OVS:
        sb_hosts.ovs_host(state, vm.host).unplug(
            fabric(state).vm_tap(name, vm.port_id))
    fabric(state).unplug_vm(name)
    conn = sb_hosts.neutron_connection(state, vm.region)
    with neutron_errors(vm.region):
        conn.network.delete_port(vm.port_id, ignore_missing=True)
    del vms[name]
    _save(state, vms)
    return vm


def _known(vms: dict[str, VM]) -> str:
    return 'VMs: %s' % ', '.join(vms) if vms else 'there is no VM'


def ping(state: sb_state.SandboxState, name: str, target: str,
         deadline: float = 5.0) -> bool:
    """Ping ``target`` (an address, or another VM's name) from VM
    ``name``; True once a reply came within ``deadline`` seconds."""
    vms = load(state)
    if name not in vms:
        raise VMError('no VM named %s (%s)' % (name, _known(vms)))
    return fabric(state).ping(name, address_of(vms, target),
                              deadline=deadline)


def exec_argv(state: sb_state.SandboxState, name: str,
              command: list[str]) -> list[str]:
    """The argv that runs ``command`` inside VM ``name``'s namespace (and
    nowhere else)."""
    vms = load(state)
    if name not in vms:
        raise VMError('no VM named %s (%s)' % (name, _known(vms)))
    if not command:
        raise VMError('no command to run in %s (vm exec %s -- COMMAND ...)'
                      % (name, name))
    ns = fabric(state).vm_ns(name)
    return ['ip', 'netns', 'exec', ns, *command]


def address_of(vms: dict[str, VM], target: str) -> str:
    """``target`` if it is an address, else the address of that VM."""
    if target in vms:
        return vms[target].ip
    try:
        return str(netaddr.IPAddress(target))
    except (netaddr.AddrFormatError, ValueError):
        raise VMError('%s is neither an IP address nor a VM (%s)' % (
            target, _known(vms)))
