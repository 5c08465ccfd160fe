"""``openstack multiregion networking routing ...``"""
from __future__ import annotations

from osc_lib.command import command

from tricircle.cli import v1

COLUMNS = ('id', 'top_id', 'bottom_id', 'pod_id', 'project_id',
           'resource_type', 'created_at', 'updated_at')
FIELDS = ('top_id', 'bottom_id', 'pod_id', 'project_id', 'resource_type')


def _client(cmd):
    return cmd.app.client_manager.multiregion_networking


def _add_fields(parser, required: bool) -> None:
    for field in FIELDS:
        parser.add_argument('--' + field.replace('_', '-'), dest=field,
                            required=required,
                            help='%s of the routing' % field)


def _row(routing: dict) -> tuple:
    return tuple(routing.get(c) for c in COLUMNS)


class CreateRouting(command.ShowOne):
    """Create a resource routing."""

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        _add_fields(parser, required=True)
        return parser

    def take_action(self, parsed_args):
        body = {f: getattr(parsed_args, f) for f in FIELDS}
        routing = _client(self).request('POST', '/routings',
                                        {'routing': body})['routing']
        return COLUMNS, _row(routing)


class ListRoutings(v1.Lister):
    """List resource routings, newest first."""

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument('--limit', type=int,
                            help='one page of at most this many')
        parser.add_argument('--marker', help='the last id of the previous '
                                             'page')
        _add_fields(parser, required=False)
        return parser

    def take_action(self, parsed_args):
        params = {f: getattr(parsed_args, f) for f in FIELDS + (
            'limit', 'marker') if getattr(parsed_args, f) is not None}
        routings = _client(self).list_all('routings', params)
        return COLUMNS, [_row(r) for r in routings]


class ShowRouting(command.ShowOne):
    """Show a resource routing."""

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument('routing', metavar='<routing>', help='id')
        return parser

    def take_action(self, parsed_args):
        body = _client(self).request('GET',
                                     '/routings/%s' % parsed_args.routing)
        return COLUMNS, _row(body['routing'])


class UpdateRouting(command.ShowOne):
    """Change fields of a resource routing."""

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument('routing', metavar='<routing>', help='id')
        _add_fields(parser, required=False)
        return parser

    def take_action(self, parsed_args):
        body = {f: getattr(parsed_args, f) for f in FIELDS
                if getattr(parsed_args, f) is not None}
        routing = _client(self).request(
            'PUT', '/routings/%s' % parsed_args.routing,
            {'routing': body})['routing']
        return COLUMNS, _row(routing)


class DeleteRouting(command.Command):
    """Delete resource routings."""

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument('routings', metavar='<routing>', nargs='+',
                            help='id(s)')
        return parser

    def take_action(self, parsed_args):
        for routing in parsed_args.routings:
            _client(self).request('DELETE', '/routings/%s' % routing)
