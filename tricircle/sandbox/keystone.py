"""The sandbox's shared Keystone 30 (``tricircle-sandbox up --keystone``).

One Keystone process serves the whole sandbox: SQLite database, fernet
tokens and credential keys, all under the state dir. The process itself
(setup, then serve) is ``keystone_server``; this module is its files, its
users and the ``up`` steps that use it.

The ``up`` steps create, through the API: the regions, the ``network``
service (central and every region's Neutron) and the ``tricircle`` service
(Admin API), the ``service`` project with the ``neutron`` service user
(role admin), and the projects ``demo`` and ``alt_demo`` with member users.
Every password is random and is written only in files under the state
dir's ``etc`` (mode 0600) and in ``clouds.yaml``.
"""
from __future__ import annotations

import concurrent.futures
import configparser
import json
import os
import secrets
import sys
import time

from tricircle.sandbox import neutron_conf
from tricircle.sandbox import processes

CENTRAL_REGION = 'CentralRegion'
DOMAIN = 'Default'
ADMIN = 'admin'            # user, project and role of the bootstrap admin
SERVICE_PROJECT = 'service'
SERVICE_USER = 'neutron'   # Neutrons, Admin API and XJob authenticate as it
DEMO_USERS = {'demo': 'demo', 'alt_demo': 'alt_demo'}  # user -> project
MEMBER_ROLE = 'member'
NETWORK_SERVICE = ('neutron', 'network')
TRICIRCLE_SERVICE = ('tricircle', 'tricircle')
CONF_FILE = 'keystone.conf'
CREDENTIALS_FILE = 'keystone-credentials.json'
LOG_FILE = 'keystone.log'
PROCESS_NAME = 'keystone'


class KeystoneError(RuntimeError):
    pass


