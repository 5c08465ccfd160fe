"""REST client for one Neutron server, central or regional.

The local plugin uses it to reach the central Neutron; the central plugin
and XJob use it to reach regional Neutrons (see ``regions``). Errors keep
their HTTP meaning: a 404 from the remote side is a ``NotFound`` here, a
409 a ``Conflict``, so the Neutron API layer answers the user with the
same status.
"""
from __future__ import annotations

import threading
import time
from typing import Any

from keystoneauth1 import exceptions as ksa_exc
from keystoneauth1 import loading as ks_loading
from keystoneauth1 import noauth
from keystoneauth1 import session as ks_session
from neutron_lib import exceptions as n_exc
from oslo_config import cfg
from oslo_log import log as logging
import tenacity

from tricircle.common import config
from tricircle import resources

LOG = logging.getLogger(__name__)

_RETRY_STATUS = (502, 503, 504)
USER_AGENT = 'tricircle'


class RemoteNeutronError(n_exc.NeutronException):
    message = '%(server)s answered %(status)s: %(reason)s'


class RemoteBadRequest(RemoteNeutronError, n_exc.BadRequest):
    pass


class RemoteNotAuthorized(RemoteNeutronError, n_exc.NotAuthorized):
    pass


class RemoteNotFound(RemoteNeutronError, n_exc.NotFound):
    pass


class RemoteConflict(RemoteNeutronError, n_exc.Conflict):
    pass


class RemoteUnavailable(RemoteNeutronError, n_exc.ServiceUnavailable):
    pass


def _error_class(status: int) -> type[RemoteNeutronError]:
    return {400: RemoteBadRequest, 401: RemoteNotAuthorized,
            403: RemoteNotAuthorized, 404: RemoteNotFound,
            409: RemoteConflict}.get(status, RemoteUnavailable)


class _RetryableError(Exception):
    pass


