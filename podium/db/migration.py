"""Schema management through alembic: upgrade, version, create_schema."""

import os

import alembic.command
import alembic.config
import alembic.migration
import alembic.script
import sqlalchemy as sa

from podium.db import engine as db_engine
from podium.db import models

_SCRIPT_LOCATION = os.path.join(os.path.dirname(__file__), 'migrations')


def _alembic_config(connection: sa.Connection) -> alembic.config.Config:
    config = alembic.config.Config()
    config.set_main_option('script_location', _SCRIPT_LOCATION)
    config.attributes['connection'] = connection
    return config


def upgrade(revision: str = 'head') -> None:
    """Bring the schema up to ``revision``."""
    with db_engine.get_engine().begin() as conn:
        alembic.command.upgrade(_alembic_config(conn), revision)


def version() -> str | None:
    """The schema's current revision, or None for an empty database."""
    with db_engine.get_engine().connect() as conn:
        context = alembic.migration.MigrationContext.configure(conn)
        return context.get_current_revision()


def head() -> str:
    """The newest revision the migrations know."""
    script = alembic.script.ScriptDirectory(_SCRIPT_LOCATION)
    return str(script.get_current_head())


def create_schema() -> None:
    """Create every table from the models and stamp the head revision.

    Faster than replaying migrations; only for an empty database.
    """
    with db_engine.get_engine().begin() as conn:
        if sa.inspect(conn).has_table('nodes'):
            raise RuntimeError('The database already has a schema; use '
                               '"podium-dbsync upgrade" instead.')
        models.Base.metadata.create_all(conn)
        alembic.command.stamp(_alembic_config(conn), 'head')


def ensure_schema() -> None:
    """Upgrade to head; used by the all-in-one service at start-up."""
    upgrade('head')
