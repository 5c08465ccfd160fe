"""The main demo: what Tricircle does, shown on a running sandbox.

A VM in each of two regions on one network of the central Neutron; a
ping between them; where each port lives (central, the VM's region, and
a shadow port in the other region); what the Admin API shows; then (with
Neutron's real agents) a router on central joining that network to a
network of the second region only, and a ping across it; and (with an
outside world) the router's gateway and a floating IP, pinged from
outside (tricircle.sandbox.demo_north_south). It leaves
everything up, prints commands to try next and ends with a last ping
across the regions. A second run first removes what the previous one
made (only VMs and networks with the demo's names).
"""
from __future__ import annotations

import os
import shutil
import sys
import time

from tricircle.sandbox import demo_north_south
from tricircle.sandbox import hosts as sb_hosts
from tricircle.sandbox import state as sb_state
from tricircle.sandbox import up as sb_up
from tricircle.sandbox import vm as sb_vm

NETWORK = 'demo-net'
CIDR = '10.99.0.0/24'
VMS = ('demo-vm1', 'demo-vm2')
# The router step: a network of the second region only, and its VM.
ROUTED_NETWORK = 'demo-net2'
ROUTED_CIDR = '10.98.0.0/24'
ROUTED_VM = 'demo-vm3'
ROUTER = 'demo-router'
ROUTED_DEADLINE = 60.0  # XJob copies the router, the L3 agents build it
# On the demo's network: what a second run may delete.
MARK = 'made by tricircle-sandbox demo'
PING_DEADLINE = 20.0  # the first ping waits for the shadow ports


class DemoError(RuntimeError):
    pass


def connect(state: sb_state.SandboxState, cloud: str):
    """An openstacksdk connection to one of the sandbox's clouds."""
    return sb_hosts.neutron_connection(state, cloud)


def _command(name: str) -> str:
    """How the user runs one of our console scripts from here."""
    path = os.path.join(os.path.dirname(sys.executable), name)
    if shutil.which(name) == path:
        return name
    rel = os.path.relpath(path)
    return path if rel.startswith('..') else rel


def _short(uuid: str) -> str:
    return uuid[:8]