class SandboxKeystone:
    """Where the sandbox's Keystone lives and who its users are."""

    def __init__(self, state_dir: str, port: int | None = None,
                 passwords: dict[str, str] | None = None) -> None:
        self.state_dir = os.path.abspath(state_dir)
        self.etc = os.path.join(self.state_dir, 'etc')
        self.data = os.path.join(self.state_dir, 'data', 'keystone')
        self.log = os.path.join(self.state_dir, 'logs', LOG_FILE)
        self.conf_file = os.path.join(self.etc, CONF_FILE)
        self.port = port
        self.passwords = passwords or {}

    # -- identity of the sandbox -----------------------------------------
    @property
    def url(self) -> str:
        """Unversioned, as in the catalog."""
        return 'http://127.0.0.1:%d' % self.port

    @property
    def auth_url(self) -> str:
        return self.url + '/v3'

    @property
    def users(self) -> dict[str, str]:
        """user -> project, every user the sandbox has."""
        return {ADMIN: ADMIN, SERVICE_USER: SERVICE_PROJECT, **DEMO_USERS}

    @classmethod
    def create(cls, state_dir: str) -> SandboxKeystone:
        """A new Keystone with a free port and fresh random passwords."""
        ks = cls(state_dir, processes.free_port())
        ks.passwords = {user: secrets.token_urlsafe(18)
                        for user in ks.users}
        return ks

    @classmethod
    def load(cls, state_dir: str) -> SandboxKeystone | None:
        path = os.path.join(os.path.abspath(state_dir), 'etc',
                            CREDENTIALS_FILE)
        try:
            with open(path) as f:
                data = json.load(f)
        except FileNotFoundError:
            return None
        return cls(state_dir, data['port'], data['passwords'])

    def auth(self, user: str) -> dict[str, str]:
        """keystoneauth ``password`` options of one user."""
        return {'auth_url': self.auth_url, 'username': user,
                'password': self.passwords[user],
                'project_name': self.users[user],
                'user_domain_name': DOMAIN, 'project_domain_name': DOMAIN}

    def session(self, user: str = ADMIN):
        from keystoneauth1 import session as ks_session
        from keystoneauth1.identity import v3
        return ks_session.Session(auth=v3.Password(**self.auth(user)),
                                  timeout=30)

    def token(self, user: str = ADMIN) -> str:
        return self.session(user).get_token()

    # -- files ------------------------------------------------------------
    def write_files(self) -> None:
        """keystone.conf and the credentials file (0600)."""
        os.makedirs(self.etc, exist_ok=True)
        os.makedirs(self.data, mode=0o700, exist_ok=True)  # password hashes
        _write_private(os.path.join(self.etc, CREDENTIALS_FILE), json.dumps(
            {'port': self.port, 'passwords': self.passwords}, indent=2))
        _write_ini(self.conf_file, {
            'DEFAULT': {'debug': 'false', 'use_stderr': 'true',
                        'insecure_debug': 'false'},
            'database': {'connection': 'sqlite:///' + os.path.join(
                self.data, 'keystone.sqlite')},
            'token': {'provider': 'fernet'},
            'fernet_tokens': {'key_repository': os.path.join(
                self.data, 'fernet-keys')},
            'fernet_receipts': {'key_repository': os.path.join(
                self.data, 'fernet-keys')},
            'credential': {'key_repository': os.path.join(
                self.data, 'credential-keys')},
            # A token in about 10 ms instead of 0.4 s (peers.md).
            'cache': {'enabled': 'true', 'backend': 'dogpile.cache.memory'},
            # bcrypt: fast hashes for throwaway users; 72 is bcrypt's own
            # limit (a larger one logs a warning on every password check).
            'identity': {'password_hash_rounds': '4',
                         'max_password_length': '72'},
        })

    def launch(self) -> int:
        """Start the Keystone process (setup, then serve); its PID."""
        return processes.launch(
            [sys.executable, '-m', 'tricircle.sandbox.keystone_server',
             '--config-file', self.conf_file, '--port', str(self.port)],
            self.log)

    def wait(self, pid: int, timeout: float) -> float:
        return processes.wait_http(self.auth_url, pid, timeout, self.log)

    # -- catalog, projects, users ----------------------------------------
    def create_catalog(self, central_url: str | None,
                       region_urls: dict[str, str],
                       admin_api_url: str | None) -> None:
        """Regions, services and endpoints; service and demo users."""
        api = _Identity(self.session(ADMIN), self.auth_url)
        regions = list(region_urls)
        for region in regions:
            api.create('regions', {'id': region})
        identity = api.find('services', type='identity')
        network = api.create('services', {'name': NETWORK_SERVICE[0],
                                          'type': NETWORK_SERVICE[1]})
        endpoints = [(identity, region, self.url) for region in regions]
        if central_url:
            endpoints.append((network, CENTRAL_REGION, central_url))
        endpoints += [(network, r, u) for r, u in region_urls.items()]
        if admin_api_url:
            tricircle = api.create('services', {
                'name': TRICIRCLE_SERVICE[0], 'type': TRICIRCLE_SERVICE[1]})
            endpoints.append((tricircle, CENTRAL_REGION, admin_api_url))
        for service, region, url in endpoints:
            for interface in ('public', 'internal', 'admin'):
                api.create('endpoints', {
                    'service_id': service, 'region_id': region,
                    'interface': interface, 'url': url})
        domain = api.find('domains', name=DOMAIN)
        roles = {name: api.find('roles', name=name)
                 for name in (ADMIN, MEMBER_ROLE, 'reader')}
        for user, project in self.users.items():
            if user == ADMIN:
                continue
            project_id = api.create('projects', {
                'name': project, 'domain_id': domain,
                'description': 'tricircle sandbox'})
            user_id = api.create('users', {
                'name': user, 'domain_id': domain,
                'password': self.passwords[user],
                'default_project_id': project_id})
            role = roles[ADMIN if user == SERVICE_USER else MEMBER_ROLE]
            api.put('/projects/%s/users/%s/roles/%s' % (
                project_id, user_id, role))

    # -- the services' configuration ---------------------------------------
    def authtoken_options(self) -> dict[str, str]:
        """``[keystone_authtoken]`` of a Neutron server or the Admin API.

        No memcached: keystonemiddleware caches tokens in-process.
        """
        options = {'www_authenticate_uri': self.url,
                   'auth_type': 'password'}
        options.update(self.auth(SERVICE_USER))
        return options

    def client_options(self) -> dict[str, str]:
        """``[client]`` credentials: the plugins and XJob get tokens."""
        return {'auth_type': 'password', **self.auth(SERVICE_USER)}

    def protect(self, conf_path: str, api_server: bool) -> None:
        """Turn one service's own config file to Keystone.

        ``api_server``: it serves an API (a Neutron, the Admin API), so it
        validates tokens. A ``[client]`` section, if any, gets the service
        user's credentials (for calls to other Neutron servers).
        """
        parser = configparser.ConfigParser(interpolation=None)
        parser.read(conf_path)
        if api_server:
            parser.set('DEFAULT', 'auth_strategy', 'keystone')
            parser['keystone_authtoken'] = self.authtoken_options()
        if parser.has_section('client'):
            for key, value in self.client_options().items():
                parser.set('client', key, value)
        _write_private(conf_path, parser)

    def protect_servers(self, servers: dict[str, tuple]) -> None:
        """Every server ``Up`` is about to start: (argv, url, log) each."""
        for name, (argv, _url, _log) in servers.items():
            confs = [argv[i + 1] for i, arg in enumerate(argv)
                     if arg == '--config-file']
            if not confs:
                continue
            # The last file is the server's own (the first may be shared).
            self.protect(confs[-1], api_server=(
                name.startswith('neutron-') or name == 'tricircle-api'))

    def clouds(self, state) -> dict[str, dict]:
        """clouds.yaml entries: admin per region, demo users central."""
        regions = [CENTRAL_REGION] if state.central else []
        regions += list(state.regions)

        def cloud(user, region):
            return {'auth_type': 'password', 'auth': self.auth(user),
                    'identity_api_version': '3', 'interface': 'public',
                    'region_name': region}
        clouds = {}
        if state.central:
            clouds['central'] = cloud(ADMIN, CENTRAL_REGION)
        for region in state.regions:
            clouds[region] = cloud(ADMIN, region)
        for user in DEMO_USERS:
            clouds[user] = dict(cloud(user, regions[0]),
                                regions=list(regions))
        return clouds

    def write_clouds_yaml(self, state) -> str:
        import yaml
        path = os.path.join(state.state_dir, 'clouds.yaml')
        _write_private(path, yaml.safe_dump({'clouds': self.clouds(state)},
                                            default_flow_style=False))
        return path


