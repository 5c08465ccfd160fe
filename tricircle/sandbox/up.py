"""``tricircle-sandbox up``: a named sequence of small steps.

central Neutron (central plugin) + N regional Neutrons (local plugin over
ML2) + the Admin API, on 127.0.0.1, with SQLite or a private PostgreSQL.

``up`` never touches a sandbox it did not start: if the state dir holds
one (running or not), or another ``up`` works on it, it raises
:class:`AlreadyUp` before it changes anything.
"""
from __future__ import annotations

import concurrent.futures
import fcntl
import json
import os
import shutil
import sys
import time
import urllib.error
import urllib.request
from typing import Callable

from tricircle.sandbox import db_steps
from tricircle.sandbox import down as sb_down
from tricircle.sandbox import host_steps
from tricircle.sandbox import keystone as sb_keystone
from tricircle.sandbox import neutron_conf
from tricircle.sandbox import processes
from tricircle.sandbox import state as sb_state

START_TIMEOUT = 60.0
# For tests: fail right after the named step, as a broken step would.
FAIL_AFTER_ENV = 'TRICIRCLE_SANDBOX_TEST_FAIL_AFTER'


class SandboxError(RuntimeError):
    pass


class AlreadyUp(SandboxError):
    """The state dir is taken; nothing was changed."""


def check_state_dir_free(state_dir: str, hint: Callable[[str], str]
                         ) -> None:
    """Raise :class:`AlreadyUp` if ``state_dir`` holds a sandbox.

    ``hint(command)`` spells a sandbox command for this state dir.
    """
    existing = sb_state.SandboxState.load(state_dir)
    if existing is None:
        return
    alive = sb_down.running(existing)
    dead = [n for n in existing.pids if n not in alive]
    where = os.path.abspath(state_dir)
    if alive and not dead:
        raise AlreadyUp('a sandbox is already up in %s; nothing was '
                        'changed. "%s" shows it, "%s" stops it' % (
                            where, hint('status'), hint('down')))
    if alive:
        raise AlreadyUp('a sandbox in %s is up but %s stopped (log: %s); '
                        '"%s" stops the rest and keeps the logs' % (
                            where, dead[0], existing.log_of(dead[0]),
                            hint('down')))
    raise AlreadyUp('%s holds a sandbox whose processes are all gone '
                    '(after a reboot?); "%s" clears it and keeps the logs'
                    % (where, hint('down')))


def external_regions(requested: list[str] | None, regions: list[str],
                     agents: str) -> list[str]:
    """The regions whose L3 host gets the outside world's physnet:
    ``requested`` (``--external-region``, repeats dropped) checked
    against the sandbox's ``regions``; RegionOne when not given. Only
    Neutron's own agents have an L3 agent: none with lite."""
    from tricircle.sandbox import outside
    if agents != host_steps.AGENTS_OVS:
        if requested:
            raise SandboxError('--external-region needs --agents ovs (the '
                               'L3 agent)')
        return []
    wanted = list(dict.fromkeys(requested or
                                [outside.DEFAULT_EXTERNAL_REGION]))
    unknown = [r for r in wanted if r not in regions]
    if unknown:
        raise SandboxError('--external-region %s: not a region of this '
                           'sandbox (%s)' % (unknown[0], ', '.join(regions)))
    return wanted


# Owner of Tricircle's own resources on central when there is no Keystone.
SERVICE_PROJECT = 'tricircle-service'
# [xjob] audit_interval of the sandbox's XJob (seconds).
AUDIT_INTERVAL = 10


