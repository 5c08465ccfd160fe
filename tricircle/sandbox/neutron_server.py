"""Serve a real Neutron 29 API process (central or regional) for the sandbox.

Neutron 29 has no ``neutron-server`` script: its API is the WSGI app
``neutron.wsgi.api:application``, which reads oslo.config options from
``sys.argv`` when it is imported. This module sets ``sys.argv`` to the
config files, imports the app and serves it.

    python -m tricircle.sandbox.neutron_server --port 9696 [--serialize] \
        -- --config-file neutron.conf --config-file region.conf
"""
from __future__ import annotations

import argparse
import os
import sys
import warnings


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog='tricircle-neutron-server')
    parser.add_argument('--host', default='127.0.0.1')
    parser.add_argument('--port', type=int, required=True)
    parser.add_argument('--serialize', action='store_true',
                        help='one request at a time (SQLite databases)')
    parser.add_argument('neutron_args', nargs=argparse.REMAINDER,
                        help='arguments for Neutron, after "--"')
    args = parser.parse_args(argv)
    neutron_args = args.neutron_args
    if neutron_args and neutron_args[0] == '--':
        neutron_args = neutron_args[1:]

    warnings.simplefilter('ignore', DeprecationWarning)
    os.environ.setdefault('OS_NEUTRON_CONFIG_FILES', '')
    sys.argv = [sys.argv[0]] + neutron_args
    from neutron.wsgi import api  # noqa: E402 (reads sys.argv on import)

    from tricircle.common import wsgi
    app = api.application
    if args.serialize:
        app = wsgi.serialized(app)
    wsgi.serve(app, args.host, args.port)


if __name__ == '__main__':
    main()
