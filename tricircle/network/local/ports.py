"""A region's ports: copies of central ports, bindings reported back.

Every port of a region exists on central with the same id, MAC and
addresses (see port_create for new ones). A binding made here is reported
to central, which shows it and has the other regions shadow the port.
"""
from __future__ import annotations

from concurrent import futures

from neutron.common import ipv6_utils
from neutron.objects import subnet as subnet_obj
from neutron_lib.api.definitions import portbindings
from neutron_lib import constants as n_const
from neutron_lib import context as n_context
from neutron_lib import exceptions as n_exc
from oslo_log import log as logging

from tricircle.network import exceptions as t_exc
from tricircle.network.local import copies as copies_mod
from tricircle.network.local import shadow
from tricircle.network import request_source
from tricircle import resources
from tricircle.resources import binding
from tricircle.resources import port as port_res
from tricircle.resources import reserved
from tricircle.resources import shadow as shadow_res

LOG = logging.getLogger(__name__)


def ml2_create_port(ml2, context, port: dict) -> dict:
    """ML2's create_port for a port carrying central's addresses.

    Addresses on IPv6 SLAAC and DHCPv6-stateless subnets come from the
    MAC (EUI-64): ML2 adds them itself and refuses them given twice.
    """
    attrs = port['port']
    fixed_ips = attrs.get('fixed_ips')
    if fixed_ips and fixed_ips is not n_const.ATTR_NOT_SPECIFIED and \
            any(':' in (ip.get('ip_address') or '') for ip in fixed_ips) \
            and attrs.get('device_owner') not in \
            n_const.ROUTER_INTERFACE_OWNERS_SNAT:
        auto = {s.id for s in subnet_obj.Subnet.get_objects(
            context.elevated(), network_id=attrs['network_id'])
            if ipv6_utils.is_auto_address_subnet(
                {'ipv6_address_mode': s.ipv6_address_mode,
                 'ipv6_ra_mode': s.ipv6_ra_mode})}
        attrs = dict(attrs, fixed_ips=[
            ip for ip in fixed_ips if ip.get('subnet_id') not in auto])
    return ml2.create_port(context, {'port': attrs})


def refuse_if_reserved(context, port: dict) -> None:
    """Users never change a copy of what Tricircle reserved on central
    (a subnet's DHCP port); admins and the agents (RPC, admin) may."""
    if reserved.is_reserved(port) and \
            not copies_mod.requester(context).is_admin:
        raise t_exc.PortReserved(port_id=port['id'])


