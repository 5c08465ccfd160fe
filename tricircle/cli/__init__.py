"""The ``openstack multiregion networking ...`` commands (an OSC plugin)."""
