"""Test bases shared by unit and functional tests.

Every test gets its own configuration (``CONF`` reset after the test),
its log records captured (shown only when it fails), a temporary state
directory and, for :class:`DbTestCase`, a fresh SQLite
database at the migrations' head. Nothing leaks into the next test.
"""

import logging
import os
import socket
import tempfile

import fixtures
import testtools
from oslo_config import fixture as config_fixture

from podium.common import hash_ring
from podium.conductor import task_manager
from podium.conf import CONF
from podium.db import engine as db_engine
from podium.db import migration, node_reads
from podium.drivers import driver_factory
from podium.drivers.modules.redfish import transport as redfish_transport
from podium.tests import watchdog

#: Set to 1 (as CI does) to make a missing service fail a test instead
#: of skipping it.
REQUIRE_SERVICES_ENV = 'PODIUM_TEST_REQUIRE_SERVICES'


def services_required() -> bool:
    return os.environ.get(REQUIRE_SERVICES_ENV, '') not in ('', '0')


def tcp_reachable(host: str, port: int, timeout: float = 1.0) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


#: Set to 1 to capture DEBUG records as well (INFO and up otherwise).
DEBUG_ENV = 'OS_DEBUG'
_LOG_FORMAT = '%(asctime)s %(levelname)s %(name)s %(message)s'


def capture_logs(test: testtools.TestCase) -> None:
    """Keep ``test``'s log records out of the test runner's output.

    Tests of failure paths log expected errors and tracebacks; printed,
    they bury a real failure. The records are kept instead and attached
    to the result (detail ``pythonlogging``) only when the test fails.
    """
    level = logging.DEBUG if os.environ.get(DEBUG_ENV, '') not in (
        '', '0') else logging.INFO
    test.useFixture(fixtures.FakeLogger(level=level, format=_LOG_FORMAT))


class TestCase(testtools.TestCase):
    """Isolated configuration, state directory and log, no database."""

    def setUp(self) -> None:
        super().setUp()
        # First, so that it also covers every other fixture's clean-up.
        self.useFixture(
            watchdog.TestTimeout(self, watchdog.timeout_from_env()))
        capture_logs(self)
        self.config_fixture = self.useFixture(config_fixture.Config(CONF))
        CONF([], project='podium', default_config_files=[])
        self.state_dir = self.useFixture(fixtures.TempDir()).path
        self.config(state_path=self.state_dir)
        self.config(host='test-conductor')
        # Process-wide caches must not carry one test's conductors,
        # drivers or database into the next.
        for reset in (driver_factory.reset_registry,
                      node_reads.LOOP_READER.release, db_engine.dispose,
                      hash_ring.HashRingManager.reset,
                      task_manager.reset_holdings,
                      redfish_transport.LIMITER.reset):
            reset()
            self.addCleanup(reset)

    def config(self, **kwargs: object) -> None:
        """Override options for this test: ``group=...`` picks a group."""
        self.config_fixture.config(**kwargs)

    def use_fake_drivers(self, **options: object) -> None:
        """Enable the fake hardware type and its interfaces only, with
        ``options`` of ``[DEFAULT]``."""
        self.config(enabled_hardware_types=['fake-hardware'],
                    enabled_power_interfaces=['fake'],
                    enabled_management_interfaces=['fake'],
                    enabled_inspect_interfaces=['fake', 'no-inspect'],
                    **options)

    def require_service(self, available: bool, reason: str) -> None:
        """Skip (or, in CI, fail) when a needed service is absent."""
        if available:
            return
        if services_required():
            self.fail(f'{reason} ({REQUIRE_SERVICES_ENV} is set, so this '
                      f'is a failure, not a skip)')
        self.skipTest(reason)


class DbTestCase(TestCase):
    """A fresh SQLite database at the schema head for every test."""

    def setUp(self) -> None:
        super().setUp()
        self.config(connection=self.database_url(), group='database')
        migration.upgrade()

    def database_url(self) -> str:
        """The database this test runs on; functional tests of other
        backends override it to run the same test bodies there."""
        return 'sqlite:///' + os.path.join(self.state_dir, 'podium.sqlite')


def temp_path(suffix: str = '') -> str:
    handle, path = tempfile.mkstemp(suffix=suffix)
    os.close(handle)
    return path
