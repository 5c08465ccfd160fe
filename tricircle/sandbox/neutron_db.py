"""Create a Neutron 29 database schema for a sandbox server.

``neutron-db-manage upgrade heads`` fails on SQLite (ALTER of constraints)
and on PostgreSQL (a MySQL-only statement in a 2025.2 migration). Neutron's
own tests build the schema from the models instead; we do the same and
stamp the alembic heads so the database looks migrated.

    python -m tricircle.sandbox.neutron_db --config-file neutron-db-X.conf
"""
from __future__ import annotations

import argparse
import configparser
import subprocess
import sys
import warnings


def create_schema(conf_file: str) -> None:
    """Create every Neutron table in the [database] of ``conf_file``."""
    warnings.simplefilter('ignore')
    parser = configparser.ConfigParser(interpolation=None)
    parser.read(conf_file)
    url = parser.get('database', 'connection')

    import sqlalchemy
    from neutron.db.migration.models import head
    engine = sqlalchemy.create_engine(url)
    head.get_metadata().create_all(engine)
    engine.dispose()

    from neutron.db.migration import cli
    sys.argv = ['neutron-db-manage', '--config-file', conf_file,
                'stamp', 'heads']
    cli.main()


def run(conf_file: str, log_path: str) -> subprocess.Popen:
    """Start :func:`create_schema` in a child process."""
    log = open(log_path, 'ab')
    return subprocess.Popen(
        [sys.executable, '-m', 'tricircle.sandbox.neutron_db',
         '--config-file', conf_file],
        stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument('--config-file', required=True)
    create_schema(parser.parse_args().config_file)


if __name__ == '__main__':
    main()
