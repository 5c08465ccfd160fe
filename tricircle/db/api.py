"""Named operations on the Tricircle DB; they take and return dicts.

Uniqueness is left to the DB's constraints (no read-then-write races):
a violation is caught and turned into a precise project exception.
"""
from __future__ import annotations

import uuid
from typing import Any, Iterable

import sqlalchemy as sa
from oslo_db import exception as db_exc
from oslo_log import log as logging

from tricircle.common import exceptions as t_exc
from tricircle.db import core
from tricircle.db import models

LOG = logging.getLogger(__name__)

POD_FIELDS = ('pod_id', 'region_name', 'pod_az_name', 'dc_name', 'az_name')
ROUTING_FIELDS = ('id', 'top_id', 'bottom_id', 'pod_id', 'project_id',
                  'resource_type', 'created_at', 'updated_at')


# Every backend stores 64-bit integers; SQLite raises on larger ones.
_INT64 = (-2 ** 63, 2 ** 63 - 1)


def _string_limit(model: type[models.Base], key: str) -> int | None:
    column_type = model.__table__.c[key].type
    return column_type.length if isinstance(column_type, sa.String) \
        else None


def _check_storable(model: type[models.Base],
                    values: dict[str, Any]) -> None:
    """Refuse what one backend would store and another refuse: strings
    longer than their column (SQLite ignores VARCHAR lengths), NUL
    (PostgreSQL cannot store it)."""
    for key, value in values.items():
        if not isinstance(value, str):
            continue
        if '\x00' in value:
            raise t_exc.ControlCharacters(field=key)
        limit = _string_limit(model, key)
        if limit is not None and len(value) > limit:
            raise t_exc.ValueTooLong(field=key, length=limit)


def _matchable(model: type[models.Base], key: str, value: Any) -> bool:
    """Could a row hold ``value`` in ``key``? If not, no query is needed
    (and none that would fail on one backend is sent)."""
    if isinstance(value, str):
        limit = _string_limit(model, key)
        return '\x00' not in value and (limit is None or len(value) <= limit)
    if isinstance(value, int) and not isinstance(value, bool):
        return _INT64[0] <= value <= _INT64[1]
    return True


def _where(model: type[models.Base], filters: dict[str, Any] | None,
           allowed: Iterable[str]) -> list:
    """Equality filters; a list/tuple/set value means "any of"."""
    allowed = tuple(allowed)
    clauses = []
    for key, value in (filters or {}).items():
        if key not in allowed:
            raise t_exc.UnsupportedFilter(name=key,
                                          supported=', '.join(allowed))
        column = getattr(model, key)
        if isinstance(value, (list, tuple, set, frozenset)):
            clauses.append(column.in_(
                [v for v in value if _matchable(model, key, v)]))
        elif value is None:
            clauses.append(column.is_(None))
        elif not _matchable(model, key, value):
            clauses.append(sa.false())
        else:
            clauses.append(column == value)
    return clauses


# -- pods -----------------------------------------------------------------
def create_pod(values: dict[str, Any]) -> dict[str, Any]:
    """Register a pod; az_name '' (or absent) makes it the central pod.

    Raises TopPodExists, TopRegionReused or DuplicateRegionName (409).
    """
    values = {k: v for k, v in values.items() if k in POD_FIELDS}
    values.setdefault('pod_id', str(uuid.uuid4()))
    values['az_name'] = values.get('az_name') or ''
    if not values['az_name']:
        values['pod_az_name'] = ''  # the central pod hosts nothing
    _check_storable(models.Pod, values)
    try:
        with core.session_scope() as session:
            pod = models.Pod(**values)
            session.add(pod)
            session.flush()
            result = pod.to_dict()
    except db_exc.DBDuplicateEntry:
        raise _pod_conflict(values) from None
    LOG.debug('pod %(pod_id)s created (region %(region_name)s, az '
             '%(az_name)r)', result)
    return result


