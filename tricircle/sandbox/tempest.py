"""OpenStack's own network API tests against the sandbox (``make tempest``).

    tricircle-sandbox tempest [--plain] [--regex RE] [--workspace DIR]

A named sequence of steps:

1. ``prepare_workspace``: tempest and neutron-tempest-plugin in their own
   venv (``.tempest-venv``; pinned, installed once), ``tempest init``.
2. ``bring_up``: a sandbox with a real Keystone (``up --keystone``), or a
   plain ML2 Neutron 29 behind the same Keystone (``--plain``: the baseline).
3. ``create_public_network``: the ``router:external`` network tempest's
   floating IP and router gateway tests need.
4. ``write_config``: tempest.conf for the tested Neutron (the central one,
   or the plain one), with the API extensions it really advertises.
5. ``run_tests``: ``tempest run`` (``tempest.api.network`` by default).
6. ``summarize``: one line ``N passed, N failed, N skipped`` and the
   failures by module, also written to ``WORKSPACE/summary.json``.
7. ``bring_down``: the sandbox goes (``--keep`` leaves it running).
"""
from __future__ import annotations

import argparse
import csv
import io
import json
import os
import secrets
import subprocess
import sys
import time
import urllib.request

from tricircle.sandbox import state as sb_state

TEMPEST = 'tempest==47.0.0'
PLUGIN = 'neutron-tempest-plugin==3.3.0'
DEFAULT_REGEX = r'^tempest\.api\.network\.'
# The fast part that must never break (CI).
SMOKE_REGEX = r'^tempest\.api\.network\..*\bsmoke\b'
PUBLIC_CIDR = '172.24.4.0/24'

CONF_TEMPLATE = """\
[DEFAULT]
log_dir = {workspace}/logs
log_file = tempest.log

[oslo_concurrency]
lock_path = {workspace}/tempest_lock

[auth]
admin_username = admin
admin_password = {admin_password}
admin_project_name = admin
admin_domain_name = Default
# tempest makes a project and users per test class through Keystone
use_dynamic_credentials = true
create_isolated_networks = false
tempest_roles = member

[identity]
uri_v3 = {keystone_url}
auth_version = v3
region = {region}
v3_endpoint_type = public

[identity-feature-enabled]
api_v2 = false
api_v3 = true

[network]
catalog_type = network
region = {region}
endpoint_type = publicURL
project_network_cidr = 10.100.0.0/16
project_network_mask_bits = 28
project_network_v6_cidr = 2001:db8::/48
project_network_v6_mask_bits = 64
public_network_id = {public_network_id}
floating_network_name = public
shared_physical_network = false

[network-feature-enabled]
api_extensions = {api_extensions}
ipv6 = true
ipv6_subnet_attributes = true
floating_ips = true
port_security = false

[service_available]
neutron = true
nova = false
glance = false
cinder = false
swift = false
horizon = false

[validation]
run_validation = false

[neutron_plugin_options]
available_type_drivers =
provider_vlans =
create_shared_resources = false
"""


class TempestError(RuntimeError):
    pass


