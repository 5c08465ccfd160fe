"""``openstack multiregion networking audit list|show``: the drift
audit's passes, what each found and repaired."""
from __future__ import annotations

import urllib.parse

from osc_lib.command import command

from tricircle.cli import v1

COLUMNS = ('id', 'state', 'started_at', 'finished_at', 'checked', 'found',
           'repaired', 'skipped_pods')


def _client(cmd):
    return cmd.app.client_manager.multiregion_networking


def _counts(by_kind: dict) -> str:
    """"drifted=2, orphan=1" (kinds with a count), or "0"."""
    return ', '.join('%s=%d' % kv for kv in sorted(by_kind.items())
                     if kv[1]) or '0'


def _row(audit: dict) -> tuple:
    return tuple(_counts(audit[c]) if c in ('found', 'repaired') else
                 ', '.join(audit[c]) if c == 'skipped_pods' else
                 audit.get(c) for c in COLUMNS)


class ListAudits(v1.Lister):
    """List drift audit passes, newest first."""

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument('--limit', type=int, metavar='<n>',
                            help='show the n newest passes (default 20)')
        return parser

    def take_action(self, parsed_args):
        path = '/audits'
        if parsed_args.limit is not None:
            path += '?' + urllib.parse.urlencode({'limit': parsed_args.limit})
        body = _client(self).request('GET', path)
        return COLUMNS, [_row(a) for a in body['audits']]


class ShowAudit(command.ShowOne):
    """Show a drift audit pass: copies checked, found and repaired by
    kind (missing, drifted, orphan, stale_routing, unrouted)."""

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument('audit', metavar='<audit>', help='audit id')
        return parser

    def take_action(self, parsed_args):
        body = _client(self).request('GET', '/audits/%s' % urllib.parse.quote(
            parsed_args.audit, safe=''))
        return COLUMNS, _row(body['audit'])
