"""floatingip_setup: a central floating IP's copy, exact.

The copy lives in the region of the floating IP's external network (see
tricircle.resources.floatingip), with central's address; its id there is
the region's own (Neutron takes no id for a floating IP), kept in a
routing. The run:

1. finds the port the copy is to be associated with: the VM's own port
   when the VM is bound in that region; otherwise the proxy port of the
   floating IP's router there, made if the router has none yet
   (tricircle.xjob.floatingip_proxies), the copy keeping the VM's
   address;
2. creates or updates the copy there (a router copy without the gateway
   yet makes Neutron refuse: the job is retried until router_setup has
   set it). A copy its routing does not name is taken from a head start
   that made it while central committed the floating IP
   (floatingip_ahead, waited for while it runs), or else created at
   once, and looked for at its address only if the region refuses that
   address (made by a run that stopped before recording it);
3. deletes the copies in regions that should hold none. A floating IP
   deleted before its copy was recorded leaves it to floatingip_ahead's
   tidy, which central asks for with each delete.

Idempotent. A VM port not bound anywhere yet leaves the copy
unassociated; the port's binding, reported to central, runs the job
again.
"""
from __future__ import annotations

import time

from neutron_lib import constants as n_const
from oslo_log import log as logging

from tricircle.db import api as db_api
from tricircle.db import jobs as db_jobs
from tricircle import resources
from tricircle.resources import binding
from tricircle.resources import floatingip as fip_res
from tricircle.resources import jobs as job_shapes
from tricircle.resources import neutron_client
from tricircle.resources import regions
from tricircle.xjob import head_starts
from tricircle.xjob import floatingip_proxies
from tricircle.xjob import registry

LOG = logging.getLogger(__name__)

# How long a run waits for a head start (floatingip_ahead) of its address
# that is queued or running: it began before central committed the
# floating IP, and a region's create takes about half a second. Past it,
# the run is retried.
AHEAD_WAIT = 10.0


def _region_of_network(central, network_id: str) -> str | None:
    network = central.get(resources.NETWORK, network_id)
    return regions.only_region(
        (network or {}).get('availability_zone_hints') or [])


class _NotYet(neutron_client.RemoteNotFound):
    """What the copy needs is not there yet: retried."""


def _proxy(client, fip: dict, vm_port: dict, region: str) -> dict:
    """The proxy port of the floating IP's router in ``region``, if the
    VM's port still has the floating IP's address."""
    address = fip['fixed_ip_address']
    if not any(ip['ip_address'] == address for ip in vm_port['fixed_ips']):
        # the port changed address meanwhile
        raise _NotYet(server=region, status=404, reason='port %s has no '
                      'address %s any more' % (vm_port['id'], address))
    return floatingip_proxies.ensure(client, fip['router_id'])


def _associated_port(client, fip: dict, vm_port: dict | None,
                     region: str) -> tuple[str | None, bool]:
    """(id of the port the copy in ``region`` is associated with, whether
    it is a proxy); ``vm_port``: central's port of the floating IP."""
    if not fip.get('port_id'):
        return None, False
    bound = binding.remote_binding(vm_port) if vm_port else None
    if bound is None:
        # The copy stays unassociated; the port's binding report runs
        # this job again (central's ports: _floatingips_follow).
        LOG.info('floating IP %s: port %s is bound in no region yet',
                 fip['id'], fip['port_id'])
        return None, False
    if fip_res.is_proxy(vm_port):
        LOG.error('floating IP %s: port %s is a proxy port, not a VM\'s',
                  fip['id'], vm_port['id'])
        return None, False
    if bound[0] == region:
        return vm_port['id'], False
    return _proxy(client, fip, vm_port, region)['id'], True


def _routing(pod_id: str, fip_id: str) -> dict | None:
    routing = db_api.list_routings({'top_id': fip_id, 'pod_id': pod_id,
                                    'resource_type': resources.FLOATINGIP})
    return routing[0] if routing and routing[0]['bottom_id'] else None


def _known_copy(client, pod_id: str, fip: dict) -> dict | None:
    """The copy the floating IP's routing names, if it is still there."""
    routing = _routing(pod_id, fip['id'])
    if routing is not None:
        return client.get(resources.FLOATINGIP, routing['bottom_id'])
    return None


