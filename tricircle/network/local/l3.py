"""L3 service plugin of a regional Neutron server: routers are central's.

A region's router is a copy of a central router, with its id, made and
kept by XJob (router_setup): it creates the copy with the central id
(``X-Tricircle-Resource-Id``), adds the interfaces, the transit port and
the routes. Neutron's own L3 agent then builds it. Users manage routers
on central; here they read them.

An interface on a tenant subnet takes the region's own gateway address of
that subnet, which central reserved for this region (the local plugin
turns that reservation into the interface port).

Floating IPs here are copies too, made by XJob (floatingip_setup) in the
region of their external network. One associated with a proxy port (a
VM of another region; see tricircle.resources.floatingip) is served by
the router the proxy names, at the VM's address. The status the L3 agent
gives a copy is reported to central, whose floating IP shows it.
"""
from __future__ import annotations

from concurrent import futures
import time

import netaddr
from neutron.db import l3_dvrscheduler_db
from neutron.db import models_v2
from neutron.objects import ports as port_obj
from neutron.services.l3_router import l3_router_plugin
from neutron_lib import constants as n_const
from neutron_lib.db import api as n_db_api
from neutron_lib import exceptions as n_exc
from neutron_lib.plugins import directory
from oslo_config import cfg
from oslo_log import log as logging

from tricircle.network import exceptions as t_exc
from tricircle.network.local import copies as copies_mod
from tricircle.network import request_source
from tricircle.network import router_flags
from tricircle import resources
from tricircle.resources import floatingip as fip_res
from tricircle.resources import regions

LOG = logging.getLogger(__name__)

# Pauses between looks for central's floating IP of a copy whose status
# is reported (central commits a floating IP shortly after its copy may
# be made; see _report_status).
REPORT_RETRIES = (0.5, 0.5, 1.0)


