"""tricircle-db-manage: migrate the Tricircle DB.

    tricircle-db-manage --config-file tricircle.conf upgrade [REV]
    tricircle-db-manage --config-file tricircle.conf current
    tricircle-db-manage --config-file tricircle.conf downgrade REV
    tricircle-db-manage --config-file tricircle.conf revision -m MSG \
        [--autogenerate]

The URL is ``[DEFAULT] tricircle_db_connection`` of the config files.
"""
from __future__ import annotations

import logging
import sys

from oslo_config import cfg

from tricircle.common import config
from tricircle.db.migration import cli as migration


def _upgrade(conf: cfg.ConfigOpts) -> None:
    migration.upgrade(_url(conf), conf.command.revision)
    print('upgraded to %s' % migration.current(_url(conf)))


def _downgrade(conf: cfg.ConfigOpts) -> None:
    migration.downgrade(_url(conf), conf.command.revision)
    print('downgraded to %s' % (migration.current(_url(conf)) or 'base'))


def _current(conf: cfg.ConfigOpts) -> None:
    rev = migration.current(_url(conf))
    if rev is None:
        print('None (not under version control; run upgrade)')
    else:
        print('%s%s' % (rev, ' (head)' if rev == migration.head() else ''))


def _revision(conf: cfg.ConfigOpts) -> None:
    migration.revision(_url(conf) if conf.command.autogenerate else None,
                       conf.command.message, conf.command.autogenerate)


def _add_parsers(subparsers) -> None:
    p = subparsers.add_parser('upgrade', help='upgrade to REV (head)')
    p.add_argument('revision', nargs='?', default='head')
    p.set_defaults(func=_upgrade)

    p = subparsers.add_parser('downgrade', help='downgrade to REV')
    p.add_argument('revision')
    p.set_defaults(func=_downgrade)

    p = subparsers.add_parser('current', help='show the current revision')
    p.set_defaults(func=_current)

    p = subparsers.add_parser('revision', help='write a new migration')
    p.add_argument('-m', '--message', required=True)
    p.add_argument('--autogenerate', action='store_true',
                   help='compare the models with the DB')
    p.set_defaults(func=_revision)


def _url(conf: cfg.ConfigOpts) -> str:
    if not conf.tricircle_db_connection:
        sys.exit('tricircle-db-manage: [DEFAULT] tricircle_db_connection '
                 'is not set in the configuration files')
    return conf.tricircle_db_connection


def _setup_logging() -> None:
    # Alembic reports each migration step at INFO; keep only those lines.
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter('%(message)s'))
    handler.addFilter(lambda record: record.levelno > logging.INFO or
                      record.getMessage().startswith('Running '))
    logging.basicConfig(level=logging.INFO, handlers=[handler])


def main(argv: list[str] | None = None) -> int:
    conf = cfg.ConfigOpts()
    config.register_db_opts(conf)
    conf.register_cli_opt(cfg.SubCommandOpt(
        'command', title='commands', handler=_add_parsers))
    conf(sys.argv[1:] if argv is None else argv, project='tricircle',
         prog='tricircle-db-manage')
    _setup_logging()
    conf.command.func(conf)
    return 0


if __name__ == '__main__':
    sys.exit(main())