class Demo:
    error = DemoError

    def __init__(self, state: sb_state.SandboxState) -> None:
        self.state = state
        self.regions = list(state.regions)[:2]
        self.central = connect(state, 'central')
        self.conns = {r: connect(state, r) for r in self.regions}
        self.token = None
        if state.keystone:
            from tricircle.sandbox import keystone
            self.token = keystone.SandboxKeystone.load(
                state.state_dir).token()
        self.sandbox = _command('tricircle-sandbox')
        if os.path.abspath(state.state_dir) != os.path.abspath('.sandbox'):
            self.sandbox += ' --state-dir ' + state.state_dir
        self._t0 = time.monotonic()

    def api(self, path: str) -> dict:
        return sb_up.http_json('GET', self.state.admin_api + '/v1.0' + path,
                               token=self.token)

    def run(self) -> None:
        print('Tricircle demo: one central Neutron, regions %s'
              % ', '.join(self.state.regions))
        self.remove_previous()
        pods = self.show_pods()
        net = self.create_network()
        vms = self.boot_vms(net)
        self.ping(vms[0], vms[1], step='5. ', deadline=PING_DEADLINE)
        self.ping(vms[1], vms[0], step='   ', deadline=PING_DEADLINE)
        self.show_ports(vms)
        self.show_admin_api(net, vms, pods)
        if self.state.agents == 'ovs':  # routers need the real L3 agents
            router, vm3 = self.route_across_regions(net, vms[0])
            if self.state.external_regions:
                demo_north_south.show(
                    self, router, vm3, MARK,
                    '%s --os-cloud central' % _command('openstack'))
        self.show_next(vms)
        took = time.monotonic() - self._t0
        print('demo done in %.0fs; one last ping across the regions:' % took)
        self.ping(vms[1], vms[0], step='   ', deadline=5.0)

    # -- steps --------------------------------------------------------------
    def remove_previous(self) -> None:
        """The previous demo's network, and the sandbox VMs on it (the
        demo's own and any that "Try next" made there)."""
        import openstack.exceptions as os_exc
        public = demo_north_south.remove_previous(self.central, MARK)
        old_nets = [n.id for name in (NETWORK, ROUTED_NETWORK)
                    for n in self.central.network.networks(name=name)
                    if n.description == MARK] + public
        old_routers = [r for r in self.central.network.routers(name=ROUTER)
                       if r.description == MARK]
        vms = sb_vm.load(self.state)
        old_vms = [v.name for v in vms.values()
                   if v.name in VMS + (ROUTED_VM,) or
                   v.network_id in old_nets]
        if not old_vms and not old_nets and not old_routers:
            return
        print('0. Removing what the previous demo made: %s' % ', '.join(
            old_vms + ['router %s' % _short(r.id) for r in old_routers] +
            ['network %s' % _short(n) for n in old_nets]))
        for name in old_vms:
            sb_vm.delete(self.state, name)
        demo_north_south.remove_ping_group(self.central, MARK)
        for router in old_routers:
            for port in self.central.network.ports(device_id=router.id):
                # Its interfaces; its gateway goes with it.
                if port.device_owner.startswith('network:router_interface'):
                    self.central.network.remove_interface_from_router(
                        router, port_id=port.id)
            self.central.network.delete_router(router)
        for net_id in old_nets:
            # A region's port delete reaches central a moment later, and
            # XJob removes the router's copies (interfaces) meanwhile.
            deadline = time.monotonic() + 60
            while True:
                try:
                    self.central.network.delete_network(net_id)
                    break
                except os_exc.ConflictException:
                    if time.monotonic() < deadline:
                        time.sleep(0.5)
                        continue
                raise DemoError(
                    'the previous demo\'s network %s (%s) still has ports '
                    'that are not sandbox VMs; delete them (openstack '
                    '--os-cloud central port list --network %s) and run the '
                    'demo again' % (NETWORK, net_id, net_id))

    def show_pods(self) -> dict[str, str]:
        pods = self.api('/pods')['pods']
        print('1. The Admin API knows each region as a pod '
              '(GET /v1.0/pods):')
        for pod in pods:
            print('   %-14s availability zone %-16s pod %s' % (
                pod['region_name'], repr(pod['az_name']), pod['pod_id']))
        return {p['pod_id']: p['region_name'] for p in pods}

    def create_network(self):
        osc = '%s --os-cloud central' % _command('openstack')
        print('2. A network and a subnet on the central Neutron:')
        print('   $ %s network create %s' % (osc, NETWORK))
        print('   $ %s subnet create --network %s --subnet-range %s %s-subnet'
              % (osc, NETWORK, CIDR, NETWORK))
        net = self.central.network.create_network(name=NETWORK,
                                                  description=MARK)
        self.central.network.create_subnet(
            network_id=net.id, cidr=CIDR, ip_version=4,
            name=NETWORK + '-subnet')
        print('   %s: id %s, %s segment %s, shared by every region' % (
            NETWORK, net.id, net.provider_network_type,
            net.provider_segmentation_id))
        return net

    def boot_vms(self, net) -> list[sb_vm.VM]:
        print('3. A VM in each region on that network (the region\'s '
              'Neutron makes the port;')
        print('   it fetches the network from central the first time, '
              'with the same id):')
        vms = []
        for name, region in zip(VMS, self.regions):
            print('   $ %s vm create %s --region %s --network %s' % (
                self.sandbox, name, region, NETWORK))
            vm = sb_vm.create(self.state, name, region, net.id)
            print('     %s: %s on host %s, port %s, MAC %s' % (
                vm.name, vm.ip, vm.host, _short(vm.port_id), vm.mac))
            vms.append(vm)
        print('4. Each region\'s copy of the network: same id, same '
              'segment as central:')
        for region, conn in self.conns.items():
            local = conn.network.get_network(net.id)
            print('   %-10s id %s, %s segment %s' % (
                region, local.id, local.provider_network_type,
                local.provider_segmentation_id))
        return vms

    def ping(self, src: sb_vm.VM, dst: sb_vm.VM, step: str,
             deadline: float) -> None:
        self.ping_address(src, dst.ip, '%s (%s, %s)' % (
            dst.name, dst.region, dst.ip), step, deadline)

    def ping_address(self, src: sb_vm.VM, ip: str, label: str, step: str,
                     deadline: float) -> None:
        started = time.monotonic()
        ok = sb_vm.ping(self.state, src.name, ip, deadline=deadline)
        if not ok:
            raise DemoError('%s (%s) cannot ping %s after %.0fs; the agent '
                            'logs are in %s' % (src.name, src.region, label,
                                                deadline,
                                                self.state.logs_dir))
        print('%s%s (%s) -> %s: ping passed (%.1fs)' % (
            step, src.name, src.region, label, time.monotonic() - started))

    def show_ports(self, vms: list[sb_vm.VM]) -> None:
        print('6. Where each port lives:')
        for vm in vms:
            port = self.central.network.get_port(vm.port_id)
            print('   port %s of %s (%s, MAC %s):' % (
                vm.port_id, vm.name, vm.ip, vm.mac))
            print('     %-13s the port itself (%s), bound to %s, %s' % (
                'central', port.device_owner, port.binding_host_id,
                port.status))
            for region, conn in self.conns.items():
                print('     %-13s %s' % (region, self._regional_port(
                    region, conn, vm)))
        if self.state.agents == sb_vm.OVS:
            print('   A shadow port has the same id, MAC and address; L2 '
                  'population tells the')
            print('   region\'s OVS agents to tunnel to the VM\'s real host. '
                  '"openstack --os-cloud')
            print('   %s port list" shows both kinds; "... network agent '
                  'list" the agents.' % self.regions[0])
        else:
            print('   A shadow port has the same id, MAC and address; its '
                  'host agent tunnels to')
            print('   the VM\'s real host. "openstack --os-cloud %s port '
                  'list" shows both kinds.' % self.regions[0])

    def _regional_port(self, region: str, conn, vm: sb_vm.VM) -> str:
        if region == vm.region:
            return 'the VM\'s port (compute:nova), bound to %s' % vm.host
        # The shadow comes from an XJob job: it may be on its way.
        deadline = time.monotonic() + 10
        while True:
            port = conn.network.find_port(vm.port_id)
            if port is not None or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        if port is None:
            return 'no shadow port yet'
        return 'a shadow port (%s), bound to %s' % (port.device_owner,
                                                    port.binding_host_id)

    def show_admin_api(self, net, vms: list[sb_vm.VM],
                       pods: dict[str, str]) -> None:
        print('7. What the Admin API shows:')
        print('   routings: a central id -> its copy in a pod '
              '(GET /v1.0/routings?top_id=...)')
        for top, what in [(net.id, NETWORK)] + [(v.port_id, v.name)
                                                 for v in vms]:
            for r in self.api('/routings?top_id=%s' % top)['routings']:
                print('     %-8s %-9s %s -> %s in %s' % (
                    r['resource_type'], what, _short(r['top_id']),
                    _short(r['bottom_id']), pods.get(r['pod_id'],
                                                     r['pod_id'])))
        jobs = [j for j in self.api('/jobs')['jobs']
                if (j.get('resource') or {}).get('network_id') == net.id]
        print('   jobs that XJob ran for %s (GET /v1.0/jobs):' % NETWORK)
        for job in jobs[:6]:
            print('     %-20s %-8s %s' % (job['type'], job['status'],
                                          job['timestamp']))
        if not jobs:
            print('     (none yet)')

    def route_across_regions(self, net, vm1: sb_vm.VM) -> None:
        osc = '%s --os-cloud central' % _command('openstack')
        region = self.regions[1]
        print('8. A router across regions: %s exists only in %s, and one '
              'router on central' % (ROUTED_NETWORK, region))
        print('   takes both networks:')
        for line in (
                'network create --availability-zone-hint %s %s' % (
                    region, ROUTED_NETWORK),
                'subnet create --network %s --subnet-range %s %s-subnet'
                % (ROUTED_NETWORK, ROUTED_CIDR, ROUTED_NETWORK),
                'router create %s' % ROUTER,
                'router add subnet %s %s-subnet' % (ROUTER, NETWORK),
                'router add subnet %s %s-subnet' % (ROUTER,
                                                     ROUTED_NETWORK)):
            print('   $ %s %s' % (osc, line))
        net2 = self.central.network.create_network(
            name=ROUTED_NETWORK, description=MARK,
            availability_zone_hints=[region])
        sub2 = self.central.network.create_subnet(
            network_id=net2.id, cidr=ROUTED_CIDR, ip_version=4,
            name=ROUTED_NETWORK + '-subnet')
        router = self.central.network.create_router(name=ROUTER,
                                                    description=MARK)
        sub1 = next(self.central.network.subnets(network_id=net.id))
        for subnet in (sub1, sub2):
            self.central.network.add_interface_to_router(
                router, subnet_id=subnet.id)
        print('   $ %s vm create %s --region %s --network %s' % (
            self.sandbox, ROUTED_VM, region, ROUTED_NETWORK))
        vm3 = sb_vm.create(self.state, ROUTED_VM, region, net2.id)
        self.ping(vm1, vm3, step='   ', deadline=ROUTED_DEADLINE)
        print('   Each region holds a copy of %s (same id %s), on its own '
              'gateway address;' % (ROUTER, _short(router.id)))
        print('   the copies meet on the router\'s transit network '
              '(100.64.0.0/10), one route per subnet a region lacks:')
        for name, conn in self.conns.items():
            routes = conn.network.get_router(router.id).routes
            print('     %-10s routes: %s' % (name, ', '.join(
                '%(destination)s via %(nexthop)s' % r for r in routes) or
                'none (it holds both networks)'))
        return router, vm3

    def show_next(self, vms: list[sb_vm.VM]) -> None:
        osc = _command('openstack')
        clouds = os.path.join(self.state.state_dir, sb_state.CLOUDS_FILE)
        print('Try next:')
        for line in (
                'export OS_CLIENT_CONFIG_FILE=%s' % clouds,
                '%s --os-cloud central port list --network %s' % (
                    osc, NETWORK),
                '%s --os-cloud %s port list --network %s   # VM + shadow'
                % (osc, self.regions[0], NETWORK),
                '%s --os-cloud central multiregion networking job list'
                % osc,
                '%s vm create demo-vm4 --region %s --network %s' % (
                    self.sandbox, self.regions[1], NETWORK),
                '%s vm ping %s demo-vm4' % (self.sandbox, vms[0].name),
                '%s --os-cloud %s router show %s   # its copy there'
                % (osc, self.regions[1], ROUTER),
                '%s status    # processes and their log files'
                % self.sandbox,
                '%s down      # stops it all, keeps the logs'
                % self.sandbox):
            print('   ' + line)


def run(state_dir: str) -> int:
    state = sb_state.SandboxState.load(state_dir)
    if state is None or not state.central:
        raise DemoError('no Tricircle sandbox in %s ("tricircle-sandbox '
                        'up" starts one)' % os.path.abspath(state_dir))
    if len(state.regions) < 2:
        raise DemoError('the demo needs two regions; this sandbox has %s '
                        '("tricircle-sandbox up --regions 2")'
                        % ', '.join(state.regions))
    Demo(state).run()
    return 0
