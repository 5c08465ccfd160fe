"""The agents each region lists, as ``openstack network agent list``."""
from __future__ import annotations

from tricircle.sandbox import hosts as sb_hosts
from tricircle.sandbox import state as sb_state


def region_agents(state: sb_state.SandboxState, region: str) -> list[dict]:
    """The region's agent rows: type, host, alive, binary."""
    conn = sb_hosts.neutron_connection(state, region)
    return [{'agent_type': a.agent_type, 'host': a.host,
             'alive': a.is_alive, 'binary': a.binary,
             'admin_state_up': a.is_admin_state_up}
            for a in conn.network.agents()]


def missing_agents(state: sb_state.SandboxState,
                   expected: dict[str, set[tuple[str, str]]]
                   ) -> set[tuple[str, str, str]]:
    """(region, agent type, host) of the expected agents not alive yet."""
    missing = set()
    for region, wanted in expected.items():
        try:
            alive = {(a['agent_type'], a['host'])
                     for a in region_agents(state, region) if a['alive']}
        except Exception:  # the server may still be starting
            alive = set()
        missing |= {(region, t, h) for t, h in wanted - alive}
    return missing


def table(state: sb_state.SandboxState) -> list[str]:
    """Lines for ``status``: every region's agents with their state."""
    lines = []
    for region in state.regions:
        try:
            rows = region_agents(state, region)
        except Exception as exc:
            lines.append('  %-10s agents unknown: %s' % (region, exc))
            continue
        for a in sorted(rows, key=lambda a: (a['host'], a['agent_type'])):
            lines.append('  %-10s %-22s %-26s %s' % (
                region, a['host'], a['agent_type'],
                ':-)' if a['alive'] else 'XXX (no heartbeat)'))
    return lines
