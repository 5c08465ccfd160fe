"""Floating IPs on the central Neutron server: each change reaches the
region of its external network through XJob.

Each change of a floating IP (create, association, delete, its port
deleted) asks for floatingip_setup, which makes the floating IP's copy
in that region. A new floating IP asks for it as soon as it is
committed, while Neutron still finishes the request (it gives the
floating IP's port its device_id, runs callbacks, answers), with what
the job would read back as its hint.

A new floating IP for a bound VM gets a head start: once central's port
of the floating IP is made, which gives the floating IP its address, and
the association passes Neutron's own checks (the VM's port and its
owner; for a VM of another region, the router), floatingip_ahead
creates the region's copy (on the router's proxy port there, for a VM of
another region) while central commits the floating IP. If central then
refuses it, and whenever it deletes one, floatingip_ahead runs again
without a hint, to remove what no floating IP uses.

A region reports the status its L3 agent gave a floating IP's copy; it
becomes the central floating IP's.
"""
from __future__ import annotations

import dataclasses
import threading
from typing import Any

import netaddr
from neutron.objects import router as l3_obj
from neutron_lib.callbacks import events
from neutron_lib.callbacks import registry
from neutron_lib.callbacks import resources
from neutron_lib import constants as n_const
from neutron_lib.db import api as n_db_api
from neutron_lib import exceptions as n_exc
from neutron_lib.plugins import directory
from oslo_log import log as logging
from oslo_serialization import jsonutils
from oslo_utils import excutils

from tricircle.network.central import availability_zones
from tricircle.network import request_source
from tricircle.resources import binding
from tricircle.resources import floatingip as fip_res
from tricircle.resources import jobs

LOG = logging.getLogger(__name__)

_FIP_STATUSES = (n_const.FLOATINGIP_STATUS_ACTIVE,
                 n_const.FLOATINGIP_STATUS_DOWN,
                 n_const.FLOATINGIP_STATUS_ERROR)

# l3_db's device_id of a floating IP's port until the floating IP, with
# its association, is committed; then it names the floating IP.
_FIP_PORT_PENDING = 'PENDING'


@dataclasses.dataclass
class Creating:
    """One create_floatingip request, as its callbacks see it."""
    context: Any
    body: dict
    # The floating IP whose floatingip_setup was asked for once committed.
    set_up: str | None = None
    # (external network, address) of the head start asked for.
    ahead: tuple[str, str] | None = None
    # What the head start read: the external network's region, the VM's
    # port (the committed floating IP's hint reuses them).
    region: str | None = None
    port: dict | None = None


