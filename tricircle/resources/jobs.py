"""Job shapes, and submitting a job: how the plugins hand work to XJob.

A job is named by its type and the keys of the resource it works on
(``pod_id``, ...); its resource id is the key values joined by ``#``, in
key order. What a job type *does* lives in XJob (one module per type in
tricircle.xjob.jobs); what it is called and keyed by lives here, so that
the plugins submit jobs without importing XJob.
"""
from __future__ import annotations

import dataclasses
from typing import Any, Protocol

from tricircle.common import exceptions as t_exc
from tricircle.common import wakeup
from tricircle.db import jobs as db_jobs
from tricircle.resources import network
from tricircle.resources import router

SEPARATOR = '#'


class Shape(Protocol):
    name: str
    resource_keys: tuple[str, ...]


@dataclasses.dataclass(frozen=True)
class JobShape:
    name: str
    resource_keys: tuple[str, ...]
    description: str = ''


# Bring one region's copy of one resource in line with central.
SYNC_RESOURCE = JobShape(
    'sync_resource', ('pod_id', 'resource_type', 'resource_id'),
    "Bring one region's copy of a resource in line with central: update "
    'what differs, delete a copy whose central resource is gone.')
# Give every region holding a network one shadow per port bound elsewhere.
SHADOW_PORT_SETUP = JobShape(
    'shadow_port_setup', ('network_id',),
    'Make every region hold exactly one shadow port per port of the '
    'network bound in another region.')
# Give every region using a router its copy, transit link and routes.
ROUTER_SETUP = JobShape(
    'router_setup', ('router_id',),
    'Give every region that holds one of the router\'s networks a copy of '
    'the router, with its interfaces, a transit port when the router '
    'spans regions and one route per subnet its region lacks; remove '
    'what is no longer wanted.')
# While central adds a router interface on a subnet: the regions holding
# its network add theirs at once (router_setup, after, has the last word).
ROUTER_INTERFACE_AHEAD = JobShape(
    'router_interface_ahead', ('router_id', 'subnet_id'),
    'While central adds a router interface on a subnet, make the '
    'router\'s copies as they will be with it (the copy and the interface '
    'in the regions holding the subnet\'s network, the transit and the '
    'routes in every region of the router), so that their L3 agents '
    'start sooner. Adds only; router_setup, run once central has the '
    'interface, has the last word.')
# While central sets a router's gateway: the gateway on the copy in the
# external network's region, where that region holds the copy already
# (router_setup, after, has the last word).
ROUTER_GATEWAY_AHEAD = JobShape(
    'router_gateway_ahead', ('router_id',),
    'While central sets a router\'s external gateway, set it on the '
    'router\'s copy in the region of the external network, where that '
    'region holds the copy already, as soon as central\'s gateway port '
    'has its address, so that the region\'s L3 agent starts sooner; '
    'meanwhile, the other regions holding a copy get the routes they '
    'lack (the default route to it) where central has the router\'s '
    'transit ports. '
    'Sets only; router_setup, run once central has committed the '
    'gateway, has the last word, put off by [xjob] gateway_setup_delay '
    'when this job set the gateway.')
# What central hands router_gateway_ahead: the gateway as the copy takes
# it ({network_id, enable_snat, external_fixed_ips: [{subnet_id,
# ip_address}]}, central's addresses) and the external network's region.
ROUTER_GATEWAY_AHEAD_HINT_KEYS = ('gateway', 'region')
# Give a floating IP its copy in its external network's region.
FLOATINGIP_SETUP = JobShape(
    'floatingip_setup', ('floatingip_id',),
    'Give a floating IP its copy in the region of its external network, '
    'associated with the VM\'s port there, or with its router\'s proxy '
    'port at the VM\'s address when the VM is in another region; remove '
    'copies no longer wanted.')
# What central may hand a new floating IP's floatingip_setup: the floating
# IP as committed, central's port it is associated with (None: none) and
# the region of its external network.
FLOATINGIP_HINT_KEYS = ('floatingip', 'port', 'region')
# While central creates a floating IP: its copy in the external network's
# region, made once central's port has the address (floatingip_setup,
# after, has the last word).
FLOATINGIP_AHEAD = JobShape(
    'floatingip_ahead', ('floating_network_id', 'floating_ip_address'),
    'While central creates a floating IP, create its copy in the region '
    'of its external network (and its router\'s proxy for a VM of another '
    'region, if the router has none there yet) as soon as central has its '
    'address, so that the region\'s L3 agent starts sooner; without a '
    'hint (central refused or deleted the floating IP, or the run is '
    'retried), delete a copy at that address that no central floating IP '
    'has.')