class LocalL3Plugin(router_flags.RouterFlagsMixin,
                    l3_router_plugin.L3RouterPlugin):
    """Neutron's router plugin; writes come from XJob (or an admin)."""

    def _refuse_user_write(self, context) -> None:
        if request_source.requesting_peer(context) or \
                copies_mod.requester(context).is_admin:
            return
        raise t_exc.RoutersOnCentral(
            central=cfg.CONF.client.central_neutron_url or 'region %s' %
            cfg.CONF.client.central_region_name)

    def create_router(self, context, router):
        self._refuse_user_write(context)
        router_id = request_source.proposed_id(context)
        if router_id and request_source.requesting_peer(context):
            # XJob's copy of a central router: the central id.
            router = {'router': dict(router['router'], id=router_id)}
        return super().create_router(context, router)

    def update_router(self, context, id, router):
        self._refuse_user_write(context)
        return super().update_router(context, id, router)

    def delete_router(self, context, id):
        self._refuse_user_write(context)
        return super().delete_router(context, id)

    def add_router_interface(self, context, router_id, interface_info=None):
        self._refuse_user_write(context)
        return super().add_router_interface(context, router_id,
                                            interface_info)

    def remove_router_interface(self, context, router_id, interface_info):
        self._refuse_user_write(context)
        return super().remove_router_interface(context, router_id,
                                               interface_info)

    # -- L3 agent notifications --------------------------------------------
    # Each notification of a router change first schedules the router,
    # then finds the hosts to tell. Neutron loads the whole router (every
    # port, every extension) for each: to find a router that is hosted
    # already, and to read its ``distributed`` flag. That is a tenth of a
    # second or more on a loaded region before the L3 agent hears of the
    # change. Here the flags and the hosting agents are read alone
    # (router_flags).
    def schedule_router(self, context, router, candidates=None):
        flags = self._router_flags(context, router)
        if candidates is None and flags is not None and not flags.ha and \
                self.get_l3_agents_hosting_routers(context, [router],
                                                   admin_state_up=True):
            # Hosted already: Neutron's scheduler finds no candidate.
            return None
        return super().schedule_router(context, router, candidates)

    def get_hosts_to_notify(self, context, router_id):
        if self._is_distributed(context, router_id) is False:
            # The agents hosting the router, as for any legacy router.
            return super(l3_dvrscheduler_db.L3_DVRsch_db_mixin,
                         self).get_hosts_to_notify(context, router_id)
        return super().get_hosts_to_notify(context, router_id)

    def _notify_floating_ip_change(self, context, floating_ip):
        router_id = floating_ip['router_id']
        if router_id and floating_ip['port_id'] and \
                self._is_distributed(context, router_id) is False:
            self.notify_router_updated(context, router_id)
            return
        super()._notify_floating_ip_change(context, floating_ip)

    # -- floating IPs -------------------------------------------------------
    def _get_assoc_data(self, context, fip, floatingip_obj):
        """A proxy port (tricircle.resources.floatingip) stands for the
        VMs of its router's other regions: the floating IP keeps the VM's
        address it is given (or, on the same port, has), which the L3
        agent NATs to, and is served by the router the port names, once
        that router has its gateway on the floating IP's network here.
        Only services make proxy ports (tricircle.network.device_owners)."""
        owner = self._port_owner(context, fip['port_id'])
        if owner is None or owner[0] != fip_res.PROXY_DEVICE_OWNER:
            return super()._get_assoc_data(context, fip, floatingip_obj)
        router_id = owner[1]
        address = fip.get('fixed_ip_address')
        if not address and fip['port_id'] == floatingip_obj.fixed_port_id:
            address = floatingip_obj.fixed_ip_address and str(
                floatingip_obj.fixed_ip_address)
        if not address or netaddr.IPAddress(address).version != 4:
            raise n_exc.BadRequest(resource='floatingip', msg=(
                'a floating IP on proxy port %s takes the IPv4 address of '
                'its VM as fixed_ip_address' % fip['port_id']))
        if not self._has_gateway(context, router_id,
                                 floatingip_obj.floating_network_id):
            raise n_exc.Conflict(resource='floatingip', msg=(
                'router %s of proxy port %s has no external gateway on '
                'network %s' % (router_id, fip['port_id'],
                                floatingip_obj.floating_network_id)))
        return fip['port_id'], address, router_id

    @staticmethod
    def _port_owner(context, port_id: str) -> tuple[str, str] | None:
        """(device_owner, device_id) of a port, read alone (the whole
        port is Neutron's to load, for any other port)."""
        with n_db_api.CONTEXT_READER.using(context):
            row = context.session.query(
                models_v2.Port.device_owner, models_v2.Port.device_id
            ).filter_by(id=port_id).first()
        return tuple(row) if row is not None else None

    @staticmethod
    def _has_gateway(context, router_id: str, network_id: str) -> bool:
        # As Neutron checks a router asked for: a gateway port of the
        # router on the floating IP's network (the router exists then).
        return port_obj.Port.objects_exist(
            context.elevated(), network_id=network_id, device_id=router_id,
            device_owner=n_const.DEVICE_OWNER_ROUTER_GW)

    def create_floatingip(self, context, floatingip):
        self._refuse_user_write(context)
        return super().create_floatingip(context, floatingip)

    def update_floatingip(self, context, id, floatingip):
        self._refuse_user_write(context)
        return super().update_floatingip(context, id, floatingip)

    def delete_floatingip(self, context, id):
        self._refuse_user_write(context)
        return super().delete_floatingip(context, id)

    def update_floatingip_status(self, context, floatingip_id, status):
        result = super().update_floatingip_status(context, floatingip_id,
                                                  status)
        try:
            fip = self.get_floatingip(context, floatingip_id)
        except n_exc.NotFound:
            return result
        # The agent's RPC call (a transaction, not committed yet) does not
        # wait for central.
        if getattr(self, '_reporter', None) is None:
            self._reporter = futures.ThreadPoolExecutor(
                1, thread_name_prefix='tricircle-fip-status')
        self._reporter.submit(self._report_status, fip, status)
        return result

    @staticmethod
    def _report_status(fip: dict, status: str) -> None:
        """Central's floating IP of the same address takes the status.
        A copy made ahead of central's commit (floatingip_ahead) may be
        served before central has the floating IP: for ACTIVE, it is
        looked for a few times (floatingip_setup, once central has
        committed, reports a copy it finds ACTIVE too)."""
        try:
            central = directory.get_plugin().central
            for wait in REPORT_RETRIES + (None,):
                tops = central.list(
                    resources.FLOATINGIP,
                    floating_network_id=fip['floating_network_id'],
                    floating_ip_address=fip['floating_ip_address'])
                if tops or status != n_const.FLOATINGIP_STATUS_ACTIVE or \
                        wait is None:
                    break
                time.sleep(wait)
            for top in tops:
                if top['status'] != status:
                    central.update(resources.FLOATINGIP, top['id'], {},
                                   headers={regions.STATUS_HEADER: status})
                    LOG.info('floating IP %s (%s): %s reported to central',
                             top['id'], fip['floating_ip_address'], status)
        except Exception:  # a worker thread: log, never die silently
            LOG.exception('status of floating IP %s not reported',
                          fip['id'])
