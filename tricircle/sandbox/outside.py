"""The sandbox's outside world: the addresses north-south tests reach.

One namespace, ``tcsb<tag>-outside``, stands for the internet. It sits
on the physical network ``extnet``, which only the L3 host (the first
host) of each external region has in its OVS agent's bridge_mappings:
every external region's extnet is one L2 segment (the underlay's
extnet trunk bridge), and the outside is on it.

The outside answers on two external networks:

- ``203.0.113.1/24`` untagged (TEST-NET-3): a flat network on extnet;
- ``198.51.100.1/24`` on VLAN 101 (TEST-NET-2): a VLAN provider network
  on extnet with segment 101 (a region's own external network).

It forwards nothing and runs no process of its own for the recording:
an nftables set in its namespace collects the source address of every
IP packet it receives (``tricircle-sandbox outside seen``). This kernel
has no 802.1Q devices, so the VLAN is an access port of a small Open
vSwitch in the outside namespace (:mod:`tricircle.sandbox.outside_world`).

Only constants here; :mod:`.outside_world` builds it.
"""
from __future__ import annotations

import typing

# The physical network of the external networks (ML2 and bridge_mappings).
EXTNET = 'extnet'
# Used when "up" is given no --external-region.
DEFAULT_EXTERNAL_REGION = 'RegionOne'


class Address(typing.NamedTuple):
    ip: str
    prefixlen: int
    vlan: int | None    # None: untagged (a flat network)

    @property
    def cidr(self) -> str:
        return '%s/%d' % (self.ip, self.prefixlen)

    def describe(self) -> str:
        """``203.0.113.1/24 untagged`` or ``198.51.100.1/24 vlan 101``."""
        return '%s %s' % (self.cidr, 'untagged' if self.vlan is None
                          else 'vlan %d' % self.vlan)


PRIMARY = Address('203.0.113.1', 24, None)
VLAN_ADDRESS = Address('198.51.100.1', 24, 101)
ADDRESSES = (PRIMARY, VLAN_ADDRESS)

# The nftables set (in the outside's table) of the source addresses seen.
SEEN_SET = 'seen'
# "outside ping": one "ping -c 1 -W 1" after the other, this long.
PING_TIMEOUT = 10.0