class NeutronClient:
    """Small, explicit CRUD over the Neutron v2.0 API of one server."""

    def __init__(self, session: ks_session.Session, endpoint: str | None,
                 name: str, region_name: str | None = None,
                 retries: int = 3, headers: dict | None = None) -> None:
        self.name = name
        self._headers = {'Accept': 'application/json', **(headers or {})}
        self._session = session
        self._endpoint = endpoint.rstrip('/') if endpoint else None
        self._region_name = region_name
        self._retries = retries
        self._in_flight = 0
        self._in_flight_lock = threading.Lock()

    @property
    def calls_in_flight(self) -> int:
        """Requests sent and not answered yet (XJob's workers count those
        waiting on a pod that is down)."""
        return self._in_flight

    @classmethod
    def from_conf(cls, name: str, endpoint: str | None = None,
                  region_name: str | None = None,
                  headers: dict | None = None,
                  conf: cfg.ConfigOpts = cfg.CONF) -> NeutronClient:
        """Client with the credentials of the ``[client]`` section.

        Without ``[client] auth_type`` the server is reached without a
        token (noauth deployments such as the sandbox).
        """
        config.register_client_opts(conf)
        group = conf[config.CLIENT_GROUP]
        auth = None
        if group.auth_type:
            auth = ks_loading.load_auth_from_conf_options(
                conf, config.CLIENT_GROUP)
        elif endpoint:
            auth = noauth.NoAuth(endpoint=endpoint)
        session = ks_session.Session(auth=auth,
                                     timeout=group.neutron_timeout,
                                     app_name=USER_AGENT)
        return cls(session, endpoint, name, region_name,
                   retries=group.neutron_retries, headers=headers)

    # -- low level -------------------------------------------------------
    def request(self, method: str, path: str, body: Any = None,
                params: dict | None = None,
                headers: dict | None = None) -> Any:
        retrying = tenacity.Retrying(
            retry=tenacity.retry_if_exception_type(_RetryableError),
            stop=tenacity.stop_after_attempt(self._retries + 1),
            wait=tenacity.wait_exponential(multiplier=0.2, max=2),
            reraise=True)
        try:
            for attempt in retrying:
                with attempt:
                    return self._request_once(method, path, body, params,
                                              headers)
        except _RetryableError as exc:
            raise RemoteUnavailable(server=self.name, status='no answer',
                                    reason=str(exc.args[0]))

    def _target(self) -> dict[str, Any]:
        """Where requests go: the endpoint given, or the catalog's."""
        if self._endpoint:
            return {'endpoint_override': self._endpoint}
        return {'endpoint_filter': {
            'service_type': 'network', 'interface': 'public',
            'region_name': self._region_name}}

    def probe(self, timeout: float) -> None:
        """One quick look (Neutron's version document), no retries;
        RemoteUnavailable unless the server answers within ``timeout``."""
        try:
            resp = self._session.request(
                '/', 'GET', raise_exc=False, timeout=timeout,
                headers=self._headers, connect_retries=0, **self._target())
        except ksa_exc.ClientException as exc:
            raise RemoteUnavailable(server=self.name, status='no answer',
                                    reason=str(exc)) from None
        if resp.status_code >= 500:
            raise RemoteUnavailable(server=self.name,
                                    status=resp.status_code,
                                    reason=resp.text[:200])

    def _request_once(self, method, path, body, params, headers=None):
        kwargs: dict[str, Any] = {'raise_exc': False,
                                  'headers': {**self._headers,
                                              **(headers or {})},
                                  **self._target()}
        if body is not None:
            kwargs['json'] = body
        if params:
            kwargs['params'] = params
        started = time.monotonic()
        with self._in_flight_lock:
            self._in_flight += 1
        try:
            resp = self._session.request(path, method, **kwargs)
        except (ksa_exc.ConnectFailure, ksa_exc.ConnectTimeout,
                ksa_exc.RequestTimeout, ksa_exc.EndpointNotFound) as exc:
            LOG.warning('%s unreachable (%s %s): %s', self.name, method,
                        path, exc)
            raise _RetryableError(str(exc))
        finally:
            with self._in_flight_lock:
                self._in_flight -= 1
        LOG.debug('%s %s %s: %s in %.3f s', self.name, method, path,
                  resp.status_code, time.monotonic() - started)
        if resp.status_code in _RETRY_STATUS:
            raise _RetryableError('%s %s' % (resp.status_code, resp.text))
        if resp.status_code >= 400:
            raise _error_class(resp.status_code)(
                server=self.name, status=resp.status_code,
                reason=_reason(resp))
        if resp.status_code == 204 or not resp.content:
            return None
        return resp.json()

    # -- CRUD ------------------------------------------------------------
    # ``resource`` is a type's singular name (see tricircle.resources).
    def get(self, resource: str, res_id: str,
            headers: dict | None = None) -> dict | None:
        """The resource, or None if the server does not have it."""
        try:
            return self.request('GET', _path(resource, res_id),
                                headers=headers)[resource]
        except RemoteNotFound:
            return None

    def list(self, resource: str, headers: dict | None = None,
             **filters: Any) -> list[dict]:
        body = self.request('GET', _path(resource), params=filters,
                            headers=headers)
        return body[resources.COLLECTIONS[resource]]

    def create(self, resource: str, attrs: dict,
               headers: dict | None = None) -> dict:
        return self.request('POST', _path(resource), body={resource: attrs},
                            headers=headers)[resource]

    def update(self, resource: str, res_id: str, attrs: dict,
               headers: dict | None = None) -> dict:
        return self.request('PUT', _path(resource, res_id),
                            body={resource: attrs}, headers=headers)[resource]

    def action(self, resource: str, res_id: str, action: str,
               body: dict) -> Any:
        """A member action (``PUT .../address-groups/ID/add_addresses``)."""
        return self.request('PUT', _path(resource, res_id) + '/' + action,
                            body=body)

    def delete(self, resource: str, res_id: str) -> bool:
        """Delete; False if it was already gone."""
        try:
            self.request('DELETE', _path(resource, res_id))
        except RemoteNotFound:
            return False
        return True


def _path(resource: str, res_id: str | None = None) -> str:
    # URLs spell collections with dashes: /v2.0/security-groups.
    path = '/v2.0/' + resources.COLLECTIONS[resource].replace('_', '-')
    return path + '/' + res_id if res_id else path


def _reason(resp) -> str:
    try:
        err = resp.json().get('NeutronError', {})
        return '%s: %s' % (err.get('type', ''), err.get('message', ''))
    except ValueError:
        return resp.text[:200]
