"""What a running sandbox is: ``sandbox.json`` and ``clouds.yaml``."""
from __future__ import annotations

import dataclasses
import json
import os
from typing import Any

import yaml

CENTRAL_REGION = 'CentralRegion'
STATE_FILE = 'sandbox.json'
CLOUDS_FILE = 'clouds.yaml'
LOGS_DIR = 'logs'
_ORDINALS = ('One', 'Two', 'Three', 'Four', 'Five', 'Six', 'Seven',
             'Eight', 'Nine')


def region_names(count: int) -> list[str]:
    """RegionOne, RegionTwo, ... as in a devstack multi-region cloud."""
    return ['Region' + (_ORDINALS[i] if i < len(_ORDINALS) else str(i + 1))
            for i in range(count)]


def region_az(region: str) -> str:
    """The availability zone the sandbox gives a region's pod."""
    return 'az-' + region


@dataclasses.dataclass
class SandboxState:
    state_dir: str
    db: str = 'sqlite'
    plain: bool = False
    central: dict[str, str] | None = None
    regions: dict[str, dict[str, str]] = dataclasses.field(
        default_factory=dict)
    admin_api: str | None = None
    keystone: str | None = None
    pids: dict[str, int] = dataclasses.field(default_factory=dict)
    postgres: dict[str, Any] | None = None
    tricircle_db: str | None = None
    # region -> its Neutron database URL (the host agents report there)
    neutron_dbs: dict[str, str] = dataclasses.field(default_factory=dict)
    # process name (as in pids) -> its log file
    logs: dict[str, str] = dataclasses.field(default_factory=dict)
    # Who wires the hosts: 'ovs' (Neutron's own agents, over RabbitMQ)
    # or 'lite' (the sandbox's host agent); older states had only lite.
    agents: str = 'lite'
    # The private RabbitMQ of an 'ovs' sandbox: port, user, password.
    rabbit: dict[str, Any] | None = None
    # process name -> what its command line holds instead of the state
    # dir (epmd, the relay: their arguments cannot name it)
    markers: dict[str, str] = dataclasses.field(default_factory=dict)
    # Regions whose L3 host has extnet, the outside world's physnet
    # (tricircle.sandbox.outside); [] without one (older states, lite).
    external_regions: list[str] = dataclasses.field(default_factory=list)

    @property
    def path(self) -> str:
        return os.path.join(self.state_dir, STATE_FILE)

    @property
    def logs_dir(self) -> str:
        return os.path.join(self.state_dir, LOGS_DIR)

    def log_of(self, name: str) -> str:
        """The log file of process ``name`` (older states did not say)."""
        return self.logs.get(name) or os.path.join(self.logs_dir,
                                                   name + '.log')

    def pid_marker(self, name: str) -> str:
        """A string in the command line of process ``name``: tells it
        from an unrelated process that reused its PID."""
        if name == 'postgres' and self.postgres:
            return self.postgres['data_dir']  # it runs outside the dir
        return self.markers.get(name) or self.state_dir

    def save(self) -> None:
        data = dataclasses.asdict(self)
        data.pop('state_dir')
        tmp = self.path + '.tmp'
        with open(tmp, 'w') as f:
            json.dump(data, f, indent=2, sort_keys=True)
        os.replace(tmp, self.path)

    @classmethod
    def load(cls, state_dir: str) -> SandboxState | None:
        state_dir = os.path.abspath(state_dir)
        try:
            with open(os.path.join(state_dir, STATE_FILE)) as f:
                data = json.load(f)
        except FileNotFoundError:
            return None
        fields = {f.name for f in dataclasses.fields(cls)}
        return cls(state_dir=state_dir,
                   **{k: v for k, v in data.items() if k in fields})

    def write_clouds_yaml(self) -> str:
        """openstacksdk clouds: ``central`` and one per region (noauth)."""
        clouds = {}
        endpoints = dict((name, r['neutron'])
                         for name, r in self.regions.items())
        if self.central:
            endpoints = {'central': self.central['neutron'], **endpoints}
        for cloud, url in endpoints.items():
            clouds[cloud] = {
                'auth_type': 'none',
                'auth': {'endpoint': url},
                'network_endpoint_override': url,
                'region_name': (CENTRAL_REGION if cloud == 'central'
                                else cloud),
            }
        if self.admin_api and 'central' in clouds:
            # For "openstack multiregion networking ..." (no catalog here).
            clouds['central']['tricircle_api_url'] = self.admin_api
        path = os.path.join(self.state_dir, CLOUDS_FILE)
        with open(path, 'w') as f:
            yaml.safe_dump({'clouds': clouds}, f, default_flow_style=False)
        return path
