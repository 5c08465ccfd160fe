"""Errors the Tricircle plugins return through the Neutron API."""
from neutron_lib import exceptions as n_exc


class NetworkNotInRegion(n_exc.BadRequest):
    message = ('Network %(network_id)s is not available in region '
               '%(region)s; its availability zone hints are: %(hints)s.')


class AvailabilityZoneHintNotFound(n_exc.BadRequest):
    message = ('Availability zone hint %(hint)s is neither the region nor '
               'the availability zone of any registered pod.')


class RegionNotConfigured(n_exc.NeutronException):
    message = ('The Tricircle local plugin needs [tricircle] '
               'local_region_name (or [nova] region_name).')


class UnknownRegion(n_exc.BadRequest):
    message = ('Region %(region)s is not registered as a pod in the '
               'Tricircle Admin API.')


class AddressInUseInRegion(n_exc.Conflict):
    message = ('IP address %(ip_address)s on network %(network_id)s '
               'belongs to a port bound in %(region)s.')
