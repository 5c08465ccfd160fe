"""Start one of Neutron's own agents for the sandbox.

    python -m tricircle.sandbox.agent_main ovs|l3 --config-file FILE

``ovs``: neutron-openvswitch-agent with its privileged calls made in
its own process (it runs as root already): no privsep daemons, about
150 MB less per host. ``l3``: neutron-l3-agent as it is (in-process
privsep made its worker restart over and over).
"""
from __future__ import annotations

import sys


def _privileged_in_process() -> None:
    """Every privsep context of Neutron runs its calls here, not in a
    daemon: what oslo.privsep's own tests do."""
    from neutron import privileged
    from oslo_privsep import priv_context
    for value in vars(privileged).values():
        if isinstance(value, priv_context.PrivContext):
            value.set_client_mode(False)


def main() -> None:
    kind, args = sys.argv[1], sys.argv[2:]
    sys.argv = [sys.argv[0]] + args
    if kind == 'ovs':
        # Imported first: it monkey-patches with eventlet, as the
        # console script does.
        from neutron.cmd.agents import ovs_neutron_agent
        _privileged_in_process()
        sys.exit(ovs_neutron_agent.main())
    if kind == 'l3':
        from neutron.cmd.agents import l3
        sys.exit(l3.main())
    sys.exit('usage: agent_main ovs|l3 --config-file FILE')


if __name__ == '__main__':
    main()
