"""The demo's north-south step: one external network, one SNAT, and a
floating IP for a VM of another region (see docs/l3-networking.md).

The external network is in the sandbox's first external region (the
outside world leads there); the demo's router takes its gateway, and the
routed VM, in the other region, reaches the outside through that
region's copy of the router; the outside then pings a floating IP of it.
"""
from __future__ import annotations

import time

from tricircle.sandbox import outside
from tricircle.sandbox import outside_world

PUBLIC_NETWORK = 'demo-public'
PUBLIC_CIDR = '203.0.113.0/24'
PUBLIC_POOL = ('203.0.113.100', '203.0.113.150')
PING_GROUP = 'demo-ping'  # ICMP from anywhere, for the floating IP
DEADLINE = 60.0


def remove_previous(central, mark: str) -> list[str]:
    """The previous demo's floating IPs; the ids of its external
    networks (deleted with the demo's other networks). Its ping group
    stays (``remove_ping_group`` once its VM is gone)."""
    nets = [n.id for n in central.network.networks(name=PUBLIC_NETWORK)
            if n.description == mark]
    for net_id in nets:
        for fip in central.network.ips(floating_network_id=net_id):
            central.network.delete_ip(fip)
    return nets


def show(demo, router, vm, mark: str, osc: str) -> None:
    """``demo``: the running Demo; ``vm``: a VM behind ``router`` in a
    region other than the external one."""
    state = demo.state
    region = state.external_regions[0]
    print('9. North-south: an external network in %s, the router\'s '
          'gateway on it:' % region)
    for line in (
            'network create --external --provider-network-type flat '
            '--provider-physical-network %s --availability-zone-hint %s %s'
            % (outside.EXTNET, region, PUBLIC_NETWORK),
            'subnet create --network %s --subnet-range %s --gateway %s '
            '--no-dhcp %s-subnet' % (PUBLIC_NETWORK, PUBLIC_CIDR,
                                     outside.PRIMARY.ip, PUBLIC_NETWORK),
            'router set --external-gateway %s %s' % (PUBLIC_NETWORK,
                                                    router.name),
            'security group create %s' % PING_GROUP,
            'security group rule create --protocol icmp %s' % PING_GROUP,
            'port set --security-group %s %s   # let the outside ping' % (
                PING_GROUP, vm.port_id),
            'floating ip create --port %s %s' % (vm.port_id,
                                                  PUBLIC_NETWORK)):
        print('   $ %s %s' % (osc, line))
    public = demo.central.network.create_network(
        name=PUBLIC_NETWORK, description=mark, is_router_external=True,
        provider_network_type='flat',
        provider_physical_network=outside.EXTNET,
        availability_zone_hints=[region])
    demo.central.network.create_subnet(
        network_id=public.id, cidr=PUBLIC_CIDR, ip_version=4,
        gateway_ip=outside.PRIMARY.ip, enable_dhcp=False,
        name=PUBLIC_NETWORK + '-subnet', allocation_pools=[
            {'start': PUBLIC_POOL[0], 'end': PUBLIC_POOL[1]}])
    router = demo.central.network.update_router(
        router, external_gateway_info={'network_id': public.id})
    gateway = router.external_gateway_info['external_fixed_ips'][0][
        'ip_address']
    world = outside_world.OutsideWorld(state)
    demo.ping_address(vm, outside.PRIMARY.ip, 'the outside',
                      step='   ', deadline=DEADLINE)
    # Once the path is up (while the L3 agent builds it, a packet may
    # leave before its NAT rules are in).
    world.seen(clear=True)
    demo.ping_address(vm, outside.PRIMARY.ip, 'the outside',
                      step='   ', deadline=DEADLINE)
    print('   the outside saw it come from %s: the router\'s gateway in %s '
          '(one SNAT, there)' % (', '.join(world.seen(clear=True)),
                                 region))
    _allow_ping(demo.central, vm.port_id, mark)
    fip = demo.central.network.create_ip(floating_network_id=public.id,
                                         port_id=vm.port_id)
    started = time.monotonic()
    if world.ping(fip.floating_ip_address, timeout=DEADLINE) is None:
        raise demo.error('the outside cannot ping floating IP %s of %s '
                         'after %.0fs; the logs are in %s' % (
                             fip.floating_ip_address, vm.name, DEADLINE,
                             state.logs_dir))
    print('   outside -> floating IP %s of %s (%s): ping passed (%.1fs); '
          'gateway %s' % (fip.floating_ip_address, vm.name, vm.region,
                          time.monotonic() - started, gateway))
    print('   $ %s outside ping %s   # or: outside seen' % (
        demo.sandbox, fip.floating_ip_address))


def _allow_ping(central, port_id: str, mark: str) -> None:
    """A group admitting ICMP from anywhere, added to the VM's port (its
    default group admits only its members), as any cloud's tutorial has
    it: made on central, every region holding the port follows."""
    group = next(iter(central.network.security_groups(name=PING_GROUP)),
                 None)
    if group is None:
        group = central.network.create_security_group(name=PING_GROUP,
                                                      description=mark)
        central.network.create_security_group_rule(
            security_group_id=group.id, direction='ingress',
            ethertype='IPv4', protocol='icmp', remote_ip_prefix='0.0.0.0/0')
    groups = central.network.get_port(port_id).security_group_ids
    if group.id not in groups:
        central.network.update_port(port_id,
                                    security_group_ids=groups + [group.id])


def remove_ping_group(central, mark: str) -> None:
    """The previous demo's ping group; one still in use (the region's
    port delete reaches central a moment later) is kept and reused."""
    import openstack.exceptions as os_exc
    for group in central.network.security_groups(name=PING_GROUP):
        if group.description == mark:
            try:
                central.network.delete_security_group(group)
            except os_exc.ConflictException:
                pass