class TempestRun:
    """One tempest run against one sandbox; :meth:`run` returns the
    summary (also in ``summary.json`` of the workspace)."""

    def __init__(self, workspace: str, plain: bool = False,
                 regex: str = DEFAULT_REGEX, concurrency: int = 2,
                 venv: str = '.tempest-venv', keep: bool = False,
                 out=print) -> None:
        self.workspace = os.path.abspath(workspace)
        self.plain = plain
        self.regex = regex
        self.concurrency = concurrency
        self.venv = os.path.abspath(venv)
        self.keep = keep
        self.out = out
        self.state_dir = os.path.join(self.workspace, 'sandbox')
        self.state: sb_state.SandboxState | None = None
        self.keystone = None
        self.summary: dict = {}

    @property
    def steps(self):
        return [self.prepare_workspace, self.bring_up, self.create_public_network,
                self.write_config, self.run_tests, self.summarize]

    def run(self) -> dict:
        t0 = time.monotonic()
        try:
            for step in self.steps:
                started = time.monotonic()
                self.out('[%6.1fs] %s ...' % (time.monotonic() - t0,
                                              step.__name__.replace('_', ' ')))
                step()
                self.out('         done in %.1fs' % (time.monotonic() -
                                                      started))
        finally:
            if not self.keep:
                self.bring_down()
        return self.summary

    # -- steps ------------------------------------------------------------
    def _bin(self, name: str) -> str:
        return os.path.join(self.venv, 'bin', name)

    def prepare_workspace(self) -> None:
        """tempest + neutron-tempest-plugin, apart from our own venv (their
        requirements are not Neutron's); a tempest workspace."""
        if not os.path.exists(self._bin('tempest')):
            _run([sys.executable, '-m', 'venv', self.venv])
            _run([self._bin('pip'), 'install', '-q',
                  '--disable-pip-version-check', TEMPEST, PLUGIN])
        if not os.path.isdir(os.path.join(self.workspace, 'etc')):
            os.makedirs(os.path.dirname(self.workspace), exist_ok=True)
            # tempest keeps a registry of workspace names (by default in
            # ~/.tempest, shared by every run on the machine): ours lives in
            # the venv, and a name is never reused.
            name = '%s-%s' % (os.path.basename(self.workspace),
                              secrets.token_hex(4))
            _run([self._bin('tempest'), 'init', '--name', name,
                  '--workspace-path',
                  os.path.join(self.venv, 'workspaces.yaml'),
                  self.workspace])

    def bring_up(self) -> None:
        from tricircle.sandbox import keystone as sb_keystone
        self.bring_down()  # what an interrupted run left behind
        # The light host agent: tempest.api.network needs no data plane.
        args = ['up', '--keystone', '--agents', 'lite', '--state-dir',
                self.state_dir]
        if self.plain:
            args.append('--plain')
        _run([_sandbox_bin(), *args])
        self.state = sb_state.SandboxState.load(self.state_dir)
        self.keystone = sb_keystone.SandboxKeystone.load(self.state_dir)

    @property
    def region(self) -> str:
        """The Keystone region of the Neutron under test."""
        if self.plain:
            return next(iter(self.state.regions))
        from tricircle.sandbox import keystone as sb_keystone
        return sb_keystone.CENTRAL_REGION

    @property
    def neutron_url(self) -> str:
        if self.plain:
            return self.state.regions[self.region]['neutron']
        return self.state.central['neutron']

    def _neutron(self, method: str, path: str, body=None) -> dict:
        req = urllib.request.Request(
            self.neutron_url + path, method=method,
            data=json.dumps(body).encode() if body is not None else None,
            headers={'Content-Type': 'application/json',
                     'X-Auth-Token': self.keystone.token()})
        with urllib.request.urlopen(req, timeout=60) as resp:
            return json.loads(resp.read())

    def create_public_network(self) -> None:
        body = {'name': 'public', 'router:external': True}
        if not self.plain:
            # Tricircle keeps an external network in one region.
            body['availability_zone_hints'] = [next(iter(self.state.regions))]
        net = self._neutron('POST', '/v2.0/networks',
                            {'network': body})['network']
        self._neutron('POST', '/v2.0/subnets', {'subnet': {
            'name': 'public-subnet', 'network_id': net['id'],
            'ip_version': 4, 'cidr': PUBLIC_CIDR, 'enable_dhcp': False}})
        self.public_network_id = net['id']

    def write_config(self) -> None:
        """tempest.conf; api_extensions = what the server advertises."""
        extensions = sorted(e['alias'] for e in self._neutron(
            'GET', '/v2.0/extensions')['extensions'])
        self.summary['api_extensions'] = extensions
        conf = CONF_TEMPLATE.format(
            workspace=self.workspace, keystone_url=self.keystone.auth_url,
            admin_password=self.keystone.passwords['admin'],
            region=self.region, public_network_id=self.public_network_id,
            api_extensions=','.join(extensions))
        path = os.path.join(self.workspace, 'etc', 'tempest.conf')
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, 'w') as f:  # holds the admin password
            f.write(conf)

    def run_tests(self) -> None:
        started = time.monotonic()
        proc = subprocess.run(
            [self._bin('tempest'), 'run', '--concurrency',
             str(self.concurrency), '--regex', self.regex],
            cwd=self.workspace, capture_output=True, text=True)
        self.summary['seconds'] = round(time.monotonic() - started, 1)
        with open(os.path.join(self.workspace, 'tempest-run.log'), 'w') as f:
            f.write(proc.stdout + proc.stderr)
        if 'Totals' not in proc.stdout:  # tempest itself failed
            raise TempestError('tempest run did not run tests:\n%s' % (
                (proc.stdout + proc.stderr)[-3000:]))

    def summarize(self) -> None:
        proc = subprocess.run(
            '%s last --subunit | %s' % (self._bin('stestr'),
                                        self._bin('subunit2csv')),
            shell=True, cwd=self.workspace, capture_output=True, text=True)
        # subunit2csv exits 1 when a test failed: only its output counts.
        if not proc.stdout.startswith('test,status'):
            raise TempestError('no results from the last run: %s' %
                               proc.stderr[-2000:])
        self.summary.update(summarize_csv(proc.stdout))
        self.summary.update(target='plain' if self.plain else 'tricircle',
                            region=self.region, regex=self.regex)
        with open(os.path.join(self.workspace, 'summary.json'), 'w') as f:
            json.dump(self.summary, f, indent=2)
        self.out(format_summary(self.summary))

    def bring_down(self) -> None:
        if os.path.exists(os.path.join(self.state_dir, 'sandbox.json')):
            _run([_sandbox_bin(), 'down', '--state-dir', self.state_dir])


