"""Networks: a region's copy carries central's segment."""
from __future__ import annotations

from neutron_lib.api.definitions import external_net
from neutron_lib.api.definitions import provider_net
from neutron_lib import exceptions as n_exc

from tricircle.resources import base

RESOURCE_NAME = 'network'
COLLECTION_NAME = 'networks'

PROVIDER_ATTRS = (provider_net.NETWORK_TYPE, provider_net.PHYSICAL_NETWORK,
                  provider_net.SEGMENTATION_ID)
UPDATABLE = ('name', 'description', 'admin_state_up', 'shared', 'mtu',
             'port_security_enabled')


def regional_body(central_net: dict) -> dict:
    body = base.pick(central_net, ('id', 'name', 'project_id',
                                   'admin_state_up', 'shared', 'description',
                                   'mtu', 'port_security_enabled',
                                   external_net.EXTERNAL))
    # A "local" network has no segment to share: the region allocates.
    network_type = central_net.get(provider_net.NETWORK_TYPE)
    if network_type not in (None, 'local'):
        body.update(base.pick(central_net, PROVIDER_ATTRS))
    elif network_type == 'local':
        body[provider_net.NETWORK_TYPE] = 'local'
    return body


def allowed_in(central_net: dict, region: str) -> bool:
    """No hints means every region; central lists hints as region names
    to the regions."""
    hints = central_net.get('availability_zone_hints') or []
    return not hints or region in hints


SPEC = base.ResourceSpec(
    name=RESOURCE_NAME, collection=COLLECTION_NAME,
    not_found=lambda res_id: n_exc.NetworkNotFound(net_id=res_id),
    regional_body=regional_body, updatable=UPDATABLE)