def _copy_at_address(client, fip: dict) -> dict | None:
    found = client.list(resources.FLOATINGIP,
                        floating_network_id=fip['floating_network_id'],
                        floating_ip_address=fip['floating_ip_address'])
    return found[0] if found else None


def _made_ahead(fip: dict, region: str) -> dict | None:
    """The copy a head start made in ``region`` at the floating IP's
    address, once no head start of the address is queued or running."""
    key = (fip['floating_network_id'], fip['floating_ip_address'])
    job_id = job_shapes.resource_id(job_shapes.FLOATINGIP_AHEAD, {
        'floating_network_id': key[0], 'floating_ip_address': key[1]})
    end = time.monotonic() + AHEAD_WAIT
    while db_jobs.live_statuses(job_shapes.FLOATINGIP_AHEAD.name, job_id) \
            & {db_jobs.NEW, db_jobs.RUNNING}:
        if time.monotonic() > end:
            # Not beside it: both would make a copy at the address.
            raise _NotYet(server=region, status=409, reason='a head start '
                          'of address %s is still at work' % key[1])
        time.sleep(0.05)
    made = head_starts.floatingips.take(key)
    if made is None or made[0] != region:
        return None
    copy = made[1]
    # A record of this floating IP's own head start: its project's, at
    # its address (an older one may name a copy deleted since).
    if copy.get('project_id') != fip['project_id'] or \
            copy.get('floating_ip_address') != key[1]:
        return None
    return copy


def _status_reported(central, client, fip: dict, copy_id: str) -> bool:
    """A copy made ahead of central's commit may have been served (ACTIVE)
    before central had the floating IP, when the region's report found
    none: reported here then."""
    copy = client.get(resources.FLOATINGIP, copy_id)
    if (copy or {}).get('status') != n_const.FLOATINGIP_STATUS_ACTIVE or \
            fip.get('status') == n_const.FLOATINGIP_STATUS_ACTIVE:
        return False
    central.update(resources.FLOATINGIP, fip['id'], {},
                   headers={regions.STATUS_HEADER:
                            n_const.FLOATINGIP_STATUS_ACTIVE})
    return True


def _create_copy(client, region: str, pod_id: str, fip: dict,
                 port_id: str | None) -> tuple[dict, bool]:
    """(the copy, whether it is new). The region may have one at this
    address already, which is taken: made by a run that stopped before
    recording it, or the copy of a deleted floating IP not removed yet."""
    try:
        # The external network is there (the router's gateway is): its
        # routing says so, and saves asking.
        return regions.with_dependencies(
            client, pod_id, [(resources.NETWORK, fip['floating_network_id'])],
            lambda: client.create(resources.FLOATINGIP,
                                  fip_res.regional_body(fip, port_id))), True
    except neutron_client.RemoteConflict:
        found = _copy_at_address(client, fip)
        if found is None:
            raise  # another conflict (the port has a floating IP there)
        if found.get('project_id') != fip['project_id']:
            # Another project's (a refused floating IP's head start, or a
            # deleted one's copy): never taken; its tidy or its delete
            # removes it, and a retry makes this one's.
            raise _NotYet(server=region, status=409, reason='copy %s at '
                          'address %s is another project\'s' % (
                              found['id'], fip['floating_ip_address']))
        return found, False


