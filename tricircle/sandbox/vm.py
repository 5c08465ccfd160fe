"""``tricircle-sandbox vm ...``: what Nova would do, on namespaces.

``create`` makes a port in the region's Neutron (bound to a host,
``compute:nova``), then plugs a VM namespace into that host's bridge of
the network with the port's MAC, address and gateway. The host agent
connects the bridge to the other hosts and regions.
"""
from __future__ import annotations

import dataclasses
import json
import os
import uuid

import netaddr

from tricircle.sandbox import hosts as sb_hosts
from tricircle.sandbox import state as sb_state
from tricircle.sandbox.dataplane import fabric as dp_fabric

VMS_FILE = 'vms.json'
VXLAN_MTU = 1450  # 1500 minus the VXLAN overhead, as Neutron computes


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
           network_id: str, host: str | None = None,
           ip: str | None = None) -> VM:
    vms = load(state)
    if name in vms:
        raise VMError('a VM named %s exists already' % name)
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
    conn = sb_hosts.neutron_connection(state, region)
    network = conn.network.get_network(network_id)
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
        fixed = port.fixed_ips[0]
        subnet = conn.network.get_subnet(fixed['subnet_id'])
        cidr = netaddr.IPNetwork(subnet.cidr)
        vm = VM(name=name, region=region, host=host, network_id=network_id,
                port_id=port.id, mac=port.mac_address,
                ip=fixed['ip_address'], cidr=str(cidr),
                gateway=subnet.gateway_ip)
        bridge = _network_bridge(state, host, network)
        mtu = VXLAN_MTU if network.provider_network_type == 'vxlan' \
            else 1500
        fabric(state).plug_vm(host, name, bridge, vm.mac,
                              '%s/%d' % (vm.ip, cidr.prefixlen),
                              vm.gateway, mtu, port_id=port.id)
    except Exception:
        conn.network.delete_port(port.id, ignore_missing=True)
        raise
    vms[name] = vm
    _save(state, vms)
    return vm


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


def delete(state: sb_state.SandboxState, name: str) -> VM:
    vms = load(state)
    vm = vms.get(name)
    if vm is None:
        raise VMError('no VM named %s' % name)
    fabric(state).unplug_vm(name)
    conn = sb_hosts.neutron_connection(state, vm.region)
    conn.network.delete_port(vm.port_id, ignore_missing=True)
    del vms[name]
    _save(state, vms)
    return vm


def ping(state: sb_state.SandboxState, name: str, ip: str,
         deadline: float = 5.0) -> bool:
    if name not in load(state):
        raise VMError('no VM named %s' % name)
    return fabric(state).ping(name, ip, deadline=deadline)
