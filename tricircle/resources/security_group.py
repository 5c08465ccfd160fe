"""Security groups: a region's copy has central's rules, same ids."""
from __future__ import annotations

from tricircle.resources import address_group
from tricircle.resources import base

RESOURCE_NAME = 'security_group'
COLLECTION_NAME = 'security_groups'
RULES = 'security_group_rules'

UPDATABLE = ('name', 'description')
_RULE_ATTRS = ('id', 'project_id', 'security_group_id', 'direction',
               'ethertype', 'protocol', 'port_range_min', 'port_range_max',
               'remote_ip_prefix', 'remote_group_id',
               'remote_address_group_id', 'description')


def regional_body(central_sg: dict) -> dict:
    return base.pick(central_sg, ('id', 'name', 'project_id', 'description',
                                  'stateful'))


def rule_body(rule: dict) -> dict:
    return base.pick(rule, _RULE_ATTRS)


def is_default(central_sg: dict) -> bool:
    return central_sg.get('name') == 'default'


def depends_on(central_sg: dict) -> list[base.Dependency]:
    """The address groups and other groups its rules refer to."""
    deps: list[base.Dependency] = []
    for rule in central_sg.get(RULES) or []:
        if rule.get('remote_address_group_id'):
            deps.append((address_group.RESOURCE_NAME,
                         rule['remote_address_group_id']))
        if rule.get('remote_group_id') and \
                rule['remote_group_id'] != central_sg['id']:
            deps.append((RESOURCE_NAME, rule['remote_group_id']))
    return deps


def _not_found(res_id: str) -> Exception:
    # Neutron's own error, imported when needed: neutron.extensions pulls
    # in Neutron's API layer, which XJob does not otherwise load.
    from neutron.extensions import securitygroup
    return securitygroup.SecurityGroupNotFound(id=res_id)


SPEC = base.ResourceSpec(
    name=RESOURCE_NAME, collection=COLLECTION_NAME, not_found=_not_found,
    regional_body=regional_body, updatable=UPDATABLE, depends_on=depends_on)