def summarize_csv(text: str) -> dict:
    """Counts and failures by module from ``subunit2csv`` output.

    Only real tests count: tempest reports a class whose setup failed as
    ``setUpClass (module.Class)``, which fails every test of the class.
    """
    counts = {'passed': 0, 'failed': 0, 'skipped': 0}
    failures: dict[str, list[str]] = {}
    status_key = {'success': 'passed', 'xfail': 'passed',
                  'failure': 'failed', 'fail': 'failed', 'error': 'failed',
                  'uxsuccess': 'failed', 'skip': 'skipped'}
    for row in csv.DictReader(io.StringIO(text)):
        key = status_key.get(row['status'])
        if key is None:
            continue
        test_id = row['test'].split('[')[0]
        counts[key] += 1
        if key == 'failed':
            failures.setdefault(_module_of(test_id), []).append(test_id)
    return {**counts, 'failures': {m: sorted(t) for m, t in
                                   sorted(failures.items())}}


def _module_of(test_id: str) -> str:
    if test_id.startswith(('setUpClass (', 'tearDownClass (')):
        test_id = test_id.split('(', 1)[1].rstrip(')')
        return test_id.rsplit('.', 1)[0]
    return test_id.rsplit('.', 2)[0]


def format_summary(summary: dict) -> str:
    lines = ['%(passed)d passed, %(failed)d failed, %(skipped)d skipped'
             % summary]
    for module, tests in summary.get('failures', {}).items():
        lines.append('  %s: %d failed' % (module, len(tests)))
        lines += ['    %s' % t.rsplit('.', 1)[-1] for t in tests]
    return '\n'.join(lines)


def _sandbox_bin() -> str:
    return os.path.join(os.path.dirname(sys.executable), 'tricircle-sandbox')


def _run(argv: list[str]) -> None:
    proc = subprocess.run(argv, capture_output=True, text=True)
    if proc.returncode != 0:
        raise TempestError('%s failed (%d):\n%s%s' % (
            ' '.join(argv[:3]), proc.returncode, proc.stdout[-2000:],
            proc.stderr[-2000:]))


def add_command(sub) -> argparse.ArgumentParser:
    """``tricircle-sandbox tempest`` (its sandbox lives in the workspace)."""
    p = sub.add_parser(
        'tempest', help='run tempest\'s network API tests against a '
        'sandbox of its own, behind Keystone',
        description='Install tempest in its own venv (once), bring a '
        'Keystone sandbox up in WORKSPACE/sandbox, run tempest.api.network '
        'against the central Neutron and print "N passed, N failed, N '
        'skipped". Exit 3 if tests failed.')
    p.set_defaults(func=cmd_tempest)
    p.add_argument('--plain', action='store_true',
                   help='against a plain ML2 Neutron 29 (the baseline)')
    p.add_argument('--regex', default=DEFAULT_REGEX,
                   help='tests to run (default: %(default)s)')
    p.add_argument('--smoke', action='store_const', dest='regex',
                   const=SMOKE_REGEX, help='only the smoke tests')
    p.add_argument('--workspace', default='.tempest',
                   help='tempest workspace (default: %(default)s)')
    p.add_argument('--venv', default='.tempest-venv',
                   help='venv for tempest (default: %(default)s)')
    p.add_argument('--concurrency', type=int, default=2, metavar='N',
                   help='tempest workers running tests at once '
                        '(default: %(default)s)')
    p.add_argument('--keep', action='store_true',
                   help='leave the sandbox running afterwards')
    return p


def cmd_tempest(args) -> int:
    try:
        summary = TempestRun(args.workspace, plain=args.plain,
                             regex=args.regex, concurrency=args.concurrency,
                             venv=args.venv, keep=args.keep).run()
    except (TempestError, subprocess.CalledProcessError) as exc:
        print('ERROR: %s' % exc, file=sys.stderr)
        return 1
    return 0 if summary['passed'] and not summary['failed'] else 3
