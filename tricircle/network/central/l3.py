"""L3 service plugin of the central Neutron server.

Neutron's own router plugin, minus what only makes sense with L3 agents:
the central server has none (see the central plugin), so the DVR
callbacks that look up L3 agents and ARP entries on every port created,
updated or deleted here, and the notifications to L3 agents (each loads
the router and tries to schedule it), would only cost time. Routers keep
their API.

Each change of a router (interfaces, routes, gateway, name, delete) asks
XJob to bring the router's copies in the regions in line (router_setup).
An interface on a subnet also gets a head start in the regions holding
its network, asked for before central makes its own port
(router_interface_ahead). A gateway's router_setup is asked for as soon
as central's gateway is committed (the router shows it from then on);
where the external network's region holds the router's copy, the
gateway gets a head start there once central's gateway port is made
(router_gateway_ahead). Floating IPs:
tricircle.network.central.floatingips.
Its availability zones are regions: a router hinted to one region is
local to it, and takes only networks (and a gateway) that may be there.
"""
from __future__ import annotations

import threading

from neutron.db import l3_dvrscheduler_db
from neutron.db.models import l3 as l3_models
from neutron.services.l3_router import l3_router_plugin
from neutron_lib.api.validators import availability_zone as az_validator
from neutron_lib.callbacks import events
from neutron_lib.callbacks import registry
from neutron_lib.callbacks import resources
from neutron_lib import constants as n_const
from neutron_lib.db import api as n_db_api
from neutron_lib.plugins import directory
from oslo_config import cfg
from oslo_log import log as logging
from oslo_utils import excutils

from tricircle.network.central import availability_zones
from tricircle.network.central import floatingips
from tricircle.network.central import uses
from tricircle.network import exceptions as t_exc
from tricircle.network import router_flags
from tricircle import resources as t_resources
from tricircle.resources import jobs
from tricircle.resources import network as network_res
from tricircle.resources import regions
from tricircle.resources import router as router_res

LOG = logging.getLogger(__name__)

# The port callbacks l3_dvrscheduler_db.subscribe() registers.
_AGENT_PORT_CALLBACKS = (
    (l3_dvrscheduler_db._notify_l3_agent_new_port, events.AFTER_CREATE),
    (l3_dvrscheduler_db._notify_l3_agent_port_update, events.AFTER_UPDATE),
    (l3_dvrscheduler_db._notify_port_delete, events.AFTER_DELETE),
)


class NoL3AgentNotifier:
    """Neutron's L3 agent notifier for a server without L3 agents: every
    notification is dropped. Its real counterpart schedules the routers
    and looks up the hosts to tell first, all for nothing here; the
    regions learn of a change through XJob."""

    def _drop(self, *args, **kwargs) -> None:
        return None

    agent_updated = router_deleted = routers_updated = _drop
    add_arp_entry = del_arp_entry = delete_fipnamespace_for_ext_net = _drop
    router_removed_from_agent = router_added_to_agent = _drop
    routers_updated_on_host = _drop