class FloatingIPsMixin:
    """For the central L3 plugin (Neutron's l3_db underneath)."""

    def _subscribe_floatingips(self) -> None:
        # Port id -> floating IPs its delete disassociated, not yet synced.
        self._released: dict[str, list[dict]] = {}
        registry.subscribe(self._port_deleted, resources.PORT,
                           events.AFTER_DELETE)
        # Per request: the create_floatingip under way (Creating).
        self._fip_request = threading.local()
        registry.subscribe(self._floatingip_port_made, resources.PORT,
                           events.AFTER_CREATE)
        registry.subscribe(self._floatingip_committed, resources.PORT,
                           events.BEFORE_UPDATE)

    def _creating(self) -> Creating | None:
        return getattr(self._fip_request, 'creating', None)

    def create_floatingip(self, context, floatingip):
        # DOWN until the region's L3 agent has its copy (a report).
        creating = Creating(context, dict(floatingip['floatingip']))
        self._fip_request.creating = creating
        try:
            fip = super().create_floatingip(context, floatingip)
        except Exception:
            with excutils.save_and_reraise_exception():
                if creating.ahead is not None:
                    # The copy made ahead goes (the tidy's run).
                    jobs.floatingip_ahead(*creating.ahead,
                                          creating.body.get('project_id'))
        finally:
            self._fip_request.creating = None
        if creating.set_up != fip['id']:
            jobs.setup_floatingip(fip['id'], fip['project_id'])
        return fip

    def _notify_floating_ip_change(self, context, floating_ip) -> None:
        """No L3 agent here: Neutron's DVR variant would load the router
        only to find none (floatingip_setup carries the change)."""

    # -- the head start -------------------------------------------------
    def _floatingip_port_made(self, resource, event, trigger,
                              payload) -> None:
        """Central's port of the floating IP being created is made: the
        floating IP has its address, and its copy may start."""
        creating = self._creating()
        port = payload.latest_state
        if creating is None or creating.ahead is not None or \
                not creating.body.get('port_id') or \
                port.get('device_owner') != n_const.DEVICE_OWNER_FLOATINGIP \
                or port.get('device_id') != _FIP_PORT_PENDING:
            return
        try:
            hint = self._ahead_hint(creating, port)
            if hint is None:
                return
            body = hint['floatingip']
            jobs.floatingip_ahead(body['floating_network_id'],
                                  body['floating_ip_address'],
                                  body.get('project_id'), hint)
        except Exception:  # Neutron's create goes on; its checks answer
            LOG.debug('floating IP on port %s: no head start',
                      creating.body['port_id'], exc_info=True)
            return
        creating.ahead = (body['floating_network_id'],
                          body['floating_ip_address'])
        LOG.info('floating IP %s for port %s: its copy in %s asked for '
                 'ahead of the commit', body['floating_ip_address'],
                 body['port_id'], hint['region'])

    def _ahead_hint(self, creating: Creating,
                    port: dict) -> dict[str, Any] | None:
        """floatingip_ahead's hint (jobs.FLOATINGIP_AHEAD_HINT_KEYS), or
        None when the VM is not bound in the external network's region.
        Neutron's own checks of the association run first, as the
        requester: a port the requester may not use gets no copy."""
        address = next((ip['ip_address'] for ip in port.get('fixed_ips', [])
                        if ':' not in ip['ip_address']), None)
        body = creating.body
        project_id = body.get('project_id') or body.get('tenant_id')
        if address is None:
            return None
        creating.region = availability_zones.external_network_region(
            creating.context, port['network_id'])
        if creating.region is None:
            return None
        context = creating.context
        vm_port, subnet_id, fixed_ip = self._internal_fip_assoc_data(
            context, body, project_id)
        creating.port = vm_port
        bound = binding.remote_binding(vm_port)
        if bound is None or fip_res.is_proxy(vm_port) or \
                l3_obj.FloatingIP.objects_exist(
                    context.elevated(), fixed_port_id=vm_port['id'],
                    floating_network_id=port['network_id'],
                    fixed_ip_address=netaddr.IPAddress(fixed_ip)):
            # Neutron refuses a second floating IP of the address
            # (FloatingIPPortAlreadyAssociated) once it is committed.
            return None
        copy = fip_res.regional_body({
            'floating_network_id': port['network_id'],
            'floating_ip_address': address, 'project_id': project_id,
            'description': body.get('description') or '',
            'fixed_ip_address': fixed_ip}, vm_port['id'])
        proxy = None
        if bound[0] != creating.region:
            # Neutron's own choice of the router, as its commit makes it.
            subnet = directory.get_plugin().get_subnet(context.elevated(),
                                                       subnet_id)
            with n_db_api.CONTEXT_READER.using(context):
                router_id = self.get_router_for_floatingip(
                    context, vm_port, subnet, port['network_id'])
            proxy = {'router_id': router_id}
        return {'floatingip': copy, 'region': creating.region,
                'proxy': proxy}

    # -- once committed -------------------------------------------------
    def _floatingip_committed(self, resource, event, trigger,
                              payload) -> None:
        """Neutron gives a new floating IP's port its device_id once the
        floating IP is committed with its association, then finishes the
        request (that port update, callbacks, the response): its
        floatingip_setup starts now. Nothing of the floating IP changes
        after this in the request, so create_floatingip asks for no
        second run."""
        original, attrs = payload.states
        if original.get('device_owner') != n_const.DEVICE_OWNER_FLOATINGIP \
                or original.get('device_id') != _FIP_PORT_PENDING or \
                not attrs.get('device_id'):
            return
        # Neutron's own creates (not through the API) have no Creating.
        creating = self._creating() or Creating(None, {})
        fip_id = attrs['device_id']
        context = payload.context.elevated()
        try:
            fip = self._get_floatingip(context, fip_id)
            jobs.setup_floatingip(fip_id, fip.project_id,
                                  self._floatingip_hint(context, fip,
                                                        creating))
        except Exception:  # the request goes on: it asks at its end
            LOG.exception('floating IP %s: floatingip_setup not asked for '
                          'early', fip_id)
            return
        creating.set_up = fip_id
        LOG.info('floating IP %s committed, floatingip_setup asked for now',
                 fip_id)

    def _floatingip_hint(self, context, fip,
                         creating: Creating) -> dict | None:
        """What the new floating IP's floatingip_setup would read back
        (jobs.FLOATINGIP_HINT_KEYS), read here in-process while XJob's
        reads would wait for this request's own work (or taken from the
        head start's); None if it cannot be had (the job reads it
        then)."""
        try:
            region = (creating.region or
                      availability_zones.external_network_region(
                          context, fip.floating_network_id))
            if region is None:
                return None
            port = creating.port
            if fip.fixed_port_id and (port or {}).get('id') != \
                    fip.fixed_port_id:
                port = directory.get_plugin().get_port(context,
                                                       fip.fixed_port_id)
            return jsonutils.to_primitive({
                'floatingip': self._make_floatingip_dict(fip),
                'port': port if fip.fixed_port_id else None,
                'region': region})
        except Exception:  # the job reads what it needs
            LOG.warning('floating IP %s: its floatingip_setup reads central '
                        '(no hint)', fip.id, exc_info=True)
            return None

    # -- other changes --------------------------------------------------
    def update_floatingip(self, context, id, floatingip):
        status = request_source.reported_status(context)
        if status and request_source.requesting_peer(context):
            if status not in _FIP_STATUSES:
                raise n_exc.BadRequest(resource='floatingip', msg=(
                    'unknown floating IP status %r' % status))
            self.update_floatingip_status(context, id, status)
            return self.get_floatingip(context, id)
        fip = super().update_floatingip(context, id, floatingip)
        jobs.setup_floatingip(id, fip['project_id'])
        return fip

    def delete_floatingip(self, context, id):
        fip = self.get_floatingip(context.elevated(), id)
        super().delete_floatingip(context, id)
        jobs.setup_floatingip(id, fip['project_id'])
        # What a head start made at the address that no floatingip_setup
        # run recorded (a delete soon after the create) goes too.
        jobs.floatingip_ahead(fip['floating_network_id'],
                              fip['floating_ip_address'], fip['project_id'])

    def disassociate_floatingips(self, context, port_id):
        # The port is being deleted, in a transaction: its floating IPs'
        # copies follow once it is committed (_port_deleted).
        fips = self.get_floatingips(context.elevated(),
                                    filters={'port_id': [port_id]},
                                    fields=['id', 'project_id'])
        result = super().disassociate_floatingips(context, port_id)
        if fips:
            self._released[port_id] = fips
        return result

    def _port_deleted(self, resource, event, trigger, payload) -> None:
        for fip in self._released.pop(payload.resource_id, []):
            try:
                jobs.setup_floatingip(fip['id'], fip['project_id'])
            except Exception:  # a callback: Neutron would only log it
                LOG.exception('floating IP %s: its copy does not follow the '
                              'delete of port %s (run floatingip_setup for '
                              'it)', fip['id'], payload.resource_id)