def _pod_conflict(values: dict[str, Any]) -> Exception:
    """Which unique rule did ``values`` break? (after the failed insert)"""
    top = get_top_pod()
    if not values['az_name'] and top is not None:
        return t_exc.TopPodExists(region_name=top['region_name'])
    if top is not None and top['region_name'] == values['region_name']:
        return t_exc.TopRegionReused(region_name=values['region_name'])
    if values['pod_id'] and _exists(models.Pod, pod_id=values['pod_id']):
        return t_exc.PodExists(pod_id=values['pod_id'])
    return t_exc.DuplicateRegionName(region_name=values['region_name'])


def _exists(model: type[models.Base], **filters: Any) -> bool:
    with core.session_scope() as session:
        stmt = sa.select(sa.literal(1)).select_from(model).filter_by(
            **filters).limit(1)
        return session.execute(stmt).first() is not None


def get_pod(pod_id: str) -> dict[str, Any]:
    """Raises PodNotFound."""
    if not _matchable(models.Pod, 'pod_id', pod_id):
        raise t_exc.PodNotFound(pod_id=pod_id)
    with core.session_scope() as session:
        pod = session.get(models.Pod, pod_id)
        if pod is None:
            raise t_exc.PodNotFound(pod_id=pod_id)
        return pod.to_dict()


