"""Same-id copies of central resources in a region, made on first use.

One generic path for every resource type with a spec: a lookup here that
finds nothing fetches the central resource for the requester's project
(central answers 404 for what that project may not see, by Neutron's own
rules), makes sure what the copy depends on is here (``spec.depends_on``),
and builds the copy under a lock that admits one copier per resource in
this region's servers. How a copy is built is the one thing per type: a
builder registered by the plugin.
"""
from __future__ import annotations

import contextlib
import dataclasses
import threading
from typing import Callable, Iterator

from neutron.objects import address_group as ag_obj
from neutron.objects import network as network_obj
from neutron.objects import ports as port_obj
from neutron.objects import securitygroup as sg_obj
from neutron.objects import subnet as subnet_obj
from neutron_lib.api import attributes
from oslo_concurrency import lockutils
from oslo_config import cfg
from oslo_context import context as oslo_context
from oslo_db import exception as db_exc
from oslo_log import log as logging

from tricircle.network import request_source
from tricircle import resources
from tricircle.resources import neutron_client
from tricircle.resources import regions

LOG = logging.getLogger(__name__)

# The region's own DB objects of each type, to tell what is here.
OBJECTS = {resources.NETWORK: network_obj.Network,
           resources.SUBNET: subnet_obj.Subnet,
           resources.PORT: port_obj.Port,
           resources.SECURITY_GROUP: sg_obj.SecurityGroup,
           resources.ADDRESS_GROUP: ag_obj.AddressGroup}


def _admitted(context, central: dict) -> bool:
    # Central fetched it for the requester: they may see it.
    return True


@dataclasses.dataclass(frozen=True)
class Builder:
    """How one type's copy is made here.

    ``build(context, central)``: create the copy; called under the
    resource's copy lock. ``admit(context, central)``: may it be here at
    all (False, or raise to say why not)?
    """
    build: Callable[[object, dict], None]
    admit: Callable[[object, dict], bool] = _admitted


def requester(context):
    """The context of the API request being served.

    Neutron's policy engine looks a port's network up with an anonymous
    admin context (``get_admin_context()``) to check who owns it; the
    request's own context is then the current one of this thread.
    """
    if context.is_admin and context.project_id is None:
        current = oslo_context.get_current()
        if current is not None and current is not context:
            return current
    return context


def requester_headers(context) -> dict:
    """Headers naming the project a fetch from central is for.

    Central is read with the service user's token, which sees every
    project's resources: without them a project could make a region copy
    (and then probe) another project's network by its id, and central
    would record a copy that is never made. None for admins and noauth
    deployments, which see everything.
    """
    context = requester(context)
    if context.is_admin or not context.project_id:
        return {}
    return {regions.REQUESTER_HEADER: context.project_id}