def _converge(ctx, central, region: str, pod_id: str, fip: dict,
              vm_port: dict | None) -> list[str]:
    client = ctx.region_client(region)

    def ready_port() -> tuple[str | None, bool]:
        # The VM's port is there already (its binding there says so); the
        # router's proxy there is found, or made.
        return _associated_port(client, fip, vm_port, region)

    changes = []
    # A copy with no routing yet may have been made ahead of central's
    # commit: that head start ends first.
    copy = None if _routing(pod_id, fip['id']) else _made_ahead(fip, region)
    made_ahead = copy is not None
    if copy is not None:
        changes.append('copy %s made ahead of central taken' % copy['id'])
        port_id, is_proxy = ready_port()
    else:
        # The copy is looked for while its port is made ready. A copy
        # with no routing is first created: looking for it would cost
        # every new floating IP a request.
        (port_id, is_proxy), copy = regions.at_once(
            ready_port, lambda: _known_copy(client, pod_id, fip))
    target = ('none' if port_id is None else '%s (%s %s)' % (
        port_id, 'proxy of' if is_proxy else 'port', fip['port_id']))
    if copy is None:
        copy, created = _create_copy(client, region, pod_id, fip, port_id)
        if created:
            changes.append('copy %s created, associated with %s' % (
                copy['id'], target))
        else:
            changes.append('copy %s found at its address' % copy['id'])
    if fip_res.association_differs(copy, port_id,
                                   fip.get('fixed_ip_address')):
        client.update(resources.FLOATINGIP, copy['id'], {
            'port_id': port_id, 'fixed_ip_address':
            fip['fixed_ip_address'] if port_id else None})
        changes.append('copy %s associated with %s' % (copy['id'], target))
    db_api.ensure_routing(top_id=fip['id'], bottom_id=copy['id'],
                          pod_id=pod_id, project_id=fip['project_id'],
                          resource_type=resources.FLOATINGIP)
    if made_ahead and _status_reported(central, client, fip, copy['id']):
        changes.append('its status ACTIVE reported')
    return changes


def _remove(ctx, region: str, pod_id: str, fip_id: str) -> list[str]:
    client = ctx.region_client(region)
    changes = []
    for routing in db_api.list_routings({
            'top_id': fip_id, 'pod_id': pod_id,
            'resource_type': resources.FLOATINGIP}):
        copy = routing['bottom_id'] and client.get(resources.FLOATINGIP,
                                                   routing['bottom_id'])
        if not copy:
            continue
        if client.delete(resources.FLOATINGIP, copy['id']):
            changes.append('copy %s deleted' % copy['id'])
    regions.forget(pod_id, resources.FLOATINGIP, fip_id)
    return changes


def _read(central, fip_id: str) -> tuple[dict | None, str | None,
                                         dict | None]:
    """(central's floating IP, its external network's region, central's
    port it is associated with); None for what is not there."""
    fip = central.get(resources.FLOATINGIP, fip_id)
    if fip is None:
        return None, None, None
    port_id = fip.get('port_id')
    # The VM's port is read while the external network is.
    region, vm_port = regions.at_once(
        lambda: _region_of_network(central, fip['floating_network_id']),
        lambda: central.get(resources.PORT, port_id) if port_id else None)
    return fip, region, vm_port


def _hinted(hint: dict | None,
            fip_id: str) -> tuple[dict, str, dict | None] | None:
    """What central handed a new floating IP's run, as _read returns it;
    None if there is no usable hint."""
    if not hint or set(hint) != set(job_shapes.FLOATINGIP_HINT_KEYS) or \
            (hint['floatingip'] or {}).get('id') != fip_id or \
            not hint['region']:
        return None
    return hint['floatingip'], hint['region'], hint['port']


def floatingip_setup(ctx, resource: dict) -> None:
    fip_id = resource['floatingip_id']
    central = ctx.central_client()
    # A new floating IP's first run takes what central committed (three
    # reads of central fewer, while central still finishes the request).
    fip, region, vm_port = (_hinted(ctx.hint, fip_id) or
                            _read(central, fip_id))
    held = regions.holding(resources.FLOATINGIP, fip_id)
    for other, pod_id in sorted(held.items()):
        if other != region:
            LOG.info('floating IP %s in %s: %s', fip_id, other, '; '.join(
                _remove(ctx, other, pod_id, fip_id)) or 'no copy')
    if fip is None or region is None:
        return
    pod = db_api.get_pod_by_region(region)
    if pod is None:
        raise neutron_client.RemoteNotFound(
            server=region, status=404, reason='region %s is no pod' % region)
    changes = _converge(ctx, central, region, pod['pod_id'], fip, vm_port)
    if changes:
        LOG.info('floating IP %s (%s) in %s: %s', fip_id,
                 fip['floating_ip_address'], region, '; '.join(changes))


JOB = registry.JobType.of(job_shapes.FLOATINGIP_SETUP, floatingip_setup)
