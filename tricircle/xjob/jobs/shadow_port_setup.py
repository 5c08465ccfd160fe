"""shadow_port_setup: every region's shadows of a network's ports, exact.

For a network, each region holding it must have one shadow port for
every port of the network bound in *another* region (same id, MAC and
addresses, bound to the remote host), and none else; a shadow follows
its port (new host, addresses, groups) in place. The run compares
central's view with each region's and fixes the difference, regions in
parallel; it is idempotent, so one run after many requests satisfies all
of them (XJob coalesces requests per network).
"""
from __future__ import annotations

import concurrent.futures

from oslo_log import log as logging

from tricircle.db import api as db_api
from tricircle.db import sync_states
from tricircle import resources
from tricircle.resources import binding
from tricircle.resources import jobs as job_shapes
from tricircle.resources import neutron_client
from tricircle.resources import regions
from tricircle.resources import shadow
from tricircle.xjob import registry

LOG = logging.getLogger(__name__)


def _wanted_in(region: str, bound: dict[str, dict]) -> dict[str, dict]:
    return {pid: port for pid, port in bound.items()
            if binding.remote_binding(port)[0] != region}


def _groups(sg_ids) -> list[tuple[str, str]]:
    """The port's groups, which the region must hold (copied as for a
    user) for the shadow to be a member of each: a rule there naming one
    as its remote group then admits the remote port's addresses."""
    return [(resources.SECURITY_GROUP, sg_id) for sg_id in sorted(sg_ids)]


def _shadows(client, network_id: str) -> dict[str, dict]:
    # A shadow has the central port's id. No routings are kept for
    # shadows: central updates must not reach them, and this job alone
    # creates and removes them.
    return {p['id']: p for p in client.list(
        resources.PORT, network_id=network_id,
        device_owner=shadow.SHADOW_DEVICE_OWNER)}


def converge_region(ctx, region: str, pod_id: str, network_id: str,
                    bound: dict[str, dict],
                    existing: dict[str, dict] | None = None
                    ) -> tuple[int, int]:
    """Create missing and delete stale shadows in one region
    (``existing``: its shadows, if already listed)."""
    client = ctx.region_client(region)
    wanted = _wanted_in(region, bound)
    if existing is None:
        existing = _shadows(client, network_id)
    removed = 0
    for port_id, port in existing.items():
        if port_id not in wanted or not shadow.matches(port,
                                                       wanted[port_id]):
            client.delete(resources.PORT, port['id'])
            removed += 1
            if port_id not in wanted:
                _forget_shadow(port_id, pod_id)
    created = 0
    for port_id, port in wanted.items():
        if port_id in existing and shadow.matches(existing[port_id], port):
            changes = shadow.updates(existing[port_id], port)
            if changes:
                regions.with_dependencies(
                    client, pod_id,
                    _groups(changes.get('security_groups') or []) +
                    [(resources.SUBNET, ip['subnet_id'])
                     for ip in changes.get('fixed_ips') or []],
                    lambda: client.update(resources.PORT, port_id, changes))
                LOG.info('shadow of port %s in %s: %s updated', port_id,
                         region, ', '.join(sorted(changes)))
            _in_sync(port, pod_id)
            continue
        try:
            # The network too: its routing may come before the region's
            # copy is committed (a copy being made as this job runs).
            regions.with_dependencies(
                client, pod_id, [(resources.NETWORK, network_id)] +
                _groups(port.get('security_groups') or []),
                lambda: client.create(resources.PORT,
                                      shadow.port_body(port)))
        except neutron_client.RemoteNotFound:
            if client.get(resources.NETWORK, network_id) is None:
                # The region holds no copy: the routing was wrong.
                regions.forget(pod_id, resources.NETWORK, network_id)
                LOG.info('network %s has no copy in %s; its routing is '
                         'removed', network_id, region)
                return created, removed
            raise
        except neutron_client.RemoteConflict:
            # The address is in use here: the port itself lives here now
            # (moved); its local copy wins and the next run tidies up.
            LOG.warning('shadow of port %s not created in %s: conflict',
                        port_id, region)
            continue
        created += 1
        _in_sync(port, pod_id)
    return created, removed


# A shadow's sync state is its port's, in the shadow's region: ``resource
# show port ID`` lists the regions holding a shadow beside its own.
def _in_sync(central_port: dict, pod_id: str) -> None:
    sync_states.mark_in_sync(resources.PORT, central_port['id'], pod_id,
                             central_port.get('revision_number'))


def _forget_shadow(port_id: str, pod_id: str) -> None:
    """The shadow is gone; a port that moved here keeps its own state."""
    if not db_api.list_routings({'top_id': port_id, 'pod_id': pod_id,
                                 'resource_type': resources.PORT}):
        sync_states.forget(resources.PORT, port_id, pod_id)


def shadow_port_setup(ctx, resource: dict) -> None:
    network_id = resource['network_id']
    holding = regions.holding(resources.NETWORK, network_id)
    # Central's ports are read while each region lists its shadows: the
    # two reads are the job's wait before its first change.
    pool = concurrent.futures.ThreadPoolExecutor(1)
    central_read = pool.submit(ctx.central_client().list, resources.PORT,
                               network_id=network_id)
    pool.shutdown(wait=False)

    def converge(region: str) -> tuple[int, int]:
        existing = _shadows(ctx.region_client(region), network_id)
        bound = {p['id']: p for p in central_read.result()
                 if binding.remote_binding(p)}
        return converge_region(ctx, region, holding[region], network_id,
                               bound, existing)
    outcome = regions.in_parallel(
        holding, converge, 'shadow ports of network %s' % network_id,
        skip_down=True)
    for region, counts in outcome.results.items():
        if counts and any(counts):
            LOG.info('network %s in %s: %d shadow ports created, %d removed',
                     network_id, region, *counts)
    outcome.raise_first()  # the job fails and is retried with backoff


JOB = registry.JobType.of(job_shapes.SHADOW_PORT_SETUP, shadow_port_setup)
