"""floatingip_ahead: a new floating IP's copy, made while central commits it.

A floating IP's copy takes central's address, so its region's create
cannot start before central has one. Central has it once its port of the
floating IP is made, about halfway through its create; the floating IP
itself is committed later. Central submits this job then, with the
copy's body and region in its hint (tricircle.network.central.floatingips):
the region's create, and its L3 agent, start that much sooner. Central
checked the association as Neutron does (the VM's port, its owner, its
address; for a VM of another region, the router) before asking.

For a VM of another region, the hint also names the router: the copy is
associated with the router's proxy port there, made first if the router
has none yet (tricircle.xjob.floatingip_proxies).

floatingip_setup, asked for once central has committed the floating IP,
waits for a run of this job still at work on the address, then takes the
copy it made (tricircle.xjob.head_starts) rather than creating one.

Without a hint, a run tidies up: central refused the floating IP after
asking (it asks again, without a hint), deleted it, or the run is
retried. A copy at the address that no routing names is deleted unless
central has a floating IP there of the copy's project (then it is
floatingip_setup's to take).

A head start is best effort: a region's refusal is logged, and
floatingip_setup creates the copy as always.
"""
from __future__ import annotations

from oslo_log import log as logging

from tricircle.db import api as db_api
from tricircle import resources
from tricircle.resources import jobs as job_shapes
from tricircle.resources import neutron_client
from tricircle.resources import regions
from tricircle.xjob import floatingip_proxies
from tricircle.xjob import head_starts
from tricircle.xjob import registry

LOG = logging.getLogger(__name__)


def _hinted(hint: dict | None, network_id: str,
            address: str) -> tuple[dict, str, dict | None] | None:
    """(the copy's body, its region, the proxy's router_id or None) from
    a usable hint, else None."""
    if not hint or set(hint) != set(job_shapes.FLOATINGIP_AHEAD_HINT_KEYS):
        return None
    body, region = hint['floatingip'] or {}, hint['region']
    if body.get('floating_network_id') != network_id or \
            body.get('floating_ip_address') != address or not region:
        return None
    return body, region, hint['proxy']


def _make(ctx, network_id: str, address: str, body: dict, region: str,
          proxy: dict | None) -> None:
    if region in regions.down_regions():
        LOG.info('floating IP %s: %s is down, no head start', address,
                 region)
        return
    client = ctx.region_client(region)
    try:
        if proxy is not None:
            body = dict(body, port_id=floatingip_proxies.ensure(
                client, proxy['router_id'])['id'])
        copy = client.create(resources.FLOATINGIP, body)
    except neutron_client.RemoteNeutronError as exc:
        LOG.info('floating IP %s in %s: no head start (%s); '
                 'floatingip_setup makes the copy', address, region, exc)
        return
    head_starts.floatingips.put((network_id, address), (region, copy))
    LOG.info('floating IP %s in %s, ahead of central: copy %s created, '
             'associated with port %s', address, region, copy['id'],
             copy.get('port_id'))


def _unrouted(copy_id: str) -> bool:
    return not db_api.list_routings({'bottom_id': copy_id,
                                     'resource_type': resources.FLOATINGIP})


def _tidy(ctx, network_id: str, address: str) -> None:
    head_starts.floatingips.forget((network_id, address))
    central = ctx.central_client()
    # A copy of central's floating IP at the address (its project's) is
    # floatingip_setup's to take; one made for another project's
    # refused floating IP is not, whoever has the address now.
    projects = {f['project_id'] for f in central.list(
        resources.FLOATINGIP, floating_network_id=network_id,
        floating_ip_address=address)}
    network = central.get(resources.NETWORK, network_id)
    region = regions.only_region(
        (network or {}).get('availability_zone_hints') or [])
    if region is None:
        return
    client = ctx.region_client(region)
    for copy in client.list(resources.FLOATINGIP,
                            floating_network_id=network_id,
                            floating_ip_address=address):
        # A copy a routing names is a floating IP's whose delete is on
        # its way (its floatingip_setup deletes it).
        if copy.get('project_id') not in projects and \
                _unrouted(copy['id']) and \
                client.delete(resources.FLOATINGIP, copy['id']):
            LOG.info('floating IP %s in %s: copy %s made ahead of a '
                     'floating IP central does not have, deleted',
                     address, region, copy['id'])


def floatingip_ahead(ctx, resource: dict) -> None:
    network_id = resource['floating_network_id']
    address = resource['floating_ip_address']
    hinted = _hinted(ctx.hint, network_id, address)
    if hinted is None:
        _tidy(ctx, network_id, address)
    else:
        _make(ctx, network_id, address, *hinted)


JOB = registry.JobType.of(job_shapes.FLOATINGIP_AHEAD, floatingip_ahead)