class Up(sb_keystone.KeystoneSteps, db_steps.DatabaseSteps,
         host_steps.HostSteps):
    """Bring a sandbox up; :meth:`run` returns the saved state."""

    def __init__(self, state_dir: str, regions: int = 2, db: str = 'sqlite',
                 plain: bool = False, keystone: bool = False,
                 out=print, agents: str = host_steps.AGENTS_LITE,
                 external: list[str] | None = None,
                 audit_interval: float = AUDIT_INTERVAL) -> None:
        if agents == host_steps.AGENTS_OVS and db == 'sqlite':
            # The agents write too (state reports): SQLite locks.
            raise SandboxError('--agents ovs needs --db postgresql: the '
                               'agents and the API write the same '
                               'database, which SQLite serializes')
        self.state = sb_state.SandboxState(
            state_dir=os.path.abspath(state_dir), db=db, plain=plain,
            agents=agents)
        self.region_names = sb_state.region_names(1 if plain else regions)
        self.state.external_regions = external_regions(
            external, self.region_names, agents)
        self.out = out
        self.audit_interval = audit_interval
        self.etc = os.path.join(self.state.state_dir, 'etc')
        self.logs = os.path.join(self.state.state_dir, 'logs')
        self.data = os.path.join(self.state.state_dir, 'data')
        self.db_urls: dict[str, str] = {}
        self.servers: dict[str, tuple[list[str], str, str]] = {}
        self._t0 = time.monotonic()
        if keystone:
            self.keystone = sb_keystone.SandboxKeystone.create(
                self.state.state_dir)

    @property
    def steps(self):
        steps = [self.prepare_dirs]
        if self._ovs:
            steps.append(self.start_broker)
        if self.keystone:
            steps.append(self.start_keystone)
        steps += [self.start_database, self.create_neutron_databases]
        if not self.state.plain:
            steps.append(self.create_tricircle_database)
        steps.append(self.write_neutron_configs)
        if self.keystone:
            steps.append(self.protect_with_keystone)
        steps.append(self.start_servers)
        if self.keystone:
            steps.append(self.create_keystone_catalog)
        steps.append(self.seed_default_security_group_rules)
        if not self.state.plain:
            steps.append(self.register_pods)
        steps.append(self.write_client_config)
        return steps + self.host_steps()

    @property
    def _ovs(self) -> bool:
        return self.state.agents == host_steps.AGENTS_OVS

    def run(self) -> sb_state.SandboxState:
        os.makedirs(self.state.state_dir, exist_ok=True)
        # Held until this process exits: a second "up" on the same dir
        # refuses instead of racing this one.
        self._lock = os.open(self.state.state_dir, os.O_RDONLY)
        try:
            fcntl.flock(self._lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise AlreadyUp('another "tricircle-sandbox up" is bringing a '
                            'sandbox up in %s' % self.state.state_dir)
        fail_after = os.environ.get(FAIL_AFTER_ENV)
        for step in self.steps:
            started = time.monotonic()
            self.out('[%5.1fs] %s ...' % (self._elapsed(),
                                          step.__name__.replace('_', ' ')))
            step()
            self.state.save()
            self.out('        done in %.1fs' % (time.monotonic() - started))
            if step.__name__ == fail_after:
                raise SandboxError('failing after %s, as %s asks' % (
                    fail_after, FAIL_AFTER_ENV))
        self.out('sandbox up in %.1fs' % self._elapsed())
        total = 0.0
        for name, pid in self.state.pids.items():
            mem = processes.pss_mib(pid)
            total += mem
            self.out('  %-30s pid %-7d PSS %7.1f MiB' % (name, pid, mem))
        self.out('  %-30s             %7.1f MiB (with children)'
                 % ('total', total))
        return self.state

    def _elapsed(self) -> float:
        return time.monotonic() - self._t0

    # -- steps --------------------------------------------------------------
    def prepare_dirs(self) -> None:
        # Again under the lock: the caller's check ran without it.
        check_state_dir_free(self.state.state_dir,
                             lambda cmd: 'tricircle-sandbox ' + cmd)
        for sub in (self.etc, self.logs, self.data):
            shutil.rmtree(sub, ignore_errors=True)
            os.makedirs(sub)
        os.chmod(self.state.state_dir, 0o755)

    def write_neutron_configs(self) -> None:
        shared = neutron_conf.write_shared(self.etc)
        serialize = self.state.db == 'sqlite'
        region_ports = {r: processes.free_port() for r in self.region_names}
        region_urls = {r: 'http://127.0.0.1:%d' % p
                       for r, p in region_ports.items()}
        central_url = None
        if not self.state.plain:
            port = processes.free_port()
            central_url = 'http://127.0.0.1:%d' % port
            conf = neutron_conf.write_server(
                self.etc, 'central', neutron_conf.CENTRAL,
                self.db_urls['neutron_central'],
                os.path.join(self.data, 'central'),
                tricircle_db_url=self.db_urls['tricircle'],
                region_urls=region_urls, wake_url=self.wake_url)
            self._add_neutron('neutron-central', port, [shared, conf],
                              serialize)
            self.state.central = {'neutron': central_url}
        role = neutron_conf.PLAIN if self.state.plain else neutron_conf.LOCAL
        for region in self.region_names:
            conf = neutron_conf.write_server(
                self.etc, region, role,
                self.db_urls['neutron_%s' % region.lower()],
                os.path.join(self.data, region), central_url=central_url,
                transport_url=self.transport_url(region) if self._ovs
                else None)
            self._add_neutron('neutron-%s' % region, region_ports[region],
                              [shared, conf], serialize)
            if self._ovs:
                self.rpc_server(region, [shared, conf])
            self.state.regions[region] = {'neutron': region_urls[region]}
            self.state.neutron_dbs[region] = \
                self.db_urls['neutron_%s' % region.lower()]
        if not self.state.plain:
            self._add_admin_api()
            self._add_xjob(central_url, region_urls)

    def _add_admin_api(self) -> None:
        port = processes.free_port()
        conf = os.path.join(self.etc, 'tricircle-api.conf')
        with open(conf, 'w') as f:
            f.write('[DEFAULT]\ntricircle_db_connection = %s\n'
                    'bind_host = 127.0.0.1\nbind_port = %d\n'
                    'auth_strategy = noauth\n'
                    % (self.db_urls['tricircle'], port))
            if self.wake_url:
                f.write('[xjob]\ntransport_url = %s\n' % self.wake_url)
        url = 'http://127.0.0.1:%d' % port
        self.servers['tricircle-api'] = (
            [processes.console_script('tricircle-api'), '--config-file', conf], url,
            os.path.join(self.logs, 'tricircle-api.log'))
        self.state.admin_api = url

    def _add_xjob(self, central_url: str,
                  region_urls: dict[str, str]) -> None:
        conf = os.path.join(self.etc, 'tricircle-xjob.conf')
        with open(conf, 'w') as f:
            f.write('[DEFAULT]\ntricircle_db_connection = %s\n'
                    '[client]\ncentral_neutron_url = %s\n'
                    'central_region_name = %s\nregion_endpoints = %s\n'
                    # Three: a router_setup waiting for a router's head
                    # start holds one, the shadow ports the head start
                    # asks for need another.
                    '[xjob]\nworkers = 3\npoll_interval = 0.2\n'
                    'retry_interval = 1\nretry_max_interval = 30\n'
                    # A hung region shows as down within a few seconds.
                    'pod_probe_interval = 2\n'
                    # Audit often: tests wait for repairs in two passes.
                    'audit_interval = %s\naudit_repair_wait = 20\n'
                    # Runs refresh their hold while they work: a daemon
                    # killed mid-run is taken over soon.
                    'job_run_expire = 15\n'
                    '%s'
                    % (self.db_urls['tricircle'], central_url,
                       sb_state.CENTRAL_REGION,
                       ','.join('%s:%s' % kv for kv in region_urls.items()),
                       self.audit_interval,
                       'transport_url = %s\n' % self.wake_url
                       if self.wake_url else ''))
            if self.keystone is None:
                # Without Keystone no token names the service project.
                f.write('service_project_id = %s\n' % SERVICE_PROJECT)
        # No HTTP port: ready when it logs that it started.
        self.servers['tricircle-xjob'] = (
            [processes.console_script('tricircle-xjob'), '--config-file', conf], None,
            os.path.join(self.logs, 'tricircle-xjob.log'))

    def _add_neutron(self, name: str, port: int, confs: list[str],
                     serialize: bool) -> None:
        argv = [sys.executable, '-m', 'tricircle.sandbox.neutron_server',
                '--port', str(port)]
        if serialize:
            argv.append('--serialize')
        argv.append('--')
        for conf in confs:
            argv += ['--config-file', conf]
        self.servers[name] = (argv, 'http://127.0.0.1:%d/' % port,
                              os.path.join(self.logs, name + '.log'))

    def start_servers(self) -> None:
        for name, (argv, _url, log) in self.servers.items():
            self.state.pids[name] = processes.launch(argv, log)
            self.state.logs[name] = log
        self.state.save()

        def _wait(name):
            _argv, url, log = self.servers[name]
            pid = self.state.pids[name]
            if url is None:
                # XJob logs that it started; an RPC server that it starts
                # (the agents, waited for later, show that it serves).
                text = 'AMQP RPC server starting' if \
                    name.startswith('neutron-rpc-') else 'started'
                return name, processes.wait_log(log, text, pid,
                                                START_TIMEOUT)
            return name, processes.wait_http(url, pid, START_TIMEOUT, log)
        with concurrent.futures.ThreadPoolExecutor(len(self.servers)) as ex:
            for name, waited in ex.map(_wait, list(self.servers)):
                self.out('        %-22s answers after %.1fs' % (name,
                                                                waited))

    def seed_default_security_group_rules(self) -> None:
        """The rule templates that Neutron's migrations would insert."""
        templates = [
            {'direction': 'egress', 'ethertype': 'IPv4',
             'used_in_default_sg': True, 'used_in_non_default_sg': True},
            {'direction': 'egress', 'ethertype': 'IPv6',
             'used_in_default_sg': True, 'used_in_non_default_sg': True},
            {'direction': 'ingress', 'ethertype': 'IPv4',
             'remote_group_id': 'PARENT', 'used_in_default_sg': True,
             'used_in_non_default_sg': False},
            {'direction': 'ingress', 'ethertype': 'IPv6',
             'remote_group_id': 'PARENT', 'used_in_default_sg': True,
             'used_in_non_default_sg': False},
        ]
        urls = [r['neutron'] for r in self.state.regions.values()]
        if self.state.central:
            urls.append(self.state.central['neutron'])
        for url in urls:
            for rule in templates:
                http_json('POST', url + '/v2.0/default-security-group-rules',
                          {'default_security_group_rule': rule},
                          token=self.admin_token())

    def register_pods(self) -> None:
        api = self.state.admin_api + '/v1.0/pods'
        token = self.admin_token()
        http_json('POST', api, {'pod': {
            'region_name': sb_state.CENTRAL_REGION, 'az_name': ''}},
            token=token)
        for region in self.region_names:
            az = sb_state.region_az(region)
            http_json('POST', api, {'pod': {
                'region_name': region, 'az_name': az, 'pod_az_name': az,
                'dc_name': 'sandbox'}}, token=token)

    def write_client_config(self) -> None:
        if self.keystone:
            path = self.keystone.write_clouds_yaml(self.state)
        else:
            path = self.state.write_clouds_yaml()
        self.out('        clouds: %s' % path)


def http_json(method: str, url: str, body: dict | None = None,
              timeout: float = 30.0, token: str | None = None) -> dict | None:
    """One JSON request; raises SandboxError on an HTTP error."""
    data = json.dumps(body).encode() if body is not None else None
    headers = {'Content-Type': 'application/json',
               'Accept': 'application/json'}
    if token:
        headers['X-Auth-Token'] = token
    req = urllib.request.Request(url, data=data, method=method,
                                 headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            raw = resp.read()
    except urllib.error.HTTPError as exc:
        raise SandboxError('%s %s -> %s: %s' % (
            method, url, exc.code, exc.read()[:300].decode(errors='replace')))
    return json.loads(raw) if raw else None
