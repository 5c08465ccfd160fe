"""The creation protocol for resources several requests may create at once.

A routing row with an empty ``bottom_id`` is the lock: the request that
inserts it creates the resource and fills ``bottom_id``; the others wait
for the id. A lock older than ``expire`` seconds belongs to a creator that
died: the resource is looked up (it may exist) and adopted, or the stale
row is removed and the race starts again.
"""
from __future__ import annotations

import datetime
import time
from typing import Callable

from oslo_log import log as logging
from oslo_utils import timeutils

from tricircle.common import exceptions as t_exc
from tricircle.db import api as db_api

LOG = logging.getLogger(__name__)


def get_or_create(top_id: str, pod_id: str, resource_type: str,
                  project_id: str | None, create: Callable[[], str],
                  find: Callable[[], str | None], timeout: float = 60.0,
                  expire: float = 30.0) -> tuple[bool, str]:
    """Return ``(created, bottom_id)`` of the one resource for the key."""
    key = {'top_id': top_id, 'pod_id': pod_id,
           'resource_type': resource_type}
    deadline = time.monotonic() + timeout
    while True:
        try:
            db_api.create_routing(dict(key, bottom_id=None,
                                       project_id=project_id))
        except t_exc.DuplicateRouting:
            found = _wait_or_adopt(key, find, expire)
            if found:
                return False, found
            if time.monotonic() > deadline:
                raise t_exc.CreationLockTimeout(**key)
            time.sleep(0.05)
            continue
        try:
            bottom_id = create()
        except Exception:
            db_api.delete_routings(key)
            raise
        db_api.ensure_routing(bottom_id=bottom_id, project_id=project_id,
                              **key)
        return True, bottom_id


def _wait_or_adopt(key: dict, find, expire: float) -> str | None:
    routings = db_api.list_routings(key)
    if not routings:
        return None  # the holder gave up; race again
    routing = routings[0]
    if routing['bottom_id']:
        return routing['bottom_id']
    age = timeutils.utcnow() - _naive(routing['created_at'])
    if age < datetime.timedelta(seconds=expire):
        return None
    found = find()
    if found:
        LOG.warning('adopting %(resource_type)s %(top_id)s: its creator '
                    'left the lock', key)
        db_api.ensure_routing(bottom_id=found,
                              project_id=routing['project_id'], **key)
        return found
    LOG.warning('removing the stale creation lock of %(resource_type)s '
                '%(top_id)s', key)
    db_api.delete_routings(dict(key, bottom_id=None))
    return None


def _naive(value):
    if isinstance(value, str):
        value = timeutils.parse_isotime(value)
    return value.replace(tzinfo=None) if value.tzinfo else value