class CentralL3Plugin(floatingips.FloatingIPsMixin,
                      router_flags.RouterFlagsMixin,
                      l3_router_plugin.L3RouterPlugin):
    """Routers on a Neutron server without L3 agents."""

    def __init__(self) -> None:
        super().__init__()
        for callback, event in _AGENT_PORT_CALLBACKS:
            registry.unsubscribe(callback, resources.PORT, event)
        self._l3_rpc_notifier = NoL3AgentNotifier()
        registry.subscribe(gateway_port_committed, resources.ROUTER_GATEWAY,
                           events.AFTER_CREATE)
        registry.subscribe(gateway_port_made, resources.PORT,
                           events.AFTER_CREATE)
        self._subscribe_floatingips()

    # -- availability zones: the regions ----------------------------------
    def validate_availability_zones(self, context, resource_type,
                                    availability_zones_):
        availability_zones.validate(availability_zones_)

    def get_router_availability_zones(self, router_db) -> list[str]:
        """The regions it is in (or is to be in, when hinted)."""
        extra = getattr(router_db, 'extra_attributes', None)
        hints = az_validator.convert_az_string_to_list(
            getattr(extra, 'availability_zone_hints', None))
        return sorted(availability_zones.regions_of(hints) if hints else
                      regions.holding(t_resources.ROUTER, router_db['id']))

    # -- changes reach the regions through XJob ---------------------------
    def _setup(self, context, router_id: str) -> None:
        router = super().get_router(context.elevated(), router_id)
        uses.mark_copies(t_resources.ROUTER, router_id,
                         router.get('revision_number'))
        jobs.setup_router(router_id, router['project_id'])

    def create_router(self, context, router):
        created = super().create_router(context, router)
        gateway = created.get('external_gateway_info') or {}
        if gateway.get('network_id'):
            try:
                self._refuse_if_not_local(
                    context, created['id'],
                    {'network_id': gateway['network_id']})
            except t_exc.RouterNetworkNotInRegion:
                # Bad input changes nothing.
                super().delete_router(context, created['id'])
                raise
            self._setup(context, created['id'])
        return created

    def add_router_interface(self, context, router_id, interface_info=None):
        self._refuse_if_not_local(context, router_id, interface_info or {})
        ahead = self._head_start(context, router_id, interface_info or {})
        try:
            info = super().add_router_interface(context, router_id,
                                                interface_info)
        except Exception:
            with excutils.save_and_reraise_exception():
                if ahead is not None:
                    # router_setup removes what went ahead in the regions.
                    jobs.setup_router(router_id, ahead)
        self._setup(context, router_id)
        return info

    def _head_start(self, context, router_id: str,
                    interface_info: dict) -> str | None:
        """Once Neutron's checks of an interface on a subnet pass, and
        before central's port is made (most of this request's time), the
        regions holding the subnet's network add theirs: their L3 agents
        start sooner (router_interface_ahead). The router's project, or
        None when nothing went ahead."""
        if set(interface_info) != {'subnet_id'}:
            return None  # a port of the user's: central's is the region's
        self._validate_interface_info(interface_info)
        router = self._get_router(context, router_id)
        subnet = self._core_plugin.get_subnet(context,
                                              interface_info['subnet_id'])
        if not subnet.get('gateway_ip') or (
                subnet['project_id'] != context.project_id and
                not context.is_admin):
            return None  # Neutron's own checks say what is wrong, or not
        self._validate_subnet_address_mode(subnet)
        self._check_for_dup_router_subnets(
            context, router, [subnet], n_const.DEVICE_OWNER_ROUTER_INTF)
        if not regions.holding(t_resources.NETWORK, subnet['network_id']):
            return None  # no region to add it in yet
        jobs.add_router_interface_ahead(router_id, subnet['id'],
                                        router.project_id)
        return router.project_id

    def remove_router_interface(self, context, router_id, interface_info):
        info = super().remove_router_interface(context, router_id,
                                               interface_info)
        self._setup(context, router_id)
        return info

    def update_router(self, context, id, router):
        attrs = router.get('router') or {}
        gateway = attrs.get('external_gateway_info')
        if gateway and gateway.get('network_id'):
            self._refuse_if_not_local(context, id,
                                      {'network_id': gateway['network_id']})
        _gateway_set_up.router_id = None
        _gateway_asked.value = (id, gateway) if gateway and \
            gateway.get('network_id') else None
        try:
            updated = super().update_router(context, id, router)
        except Exception:
            with excutils.save_and_reraise_exception():
                if getattr(_gateway_asked, 'ahead', None) == id:
                    # router_setup removes what went ahead in the region.
                    self._setup(context.elevated(), id)
        finally:
            asked, _gateway_set_up.router_id = _gateway_set_up.router_id, None
            _gateway_asked.value = _gateway_asked.ahead = None
        if asked == id and set(attrs) == {'external_gateway_info'}:
            # router_setup was asked for once the new gateway port was
            # committed, and nothing else changed: a second run would
            # find nothing to do while the gateway region's L3 agent works.
            return updated
        self._setup(context, id)
        return updated

    def add_extraroutes(self, context, router_id, body=None):
        updated = super().add_extraroutes(context, router_id, body)
        self._setup(context, router_id)
        return updated

    def remove_extraroutes(self, context, router_id, body=None):
        updated = super().remove_extraroutes(context, router_id, body)
        self._setup(context, router_id)
        return updated

    def delete_router(self, context, id):
        project_id = super().get_router(context.elevated(), id)['project_id']
        super().delete_router(context, id)
        if uses.mark_copies(t_resources.ROUTER, id, deleted=True):
            jobs.setup_router(id, project_id)

    def _refuse_if_not_local(self, context, router_id: str,
                             interface_info: dict) -> None:
        """A local router takes only networks its region may hold
        (``interface_info`` may name the gateway's ``network_id``). The
        router's hints are read alone: loading the whole router took a
        tenth of a second of each gateway set and interface add."""
        flags = self._router_flags(context, router_id)
        if flags is None:
            return  # Neutron says the router is not found
        hints = list(flags.availability_zone_hints or [])
        if not router_res.is_local({'availability_zone_hints': hints}):
            return
        # The router is the requester's to change (Neutron's own read).
        super().get_router(context, router_id)
        region = availability_zones.regions_of(hints)
        core = directory.get_plugin()
        network_id = _network_of(core, context, interface_info)
        if network_id is None:
            return  # Neutron says what is missing
        network = core.get_network(context.elevated(), network_id)
        if region and not network_res.allowed_in(network, region[0]):
            raise t_exc.RouterNetworkNotInRegion(
                router_id=router_id, region=region[0], network_id=network_id,
                hints=', '.join(network['availability_zone_hints']))


