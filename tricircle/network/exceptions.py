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


class PortReserved(n_exc.InUse):
    message = ('Port %(port_id)s holds an address Tricircle reserves (a '
               "region's gateway or a subnet's DHCP address); it cannot be "
               'updated or deleted.')


class ReservedDeviceId(n_exc.BadRequest):
    message = ('device_id %(device_id)s is reserved for the ports '
               'Tricircle makes.')


class PortInOtherRegion(n_exc.Conflict):
    message = 'Port %(port_id)s lives in region %(region)s.'


class CreateOnCentral(n_exc.NotAuthorized):
    message = ('%(resource)s are created on the central Neutron '
               '(%(central)s), not in region %(region)s: create it there '
               'and use it here by its id.')


class ChangeOnCentral(n_exc.NotAuthorized):
    message = ('%(resource)s are changed on the central Neutron '
               '(%(central)s), not in region %(region)s: the copies here '
               'follow central\'s.')


class RoutersOnCentral(n_exc.NotAuthorized):
    message = ('Routers are managed on the central Neutron (%(central)s); '
               "a region's routers are Tricircle's copies of them.")


class RouterNetworkNotInRegion(n_exc.BadRequest):
    message = ('Router %(router_id)s exists only in region %(region)s '
               '(its availability zone hint), and network %(network_id)s '
               'may not be there (its hints: %(hints)s).')


class ExternalNetworkNotInOneRegion(n_exc.BadRequest):
    message = ('An external network lives in exactly one region: network '
               '%(network_id)s needs one region in its availability zone '
               'hints (it has: %(hints)s).')


class DeviceOwnerReserved(n_exc.NotAuthorized):
    message = ('Device owner %(device_owner)s is Tricircle\'s own (the '
               'proxy ports of floating IPs); only services set it.')
