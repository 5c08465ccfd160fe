"""``openstack multiregion networking resource show|wait <type> <id>``:
each region's sync state of a central resource, and a barrier on it."""
from __future__ import annotations

import time
import urllib.parse

from osc_lib import exceptions as osc_exc

from tricircle.cli import v1

COLUMNS = ('region_name', 'state', 'revision_number', 'target_revision',
           'last_error', 'updated_at')


def _client(cmd):
    return cmd.app.client_manager.multiregion_networking


def _add_resource_args(parser) -> None:
    parser.add_argument('resource_type', metavar='<type>',
                        help='network, subnet, port, security_group or '
                             'router')
    parser.add_argument('resource_id', metavar='<id>',
                        help='id of the resource on central')


def fetch(client, resource_type: str, resource_id: str) -> dict:
    return client.request('GET', '/resources/%s/%s' % (
        urllib.parse.quote(resource_type, safe=''),
        urllib.parse.quote(resource_id, safe='')))['resource']


def lagging(resource: dict) -> list[str]:
    """Why each region not in sync is not, one line per region."""
    reasons = []
    for region in resource['regions']:
        if region['state'] == 'in_sync':
            continue
        reason = '%s: %s (at revision %s of %s)' % (
            region['region_name'] or region['pod_id'], region['state'],
            region['revision_number'], region['target_revision'])
        if region.get('last_error'):
            reason += ': ' + region['last_error']
        reasons.append(reason)
    if resource.get('outstanding_jobs'):
        reasons.append('%d job(s) still to run for it (openstack '
                       'multiregion networking job list)'
                       % resource['outstanding_jobs'])
    return reasons


class ShowResource(v1.Lister):
    """Show each region's copy of a central resource: its sync state and
    the central revision it is at (and must reach)."""

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        _add_resource_args(parser)
        return parser

    def take_action(self, parsed_args):
        resource = fetch(_client(self), parsed_args.resource_type,
                         parsed_args.resource_id)
        return COLUMNS, [tuple(r.get(c) for c in COLUMNS)
                         for r in resource['regions']]


class WaitResource(v1.Lister):
    """Wait until every region holding a copy of a central resource has
    it in sync with central; exit non-zero with each lagging region's
    reason on timeout."""

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        _add_resource_args(parser)
        parser.add_argument('--timeout', type=float, default=60.0,
                            metavar='<seconds>',
                            help='give up after this many seconds '
                                 '(default 60)')
        parser.add_argument('--interval', type=float, default=0.5,
                            metavar='<seconds>',
                            help='seconds between two looks (default 0.5)')
        return parser

    def take_action(self, parsed_args):
        client = _client(self)
        deadline = time.monotonic() + parsed_args.timeout
        while True:
            resource = fetch(client, parsed_args.resource_type,
                             parsed_args.resource_id)
            reasons = lagging(resource)
            if not reasons:
                return COLUMNS, [tuple(r.get(c) for c in COLUMNS)
                                 for r in resource['regions']]
            if time.monotonic() >= deadline:
                raise osc_exc.CommandError(
                    '%s %s is not in sync after %.0f s:\n%s' % (
                        parsed_args.resource_type, parsed_args.resource_id,
                        parsed_args.timeout, '\n'.join(reasons)))
            time.sleep(parsed_args.interval)
