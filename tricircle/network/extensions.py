"""API extensions that neither central nor the regions advertise."""
from __future__ import annotations

from neutron_lib.api.definitions import qinq
from neutron_lib.api.definitions import vlantransparent

# Nothing in a region carries a tenant's own VLAN tags end to end yet:
# central and regions do not advertise what they cannot keep.
UNSUPPORTED = frozenset({qinq.ALIAS, vlantransparent.ALIAS})


def supported(extensions: set) -> set:
    """What a Tricircle mechanism driver supports of ``extensions``."""
    return set(extensions) - UNSUPPORTED