# Per request: the router whose router_setup gateway_port_committed asked
# for (update_router then asks for no second run when nothing else
# changed).
_gateway_set_up = threading.local()
# Per request: the gateway update_router sets, (router id, its
# external_gateway_info as asked) in ``value``; the router whose
# router_gateway_ahead gateway_port_made asked for in ``ahead``.
_gateway_asked = threading.local()


def gateway_port_made(resource, event, trigger, payload) -> None:
    """Central's new gateway port of a router being updated is made, with
    its addresses (Neutron then loads the router twice more and commits
    it): where the external network's region holds the router's copy
    already, router_gateway_ahead sets the gateway there now."""
    port = payload.latest_state
    asked = getattr(_gateway_asked, 'value', None)
    if asked is None or \
            port.get('device_owner') != n_const.DEVICE_OWNER_ROUTER_GW or \
            port.get('device_id') != asked[0]:
        return
    router_id, info = asked
    context = payload.context
    try:
        region = availability_zones.external_network_region(
            context, port['network_id'])
        if region is None or \
                region not in regions.holding(t_resources.ROUTER, router_id):
            return  # router_setup makes the copy there
        gateway = {'network_id': port['network_id'],
                   'enable_snat': info.get('enable_snat',
                                           cfg.CONF.enable_snat_by_default),
                   'external_fixed_ips': [
                       {'subnet_id': ip['subnet_id'],
                        'ip_address': ip['ip_address']}
                       for ip in port['fixed_ips']]}
        jobs.router_gateway_ahead(router_id, _project_of(context, router_id),
                                  {'gateway': gateway, 'region': region})
    except Exception:  # Neutron's update goes on; router_setup follows
        LOG.warning('router %s: no head start for its gateway', router_id,
                    exc_info=True)
        return
    _gateway_asked.ahead = router_id
    LOG.info('router %s: gateway port on network %s made, its gateway in %s '
             'asked for ahead of the commit', router_id, port['network_id'],
             region)


def _project_of(context, router_id: str) -> str | None:
    """The router's project, its row's column alone."""
    with n_db_api.CONTEXT_READER.using(context):
        return context.session.query(l3_models.Router.project_id).filter(
            l3_models.Router.id == router_id).scalar()


def gateway_port_committed(resource, event, trigger, payload) -> None:
    """Central's gateway port of a router is committed, and the router
    shows its gateway: router_setup starts now rather than once Neutron
    has finished the request (its router update, callbacks, response),
    so the gateway region's copy and its L3 agent start sooner. A
    router update that changes only the gateway asks for nothing more;
    other requests ask again at their end, and that run has the last
    word.

    A local router's gateway waits for the end: create_router may still
    refuse it (its network is not in the router's region)."""
    router = payload.states[0]
    hints = az_validator.convert_az_string_to_list(getattr(
        getattr(router, 'extra_attributes', None),
        'availability_zone_hints', None))
    if router_res.is_local({'availability_zone_hints': hints}):
        return
    LOG.info('router %s: gateway port on network %s committed, '
             'router_setup asked for now', router['id'],
             payload.metadata.get('network_id'))
    jobs.setup_router(router['id'], router['project_id'])
    _gateway_set_up.router_id = router['id']


def _network_of(core, context, interface_info: dict) -> str | None:
    if interface_info.get('network_id'):
        return interface_info['network_id']
    if interface_info.get('port_id'):
        return core.get_port(context, interface_info['port_id'])['network_id']
    if interface_info.get('subnet_id'):
        return core.get_subnet(context,
                               interface_info['subnet_id'])['network_id']
    return None