# What central hands floatingip_ahead: the region's copy's body
# (tricircle.resources.floatingip.regional_body, with the VM's port), its
# region, and for a VM of another region the proxy's {router_id} (None
# otherwise).
FLOATINGIP_AHEAD_HINT_KEYS = ('floatingip', 'region', 'proxy')
# One pass of the drift audit over every region; one key, so one pass runs
# at a time across all daemons.
DRIFT_AUDIT = JobShape(
    'drift_audit', ('scope',),
    'Compare central with every region, resource type by type, and '
    'repair what differs through sync_resource jobs: recreate lost '
    'copies, update drifted ones, delete orphans, fix routings.')
# The only scope of a drift audit.
AUDIT_ALL = 'all'


# Besides sync_resource: the job that brings a type's copies in line.
_OWN_JOBS = {network.RESOURCE_NAME: SHADOW_PORT_SETUP,
             router.RESOURCE_NAME: ROUTER_SETUP}


def outstanding(resource_type: str, res_id: str) -> int:
    """Live jobs still to change the regions' copies of a resource: its
    sync_resource jobs (any region) and its own setup job."""
    count = db_jobs.count_live(SYNC_RESOURCE.name, resource_suffix=(
        SEPARATOR + resource_type + SEPARATOR + res_id))
    own = _OWN_JOBS.get(resource_type)
    if own is not None:
        count += db_jobs.count_live(own.name, resource_id=res_id)
    return count


def resource_id(shape: Shape, resource: dict[str, str]) -> str:
    """The resource id of a job; exactly the shape's keys are accepted."""
    given, wanted = set(resource), set(shape.resource_keys)
    if given != wanted:
        raise t_exc.InvalidInput(reason='job type %s needs resource keys %s'
                                 ' (missing: %s, unknown: %s)' % (
                                     shape.name,
                                     ', '.join(shape.resource_keys),
                                     ', '.join(sorted(wanted - given)) or '-',
                                     ', '.join(sorted(given - wanted)) or
                                     '-'))
    values = [resource[k] for k in shape.resource_keys]
    for key, value in zip(shape.resource_keys, values):
        if not isinstance(value, str) or not value.strip() or \
                SEPARATOR in value:
            raise t_exc.InvalidInput(reason='resource %s must be a '
                                     'non-blank string without "%s"' % (
                                         key, SEPARATOR))
    return SEPARATOR.join(values)


def resource_of(shape: Shape, res_id: str) -> dict[str, str]:
    return dict(zip(shape.resource_keys, res_id.split(SEPARATOR)))


def submit(shape: Shape, resource: dict[str, str], project_id: str | None,
           hint: dict[str, Any] | None = None) -> dict[str, Any]:
    """Register a job request (durable), then wake the daemons.
    ``hint``: what the submitter has in hand, JSON; a run covering this
    request alone, on its first try, may use it rather than read it
    (tricircle.db.jobs.Claim.hint)."""
    row = db_jobs.submit(shape.name, resource_id(shape, resource),
                         project_id, hint)
    wakeup.wake()
    return row


def sync(pod_id: str, resource_type: str, res_id: str,
         project_id: str | None) -> dict[str, Any]:
    return submit(SYNC_RESOURCE, {'pod_id': pod_id,
                                  'resource_type': resource_type,
                                  'resource_id': res_id}, project_id)


def setup_shadow_ports(network_id: str,
                       project_id: str | None) -> dict[str, Any]:
    return submit(SHADOW_PORT_SETUP, {'network_id': network_id}, project_id)


def setup_router(router_id: str, project_id: str | None) -> dict[str, Any]:
    return submit(ROUTER_SETUP, {'router_id': router_id}, project_id)


def add_router_interface_ahead(router_id: str, subnet_id: str,
                               project_id: str | None) -> dict[str, Any]:
    return submit(ROUTER_INTERFACE_AHEAD, {'router_id': router_id,
                                           'subnet_id': subnet_id},
                  project_id)


def router_gateway_ahead(router_id: str, project_id: str | None,
                         hint: dict[str, Any]) -> dict[str, Any]:
    """``hint``: see ROUTER_GATEWAY_AHEAD_HINT_KEYS."""
    return submit(ROUTER_GATEWAY_AHEAD, {'router_id': router_id},
                  project_id, hint)


def setup_floatingip(fip_id: str, project_id: str | None,
                     hint: dict[str, Any] | None = None) -> dict[str, Any]:
    """``hint``: see FLOATINGIP_HINT_KEYS."""
    return submit(FLOATINGIP_SETUP, {'floatingip_id': fip_id}, project_id,
                  hint)


def floatingip_ahead(network_id: str, address: str, project_id: str | None,
                     hint: dict[str, Any] | None = None) -> dict[str, Any]:
    """``hint``: see FLOATINGIP_AHEAD_HINT_KEYS; None asks for the tidy
    of a copy made ahead of a floating IP central did not commit."""
    return submit(FLOATINGIP_AHEAD, {'floating_network_id': network_id,
                                     'floating_ip_address': address},
                  project_id, hint)


def audit_drift() -> dict[str, Any]:
    return submit(DRIFT_AUDIT, {'scope': AUDIT_ALL}, None)
