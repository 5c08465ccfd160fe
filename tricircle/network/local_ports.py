"""How a regional Neutron creates a port: its id, MAC and addresses are
central's, either proposed by the region and granted by central while both
create the port (see address_proposal), or asked of central first.

A mixin of the local plugin (tricircle.network.local_plugin), which
provides the central client, ML2's create and the copying helpers.
"""
from __future__ import annotations

import concurrent.futures

from neutron.ipam import exceptions as ipam_exc
from neutron_lib.api.definitions import portbindings
from neutron_lib import constants as n_const
from neutron_lib import exceptions as n_exc
from oslo_config import cfg
from oslo_utils import excutils
import tenacity

from tricircle.network import address_proposal
from tricircle.network import bottom
from tricircle.network import exceptions as t_exc
from tricircle.network import request_source


# Seconds a central-first create waits for a refused proposal here to give
# back the address central granted to it.
_PROPOSAL_GONE = 5.0


class PortCreateMixin:
    """The local plugin's port create, after the network is here."""

    # Central creates of proposed ports run here, beside the local create.
    _CENTRAL_CALLS = 16

    def _setup_port_create(self) -> None:
        self._central_pool = concurrent.futures.ThreadPoolExecutor(
            max_workers=self._CENTRAL_CALLS,
            thread_name_prefix='tricircle-central')
        self._proposer = address_proposal.Proposer(
            cfg.CONF.tricircle.proposal_min_free_addresses,
            central_gateway=self._central_gateway)

    def _create_port_here(self, context, attrs: dict) -> dict:
        created = self._create_port_as_proposed(context, attrs)
        if created is None:
            created = self._create_port_central_first(context, attrs)
        return created

    def _create_port_central_first(self, context, attrs: dict) -> dict:
        central_port, created_on_central = self._central_port_for(attrs)
        try:
            self._ensure_port_dependencies(context, central_port,
                                           network_ready=True)
            local = dict(attrs)
            local.update(bottom.port_body(central_port))
            for attempt in tenacity.Retrying(
                    retry=tenacity.retry_if_exception_type(
                        ipam_exc.IpAddressAlreadyAllocated),
                    stop=tenacity.stop_after_delay(_PROPOSAL_GONE),
                    wait=tenacity.wait_exponential(multiplier=0.05, max=0.5),
                    reraise=True):
                with attempt, self._internal():
                    # Central's address may still be held here by a
                    # concurrent proposal of it, which central refuses:
                    # that request deletes its port in a moment.
                    return self._ml2_create_port(context, {'port': local})
        except Exception:
            with excutils.save_and_reraise_exception():
                if created_on_central:
                    self.central.delete('port', central_port['id'])

    def _create_port_as_proposed(self, context, attrs: dict) -> dict | None:
        """Create the port here and on central at the same time (see
        address_proposal); None if not proposed or refused."""
        proposed = self._proposal_for(context, attrs)
        if proposed is None:
            return None
        proposal, body = proposed
        grant = address_proposal.Grant(proposal, self._central_pool.submit(
            self.central.create, 'port', body,
            headers={request_source.PORT_ID_HEADER: proposal.port_id}))
        local = dict(attrs, id=proposal.port_id,
                     mac_address=proposal.mac_address,
                     fixed_ips=proposal.fixed_ips)
        try:
            with self._internal():
                created = self._ml2_create_port(context, {'port': local})
        except (ipam_exc.IpAddressAlreadyAllocated, n_exc.MacAddressInUse):
            # A concurrent request here took the proposal.
            self._proposer.refused(proposal)
            self._withdraw(grant)
            return None
        except Exception:
            with excutils.save_and_reraise_exception():
                self._withdraw(grant)
        try:
            grant.wait(created)
        except Exception as exc:
            # Like a mechanism driver failing after the commit: the port
            # goes again.
            with self._internal():
                super().delete_port(context, created['id'],
                                    l3_port_check=False)
            self._withdraw(grant)
            if not isinstance(exc, address_proposal.Refused):
                raise
            if exc.address_taken:
                self._proposer.refused(proposal)
            return None  # central is asked first
        return created

    def _proposal_for(self, context, attrs: dict
                      ) -> tuple[address_proposal.Proposal, dict] | None:
        """A proposal for a new port and central's create body, or None
        when central is to be asked first."""
        def given(key):
            return attrs.get(key) not in (None, '',
                                          n_const.ATTR_NOT_SPECIFIED)

        owner = attrs.get('device_owner') or ''
        if (not cfg.CONF.tricircle.propose_port_addresses or
                given('fixed_ips') or given(portbindings.HOST_ID) or
                not (owner == '' or owner.startswith('compute:'))):
            return None
        if given('security_groups'):
            self._ensure_all(context, 'security_group',
                             attrs['security_groups'])
        elif not self._get_default_sg_id(context, attrs['project_id']):
            # The project's default group (central's, same id here) is
            # copied by the first port create that asks central first.
            return None
        mac = (attrs['mac_address'] if given('mac_address')
               else self._generate_macs()[0])
        proposal = self._proposer.propose(context.elevated(),
                                          attrs['network_id'], mac)
        if proposal is None:
            return None
        body = self._central_port_body(attrs)
        body.update(mac_address=proposal.mac_address,
                    fixed_ips=proposal.fixed_ips)
        return proposal, body

    def _central_gateway(self, subnet_id: str) -> str | None:
        subnet = self.central.get('subnet', subnet_id)
        if subnet is None:
            raise KeyError(subnet_id)
        return subnet.get('gateway_ip')

    def _withdraw(self, grant: address_proposal.Grant) -> None:
        """Delete central's port of a proposal that is not used here."""
        port = grant.created_port()
        if port is not None:
            self.central.delete('port', port['id'])

    def _central_port_for(self, attrs: dict) -> tuple[dict, bool]:
        """The central port a new local port copies, and whether it was
        created for it (rather than reserved on central beforehand)."""
        fixed_ips = attrs.get('fixed_ips')
        if fixed_ips is n_const.ATTR_NOT_SPECIFIED:
            fixed_ips = None
        if fixed_ips and all(ip.get('ip_address') for ip in fixed_ips):
            reserved = self._reserved_central_port(attrs, fixed_ips)
            if reserved is not None:
                return reserved, False
        body = self._central_port_body(attrs)
        if fixed_ips:
            # Central IPAM grants the addresses or refuses them (409).
            body['fixed_ips'] = fixed_ips
        return self.central.create('port', body), True

    @staticmethod
    def _central_port_body(attrs: dict) -> dict:
        return {k: attrs[k] for k in (
            'network_id', 'project_id', 'name', 'description',
            'admin_state_up', 'device_owner', 'device_id', 'mac_address',
            'security_groups', 'allowed_address_pairs',
            'port_security_enabled') if attrs.get(k) not in (
                None, n_const.ATTR_NOT_SPECIFIED)}

    def _reserved_central_port(self, attrs: dict,
                               fixed_ips: list) -> dict | None:
        """A central port made beforehand with exactly these addresses
        (``nova boot --nic port-id`` style), unless another region uses
        it already."""
        ip = fixed_ips[0]['ip_address']
        ports = self.central.list('port', network_id=attrs['network_id'],
                                  fixed_ips='ip_address=%s' % ip)
        wanted = {i['ip_address'] for i in fixed_ips}
        for candidate in ports:
            if wanted <= {i['ip_address'] for i in candidate['fixed_ips']}:
                binding = bottom.remote_binding(candidate)
                if binding and binding[0] != self.region_name:
                    raise t_exc.AddressInUseInRegion(
                        ip_address=', '.join(sorted(wanted)),
                        network_id=attrs['network_id'], region=binding[0])
                return candidate
        return None
