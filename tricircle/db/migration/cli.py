"""Alembic for the Tricircle DB, configured in code (no alembic.ini).

The scripts live in this package (``alembic_migrations``), so they are
found wherever tricircle is installed.
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import command
from alembic import config as alembic_config
from alembic import migration
from alembic import script as alembic_script
from alembic.autogenerate import compare_metadata

from tricircle.db import core
from tricircle.db import models

SCRIPT_LOCATION = 'tricircle.db.migration:alembic_migrations'


def get_config(url: str | None = None) -> alembic_config.Config:
    """An alembic Config for ``url``.

    The URL goes into ``attributes``, not the ini options: those would
    %-interpolate passwords.
    """
    config = alembic_config.Config()
    config.set_main_option('script_location', SCRIPT_LOCATION)
    config.set_main_option('path_separator', 'os')
    config.attributes['url'] = url
    return config


def head() -> str:
    """The newest revision of the scripts."""
    scripts = alembic_script.ScriptDirectory.from_config(get_config())
    return scripts.get_current_head()


def upgrade(url: str, revision: str = 'head') -> None:
    command.upgrade(get_config(url), revision)


def downgrade(url: str, revision: str) -> None:
    command.downgrade(get_config(url), revision)


def current(url: str) -> str | None:
    """The revision ``url`` is at (None: not under version control)."""
    engine = core.create_engine(url)
    try:
        with engine.connect() as conn:
            return migration.MigrationContext.configure(
                conn).get_current_revision()
    finally:
        engine.dispose()


def revision(url: str | None, message: str,
             autogenerate: bool = False) -> None:
    """Write a new migration script (compared against ``url``)."""
    command.revision(get_config(url), message=message,
                     autogenerate=autogenerate)


def compare(url: str) -> list:
    """Differences between the models and the schema at ``url``.

    Empty when the migrations produce exactly what the models describe.
    """
    engine = core.create_engine(url)
    try:
        with engine.connect() as conn:
            context = migration.MigrationContext.configure(
                conn, opts={'compare_type': True,
                            'compare_server_default': False})
            return compare_metadata(context, models.Base.metadata)
    finally:
        engine.dispose()


def table_names(url: str) -> list[str]:
    engine = core.create_engine(url)
    try:
        return sorted(sa.inspect(engine).get_table_names())
    finally:
        engine.dispose()