class Copies:
    """The copies of one regional Neutron server.

    ``central()``: the client of the central Neutron.
    """

    def __init__(self, central: Callable[[], neutron_client.NeutronClient],
                 region_name: str) -> None:
        self._central = central
        self.region_name = region_name
        self._builders: dict[str, Builder] = {}
        # Per thread: how deep ML2 is in its own work, and ids deleting.
        self._local = threading.local()

    def register(self, resource_type: str, builder: Builder) -> None:
        self._builders[resource_type] = builder

    def ensure(self, context, resource_type: str, res_id: str,
               missing_ok: bool = False) -> None:
        """Make sure the central resource is here, with the same id,
        copying it on first use; its spec's not-found error if the
        requester has no such resource (unless ``missing_ok``)."""
        if (self.ml2_busy or request_source.requesting_peer(context) or
                self.is_deleting_here(res_id) or
                self.exists(context, resource_type, res_id)):
            # ML2's own lookups inside an operation, and central's own
            # requests, never trigger a call to central.
            return
        spec = resources.get(resource_type)
        central = self._central().get(resource_type, res_id,
                                      headers=requester_headers(context))
        if not self._copy(context, resource_type, central) and \
                not missing_ok:
            # Neutron's policy hook answers a bare 404 for a parent it
            # cannot read (a port create's network): say which here.
            LOG.info('%s %s not copied here: %s', resource_type, res_id,
                     'central has none for the requester' if central is None
                     else 'not admitted in this region')
            raise spec.not_found(res_id)

    def _copy(self, context, resource_type: str,
              central: dict | None) -> bool:
        builder = self._builders[resource_type]
        if central is None or not builder.admit(context, central):
            return False
        dependencies: dict[str, list[str]] = {}
        for dep_type, dep_id in resources.get(resource_type).depends_on(
                central):
            dependencies.setdefault(dep_type, []).append(dep_id)
        for dep_type, dep_ids in dependencies.items():
            self.ensure_all(context, dep_type, dep_ids)
        with self.lock(central['id']):
            if not self.exists(context, resource_type, central['id']):
                builder.build(context, central)
        return True

    def ensure_all(self, context, resource_type: str,
                   res_ids: list[str]) -> None:
        """``ensure`` for several ids; one query when all are here."""
        res_ids = set(res_ids)
        if not res_ids or OBJECTS[resource_type].count(
                context.elevated(), id=list(res_ids)) == len(res_ids):
            return
        for res_id in sorted(res_ids):
            self.ensure(context, resource_type, res_id)

    def exists(self, context, resource_type: str, res_id: str) -> bool:
        return OBJECTS[resource_type].objects_exist(context.elevated(),
                                                    id=res_id)

    def create(self, context, resource_type: str, body: dict,
               ml2_create: Callable[[object, dict], dict]) -> None:
        """Create a copy with ML2's ``ml2_create``, API defaults filled
        in; one made concurrently by another server is as good."""
        try:
            with self.ml2_at_work():
                ml2_create(context.elevated(), {
                    resource_type: with_defaults(
                        resources.COLLECTIONS[resource_type], body)})
        except db_exc.DBDuplicateEntry:
            LOG.debug('%s %s was copied concurrently', resource_type,
                      body['id'])
            return
        LOG.info('copied %s %s from central into %s', resource_type,
                 body['id'], self.region_name)

    # -- ML2 at work ------------------------------------------------------
    @property
    def ml2_busy(self) -> bool:
        return bool(getattr(self._local, 'ml2_depth', 0))

    @contextlib.contextmanager
    def ml2_at_work(self) -> Iterator[None]:
        """ML2 works on what is already here: no lazy copies inside."""
        self._local.ml2_depth = getattr(self._local, 'ml2_depth', 0) + 1
        try:
            yield
        finally:
            self._local.ml2_depth -= 1

    @contextlib.contextmanager
    def lock(self, res_id: str) -> Iterator[None]:
        """One copier per central resource in this region's servers."""
        with lockutils.lock('tricircle-copy-%s' % res_id, external=True,
                            lock_path=cfg.CONF.oslo_concurrency.lock_path):
            yield

    # -- deletes here -----------------------------------------------------
    def is_deleting_here(self, res_id: str) -> bool:
        return res_id in getattr(self._local, 'deleting', ())

    @contextlib.contextmanager
    def deleting_here(self, res_id: str) -> Iterator[None]:
        """This thread deletes the resource here: lookups during the
        delete must not copy it back from central."""
        deleting = getattr(self._local, 'deleting', None)
        if deleting is None:
            deleting = self._local.deleting = set()
        deleting.add(res_id)
        try:
            yield
        finally:
            deleting.discard(res_id)


def with_defaults(collection: str, body: dict) -> dict:
    """``body`` with the API's defaults, as a POST would have them."""
    attributes.populate_project_info(body)
    attributes.AttributeInfo(attributes.RESOURCES[collection]) \
        .fill_post_defaults(body, check_allow_post=False)
    return body