class PortCopies:
    """``plugin``: the local plugin (its agents, for tunnel endpoints);
    ``ml2``: ML2's own plugin API."""

    def __init__(self, plugin, ml2, copies: copies_mod.Copies,
                 central) -> None:
        self._plugin = plugin
        self._ml2 = ml2
        self._copies = copies
        self._central = central
        self._reporter: futures.ThreadPoolExecutor | None = None
        copies.register(resources.PORT, copies_mod.Builder(
            self._build, self._admit))

    def _admit(self, context, central_port: dict) -> bool:
        """A port bound in another region lives there: here it is at
        most a shadow (which the shadow job makes), never a copy that a
        lookup by id would make."""
        bound = binding.remote_binding(central_port)
        return bound is None or bound[0] == self._copies.region_name

    def create_port(self, context, port: dict) -> dict:
        """ML2's create of a port with central's addresses."""
        return ml2_create_port(self._ml2, context, port)

    def _build(self, context, central_port: dict) -> None:
        self._copies.create(context, resources.PORT,
                            port_res.regional_body(central_port),
                            self.create_port)

    def create_shadow(self, context, attrs: dict) -> dict:
        with self._copies.ml2_at_work():
            return shadow.create_shadow_port(self._plugin, context, attrs,
                                             self.create_port)

    def update_port(self, context, port_id: str, port: dict) -> dict:
        self._copies.ensure(context, resources.PORT, port_id)
        with self._copies.ml2_at_work():
            original = self._ml2.get_port(context, port_id)
            refuse_if_reserved(context, original)
            if shadow_res.is_shadow(original):
                return shadow.update_shadow_port(
                    self._plugin, context, original, port['port'],
                    self._ml2.update_port)
            updated = self._ml2.update_port(context, port_id, port)
        if (original.get(portbindings.HOST_ID) !=
                updated.get(portbindings.HOST_ID) or
                original.get(portbindings.VIF_TYPE) !=
                updated.get(portbindings.VIF_TYPE)):
            if (updated.get('device_owner') or '').startswith(
                    n_const.DEVICE_OWNER_NETWORK_PREFIX):
                # An agent (the L3 agent's router sync) binds it: its
                # call need not wait for central.
                self.report_status(context, port_id)
            else:
                self.report_binding(context, updated)
        return updated

    def report_binding(self, context, port: dict) -> None:
        host = port.get(portbindings.HOST_ID)
        tunnel_ip = host and shadow.agent_tunnel_ip(self._plugin, context,
                                                    host)
        try:
            self._central().update(resources.PORT, port['id'],
                                   binding.report(self._copies.region_name,
                                                  port, tunnel_ip))
        except n_exc.NeutronException as exc:
            # The local change stands; central shows the old binding
            # until the next report.
            LOG.error('could not report the binding of port %s to '
                      'central: %s', port['id'], exc)

    def report_status(self, context, port_id: str) -> None:
        """An agent set the port ACTIVE or DOWN here: tell central, as
        Nova would see it there, in the background: the agent's RPC call
        (update_device_up) must not wait for central. One worker keeps
        the reports in order; each sends the port's status of the moment.
        """
        if self._reporter is None:
            self._reporter = futures.ThreadPoolExecutor(
                1, thread_name_prefix='tricircle-status')
        self._reporter.submit(self._report_status, port_id)

    def _report_status(self, port_id: str) -> None:
        context = n_context.get_admin_context()
        try:
            port = self._ml2.get_port(context, port_id)
        except n_exc.PortNotFound:
            return
        except Exception:  # a worker thread: log, never die silently
            LOG.exception('status of port %s not reported', port_id)
            return
        if shadow_res.is_shadow(port) or reserved.is_reserved(port) or \
                not port.get(portbindings.HOST_ID):
            return
        self.report_binding(context, port)

    def delete_port(self, context, port_id: str,
                    l3_port_check: bool = True) -> None:
        with self._copies.deleting_here(port_id), \
                self._copies.ml2_at_work():
            try:
                port = self._ml2.get_port(context, port_id)
            except n_exc.PortNotFound:
                port = None
            if port:
                refuse_if_reserved(context, port)
            self._ml2.delete_port(context, port_id,
                                  l3_port_check=l3_port_check)
        if port and port.get(portbindings.HOST_ID) and \
                port['device_owner'] in n_const.ROUTER_INTERFACE_OWNERS:
            # A router's interface (on a gateway address central reserved
            # for this region, or a transit port) is no longer here.
            self._release_router_port(port)
        if port and not request_source.requesting_peer(context) and \
                not shadow_res.is_shadow(port) and \
                not reserved.is_reserved(port):
            # A user's port lives in one region and on central: deleted
            # here, it is deleted there (central then tells the others).
            self._central().delete(resources.PORT, port_id)

    def _release_router_port(self, port: dict) -> None:
        """Tell central the router port is gone from here.

        A gateway port central reserved for this region is reserved anew,
        same address, new id: the next router interface on it is then a
        new port to the agents. (Re-created with the old id seconds after
        its delete, the OVS agent's late handling of the delete marked
        the new port dead.)
        """
        central = self._central()
        try:
            central_port = central.get(resources.PORT, port['id'])
            if central_port is None:
                return  # central deleted it first (a transit port)
            if central_port.get('device_id') != \
                    reserved.RESERVED_GATEWAY_DEVICE:
                central.update(resources.PORT, port['id'], binding.report(
                    self._copies.region_name, {}))
                return
            central.delete(resources.PORT, port['id'])
            ip = central_port['fixed_ips'][0]
            central.create(resources.PORT, reserved.gateway_port_body(
                self._copies.region_name, central_port['network_id'],
                central_port['project_id'], ip['subnet_id'],
                ip['ip_address']))
        except n_exc.NeutronException as exc:
            LOG.error('could not release router port %s on central: %s',
                      port['id'], exc)
