"""In a region, a floating IP on a router's proxy port keeps the VM
address it is given (the port does not have it) and is served by the
router the port names, if that router has its gateway on the floating
IP's network; any other port is Neutron's own case."""
from __future__ import annotations

import types

from neutron_lib import exceptions as n_exc
import pytest

from tricircle.network.local import l3
from tricircle.resources import floatingip as fip_res

PROXY = {'id': 'proxy', 'device_owner': fip_res.PROXY_DEVICE_OWNER,
         'device_id': 'r1', 'fixed_ips': [{'subnet_id': 's-proxy',
                                           'ip_address': '169.254.0.1'}]}
VM = {'id': 'vm', 'device_owner': 'compute:nova', 'device_id': 'i1',
      'fixed_ips': [{'subnet_id': 's1', 'ip_address': '10.0.0.5'}]}


class Plugin(l3.LocalL3Plugin):
    """The local L3 plugin with two ports; Neutron's own association is
    recorded; ``gateways``: (router, network) pairs with a gateway."""

    def __new__(cls, gateways=(('r1', 'ext'),)):
        # Not Neutron's __new__ nor __init__: no Neutron set-up.
        self = object.__new__(cls)
        self.neutrons: list[str] = []
        self.gateways = set(gateways)
        return self

    def __init__(self, gateways=None) -> None:
        pass

    def _port_owner(self, context, port_id):
        port = {p['id']: p for p in (PROXY, VM)}.get(port_id)
        return port and (port['device_owner'], port['device_id'])

    def _has_gateway(self, context, router_id, network_id):
        return (router_id, network_id) in self.gateways

    def _internal_fip_assoc_data(self, context, fip, project_id):
        self.neutrons.append(fip['port_id'])
        return VM, 's1', '10.0.0.5'

    def _get_router_for_floatingip(self, context, internal_port,
                                   internal_subnet_id, external_network_id):
        return 'r-neutron'

    def is_router_distributed(self, context, router_id):
        return False


def _fip_obj(fixed_ip: str | None = None, port_id: str | None = None):
    return types.SimpleNamespace(project_id='p', floating_network_id='ext',
                                 fixed_ip_address=fixed_ip,
                                 fixed_port_id=port_id)


def test_a_proxy_port_serves_the_vm_address_through_its_router():
    plugin = Plugin()
    assert plugin._get_assoc_data(None, {
        'port_id': 'proxy', 'fixed_ip_address': '10.9.0.7'}, _fip_obj()) == \
        ('proxy', '10.9.0.7', 'r1')
    assert plugin.neutrons == []


def test_an_update_without_an_address_keeps_the_floating_ips_own():
    # Neutron fills in the port of an update that names none.
    assert Plugin()._get_assoc_data(
        None, {'port_id': 'proxy', 'description': 'd'},
        _fip_obj('10.9.0.7', 'proxy')) == ('proxy', '10.9.0.7', 'r1')


@pytest.mark.parametrize('address, fip_obj', [
    (None, _fip_obj()),
    ('fd00::5', _fip_obj()),
    # moved from a VM's port: that port's address is not the VM's here
    (None, _fip_obj('10.0.0.5', 'vm')),
])
def test_a_proxy_port_takes_the_ipv4_address_of_its_vm(address, fip_obj):
    with pytest.raises(n_exc.BadRequest):
        Plugin()._get_assoc_data(None, {
            'port_id': 'proxy', 'fixed_ip_address': address}, fip_obj)


@pytest.mark.parametrize('gateways', [(), (('r1', 'other-ext'),),
                                      (('r2', 'ext'),)])
def test_a_proxy_ports_router_needs_its_gateway_on_the_network(gateways):
    with pytest.raises(n_exc.Conflict):
        Plugin(gateways)._get_assoc_data(None, {
            'port_id': 'proxy', 'fixed_ip_address': '10.9.0.7'}, _fip_obj())


def test_any_other_port_is_neutrons_own_case():
    plugin = Plugin()
    assert plugin._get_assoc_data(None, {'port_id': 'vm'}, _fip_obj()) == \
        ('vm', '10.0.0.5', 'r-neutron')
    assert plugin.neutrons == ['vm']
