"""A region's copies of central security groups, with central's rules,
and of the address groups their rules name.

A project's default group here is a copy of central's default group, not
one of the region's own making.
"""
from __future__ import annotations

import netaddr
from neutron.extensions import securitygroup as sg_exc
from neutron.objects import address_group as ag_obj
from neutron_lib.callbacks import events
from neutron_lib.callbacks import registry
from neutron_lib.callbacks import resources as cb_resources
from neutron_lib.db import api as db_api
from neutron_lib.objects import exceptions as obj_exc
from oslo_db import exception as db_exc
from oslo_log import log as logging

from tricircle.network.local import copies as copies_mod
from tricircle.network import request_source
from tricircle import resources
from tricircle.resources import address_group as ag_res
from tricircle.resources import security_group as sg_res

LOG = logging.getLogger(__name__)


class SecurityGroupCopies:
    """``ml2``: ML2's own plugin API (with its default-group helpers)."""

    def __init__(self, ml2, copies: copies_mod.Copies, central) -> None:
        self._ml2 = ml2
        self._copies = copies
        self._central = central
        copies.register(resources.SECURITY_GROUP, copies_mod.Builder(
            lambda context, central_sg: self._build(
                context, central_sg, sg_res.is_default(central_sg))))

    def default_group(self, context, project_id: str | None) -> str | None:
        """The project's default group here, copied from central first."""
        existing = self._ml2._get_default_sg_id(context, project_id)
        if existing or not project_id or \
                request_source.requesting_peer(context):
            # Serving central's own request: never call central back.
            return existing
        central_sgs = self._central().list(resources.SECURITY_GROUP,
                                           name='default',
                                           project_id=project_id)
        if not central_sgs:
            return self._ml2._ensure_default_security_group(context,
                                                            project_id)
        # Fetched by id, as a peer: central records that this region holds
        # a copy, so that rule changes there reach it (a list does not).
        central_sg = self._central().get(resources.SECURITY_GROUP,
                                         central_sgs[0]['id']) or \
            central_sgs[0]
        for dep_type, dep_id in sg_res.depends_on(central_sg):
            self._copies.ensure(context, dep_type, dep_id)
        with self._copies.lock(central_sg['id']):
            if not self._ml2._get_default_sg_id(context, project_id):
                self._build(context, central_sg, default=True)
        return self._ml2._get_default_sg_id(context, project_id)

    def _build(self, context, central_sg: dict, default: bool) -> None:
        admin = context.elevated()
        body = sg_res.regional_body(central_sg)
        try:
            with self._copies.ml2_at_work():
                created = self._ml2.create_security_group(
                    admin, {resources.SECURITY_GROUP: copies_mod.with_defaults(
                        sg_res.COLLECTION_NAME, body)}, default_sg=default)
        except (db_exc.DBDuplicateEntry, sg_exc.SecurityGroupConflict):
            return  # a concurrent request made the same copy
        if created['id'] != central_sg['id']:
            return  # the project already had another default group here
        with self._copies.ml2_at_work():
            # The copy gets the central rules, not this region's templates.
            for rule in created.get(sg_res.RULES, []):
                self._ml2.delete_security_group_rule(admin, rule['id'])
            for rule in central_sg.get(sg_res.RULES, []):
                self._ml2.create_security_group_rule(admin, {
                    'security_group_rule': copies_mod.with_defaults(
                        sg_res.RULES, sg_res.rule_body(rule))})
        LOG.info('copied security group %s from central into %s',
                 central_sg['id'], self._copies.region_name)


class AddressGroupCopies:
    """Copies of central address groups, which remote-address-group rules
    of the groups here name. ``ml2``: ML2's own plugin API."""

    def __init__(self, ml2, copies: copies_mod.Copies) -> None:
        self._ml2 = ml2
        self._copies = copies
        copies.register(resources.ADDRESS_GROUP,
                        copies_mod.Builder(self._build))

    def _build(self, context, central_ag: dict) -> None:
        admin = context.elevated()
        body = ag_res.regional_body(central_ag)
        addresses = body.pop(ag_res.ADDRESSES, None) or []
        # ML2's create picks its own id: the copy is made as it makes
        # one, with central's id and, in the same transaction, central's
        # addresses; then announced as it announces one (the agents'
        # caches learn address groups from these events).
        try:
            with db_api.CONTEXT_WRITER.using(admin):
                ag = ag_obj.AddressGroup(admin, **body)
                ag.create()
                for address in addresses:
                    ag_obj.AddressAssociation(
                        admin, address_group_id=ag.id,
                        address=netaddr.IPNetwork(address)).create()
        except (db_exc.DBDuplicateEntry,
                obj_exc.NeutronDbObjectDuplicateEntry):
            return  # a concurrent request made the same copy
        registry.publish(cb_resources.ADDRESS_GROUP, events.AFTER_CREATE,
                         self._ml2, payload=events.DBEventPayload(
                             admin, resource_id=ag.id,
                             states=(self._ml2.get_address_group(
                                 admin, ag.id),)))
        LOG.info('copied address group %s from central into %s',
                 central_ag['id'], self._copies.region_name)