class KeystoneSteps:
    """The ``up`` steps of ``--keystone``, mixed into ``up.Up``.

    Uses ``self.keystone`` (a :class:`SandboxKeystone` or None),
    ``self.state``, ``self.servers`` and ``self.out`` of ``Up``.
    """

    keystone: SandboxKeystone | None = None

    def start_keystone(self) -> None:
        """Write keystone.conf and launch Keystone; it sets itself up
        (db_sync, keys, bootstrap) while the Neutron databases are made."""
        self.keystone.write_files()
        self.state.pids[PROCESS_NAME] = self.keystone.launch()
        self.state.logs[PROCESS_NAME] = self.keystone.log
        self.state.keystone = self.keystone.url

    def protect_with_keystone(self) -> None:
        """auth_strategy keystone + [keystone_authtoken] for every API
        server; the service user's credentials in every [client].

        The catalog, projects and users are made in the background from
        here on, while the servers start (no server calls Keystone
        before its first request).
        """
        self.keystone.protect_servers(self.servers)
        executor = concurrent.futures.ThreadPoolExecutor(1)
        self._catalog = executor.submit(
            self._make_catalog, (self.state.central or {}).get('neutron'),
            {r: v['neutron'] for r, v in self.state.regions.items()},
            self.state.admin_api)
        executor.shutdown(wait=False)

    def _make_catalog(self, central_url, region_urls, admin_api_url):
        started = time.monotonic()
        waited = self.keystone.wait(self.state.pids[PROCESS_NAME], 120)
        self.keystone.create_catalog(central_url, region_urls, admin_api_url)
        return waited, time.monotonic() - started

    def create_keystone_catalog(self) -> None:
        """Regions, services, endpoints, projects, users, roles."""
        waited, took = self._catalog.result()
        self.out('        keystone answered %.1fs after the servers were '
                 'configured; catalog made in %.1fs' % (waited, took))

    def admin_token(self) -> str | None:
        """A token for the sandbox's own admin requests (None: noauth)."""
        if self.keystone is None:
            return None
        if getattr(self, '_admin_token', None) is None:
            self._admin_token = self.keystone.token(ADMIN)
        return self._admin_token


class _Identity:
    """The few Identity v3 calls the sandbox makes, on one admin session."""

    def __init__(self, session, auth_url: str) -> None:
        self.session = session
        self.base = auth_url

    def _call(self, method: str, path: str, body=None) -> dict | None:
        resp = self.session.request(self.base + path, method, json=body,
                                    raise_exc=False)
        if resp.status_code >= 400:
            raise KeystoneError('%s %s -> %d: %s' % (
                method, path, resp.status_code, resp.text[:300]))
        return resp.json() if resp.content else None

    def create(self, collection: str, attrs: dict) -> str:
        member = collection[:-1]
        return self._call('POST', '/' + collection,
                          {member: attrs})[member]['id']

    def find(self, collection: str, **filters: str) -> str:
        query = '&'.join('%s=%s' % kv for kv in filters.items())
        found = self._call('GET', '/%s?%s' % (collection, query))[collection]
        if len(found) != 1:
            raise KeystoneError('%d %s match %s' % (len(found), collection,
                                                    filters))
        return found[0]['id']

    def put(self, path: str) -> None:
        self._call('PUT', path)


def _write_ini(path: str, sections: dict[str, dict[str, str]]) -> None:
    _write_private(path, neutron_conf.ini_parser(sections))


def _write_private(path: str, content) -> None:
    """A file only its owner reads: it holds passwords."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)
    with os.fdopen(fd, 'w') as f:
        if isinstance(content, configparser.ConfigParser):
            content.write(f)
        else:
            f.write(content)
