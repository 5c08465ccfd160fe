"""The main demo: what Tricircle does, shown on a running sandbox."""
from __future__ import annotations

import os
import uuid

from tricircle.sandbox import state as sb_state
from tricircle.sandbox import up as sb_up


def connect(state: sb_state.SandboxState, cloud: str):
    """An openstacksdk connection to one of the sandbox's clouds."""
    import openstack
    os.environ['OS_CLIENT_CONFIG_FILE'] = os.path.join(
        state.state_dir, sb_state.CLOUDS_FILE)
    return openstack.connect(cloud=cloud)


def run(state_dir: str) -> int:
    state = sb_state.SandboxState.load(state_dir)
    if state is None or not state.central:
        print('no Tricircle sandbox in %s (run "tricircle-sandbox up")'
              % os.path.abspath(state_dir))
        return 1
    token = None
    if state.keystone:
        from tricircle.sandbox import keystone
        token = keystone.SandboxKeystone.load(state.state_dir).token()
    pods = sb_up.http_json('GET', state.admin_api + '/v1.0/pods',
                           token=token)['pods']
    print('1. Pods registered in the Admin API (%s):' % state.admin_api)
    for pod in pods:
        print('   %-14s az=%-16r pod_id=%s' % (pod['region_name'],
                                               pod['az_name'], pod['pod_id']))

    central = connect(state, 'central')
    name = 'demo-net-%s' % uuid.uuid4().hex[:6]
    net = central.network.create_network(name=name)
    print('2. Network %s created on the central Neutron: id=%s type=%s '
          'segment=%s' % (name, net.id, net.provider_network_type,
                          net.provider_segmentation_id))
    try:
        print('3. Each region creates it with the same id the first time '
              'it is used there:')
        for region in state.regions:
            local = connect(state, region).network.get_network(net.id)
            print('   %-10s id=%s type=%s segment=%s' % (
                region, local.id, local.provider_network_type,
                local.provider_segmentation_id))
    finally:
        central.network.delete_network(net.id)
    print('demo done')
    return 0
