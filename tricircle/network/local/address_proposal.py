"""A region proposes a new port's id, MAC and address; central grants them.

Asking central for "any address" first and creating the port here after
makes a region's port create cost two full Neutron creates, one after the
other. Instead the region proposes an address it sees free (its own ports,
copies and shadow ports are all it knows) and creates the port here while
central creates it with the same id, MAC and address. Central's IPAM stays
the one authority: it grants the proposal, or refuses it (the address is
used in another region). The port is returned to the user only once
granted; a refused port is deleted here again, as ML2 deletes a port whose
mechanism driver fails after the commit, and central is asked first.

Only the common case is proposed: one IPv4 subnet, ordinary unbound ports,
and enough free addresses that proposals rarely collide.
"""
from __future__ import annotations

import collections
import concurrent.futures
import dataclasses
import random
import threading
from typing import Callable

import netaddr
from neutron.db import models_v2
from neutron_lib.db import api as db_api
from oslo_log import log as logging
from oslo_utils import uuidutils

from tricircle.resources import neutron_client

LOG = logging.getLogger(__name__)

# Remembered refusals per subnet, at most: they are only hints.
_REFUSED_PER_SUBNET = 512
# Central's errors when another port holds the proposed address or MAC.
_TAKEN = ('IpAddressAlreadyAllocated', 'MacAddressInUse')


@dataclasses.dataclass(frozen=True)
class Proposal:
    port_id: str
    subnet_id: str
    ip_address: str
    mac_address: str

    @property
    def fixed_ips(self) -> list[dict]:
        return [{'subnet_id': self.subnet_id,
                 'ip_address': self.ip_address}]


class Refused(Exception):
    """Central did not grant the proposal."""

    def __init__(self, address_taken: bool = False) -> None:
        super().__init__()
        # The address is used elsewhere (rather than, say, over quota).
        self.address_taken = address_taken


def pick_address(pools: list[tuple[str, str]], taken: set[str],
                 min_free: int, rng: random.Random = random) -> str | None:
    """A random address of ``pools`` not in ``taken``; None when fewer
    than ``min_free`` are left (proposals would collide too often)."""
    free = netaddr.IPSet(netaddr.IPRange(start, end) for start, end in pools)
    for address in taken:
        free.remove(address)
    if free.size < max(min_free, 1):
        return None
    # Random, as Neutron's IPAM does, so that concurrent requests rarely
    # propose the same address.
    index = rng.randrange(free.size)
    for ip_range in free.iter_ipranges():
        if index < ip_range.size:
            return str(ip_range[index])
        index -= ip_range.size
    return None  # not reached: index < free.size


class Proposer:
    """Proposals of one regional Neutron server."""

    def __init__(self, min_free: int,
                 central_gateway: Callable[[str], str | None]) -> None:
        """``central_gateway(subnet_id)``: central's own gateway address
        of the subnet (KeyError if central has no such subnet). A region's
        pools hold it (bottom.subnet_body), but it is no port's address."""
        self.min_free = min_free
        self._central_gateway = central_gateway
        self._central_gateways: dict[str, str | None] = {}
        self._refused: dict[str, collections.OrderedDict] = {}
        self._lock = threading.Lock()

    def propose(self, context, network_id: str,
                mac_address: str) -> Proposal | None:
        """A proposal for a new port on ``network_id``, or None."""
        with db_api.CONTEXT_READER.using(context):
            subnets = context.session.query(
                models_v2.Subnet.id, models_v2.Subnet.ip_version,
                models_v2.Subnet.gateway_ip).filter_by(
                    network_id=network_id).all()
            if len(subnets) != 1 or subnets[0].ip_version != 4:
                return None
            subnet = subnets[0]
            pools = [(p.first_ip, p.last_ip) for p in context.session.query(
                models_v2.IPAllocationPool).filter_by(subnet_id=subnet.id)]
            used = {row.ip_address for row in context.session.query(
                models_v2.IPAllocation.ip_address).filter_by(
                    subnet_id=subnet.id)}
        try:
            central_gateway = self._central_gateway_of(subnet.id)
        except KeyError:
            return None  # gone from central: central will say so
        taken = used | self._refused_on(subnet.id)
        taken |= {gateway for gateway in (subnet.gateway_ip, central_gateway)
                  if gateway}
        address = pick_address(pools, taken, self.min_free)
        if address is None:
            return None
        return Proposal(uuidutils.generate_uuid(), subnet.id, address,
                        mac_address)

    def _central_gateway_of(self, subnet_id: str) -> str | None:
        # Gateways do not change (a subnet in use keeps its gateway): one
        # lookup per subnet and server process.
        if subnet_id not in self._central_gateways:
            self._central_gateways[subnet_id] = self._central_gateway(
                subnet_id)
        return self._central_gateways[subnet_id]

    def refused(self, proposal: Proposal) -> None:
        """Remember an address taken in another region (or by a
        concurrent request here): it is not proposed again."""
        with self._lock:
            refused = self._refused.setdefault(proposal.subnet_id,
                                               collections.OrderedDict())
            refused[proposal.ip_address] = None
            while len(refused) > _REFUSED_PER_SUBNET:
                refused.popitem(last=False)

    def _refused_on(self, subnet_id: str) -> set[str]:
        with self._lock:
            return set(self._refused.get(subnet_id, ()))


class Grant:
    """Central's answer to a proposal, awaited before the port is
    returned to the user."""

    def __init__(self, proposal: Proposal,
                 future: concurrent.futures.Future) -> None:
        self.proposal = proposal
        self._future = future

    def wait(self, local_port: dict) -> dict:
        """Central's port, once it matches ``local_port`` (the copy being
        created here); Refused if central did not grant the proposal."""
        try:
            port = self._future.result()
        except (neutron_client.RemoteConflict,
                neutron_client.RemoteBadRequest) as exc:
            LOG.info('central refused the proposal %s: %s; asking central '
                     'first', self.proposal, exc)
            raise Refused(address_taken=any(
                name in str(exc) for name in _TAKEN)) from exc
        differences = _differences(port, local_port)
        if differences:
            # e.g. a central server that ignores proposed ids, or a subnet
            # (IPv6 SLAAC) this region has not copied yet.
            LOG.warning('central made port %s unlike the proposal (%s): '
                        'asking central first', port['id'],
                        ', '.join(differences))
            raise Refused()
        return port

    def created_port(self) -> dict | None:
        """The port central made for this proposal, whatever happened
        here (waits for central's answer)."""
        try:
            return self._future.result()
        except Exception:  # noqa: central made nothing
            return None


def _differences(central: dict, local: dict) -> list[str]:
    def addresses(port):
        return {(ip['subnet_id'], ip['ip_address'])
                for ip in port.get('fixed_ips') or []}

    checks = {'id': (central['id'], local['id']),
              'mac_address': (central['mac_address'], local['mac_address']),
              'fixed_ips': (addresses(central), addresses(local)),
              'security_groups': (set(central.get('security_groups') or []),
                                  set(local.get('security_groups') or []))}
    return [key for key, (theirs, ours) in checks.items() if theirs != ours]
