"""Every name the data plane gives a namespace or a link.

A fabric is identified by a *tag*: exactly 4 characters of ``[0-9a-z]``
(the sandbox derives it from a hash of its state dir). Everything it
creates starts with ``tcsb<tag>``, so two sandboxes on one machine never
collide and cleanup finds its own by name alone. The tag has a fixed
length, so one tag's prefix is never the prefix of another tag's names.

Namespaces (no length limit that matters here):
  ``tcsb<tag>-ul``          the underlay (bridges joining all hosts)
  ``tcsb<tag>-h-<host>``    a compute host
  ``tcsb<tag>-vm-<vm>``     a VM
  ``tcsb<tag>-outside``     the outside world (``tricircle.sandbox.outside``)
  (characters outside ``[A-Za-z0-9_.-]`` in host/VM names become ``_``)

Links (the kernel allows at most 15 characters, IFNAMSIZ - 1):
  ``tcsb`` + tag (4) + one letter for the kind + the first 6 hex digits
  of sha1 of the key the link is for ("host", "vni", "host/physnet/vid",
  ...) = exactly 15 characters. Names are stable across processes and
  runs, which is what lets a fresh ``Fabric`` find what another made.
  The 24-bit hash makes a clash between two links of one kind in one
  sandbox about n^2 / 2^25 likely (n = 100 links: 0.03 %).
  Changing this scheme would orphan the links of running sandboxes.

In the outside namespace (an Open vSwitch of its own, as on the hosts):
  ``tcsb<tag>-out``         its bridge (the untagged address)
  ``tcsb<tag>-o<vid>``      its internal port on VLAN vid
and its nftables table ``tcsb<tag>_outside``.
"""
from __future__ import annotations

import hashlib
import re

PREFIX = 'tcsb'
TAG_LEN = 4
IFNAMSIZ = 15          # usable characters of a Linux interface name
HASH_LEN = IFNAMSIZ - len(PREFIX) - TAG_LEN - 1
_SAFE = re.compile(r'[^A-Za-z0-9_.-]')

# Link kinds: one letter each, after the tag.
UNDERLAY_BRIDGE = 'B'     # in the underlay namespace
UNDERLAY_HOST_END = 'u'   # host's uplink, underlay end
HOST_UPLINK = 'U'         # host's uplink, host end (the VTEP interface)
VXLAN_BRIDGE = 'b'        # a host's bridge of a VXLAN network
VXLAN_DEVICE = 'x'        # the host's vxlan device, enslaved to it
SEGMENT_BRIDGE = 'S'      # a VLAN/flat segment, in the underlay namespace
SEGMENT_HOST_END = 'p'    # host's leg into a segment, host end
SEGMENT_UL_END = 'q'      # the same leg, underlay end
VLAN_BRIDGE = 'v'         # a host's bridge of a VLAN/flat network
VM_TAP = 't'              # a VM's veth, host end (the VM end is eth0)
PLACEHOLDER = 'w'         # a host's placeholder port on br-int, at up
OUTSIDE_LEG = 'o'         # the outside's leg into a physnet, outside end
OUTSIDE_UL_END = 'O'      # the same leg, underlay end (on the trunk)
KINDS = (UNDERLAY_BRIDGE, UNDERLAY_HOST_END, HOST_UPLINK, VXLAN_BRIDGE,
         VXLAN_DEVICE, SEGMENT_BRIDGE, SEGMENT_HOST_END, SEGMENT_UL_END,
         VLAN_BRIDGE, VM_TAP, PLACEHOLDER, OUTSIDE_LEG, OUTSIDE_UL_END)


def check_tag(tag: str) -> str:
    if not re.fullmatch(r'[0-9a-z]{%d}' % TAG_LEN, tag or ''):
        raise ValueError('a fabric tag is %d lowercase letters or digits '
                         '(link names have room for no more): %r'
                         % (TAG_LEN, tag))
    return tag


def prefix(tag: str) -> str:
    """What every namespace and link name of the fabric starts with."""
    return PREFIX + check_tag(tag)


def namespace_prefix(tag: str) -> str:
    return prefix(tag) + '-'


def underlay_ns(tag: str) -> str:
    return prefix(tag) + '-ul'


def host_ns(tag: str, host: str) -> str:
    return '%s-h-%s' % (prefix(tag), _SAFE.sub('_', host))


def vm_ns(tag: str, vm: str) -> str:
    return '%s-vm-%s' % (prefix(tag), _SAFE.sub('_', vm))


def outside_ns(tag: str) -> str:
    return prefix(tag) + '-outside'


def outside_bridge(tag: str) -> str:
    return prefix(tag) + '-out'


def outside_vlan_port(tag: str, vid: int) -> str:
    name = '%s-o%d' % (prefix(tag), vid)
    assert len(name) <= IFNAMSIZ, name
    return name


def nft_table(tag: str, what: str) -> str:
    """An nftables table name (letters, digits, '_'): tcsb<tag>_what."""
    return '%s_%s' % (prefix(tag), what)


def link(tag: str, kind: str, *key: object) -> str:
    """The 15-character name of the ``kind`` link for ``key``."""
    if kind not in KINDS:
        raise ValueError('unknown link kind %r' % kind)
    digest = hashlib.sha1('/'.join(map(str, key)).encode()).hexdigest()
    name = prefix(tag) + kind + digest[:HASH_LEN]
    assert len(name) == IFNAMSIZ, name
    return name
