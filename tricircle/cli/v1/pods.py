"""``openstack multiregion networking pod ...``"""
from __future__ import annotations

from osc_lib.command import command

from tricircle.cli import v1

COLUMNS = ('pod_id', 'region_name', 'az_name', 'pod_az_name', 'dc_name',
           'health', 'last_seen')


def _client(cmd):
    return cmd.app.client_manager.multiregion_networking


class CreatePod(command.ShowOne):
    """Register a pod: the central region (no AZ) or a region."""

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument('--region-name', required=True,
                            help='region name of the pod')
        parser.add_argument('--availability-zone', default='',
                            help='availability zone of the pod; empty for '
                                 'the central pod')
        parser.add_argument('--pod-availability-zone', default='',
                            help='availability zone inside the region')
        parser.add_argument('--data-center', default='',
                            help='data center of the pod')
        return parser

    def take_action(self, parsed_args):
        pod = _client(self).request('POST', '/pods', {'pod': {
            'region_name': parsed_args.region_name,
            'az_name': parsed_args.availability_zone,
            'pod_az_name': parsed_args.pod_availability_zone,
            'dc_name': parsed_args.data_center}})['pod']
        return COLUMNS, tuple(pod.get(c) for c in COLUMNS)


class ListPods(v1.Lister):
    """List pods."""

    def take_action(self, parsed_args):
        pods = _client(self).request('GET', '/pods')['pods']
        return COLUMNS, [tuple(p.get(c) for c in COLUMNS) for p in pods]


class ShowPod(command.ShowOne):
    """Show a pod."""

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument('pod', metavar='<pod>', help='pod id')
        return parser

    def take_action(self, parsed_args):
        pod = _client(self).request('GET', '/pods/%s' % parsed_args.pod)
        return COLUMNS, tuple(pod['pod'].get(c) for c in COLUMNS)


class DeletePod(command.Command):
    """Delete pods."""

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument('pods', metavar='<pod>', nargs='+',
                            help='pod id(s)')
        return parser

    def take_action(self, parsed_args):
        for pod in parsed_args.pods:
            _client(self).request('DELETE', '/pods/%s' % pod)
