"""update_port: bring one region's copy of a port up to date."""
from __future__ import annotations

from tricircle.common import neutron_client
from tricircle.network import bottom
from tricircle.xjob import registry


def update_port(ctx, resource: dict) -> None:
    port_id = resource['port_id']
    central = ctx.central_client().get('port', port_id)
    if central is None:
        return
    attrs = {k: central[k] for k in bottom.PORT_UPDATABLE if k in central}
    try:
        ctx.region_client(ctx.region_of_pod(resource['pod_id'])).update(
            'port', port_id, attrs)
    except neutron_client.RemoteNotFound:
        pass


JOB = registry.JobType(
    name='update_port', resource_keys=('pod_id', 'port_id'),
    handler=update_port,
    description="Push a central port's attributes to one region's copy.")
