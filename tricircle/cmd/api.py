"""tricircle-api: the standalone Admin API server.

    tricircle-api --config-file /etc/tricircle/api.conf

Production may instead load ``tricircle.api.app.setup_app`` in any WSGI
server; this one is a threaded wsgiref server.
"""
from __future__ import annotations

import sys

from oslo_config import cfg
from oslo_log import log as logging

from tricircle.api import app as api_app
from tricircle.common import config
from tricircle.common import wsgi
from tricircle.db.migration import cli as migration

LOG = logging.getLogger(__name__)


def _check_schema(url: str) -> None:
    # Warn early rather than fail on the first request.
    current, head = migration.current(url), migration.head()
    if current != head:
        LOG.warning('the Tricircle DB is at revision %s, not %s: run '
                    'tricircle-db-manage upgrade', current, head)


def main(argv: list[str] | None = None) -> int:
    conf = cfg.CONF  # the DB layer reads tricircle_db_connection here
    logging.register_options(conf)
    logging.set_defaults(default_log_levels=(
        logging.get_default_log_levels() + ['alembic=WARN']))
    config.register_api_opts(conf)
    conf(sys.argv[1:] if argv is None else argv, project='tricircle',
         prog='tricircle-api')
    logging.setup(conf, 'tricircle')
    if not conf.tricircle_db_connection:
        LOG.error('[DEFAULT] tricircle_db_connection is not set')
        return 2
    _check_schema(conf.tricircle_db_connection)
    application = api_app.setup_app(conf)
    LOG.info('starting the Tricircle Admin API (auth_strategy %s)',
             conf.auth_strategy)
    # serve() logs the URL once the socket is bound.
    wsgi.serve(application, conf.bind_host, conf.bind_port)
    return 0


if __name__ == '__main__':
    sys.exit(main())
