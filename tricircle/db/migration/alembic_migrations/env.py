"""Alembic environment of the Tricircle DB.

The URL (or an open connection) comes from the Config built by
``tricircle.db.migration.cli``, never from an alembic.ini.
"""
from alembic import context

from tricircle.db import core
from tricircle.db import models

config = context.config
target_metadata = models.Base.metadata


def _configure(**kwargs) -> None:
    context.configure(target_metadata=target_metadata, compare_type=True,
                      # SQLite cannot ALTER most things: copy-and-move.
                      render_as_batch=True, **kwargs)


def run_offline() -> None:
    _configure(url=config.attributes['url'], literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


def _run(connection) -> None:
    _configure(connection=connection)
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    connection = config.attributes.get('connection')
    if connection is not None:
        _run(connection)
        return
    engine = core.create_engine(config.attributes['url'])
    try:
        with engine.connect() as connection:
            _run(connection)
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
