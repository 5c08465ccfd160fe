"""update_subnet: bring one region's copy of a subnet up to date."""
from __future__ import annotations

from tricircle.common import neutron_client
from tricircle.network import bottom
from tricircle.xjob import registry


def update_subnet(ctx, resource: dict) -> None:
    subnet_id = resource['subnet_id']
    central = ctx.central_client().get('subnet', subnet_id)
    if central is None:
        return
    attrs = {k: central[k] for k in bottom.SUBNET_UPDATABLE if k in central}
    try:
        ctx.region_client(ctx.region_of_pod(resource['pod_id'])).update(
            'subnet', subnet_id, attrs)
    except neutron_client.RemoteNotFound:
        pass


JOB = registry.JobType(
    name='update_subnet', resource_keys=('pod_id', 'subnet_id'),
    handler=update_subnet,
    description="Push a central subnet's attributes to one region's copy.")
