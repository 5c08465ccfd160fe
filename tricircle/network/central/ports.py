"""Ports on central: the address authority of every region.

A region creates its ports here first (or at the same time, with a
proposed id), reports their bindings here, and deletes them here; central
then keeps the other regions' shadows of the port in line (XJob).
"""
from __future__ import annotations

from neutron_lib.api.definitions import portbindings
from neutron_lib import context as n_context
from neutron_lib.plugins import constants as plugin_constants
from neutron_lib.plugins import directory
from oslo_log import log as logging

from tricircle.db import api as db_api
from tricircle.network.central import reserved_ports
from tricircle.network.central import uses
from tricircle.network import device_owners
from tricircle.network import exceptions as t_exc
from tricircle.network import request_source
from tricircle import resources
from tricircle.resources import binding
from tricircle.resources import jobs
from tricircle.resources import regions
from tricircle.resources import reserved
from tricircle.resources import router as router_res
from tricircle.resources import shadow

LOG = logging.getLogger(__name__)
# What a port's shadows in the other regions carry as well.
SHADOWED = ('fixed_ips', 'security_groups', 'allowed_address_pairs',
            'port_security_enabled')
SPEC = resources.get(resources.PORT)


class CentralPorts:
    """``ml2``: ML2's own plugin API."""

    def __init__(self, ml2) -> None:
        self._ml2 = ml2

    def create_port(self, context, port: dict) -> dict:
        attrs = port['port']
        device_owners.refuse_proxy_owner(context, attrs)
        if reserved.is_reserved(attrs):
            if not request_source.requesting_peer(context):
                raise t_exc.ReservedDeviceId(device_id=attrs['device_id'])
            if attrs['device_id'] == reserved.RESERVED_GATEWAY_DEVICE:
                return reserved_ports.gateway_port(self._ml2, context, attrs)
        uses.refuse_if_deleting(context, resources.NETWORK,
                                attrs['network_id'])
        proposed_id = request_source.proposed_id(context)
        if proposed_id:
            # The region creates its copy at the same time, with this id.
            port = {'port': dict(attrs, id=proposed_id)}
        with request_source.plugin_own_reads(context):
            created = self._ml2.create_port(context, port)
        uses.record(context, resources.PORT, created['id'],
                    created['project_id'], created.get('revision_number'))
        return created

    def get_port(self, context, port_id: str, fields=None) -> dict:
        uses.refuse_if_hidden(context, resources.PORT, port_id,
                              lambda ctx: self._ml2.get_port(ctx, port_id))
        port = self._ml2.get_port(context, port_id, fields=fields)
        region = request_source.requesting_peer(context)
        if region:
            if request_source.claims(context):
                self._refuse_if_elsewhere(port_id, region)
            uses.record(context, resources.PORT, port_id,
                        port.get('project_id'), port.get('revision_number'))
        return port

    @staticmethod
    def _refuse_if_elsewhere(port_id: str, region: str) -> None:
        """A port a region takes as its own (by its address) is held by
        no other region."""
        for other in regions.holding(resources.PORT, port_id):
            if other != region:
                raise t_exc.PortInOtherRegion(port_id=port_id, region=other)

    def _refuse_if_reserved(self, context, port: dict) -> None:
        # Users (members) never change what Tricircle reserved; admins
        # and the peers may.
        if reserved.is_reserved(port) and not context.is_admin:
            raise t_exc.PortReserved(port_id=port['id'])

    def update_port(self, context, port_id: str, port: dict) -> dict:
        attrs = port['port']
        device_owners.refuse_proxy_owner(context, attrs)
        original = self._ml2.get_port(context, port_id)
        self._refuse_if_reserved(context, original)
        if reserved.is_reserved(attrs) and \
                not request_source.requesting_peer(context):
            raise t_exc.ReservedDeviceId(device_id=attrs['device_id'])
        status = None
        if request_source.requesting_peer(context):
            attrs, status = binding.split_status(attrs)
        if status and self._same_binding(original, attrs):
            # Only the status changed (its agent wired or unwired it).
            self._apply_status(context, original, status)
            return original
        with request_source.plugin_own_reads(context) as region:
            updated = self._ml2.update_port(context, port_id,
                                            {'port': attrs})
        if region:
            self._apply_status(context, updated, status)
            if binding.remote_binding(original) != \
                    binding.remote_binding(updated) or \
                    original.get(portbindings.HOST_ID) != \
                    updated.get(portbindings.HOST_ID):
                LOG.info('port %s bound in %s on host %r', port_id, region,
                         attrs.get(portbindings.HOST_ID))
                self._binding_changed(original, updated)
            return updated
        changed = SPEC.changed(original, updated)
        if changed:
            uses.sync_copies(resources.PORT, port_id, updated['project_id'],
                             updated.get('revision_number'))
            if set(changed) & set(SHADOWED) and \
                    binding.remote_binding(updated):
                # The other regions' shadows carry them (remote groups).
                uses.mark_shadows_pending(updated)
                jobs.setup_shadow_ports(updated['network_id'],
                                        updated['project_id'])
        return updated

    @staticmethod
    def _same_binding(original: dict, attrs: dict) -> bool:
        """``attrs`` (a region's report) says nothing new but a status."""
        return set(attrs) <= {portbindings.HOST_ID, portbindings.PROFILE} \
            and attrs.get(portbindings.HOST_ID) == \
            original.get(portbindings.HOST_ID) and \
            attrs.get(portbindings.PROFILE) == \
            original.get(portbindings.PROFILE)

    def _apply_status(self, context, port: dict, status: str | None) -> None:
        """The port's status here is the one its region reported: the
        API offers no way to write a status, so the report carries it."""
        if status and status != port['status']:
            self._ml2.update_port_status(context, port['id'], status)
            port['status'] = status

    def delete_port(self, context, port_id: str,
                    l3_port_check: bool = True) -> None:
        # Central first: a region deleting its copy of a VM port deletes
        # the central port too, and must find it gone.
        caller = request_source.requesting_peer(context)
        port = self._ml2.get_port(context, port_id)
        self._refuse_if_reserved(context, port)
        holding = regions.holding(resources.PORT, port_id)
        self._ml2.delete_port(context, port_id, l3_port_check=l3_port_check)
        uses.forget(resources.PORT, port_id)
        if port['device_id'] == reserved.RESERVED_GATEWAY_DEVICE:
            # A region gives its gateway back (to reserve it anew): the
            # reservation is found by name.
            uses.forget(resources.PORT, port['name'])
        if binding.remote_binding(port):
            # Its shadows in other regions go too.
            jobs.setup_shadow_ports(port['network_id'], port['project_id'])
        for region, pod_id in holding.items():
            if region != caller:
                # Durable: a region that is down now gets it later.
                uses.mark_deleting(resources.PORT, port_id, pod_id)
                jobs.sync(pod_id, resources.PORT, port_id,
                          port['project_id'])

    def _binding_changed(self, original: dict, updated: dict) -> None:
        """A region bound (or unbound, or moved) a port: record the host's
        tunnel endpoint and bring every region's shadows in line."""
        bound = binding.remote_binding(updated)
        if bound:
            region, host, tunnel_ip = bound
            pod = db_api.get_pod_by_region(region)
            if pod is None:
                raise t_exc.UnknownRegion(region=region)
            db_api.ensure_shadow_agent(pod['pod_id'], host,
                                       shadow.AGENT_TYPE, tunnel_ip)
        if bound or binding.remote_binding(original):
            uses.mark_shadows_pending(updated)
            jobs.setup_shadow_ports(updated['network_id'],
                                    updated['project_id'])
        if bound:
            self._routers_follow(updated['network_id'], bound[0])
            self._floatingips_follow(updated['id'])

    @staticmethod
    def _floatingips_follow(port_id: str) -> None:
        """A port bound (or moved) after its floating IP was associated:
        the floating IP's copy follows (floatingip_setup)."""
        l3 = directory.get_plugin(plugin_constants.L3)
        if l3 is None:
            return
        for fip in l3.get_floatingips(n_context.get_admin_context(),
                                      filters={'port_id': [port_id]},
                                      fields=['id', 'project_id']):
            jobs.setup_floatingip(fip['id'], fip['project_id'])

    def _routers_follow(self, network_id: str, region: str) -> None:
        """A port bound in a region without the routers of its network:
        they get a copy there (router_setup)."""
        ports = self._ml2.get_ports(
            n_context.get_admin_context(),
            filters={'network_id': [network_id],
                     'device_owner': list(router_res.INTERFACE_OWNERS)},
            fields=['device_id', 'project_id'])
        for router_id, project_id in {(p['device_id'], p['project_id'])
                                      for p in ports}:
            if region not in regions.holding(resources.ROUTER, router_id):
                jobs.setup_router(router_id, project_id)

