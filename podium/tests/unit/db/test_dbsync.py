"""``podium-dbsync`` as an operator runs it: a child process per call."""

import os
import subprocess

from podium.db import migration
from podium.tests import base
from podium.tests.unit import process


class DbSyncTest(base.TestCase):

    def setUp(self) -> None:
        super().setUp()
        self.database = os.path.join(self.state_dir, 'podium.sqlite')
        self.config_path = process.write_config(
            self.state_dir,
            f'[database]\nconnection = sqlite:///{self.database}\n'
            'connect_retries = 0\n')

    def _dbsync(self, *args: str,
                config_path: str | None = None
                ) -> subprocess.CompletedProcess[str]:
        return process.run_python(
            '-m', 'podium.cmd.dbsync',
            '--config-file', config_path or self.config_path, *args)

    def _assert_failed_with(self, result: subprocess.CompletedProcess[str],
                            *expected: str) -> str:
        self.assertNotEqual(0, result.returncode, result.stdout)
        self.assertNotIn('Traceback', result.stderr)
        last_line = result.stderr.strip().splitlines()[-1]
        for text in expected:
            self.assertIn(text, last_line)
        return last_line

    def test_upgrade_then_version(self) -> None:
        result = self._dbsync('version')
        self.assertEqual(0, result.returncode, result.stderr)
        self.assertEqual('None (empty database)\n', result.stdout)

        result = self._dbsync('upgrade')
        self.assertEqual(0, result.returncode, result.stderr)
        self.assertIn(f'now at {migration.head()}', result.stdout)

        result = self._dbsync('version')
        self.assertEqual(f'{migration.head()}\n', result.stdout)

    def test_create_schema_once(self) -> None:
        result = self._dbsync('create_schema')
        self.assertEqual(0, result.returncode, result.stderr)
        self.assertIn(f'at revision {migration.head()}', result.stdout)
        self._assert_failed_with(self._dbsync('create_schema'),
                                 'podium-dbsync: create_schema failed',
                                 'podium-dbsync upgrade')

    def test_unknown_revision(self) -> None:
        self._assert_failed_with(
            self._dbsync('upgrade', '--revision', 'nosuch'),
            'podium-dbsync: upgrade failed', 'nosuch')

    def test_unreachable_database(self) -> None:
        # Port 9 (discard) on loopback: nothing listens there.
        config_path = process.write_config(
            self.state_dir,
            '[database]\nconnection = postgresql+psycopg2://podium:'
            's3cret@127.0.0.1:9/podium\nconnect_retries = 0\n',
            name='unreachable.conf')
        last_line = self._assert_failed_with(
            self._dbsync('upgrade', config_path=config_path),
            'Cannot reach the database', '127.0.0.1:9')
        self.assertNotIn('s3cret', last_line)

    def test_unknown_command(self) -> None:
        result = self._dbsync('downgrade')
        self.assertNotEqual(0, result.returncode)
        self.assertNotIn('Traceback', result.stderr)
        self.assertIn('downgrade', result.stderr)
