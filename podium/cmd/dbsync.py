"""``podium-dbsync``: create or upgrade the database schema.

Usage::

    podium-dbsync [--config-file F] upgrade [--revision R]
    podium-dbsync [--config-file F] version
    podium-dbsync [--config-file F] create_schema

Operators run it before starting services on PostgreSQL or MySQL (the
all-in-one service upgrades its embedded SQLite database by itself).
Every failure ends with one line on stderr and a non-zero exit status,
never a traceback: an operator reading a deployment log should see what
is wrong, not where in Podium it was noticed.
"""

import sys
from collections.abc import Callable
from typing import Any

import alembic.util
import sqlalchemy as sa
from oslo_config import cfg

from podium.common import command_line, exceptions, service
from podium.conf import CONF
from podium.db import encryption, migration, models
from podium.db import engine as db_engine


def _upgrade() -> None:
    revision = CONF.command.revision
    migration.upgrade(revision)
    print(f'Database schema upgraded to {revision} '
          f'(now at {migration.version()}).')


def _version() -> None:
    print(migration.version() or 'None (empty database)')


def _create_schema() -> None:
    migration.create_schema()
    print(f'Database schema created at revision {migration.version()}.')


def _rotate_secrets() -> None:
    count = encryption.rotate(db_engine.session_scope, models.Node.__table__)
    print(f'Secrets of {count} node(s) re-encrypted with the first key of '
          f'[database] secrets_encryption_keys.')


def _generate_secrets_key() -> None:
    print(encryption.generate_key())


_COMMANDS: dict[str, tuple[Callable[[], None], str]] = {
    'upgrade': (_upgrade, 'Upgrade the schema (default: to the newest '
                          'revision).'),
    'version': (_version, 'Print the schema\'s current revision.'),
    'create_schema': (_create_schema, 'Create the schema of an empty '
                                      'database from the models, faster '
                                      'than replaying every migration.'),
    'rotate-secrets': (_rotate_secrets, 'Re-encrypt every node\'s '
                                        'driver_info secrets with the first '
                                        'key of [database] '
                                        'secrets_encryption_keys (also '
                                        'encrypts secrets stored in clear).'),
    'generate-secrets-key': (_generate_secrets_key,
                             'Print a new random key for [database] '
                             'secrets_encryption_keys.'),
}


def _add_command_parsers(subparsers: Any) -> None:
    # oslo.config hands over an argparse subparsers object; each command
    # stores its function so main() needs no second dispatch table.
    for name, (func, help_text) in _COMMANDS.items():
        parser = subparsers.add_parser(name, help=help_text)
        parser.set_defaults(func=func)
        if name == 'upgrade':
            parser.add_argument(
                '--revision', default='head',
                help='Alembic revision to upgrade to (default: head).')


_command_opt = cfg.SubCommandOpt(
    'command', title='Commands', handler=_add_command_parsers,
    help='What to do with the database schema.')


def main(argv: list[str] | None = None) -> None:
    """Run one ``podium-dbsync`` command; exits non-zero on failure."""
    CONF.register_cli_opt(_command_opt)
    service.prepare_service(argv, command=command_line.DBSYNC)
    try:
        CONF.command.func()
    except (sa.exc.SQLAlchemyError, alembic.util.CommandError,
            RuntimeError, exceptions.PodiumException) as exc:
        reason = str(getattr(exc, 'orig', None) or exc).strip()
        first_line = reason.splitlines()[0] if reason else \
            type(exc).__name__
        sys.exit(f'podium-dbsync: {CONF.command.name} failed: {first_line}')


if __name__ == '__main__':
    main()
