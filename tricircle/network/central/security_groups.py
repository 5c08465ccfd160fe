"""Central security groups and address groups: every change reaches the
regions' copies.

A group, its rules and its deletion are pushed to each region that holds
a copy by a sync_resource job per region (durable, retried, coalesced):
a region that is down catches up when it is back. Neutron's own
callbacks say what changed, whichever API call (single or bulk rule
create) made the change.
"""
from __future__ import annotations

from neutron_lib.callbacks import events
from neutron_lib.callbacks import registry
from neutron_lib.callbacks import resources as cb_resources

from tricircle.network.central import uses
from tricircle import resources


def _sync(payload, sg_id: str | None, project_id: str | None,
          revision: int | None = None, deleted: bool = False) -> None:
    if sg_id:
        uses.sync_copies(resources.SECURITY_GROUP, sg_id,
                         project_id or payload.context.project_id,
                         revision, deleted)


def _rule_created(resource, event, trigger, payload) -> None:
    rule = payload.latest_state
    _sync(payload, rule.get('security_group_id'), rule.get('project_id'))


def _rule_deleted(resource, event, trigger, payload) -> None:
    _sync(payload, (payload.metadata or {}).get('security_group_id'), None)


def _group_changed(resource, event, trigger, payload) -> None:
    group = payload.latest_state or {}
    _sync(payload, payload.resource_id, group.get('project_id'),
          group.get('revision_number'), event == events.AFTER_DELETE)


def _address_group_changed(resource, event, trigger, payload) -> None:
    # A dict after create and update, the deleted object after delete.
    group = payload.latest_state
    get = group.get if isinstance(group, dict) else \
        lambda key: getattr(group, key, None)
    uses.sync_copies(resources.ADDRESS_GROUP, payload.resource_id,
                     get('project_id') or payload.context.project_id,
                     get('revision_number'), event == events.AFTER_DELETE)


def subscribe() -> None:
    """Called once by the central plugin."""
    registry.subscribe(_rule_created, cb_resources.SECURITY_GROUP_RULE,
                       events.AFTER_CREATE)
    registry.subscribe(_rule_deleted, cb_resources.SECURITY_GROUP_RULE,
                       events.AFTER_DELETE)
    for event in (events.AFTER_UPDATE, events.AFTER_DELETE):
        registry.subscribe(_group_changed, cb_resources.SECURITY_GROUP,
                           event)
        # Name, description and addresses (add/remove_addresses).
        registry.subscribe(_address_group_changed,
                           cb_resources.ADDRESS_GROUP, event)
