"""The sandbox's Keystone process: set itself up once, then serve.

``up --keystone`` starts it (``SandboxKeystone.launch``) as::

    python -m tricircle.sandbox.keystone_server \
        --config-file DIR/etc/keystone.conf --port PORT

On its first start it runs ``keystone-manage db_sync``, ``fernet_setup``
and ``credential_setup`` (these three at once) and ``bootstrap``, then it
serves Keystone's WSGI application (``keystone.server.wsgi``; Keystone 30
ships no server script) on a threaded wsgiref server, one request at a
time (SQLite).
"""
from __future__ import annotations

import argparse
import importlib
import os
import sys
import warnings

from tricircle.sandbox import keystone as ks_lib


def _manage(conf_file: str, *args: str, env: dict | None = None) -> int:
    """Run ``keystone-manage --config-file CONF ARGS`` in a forked child.

    The child runs keystone-manage's own entry point (``keystone.cmd.cli``)
    on the modules this process has imported already: four
    ``keystone-manage`` processes would each spend about 2 s of CPU
    importing Keystone, while the Neutron servers start beside them.
    """
    from keystone.cmd import cli
    pid = os.fork()
    if pid == 0:  # the child: exit without returning into the caller
        code = 1
        try:
            os.environ.update(env or {})
            cli.main(argv=['keystone-manage', '--config-file', conf_file,
                           *args])
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
        except BaseException:  # noqa: B036 (report, then exit the child)
            import traceback
            traceback.print_exc()
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(code)
    return pid


def _wait(pid: int, what: str) -> None:
    _pid, status = os.waitpid(pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise ks_lib.KeystoneError('keystone-manage %s failed' % what)


def setup(conf_file: str, url: str, admin_password: str,
          meanwhile=lambda: None) -> None:
    """Database, keys and the bootstrap admin (once per state dir).

    ``meanwhile`` runs while db_sync and the key setups run.
    """
    user = 'root' if os.geteuid() == 0 else str(os.geteuid())
    group = 'root' if os.getegid() == 0 else str(os.getegid())
    ids = ('--keystone-user', user, '--keystone-group', group)
    children = {'db_sync': _manage(conf_file, 'db_sync'),
                'fernet_setup': _manage(conf_file, 'fernet_setup', *ids),
                'credential_setup': _manage(conf_file, 'credential_setup',
                                            *ids)}
    meanwhile()
    for what, pid in children.items():
        _wait(pid, what)
    # The password goes through the environment, never a command line.
    _wait(_manage(conf_file, 'bootstrap',
                  '--bootstrap-username', ks_lib.ADMIN,
                  '--bootstrap-project-name', ks_lib.ADMIN,
                  '--bootstrap-role-name', ks_lib.ADMIN,
                  '--bootstrap-service-name', 'keystone',
                  '--bootstrap-region-id', ks_lib.CENTRAL_REGION,
                  '--bootstrap-admin-url', url,
                  '--bootstrap-internal-url', url,
                  '--bootstrap-public-url', url,
                  env={'OS_BOOTSTRAP_PASSWORD': admin_password}),
          'bootstrap')


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog='tricircle-sandbox-keystone')
    parser.add_argument('--config-file', required=True)
    parser.add_argument('--host', default='127.0.0.1')
    parser.add_argument('--port', type=int, required=True)
    args = parser.parse_args(argv)
    conf_file = os.path.abspath(args.config_file)
    state_dir = os.path.dirname(os.path.dirname(conf_file))
    ks = ks_lib.SandboxKeystone.load(state_dir)
    if ks is None:
        raise ks_lib.KeystoneError('no %s beside %s' % (
            ks_lib.CREDENTIALS_FILE, conf_file))
    warnings.simplefilter('ignore', DeprecationWarning)
    # Keystone reads its files from the environment and parses sys.argv
    # with oslo.config when the application is built.
    os.environ['OS_KEYSTONE_CONFIG_DIR'] = os.path.dirname(conf_file)
    os.environ['OS_KEYSTONE_CONFIG_FILES'] = os.path.basename(conf_file)
    sys.argv = sys.argv[:1]

    def _import_server():
        importlib.import_module('keystone.server.wsgi')
    marker = os.path.join(ks.data, 'bootstrapped')
    if not os.path.exists(marker):
        setup(conf_file, ks.url, ks.passwords[ks_lib.ADMIN],
              meanwhile=_import_server)
        open(marker, 'w').close()
    from keystone.server import wsgi as ks_wsgi

    from tricircle.common import wsgi
    app = ks_wsgi.initialize_public_application()
    wsgi.serve(wsgi.serialized(app), args.host, args.port)


if __name__ == '__main__':
    main()
