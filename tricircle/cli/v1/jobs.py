"""``openstack multiregion networking job ...``"""
from __future__ import annotations

from osc_lib import exceptions as osc_exc
from osc_lib.command import command

from tricircle.cli import v1

COLUMNS = ('id', 'project_id', 'type', 'status', 'timestamp', 'resource',
           'attempts', 'last_error', 'next_run_at')
# The original client's shortcuts for resource keys.
SHORTCUTS = ('router_id', 'network_id', 'pod_id', 'port_id', 'subnet_id',
             'trunk_id', 'portchain_id')


def _client(cmd):
    return cmd.app.client_manager.multiregion_networking


def _row(job: dict) -> tuple:
    return tuple(job.get(c) for c in COLUMNS)


class CreateJob(command.ShowOne):
    """Queue a job; XJob runs it asynchronously."""

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument('--type', required=True, help='job type (see '
                            '"job schema list")')
        parser.add_argument('--project-id', required=True)
        parser.add_argument('--resource', metavar='KEY=VALUE',
                            action='append', default=[],
                            help='a resource key of the job type '
                                 '(repeatable)')
        for key in SHORTCUTS:
            parser.add_argument('--' + key.replace('_', '-'), dest=key,
                                help='same as --resource %s=VALUE' % key)
        return parser

    def take_action(self, parsed_args):
        resource = {}
        for item in parsed_args.resource:
            key, sep, value = item.partition('=')
            if not sep or not key:
                raise osc_exc.CommandError('--resource takes KEY=VALUE, '
                                           'not %r' % item)
            resource[key] = value
        for key in SHORTCUTS:
            if getattr(parsed_args, key):
                resource[key] = getattr(parsed_args, key)
        job = _client(self).request('POST', '/jobs', {'job': {
            'type': parsed_args.type, 'project_id': parsed_args.project_id,
            'resource': resource}})['job']
        return COLUMNS, _row(job)


class ListJobs(v1.Lister):
    """List jobs: live ones first, then the log of successes."""

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument('--limit', type=int,
                            help='one page of at most this many')
        parser.add_argument('--marker', help='the last id of the previous '
                                             'page')
        parser.add_argument('--project-id')
        parser.add_argument('--type')
        parser.add_argument('--status', type=str.lower,
                            choices=('new', 'running', 'success', 'fail'),
                            help='e.g. "fail" to find what needs attention')
        return parser

    def take_action(self, parsed_args):
        params = {k: getattr(parsed_args, k) for k in (
            'limit', 'marker', 'project_id', 'type', 'status')
            if getattr(parsed_args, k) is not None}
        jobs = _client(self).list_all('jobs', params)
        return COLUMNS, [_row(j) for j in jobs]


class ShowJob(command.ShowOne):
    """Show a job, with its attempts and last error."""

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument('job', metavar='<job>', help='job id')
        return parser

    def take_action(self, parsed_args):
        body = _client(self).request('GET', '/jobs/%s' % parsed_args.job)
        return COLUMNS, _row(body['job'])


class DeleteJob(command.Command):
    """Delete NEW or FAILed jobs."""

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument('jobs', metavar='<job>', nargs='+',
                            help='job id(s)')
        return parser

    def take_action(self, parsed_args):
        for job in parsed_args.jobs:
            _client(self).request('DELETE', '/jobs/%s' % job)


class RedoJob(command.ShowOne):
    """Run a NEW or FAILed job again now."""

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument('job', metavar='<job>', help='job id')
        return parser

    def take_action(self, parsed_args):
        body = _client(self).request('PUT', '/jobs/%s' % parsed_args.job)
        return COLUMNS, _row(body['job'])


class ListJobSchemas(v1.Lister):
    """List job types and the resource keys each one takes."""

    def take_action(self, parsed_args):
        schemas = _client(self).request('GET', '/jobs/schemas')['schemas']
        return ('type', 'resource', 'description'), [
            (s['type'], ', '.join(s['resource']), s.get('description', ''))
            for s in schemas]
