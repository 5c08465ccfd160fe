"""Errors the Tricircle plugins return through the Neutron API."""
from neutron_lib import exceptions as n_exc


class NetworkNotInRegion(n_exc.BadRequest):
    message = ('Network %(network_id)s is not available in region '
               '%(region)s; its availability zone hints are: %(hints)s.')


class AvailabilityZoneHintNotFound(n_exc.BadRequest):
    message = ('Availability zone hint %(hint)s is neither the region nor '
               'the availability zone of any registered pod.')
