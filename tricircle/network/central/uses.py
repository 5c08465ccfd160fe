"""Which regions use a central resource: routings, and deletes underway.

Each time a region fetches a resource to copy it, central records a
routing (the region now holds a copy), so that updates and deletes reach
exactly the regions holding one.
"""
from __future__ import annotations

import contextlib
from typing import Callable, Iterator

from neutron_lib import context as n_context
from neutron_lib import exceptions as n_exc

from tricircle.db import api as db_api
from tricircle.db import sync_states
from tricircle.network import exceptions as t_exc
from tricircle.network import request_source
from tricircle import resources
from tricircle.resources import binding
from tricircle.resources import jobs
from tricircle.resources import regions


def record(context, resource_type: str, res_id: str,
           project_id: str | None, revision: int | None = None) -> None:
    """Remember that the asking region now holds a copy, made from
    central's ``revision`` if this is its first."""
    region = request_source.requesting_peer(context)
    if not region:
        return
    pod = db_api.get_pod_by_region(region)
    if pod is None:
        raise t_exc.UnknownRegion(region=region)
    db_api.ensure_routing(top_id=res_id, bottom_id=res_id,
                          pod_id=pod['pod_id'], project_id=project_id,
                          resource_type=resource_type)
    sync_states.mark_copied(resource_type, res_id, pod['pod_id'], revision)


def refuse_if_hidden(context, resource_type: str, res_id: str,
                     lookup: Callable[[object], object]) -> None:
    """A region fetching a resource for a project gets the resource's
    not-found error unless that project may see it, and no routing.

    ``lookup(context)`` is ML2's GET; with a context of the project it
    applies Neutron's own rules (owner, shared, RBAC).
    """
    project = request_source.requester_project(context)
    if not project or not request_source.requesting_peer(context):
        return
    # overwrite=False: the request's own context stays this thread's.
    scoped = n_context.Context(project_id=project, is_admin=False,
                               roles=['member'], overwrite=False)
    try:
        lookup(scoped)
    except n_exc.NotFound:
        raise resources.get(resource_type).not_found(res_id)


def mark_copies(resource_type: str, res_id: str,
                revision: int | None = None,
                deleted: bool = False) -> list[str]:
    """Each region's copy is pending (to reach central's ``revision``) or
    deleting; the pod ids of those regions."""
    pod_ids = list(regions.holding(resource_type, res_id).values())
    for pod_id in pod_ids:
        if deleted:
            sync_states.mark_deleting(resource_type, res_id, pod_id)
        else:
            sync_states.mark_pending(resource_type, res_id, pod_id,
                                     revision)
    return pod_ids


def sync_copies(resource_type: str, res_id: str, project_id: str | None,
                revision: int | None = None, deleted: bool = False) -> None:
    """One sync job per region holding a copy (durable; retried), marked
    pending or deleting first."""
    for pod_id in mark_copies(resource_type, res_id, revision, deleted):
        jobs.sync(pod_id, resource_type, res_id, project_id)


def mark_shadows_pending(port: dict) -> None:
    """Every other region holding the port's network is to get (or
    update) its shadow of the port: pending until shadow_port_setup has
    made it there."""
    bound = binding.remote_binding(port)
    if not bound:
        return
    for region, pod_id in regions.holding(resources.NETWORK,
                                          port['network_id']).items():
        if region != bound[0]:
            sync_states.mark_pending(resources.PORT, port['id'], pod_id,
                                     port.get('revision_number'))


def mark_deleting(resource_type: str, res_id: str, pod_id: str) -> None:
    """The region's copy is to be deleted (its state says so until it
    is gone)."""
    sync_states.mark_deleting(resource_type, res_id, pod_id)


def delete_later(resource_type: str, res_id: str, later: dict[str, str],
                 project_id: str | None) -> None:
    """The copies in ``later`` (region -> pod id) are deleted by XJob
    (durable, retried): central has deleted the resource, so each
    region's sync_resource job finds an orphan. They stay ``deleting``
    until then."""
    for pod_id in later.values():
        jobs.sync(pod_id, resource_type, res_id, project_id)


def forget(resource_type: str, res_id: str) -> None:
    """No region holds a copy any more."""
    db_api.delete_routings({'top_id': res_id,
                            'resource_type': resource_type})
    sync_states.forget(resource_type, res_id)


def is_deleting(resource_type: str, res_id: str) -> bool:
    return db_api.is_deleting(res_id, resource_type)


def refuse_if_deleting(context, resource_type: str, res_id: str) -> None:
    """A region must not resurrect what central is deleting."""
    if (request_source.requesting_peer(context) and
            is_deleting(resource_type, res_id)):
        raise resources.get(resource_type).not_found(res_id)


@contextlib.contextmanager
def deleting_on_central(resource_type: str, res_id: str) -> Iterator[None]:
    """Mark a resource as being deleted (in the Tricircle DB, for every
    server) for the duration of a block."""
    db_api.add_deleting(res_id, resource_type)
    try:
        yield
    finally:
        db_api.remove_deleting(res_id, resource_type)
