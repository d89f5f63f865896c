"""The state directory, database, logs and generated config are private."""

import logging
import os
import stat

from podium.cli import local_service
from podium.common import exceptions, private_files
from podium.db import engine as db_engine
from podium.tests import base


def _mode(path: str) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


class PrivateFilesTest(base.TestCase):

    def setUp(self) -> None:
        super().setUp()
        # The test process's umask must not be what makes files private.
        old = os.umask(0o022)
        self.addCleanup(os.umask, old)

    def test_state_dir_and_database(self) -> None:
        state = os.path.join(self.state_dir, 'new', 'state')
        self.config(state_path=state)
        engine = db_engine.create_engine()
        self.addCleanup(engine.dispose)
        with engine.begin() as conn:
            conn.exec_driver_sql('CREATE TABLE t (x INTEGER)')
            conn.exec_driver_sql('INSERT INTO t VALUES (1)')
        self.assertEqual(0o700, _mode(state))
        names = sorted(os.listdir(state))
        self.assertIn('podium.sqlite', names)
        for name in names:  # the database and its -wal/-shm files
            self.assertEqual(0o600, _mode(os.path.join(state, name)), name)

    def test_too_open_things_are_tightened(self) -> None:
        path = os.path.join(self.state_dir, 'old.sqlite')
        with open(path, 'w'):
            pass
        os.chmod(path, 0o644)
        os.chmod(self.state_dir, 0o755)  # noqa: S103
        with self.assertLogs(private_files.LOG, logging.WARNING) as logs:
            engine = db_engine.create_engine('sqlite:///' + path)
        engine.dispose()
        self.assertEqual(0o600, _mode(path))
        self.assertEqual(0o700, _mode(self.state_dir))
        self.assertIn('changed to 600', ' '.join(logs.output))

    def test_log_files(self) -> None:
        path = os.path.join(self.state_dir, 'podium.log')
        logger = logging.getLogger('podium.tests.private')
        handler = logging.FileHandler(path)
        logger.addHandler(handler)
        self.addCleanup(handler.close)
        self.addCleanup(logger.removeHandler, handler)
        private_files.restrict_log_files(logger)
        self.assertEqual(0o600, _mode(path))

    def test_local_service_config_and_log(self) -> None:
        state = os.path.join(self.state_dir, 'demo')
        service = local_service.LocalService(state, {})

        def no_process(*args: object, **kwargs: object) -> None:
            raise OSError('not started in a unit test')

        self.patch(local_service.subprocess, 'Popen', no_process)
        self.addCleanup(service.stop)
        self.assertRaises(OSError, service.start)
        self.assertEqual(0o700, _mode(state))
        self.assertEqual(0o600, _mode(service.config_path))
        self.assertEqual(0o600, _mode(service.log_path))


class DriverMissingTest(base.TestCase):

    def test_missing_driver_names_the_extra(self) -> None:
        real_import = __import__

        def no_psycopg2(name: str, *args: object, **kwargs: object) -> object:
            if name.startswith('psycopg2'):
                raise ModuleNotFoundError(f"No module named '{name}'",
                                          name=name)
            return real_import(name, *args, **kwargs)  # type: ignore

        import builtins
        self.patch(builtins, '__import__', no_psycopg2)
        error = self.assertRaises(
            exceptions.ConfigInvalid, db_engine.create_engine,
            'postgresql+psycopg2://podium:pw@db/podium')
        self.assertIn("pip install 'podium[postgresql]'", str(error))
        self.assertNotIn('pw@', str(error))
        self.assertEqual(1, len(str(error).splitlines()))

    def test_unknown_database_and_bad_url(self) -> None:
        self.assertIn('unknown database type', str(self.assertRaises(
            exceptions.ConfigInvalid, db_engine.create_engine,
            'oracle9+nope://x/y')))
        self.assertIn('not a database URL', str(self.assertRaises(
            exceptions.ConfigInvalid, db_engine.create_engine, 'nonsense')))

    def test_extras_declared(self) -> None:
        import configparser
        root = os.path.dirname(os.path.dirname(os.path.dirname(
            os.path.dirname(os.path.dirname(os.path.abspath(__file__))))))
        config = configparser.ConfigParser()
        config.read(os.path.join(root, 'setup.cfg'))
        self.assertIn('psycopg2', config['extras']['postgresql'])
        self.assertIn('PyMySQL', config['extras']['mysql'])
