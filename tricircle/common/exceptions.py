"""Errors of the Tricircle DB layer and the Admin API.

They subclass the neutron_lib classes so that a Neutron server (central
plugin) maps them to the same HTTP status as the Admin API does: NotFound
404, Conflict/InUse 409, BadRequest 400, NotAuthorized 403. A class may
set ``http_status`` when none of those fits (422, 405).
"""
from __future__ import annotations

from neutron_lib import exceptions as n_exc


def http_status(exc: Exception) -> int:
    """The HTTP status the Admin API answers for ``exc``."""
    status = getattr(exc, 'http_status', None)
    if status:
        return status
    for cls, code in ((n_exc.NotFound, 404), (n_exc.Conflict, 409),
                      (n_exc.InUse, 409), (n_exc.NotAuthorized, 403),
                      (n_exc.BadRequest, 400), (n_exc.InvalidInput, 400),
                      (n_exc.ServiceUnavailable, 503)):
        if isinstance(exc, cls):
            return code
    return 500


# -- request errors -------------------------------------------------------
class MalformedRequestBody(n_exc.BadRequest):
    message = 'Malformed request body: %(reason)s'


class InvalidInput(n_exc.BadRequest):
    message = 'Invalid input: %(reason)s'


class UnsupportedFilter(n_exc.BadRequest):
    message = ('Unsupported filter %(name)s; supported filters: '
               '%(supported)s.')


class MissingRequiredField(n_exc.BadRequest):
    """A required field is absent or blank: 422 as in Tricircle."""
    http_status = 422
    message = 'Field %(field)s is required and can not be blank.'


class MarkerNotFound(n_exc.BadRequest):
    """A paging marker that is not an item of the list."""
    message = ('Invalid input: marker %(marker)s is not a %(kind)s of this '
               'list.')


class ReferenceNotFound(n_exc.BadRequest):
    """A well-formed body names a resource that does not exist."""
    message = 'Invalid input: %(kind)s %(id)s does not exist.'


class ValueTooLong(n_exc.BadRequest):
    """A value longer than its DB column (SQLite would store it)."""
    message = ('Invalid input: %(field)s is longer than %(length)d '
               'characters.')


class ControlCharacters(n_exc.BadRequest):
    message = 'Invalid input: %(field)s contains control characters.'


class UrlNotFound(n_exc.NotFound):
    message = 'The resource %(path)s could not be found.'


class MethodNotAllowed(n_exc.NeutronException):
    http_status = 405
    message = ('Method %(method)s is not allowed on %(path)s; allowed: '
               '%(allowed)s.')

    def __init__(self, method: str, path: str, allowed: list[str]) -> None:
        self.allowed = sorted(allowed)  # for the Allow header
        super().__init__(method=method, path=path,
                         allowed=', '.join(self.allowed))


class PolicyNotAuthorized(n_exc.NotAuthorized):
    message = 'Policy does not allow %(action)s to be performed.'


# -- pods -----------------------------------------------------------------
class PodNotFound(n_exc.NotFound):
    message = 'Pod %(pod_id)s could not be found.'


class PodExists(n_exc.Conflict):
    message = 'Pod %(pod_id)s already exists.'


class DuplicateRegionName(n_exc.Conflict):
    message = 'A pod with region name %(region_name)s already exists.'


class TopPodExists(n_exc.Conflict):
    message = ('The central pod already exists (region %(region_name)s); '
               'only one pod may have an empty az_name.')


class TopRegionReused(n_exc.Conflict):
    message = ('Region %(region_name)s is the central pod\'s region; a '
               'region pod needs a region name of its own.')


class PodInUse(n_exc.InUse):
    message = ('Pod %(pod_id)s is still referenced by resource routings; '
               'delete them first.')


# -- resource routings ----------------------------------------------------
class RoutingNotFound(n_exc.NotFound):
    message = 'Resource routing %(routing_id)s could not be found.'


class DuplicateRouting(n_exc.Conflict):
    message = ('A routing for %(resource_type)s %(top_id)s in pod '
               '%(pod_id)s already exists.')


# -- sync states ----------------------------------------------------------
class ResourceTypeNotSynced(n_exc.NotFound):
    message = ('Resource type %(resource_type)s has no regional copies; '
               'known types: %(known)s.')


class ResourceIdNotFound(n_exc.NotFound):
    message = ('%(resource_type)s %(resource_id)s could not be found: no '
               'resource has such an id.')


# -- deleting resources ---------------------------------------------------
class ResourceIsInDeleting(n_exc.Conflict):
    message = '%(resource_type)s %(resource_id)s is being deleted.'


class CreationLockTimeout(n_exc.ServiceUnavailable):
    message = ('Timed out waiting for another request to create '
               '%(resource_type)s %(top_id)s in pod %(pod_id)s.')


class CentralPodNotRegistered(n_exc.ServiceUnavailable):
    message = ('No central pod is registered in the Tricircle Admin API; '
               'register it (a pod with an empty az_name) first.')


# -- jobs -----------------------------------------------------------------
class JobNotFound(n_exc.NotFound):
    message = 'Job %(job_id)s could not be found.'


class AuditNotFound(n_exc.NotFound):
    message = 'Drift audit %(audit_id)s could not be found.'


class JobNotDeletable(n_exc.BadRequest):
    message = ('Job %(job_id)s is %(status)s; only NEW and FAIL jobs can be '
               'deleted.')


class JobNotRedoable(n_exc.BadRequest):
    message = ('Job %(job_id)s is %(status)s; only NEW and FAIL jobs can be '
               'redone.')


class UnknownJobType(n_exc.BadRequest):
    message = 'Unknown job type %(type)s; known types: %(known)s.'
