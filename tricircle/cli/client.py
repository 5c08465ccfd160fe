"""OSC plugin hooks and a small client of the Tricircle Admin API.

The Admin API is found in the Keystone catalog (service type
``tricircle``), or given with ``--os-tricircle-api-url`` (env
``OS_TRICIRCLE_API_URL``): with ``--os-auth-type none`` that is how the
noauth sandbox is reached.
"""
from __future__ import annotations

import argparse
from typing import Any

from osc_lib import exceptions as osc_exc
from osc_lib import utils

DEFAULT_API_VERSION = '1'
API_VERSION_OPTION = 'os_multiregion_networking_api_version'
API_NAME = 'multiregion_networking'
API_VERSIONS = {'1': 'tricircle.cli.client.AdminAPIClient'}
SERVICE_TYPE = 'tricircle'


class AdminAPIError(osc_exc.ClientException):
    """The Admin API refused a request; carries its status and message."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(status, message)
        self.code = status

    def __str__(self) -> str:
        return '%s (HTTP %d)' % (self.message, self.code)


class AdminAPIClient:
    """Calls of the Admin API v1.0 over a keystoneauth session."""

    def __init__(self, session, endpoint: str) -> None:
        self.session = session
        self.endpoint = endpoint.rstrip('/')
        if self.endpoint.endswith('/v1.0'):
            self.endpoint = self.endpoint[:-len('/v1.0')]

    def request(self, method: str, path: str, body: Any = None,
                params: dict[str, Any] | None = None) -> Any:
        kwargs: dict[str, Any] = {'raise_exc': False,
                                  'headers': {'Accept': 'application/json'}}
        if body is not None:
            kwargs['json'] = body
        if params:
            kwargs['params'] = params
        resp = self.session.request(self.endpoint + '/v1.0' + path, method,
                                    **kwargs)
        if resp.status_code >= 400:
            try:
                error = resp.json()['NeutronError']['message']
            except (ValueError, KeyError, TypeError):
                error = resp.text or resp.reason
            raise AdminAPIError(resp.status_code, error)
        return resp.json() if resp.content else None

    def list_all(self, collection: str, params: dict[str, Any]
                 ) -> list[dict]:
        """Every page when no limit is given, else just that page."""
        body = self.request('GET', '/' + collection, params=params)
        items = list(body[collection])
        if 'limit' in params:
            return items
        while body.get(collection + '_links'):
            href = body[collection + '_links'][0]['href']
            resp = self.session.request(href, 'GET', raise_exc=False)
            if resp.status_code >= 400:
                raise AdminAPIError(resp.status_code, resp.text)
            body = resp.json()
            items += body[collection]
        return items


def make_client(instance) -> AdminAPIClient:
    """OSC hook: the Admin API client for this invocation."""
    config = getattr(instance._cli_options, 'config', {}) or {}
    endpoint = config.get('tricircle_api_url')
    if not endpoint:
        endpoint = instance.get_endpoint_for_service_type(
            SERVICE_TYPE, region_name=instance.region_name,
            interface=instance.interface)
    if not endpoint:
        raise osc_exc.CommandError(
            'no Tricircle Admin API: give --os-tricircle-api-url or add a '
            '"%s" service to the Keystone catalog' % SERVICE_TYPE)
    return AdminAPIClient(instance.session, endpoint)


def build_option_parser(parser: argparse.ArgumentParser
                        ) -> argparse.ArgumentParser:
    """OSC hook: global options of this plugin."""
    parser.add_argument(
        '--os-multiregion-networking-api-version',
        metavar='<version>',
        default=utils.env('OS_MULTIREGION_NETWORKING_API_VERSION'),
        help='Tricircle Admin API version, default=%s '
             '(Env: OS_MULTIREGION_NETWORKING_API_VERSION)'
             % DEFAULT_API_VERSION)
    parser.add_argument(
        '--os-tricircle-api-url', metavar='<url>',
        default=utils.env('OS_TRICIRCLE_API_URL'),
        help='Tricircle Admin API endpoint, instead of the catalog\'s '
             '(Env: OS_TRICIRCLE_API_URL)')
    return parser
