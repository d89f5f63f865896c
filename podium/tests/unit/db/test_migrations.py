"""The migrations and the models describe the same schema.

The database under :class:`base.DbTestCase` starts empty and is brought
to head by the migrations; autogenerate then compares it with the
models, so a model change without its migration (or the reverse) fails
here, on every backend the functional tests run this on.
"""

import os
from typing import Any

import sqlalchemy as sa
from alembic import autogenerate
from alembic import migration as alembic_migration

from podium.db import engine as db_engine
from podium.db import migration, models
from podium.tests import base


class MigrationTest(base.DbTestCase):

    def test_models_match_migrations(self) -> None:
        with db_engine.get_engine().connect() as conn:
            context = alembic_migration.MigrationContext.configure(
                conn, opts={'compare_type': True})
            diff = autogenerate.compare_metadata(context,
                                                 models.Base.metadata)
        self.assertEqual([], diff)

    def test_version_is_head(self) -> None:
        self.assertEqual(migration.head(), migration.version())
        # Upgrading a database at head changes nothing.
        migration.upgrade()
        self.assertEqual(migration.head(), migration.version())

    def test_create_schema_refuses_existing_schema(self) -> None:
        exc = self.assertRaises(RuntimeError, migration.create_schema)
        self.assertIn('podium-dbsync upgrade', str(exc))


def _schema(engine: sa.Engine) -> dict[str, Any]:
    """What two schemas must agree on, per table, as comparable values."""
    inspector = sa.inspect(engine)
    schema: dict[str, Any] = {}
    for table in sorted(set(inspector.get_table_names())
                        - {'alembic_version'}):
        schema[table] = {
            'columns': sorted(
                (c['name'], str(c['type']), c['nullable'])
                for c in inspector.get_columns(table)),
            'unique': sorted((u['name'], tuple(u['column_names']))
                             for u in inspector.get_unique_constraints(
                                 table)),
            'indexes': sorted((i['name'], tuple(i['column_names']))
                              for i in inspector.get_indexes(table)),
            'foreign_keys': sorted(
                (tuple(fk['constrained_columns']), fk['referred_table'],
                 tuple(fk['referred_columns']),
                 fk['options'].get('ondelete'))
                for fk in inspector.get_foreign_keys(table)),
        }
    return schema


class CreateSchemaTest(base.TestCase):
    """``create_schema`` builds what the migrations build, names and all,
    so later migrations can alter either one."""

    def _use_database(self, name: str) -> sa.Engine:
        db_engine.dispose()
        self.config(connection='sqlite:///' + os.path.join(
            self.state_dir, name), group='database')
        return db_engine.get_engine()

    def test_create_schema_matches_migrations(self) -> None:
        migrated_engine = self._use_database('migrated.sqlite')
        migration.upgrade()
        migrated = _schema(migrated_engine)
        self.assertEqual({'batch_nodes', 'batches', 'bios_settings',
                          'bmc_resets', 'conductors', 'firmware_information',
                          'node_history', 'nodes', 'ports'},
                         set(migrated))

        created_engine = self._use_database('created.sqlite')
        self.assertIsNone(migration.version())
        migration.create_schema()
        self.assertEqual(migration.head(), migration.version())
        self.assertEqual(migrated, _schema(created_engine))
