"""One region's copy of a central security group: its rules made exact.

Copies keep central's rule ids, so the difference is by id: a rule
central has and the copy lacks is created (with central's id, carried by
the resource-id header), one the copy has and central lacks is deleted.
A rule naming a remote group or address group makes the region copy it
first, asked as a user would ask.
"""
from __future__ import annotations

from oslo_log import log as logging

from tricircle.resources import neutron_client
from tricircle.resources import regions
from tricircle.resources import security_group as sg_res

LOG = logging.getLogger(__name__)
RULE = 'security_group_rule'


def rule_changes(central_sg: dict, regional_sg: dict
                 ) -> tuple[list[dict], list[str]]:
    """(central rules the copy lacks, ids of the copy's rules central
    lacks)."""
    have = {r['id'] for r in regional_sg.get(sg_res.RULES) or []}
    want = {r['id']: r for r in central_sg.get(sg_res.RULES) or []}
    return ([want[i] for i in sorted(set(want) - have)],
            sorted(have - set(want)))


def differs(central_sg: dict, regional_sg: dict) -> bool:
    return any(rule_changes(central_sg, regional_sg))


def converge(client, pod_id: str, central_sg: dict,
             regional_sg: dict) -> list[str]:
    """Apply :func:`rule_changes`; what changed, for the log."""
    missing, stale = rule_changes(central_sg, regional_sg)
    changes = []
    for rule_id in stale:
        try:
            client.request('DELETE', '/v2.0/security-group-rules/%s'
                           % rule_id)
        except neutron_client.RemoteNotFound:
            pass
        changes.append('rule %s deleted' % rule_id)
    for rule in missing:
        body = {k: v for k, v in sg_res.rule_body(rule).items()
                if k != 'id'}
        try:
            # The group or address group it names, copied first.
            regions.with_dependencies(
                client, pod_id,
                sg_res.depends_on({'id': central_sg['id'],
                                   sg_res.RULES: [rule]}),
                lambda: client.request(
                    'POST', '/v2.0/security-group-rules', body={RULE: body},
                    headers={regions.RESOURCE_ID_HEADER: rule['id']}))
        except neutron_client.RemoteConflict as exc:
            # The same rule under another id (made here by an admin):
            # it stands for central's.
            LOG.warning('rule %s of group %s not copied: %s', rule['id'],
                        central_sg['id'], exc)
            continue
        changes.append('rule %s created' % rule['id'])
    return changes
