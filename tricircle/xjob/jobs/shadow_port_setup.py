"""shadow_port_setup: every region's shadows of a network's ports, exact.

For a network, each region holding it must have one shadow port for
every port of the network bound in *another* region (same id, MAC and
addresses, bound to the remote host), and none else. The run compares
central's view with each region's and fixes the difference, regions in
parallel; it is idempotent, so one run after many requests satisfies all
of them (XJob coalesces requests per network).
"""
from __future__ import annotations

import concurrent.futures

from oslo_log import log as logging

from tricircle.common import neutron_client
from tricircle.db import api as db_api
from tricircle.network import bottom
from tricircle.xjob import registry

LOG = logging.getLogger(__name__)


def _wanted_in(region: str, bound: dict[str, dict]) -> dict[str, dict]:
    return {pid: port for pid, port in bound.items()
            if bottom.remote_binding(port)[0] != region}


def _same_shadow(shadow: dict, port: dict) -> bool:
    _region, host, tunnel_ip = bottom.remote_binding(port)
    profile = shadow.get('binding:profile') or {}
    return (shadow.get('binding:host_id') == host and
            profile.get(bottom.PROFILE_TUNNEL_IP) == tunnel_ip and
            shadow['mac_address'] == port['mac_address'])


def converge_region(ctx, region: str, network_id: str,
                    bound: dict[str, dict]) -> tuple[int, int]:
    """Create missing and delete stale shadows in one region."""
    client = ctx.region_client(region)
    wanted = _wanted_in(region, bound)
    # A shadow has the central port's id. No routings are kept for
    # shadows: central updates must not reach them, and this job alone
    # creates and removes them.
    existing = {p['id']: p for p in client.list('port', network_id=network_id,
                                     device_owner=bottom.SHADOW_DEVICE_OWNER)}
    removed = 0
    for port_id, shadow in existing.items():
        if port_id not in wanted or not _same_shadow(shadow, wanted[port_id]):
            client.delete('port', shadow['id'])
            removed += 1
    created = 0
    for port_id, port in wanted.items():
        if port_id in existing and _same_shadow(existing[port_id], port):
            continue
        try:
            client.create('port', bottom.shadow_port_body(port))
        except neutron_client.RemoteConflict:
            # The address is in use here: the port itself lives here now
            # (moved); its local copy wins and the next run tidies up.
            LOG.warning('shadow of port %s not created in %s: conflict',
                        port_id, region)
            continue
        created += 1
    return created, removed


def shadow_port_setup(ctx, resource: dict) -> None:
    network_id = resource['network_id']
    central_ports = ctx.central_client().list('port', network_id=network_id)
    bound = {p['id']: p for p in central_ports if bottom.remote_binding(p)}
    pods = {p['pod_id']: p['region_name'] for p in db_api.list_pods()}
    regions = {pods[r['pod_id']]: r['pod_id'] for r in db_api.list_routings(
        {'top_id': network_id, 'resource_type': 'network'})
        if r['pod_id'] in pods}
    if not regions:
        return
    with concurrent.futures.ThreadPoolExecutor(len(regions)) as pool:
        futures = {pool.submit(converge_region, ctx, region, network_id,
                               bound): region
                   for region in sorted(regions)}
    errors = []
    for future, region in futures.items():
        try:
            created, removed = future.result()
        except Exception as exc:  # one region down must not hide others
            LOG.error('shadow ports of network %s in %s: %s', network_id,
                      region, exc)
            errors.append(exc)
            continue
        if created or removed:
            LOG.info('network %s in %s: %d shadow ports created, %d removed',
                     network_id, region, created, removed)
    if errors:
        raise errors[0]  # the job fails and is retried with backoff


JOB = registry.JobType(
    name='shadow_port_setup', resource_keys=('network_id',),
    handler=shadow_port_setup,
    description='Make every region hold exactly one shadow port per port '
                'of the network bound in another region.')
