"""update_network: bring one region's copy of a network up to date."""
from __future__ import annotations

from tricircle.common import neutron_client
from tricircle.network import bottom
from tricircle.xjob import registry


def update_network(ctx, resource: dict) -> None:
    net_id = resource['network_id']
    central = ctx.central_client().get('network', net_id)
    if central is None:
        return  # deleted meanwhile: nothing to bring up to date
    attrs = {k: central[k] for k in bottom.NETWORK_UPDATABLE if k in central}
    try:
        ctx.region_client(ctx.region_of_pod(resource['pod_id'])).update(
            'network', net_id, attrs)
    except neutron_client.RemoteNotFound:
        pass  # the region has no copy (any more): nothing to update


JOB = registry.JobType(
    name='update_network', resource_keys=('pod_id', 'network_id'),
    handler=update_network,
    description="Push a central network's attributes to one region's copy.")