def list_pods(filters: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """Pods matching all ``filters`` (pod columns), by region name."""
    stmt = (sa.select(models.Pod)
            .where(*_where(models.Pod, filters, POD_FIELDS))
            .order_by(models.Pod.region_name))
    with core.session_scope() as session:
        return [p.to_dict() for p in session.scalars(stmt)]


def delete_pod(pod_id: str) -> None:
    """Raises PodNotFound, or PodInUse while routings refer to it."""
    if not _matchable(models.Pod, 'pod_id', pod_id):
        raise t_exc.PodNotFound(pod_id=pod_id)
    try:
        with core.session_scope() as session:
            deleted = session.execute(
                sa.delete(models.Pod).where(models.Pod.pod_id == pod_id))
            if not deleted.rowcount:
                raise t_exc.PodNotFound(pod_id=pod_id)
    except db_exc.DBReferenceError:
        raise t_exc.PodInUse(pod_id=pod_id) from None
    LOG.debug('pod %s deleted', pod_id)


def get_top_pod() -> dict[str, Any] | None:
    """The central pod, or None before it is registered."""
    pods = list_pods({'az_name': ''})
    return pods[0] if pods else None


def get_pod_by_region(region_name: str) -> dict[str, Any] | None:
    pods = list_pods({'region_name': region_name})
    return pods[0] if pods else None


# -- resource routings ----------------------------------------------------
def create_routing(values: dict[str, Any]) -> dict[str, Any]:
    """Insert a routing; bottom_id may be None (the creation lock).

    Raises DuplicateRouting (409) or PodNotFound (unknown pod_id).
    """
    values = {k: v for k, v in values.items()
              if k in ROUTING_FIELDS and k not in ('id', 'created_at',
                                                   'updated_at')}
    _check_storable(models.ResourceRouting, values)
    try:
        with core.session_scope() as session:
            routing = models.ResourceRouting(**values)
            session.add(routing)
            session.flush()
            result = routing.to_dict()
    except db_exc.DBDuplicateEntry:
        raise t_exc.DuplicateRouting(
            resource_type=values.get('resource_type'),
            top_id=values.get('top_id'), pod_id=values.get('pod_id')) from None
    except db_exc.DBReferenceError:
        raise t_exc.PodNotFound(pod_id=values.get('pod_id')) from None
    LOG.debug('routing %(id)s created: %(resource_type)s %(top_id)s -> '
              '%(bottom_id)s in pod %(pod_id)s', result)
    return result


def ensure_routing(top_id: str, bottom_id: str | None, pod_id: str,
                   project_id: str | None, resource_type: str
                   ) -> dict[str, Any]:
    """Create the routing unless it exists; fill a NULL bottom_id.

    Safe against a concurrent caller: the unique key decides who inserts.
    """
    existing = _fill_routing(top_id, pod_id, resource_type, bottom_id)
    if existing is not None:  # the usual case: no failed INSERT
        return existing
    try:
        return create_routing({'top_id': top_id, 'bottom_id': bottom_id,
                               'pod_id': pod_id, 'project_id': project_id,
                               'resource_type': resource_type})
    except t_exc.DuplicateRouting:  # lost the race
        existing = _fill_routing(top_id, pod_id, resource_type, bottom_id)
    if existing is None:  # and deleted meanwhile: the caller may retry
        raise t_exc.RoutingNotFound(routing_id='%s %s in pod %s' % (
            resource_type, top_id, pod_id))
    return existing


def _fill_routing(top_id: str, pod_id: str, resource_type: str,
                  bottom_id: str | None) -> dict[str, Any] | None:
    if not _key_matchable(top_id, pod_id, resource_type):
        return None
    stmt = sa.select(models.ResourceRouting).where(
        models.ResourceRouting.top_id == top_id,
        models.ResourceRouting.pod_id == pod_id,
        models.ResourceRouting.resource_type == resource_type)
    with core.session_scope() as session:
        routing = session.scalars(stmt).one_or_none()
        if routing is None:
            return None
        if routing.bottom_id is None and bottom_id is not None:
            routing.bottom_id = bottom_id
            session.flush()
        return routing.to_dict()


def _key_matchable(top_id: str, pod_id: str, resource_type: str) -> bool:
    return all(_matchable(models.ResourceRouting, k, v) for k, v in (
        ('top_id', top_id), ('pod_id', pod_id),
        ('resource_type', resource_type)))


def get_routing(routing_id: int) -> dict[str, Any]:
    """Raises RoutingNotFound."""
    if not _matchable(models.ResourceRouting, 'id', routing_id):
        raise t_exc.RoutingNotFound(routing_id=routing_id)
    with core.session_scope() as session:
        routing = session.get(models.ResourceRouting, routing_id)
        if routing is None:
            raise t_exc.RoutingNotFound(routing_id=routing_id)
        return routing.to_dict()


def update_routing(routing_id: int, values: dict[str, Any]
                   ) -> dict[str, Any]:
    """Change a routing's columns; the id and timestamps stay."""
    values = {k: v for k, v in values.items()
              if k in ROUTING_FIELDS and k not in ('id', 'created_at',
                                                   'updated_at')}
    if not _matchable(models.ResourceRouting, 'id', routing_id):
        raise t_exc.RoutingNotFound(routing_id=routing_id)
    _check_storable(models.ResourceRouting, values)
    try:
        with core.session_scope() as session:
            routing = session.get(models.ResourceRouting, routing_id)
            if routing is None:
                raise t_exc.RoutingNotFound(routing_id=routing_id)
            for key, value in values.items():
                setattr(routing, key, value)
            session.flush()
            return routing.to_dict()
    except db_exc.DBDuplicateEntry:
        raise t_exc.DuplicateRouting(
            resource_type=values.get('resource_type'),
            top_id=values.get('top_id'), pod_id=values.get('pod_id')) from None
    except db_exc.DBReferenceError:
        raise t_exc.PodNotFound(pod_id=values.get('pod_id')) from None


def get_bottom_id(top_id: str, pod_id: str,
                  resource_type: str) -> str | None:
    """The pod's id for a top resource; None if absent or being created."""
    if not _key_matchable(top_id, pod_id, resource_type):
        return None
    stmt = sa.select(models.ResourceRouting.bottom_id).where(
        models.ResourceRouting.top_id == top_id,
        models.ResourceRouting.pod_id == pod_id,
        models.ResourceRouting.resource_type == resource_type)
    with core.session_scope() as session:
        return session.scalars(stmt).first()


def list_routings(filters: dict[str, Any] | None = None
                  ) -> list[dict[str, Any]]:
    """Routings matching all ``filters`` (routing columns), by id."""
    stmt = (sa.select(models.ResourceRouting)
            .where(*_where(models.ResourceRouting, filters, ROUTING_FIELDS))
            .order_by(models.ResourceRouting.id))
    with core.session_scope() as session:
        return [r.to_dict() for r in session.scalars(stmt)]


def delete_routings(filters: dict[str, Any]) -> int:
    """Delete the matching routings; returns how many went."""
    if not filters:
        raise ValueError('delete_routings needs at least one filter')
    stmt = sa.delete(models.ResourceRouting).where(
        *_where(models.ResourceRouting, filters, ROUTING_FIELDS))
    with core.session_scope() as session:
        count = session.execute(stmt).rowcount
    LOG.debug('%d routings deleted for %s', count, filters)
    return count


# -- shadow agents --------------------------------------------------------
def ensure_shadow_agent(pod_id: str, host: str, agent_type: str,
                        tunnel_ip: str) -> dict[str, Any]:
    """Record (or move) the tunnel endpoint of a host of a pod."""
    _check_storable(models.ShadowAgent, {'pod_id': pod_id, 'host': host,
                                         'type': agent_type,
                                         'tunnel_ip': tunnel_ip})
    stmt = sa.select(models.ShadowAgent).where(
        models.ShadowAgent.pod_id == pod_id,
        models.ShadowAgent.host == host,
        models.ShadowAgent.type == agent_type)
    for _attempt in range(2):  # a concurrent insert wins the first time
        try:
            with core.session_scope() as session:
                agent = session.scalars(stmt).one_or_none()
                if agent is None:
                    agent = models.ShadowAgent(
                        id=str(uuid.uuid4()), pod_id=pod_id,
                        host=host, type=agent_type, tunnel_ip=tunnel_ip)
                    session.add(agent)
                elif agent.tunnel_ip != tunnel_ip:
                    agent.tunnel_ip = tunnel_ip
                session.flush()
                return agent.to_dict()
        except db_exc.DBDuplicateEntry:
            continue
    raise db_exc.DBDuplicateEntry(columns=['pod_id', 'host', 'type'])


def list_shadow_agents(filters: dict[str, Any] | None = None
                       ) -> list[dict[str, Any]]:
    stmt = sa.select(models.ShadowAgent).where(*_where(
        models.ShadowAgent, filters, ('pod_id', 'host', 'type',
                                      'tunnel_ip'))).order_by(
        models.ShadowAgent.host)
    with core.session_scope() as session:
        return [a.to_dict() for a in session.scalars(stmt)]


# -- deleting resources ---------------------------------------------------
def add_deleting(resource_id: str, resource_type: str) -> None:
    """Mark a central delete as started; ResourceIsInDeleting if it is."""
    _check_storable(models.DeletingResource, {
        'resource_id': resource_id, 'resource_type': resource_type})
    try:
        with core.session_scope() as session:
            session.add(models.DeletingResource(
                resource_id=resource_id, resource_type=resource_type))
    except db_exc.DBDuplicateEntry:
        raise t_exc.ResourceIsInDeleting(
            resource_id=resource_id, resource_type=resource_type) from None


def remove_deleting(resource_id: str, resource_type: str) -> None:
    with core.session_scope() as session:
        session.execute(sa.delete(models.DeletingResource).where(
            models.DeletingResource.resource_id == resource_id,
            models.DeletingResource.resource_type == resource_type))


def is_deleting(resource_id: str, resource_type: str) -> bool:
    if not (_matchable(models.DeletingResource, 'resource_id', resource_id)
            and _matchable(models.DeletingResource, 'resource_type',
                           resource_type)):
        return False
    return _exists(models.DeletingResource, resource_id=resource_id,
                   resource_type=resource_type)
