"""In a region, a floating IP on a router's proxy port keeps the VM
address it is given (the port does not have it) and is served by the
router the port names; any other port is Neutron's own case."""
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
    """The local L3 plugin, its core plugin holding two ports; Neutron's
    own association is recorded."""

    def __new__(cls):
        # Not Neutron's __new__ nor __init__: no Neutron set-up.
        self = object.__new__(cls)
        self.neutrons: list[str] = []
        return self

    def __init__(self) -> None:
        pass

    @property
    def _core_plugin(self):
        ports = {p['id']: p for p in (PROXY, VM)}
        return types.SimpleNamespace(
            get_port=lambda context, port_id: ports[port_id])

    def _internal_fip_assoc_data(self, context, fip, project_id):
        self.neutrons.append(fip['port_id'])
        return VM, 's1', '10.0.0.5'

    def _get_router_for_floatingip(self, context, internal_port,
                                   internal_subnet_id, external_network_id):
        return 'r-neutron'

    def is_router_distributed(self, context, router_id):
        return False


def _fip_obj(fixed_ip: str | None = None):
    return types.SimpleNamespace(project_id='p', floating_network_id='ext',
                                 fixed_ip_address=fixed_ip)


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
        _fip_obj('10.9.0.7')) == ('proxy', '10.9.0.7', 'r1')


@pytest.mark.parametrize('address', [None, 'fd00::5'])
def test_a_proxy_port_takes_an_ipv4_address_or_nothing(address):
    with pytest.raises(n_exc.BadRequest):
        Plugin()._get_assoc_data(None, {
            'port_id': 'proxy', 'fixed_ip_address': address}, _fip_obj())


def test_any_other_port_is_neutrons_own_case():
    plugin = Plugin()
    assert plugin._get_assoc_data(None, {'port_id': 'vm'}, _fip_obj()) == \
        ('vm', '10.0.0.5', 'r-neutron')
    assert plugin.neutrons == ['vm']
