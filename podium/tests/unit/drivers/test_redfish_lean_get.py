"""The lean keep-alive power read (``redfish.lean_get``) and its use by
``Connection.get_json``, against the in-process BMC simulator.

Each test that claims the lean path served a read makes the requests
path fail, so a silent fallback cannot pass for the lean one.
"""

import base64
import gzip
import http.server
import os
import shutil
import threading
import time
from collections.abc import Callable
from typing import cast
from unittest import mock

import fixtures
import requests

from podium.common import exceptions, states
from podium.drivers import base as drivers_base
from podium.drivers.modules import deadline
from podium.drivers.modules.redfish import (
    connection,
    lean_get,
    power,
    utils,
)
from podium.simulator import resources as sim_resources
from podium.tests import base
from podium.tests.unit.drivers import helpers

PASSWORD = 'Lean-Pa55word-z3'
JSON_HEADERS = {'Accept': 'application/json'}


def wait_until(condition: Callable[[], bool], timeout: float = 5.0) -> bool:
    """Poll ``condition`` until true or ``timeout`` seconds passed."""
    end = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > end:
            return False
        time.sleep(0.01)
    return True


class LeanTestCase(base.TestCase):
    """A one-endpoint simulator and helpers to open connections to it."""

    systems_per_endpoint = 4

    def setUp(self) -> None:
        super().setUp()
        self.sim = helpers.start_simulator(
            self, endpoints=1, systems_per_endpoint=self.systems_per_endpoint,
            password=PASSWORD, seed=11)
        basic = base64.b64encode(
            f'{self.sim.username}:{PASSWORD}'.encode()).decode()
        self.secrets = self.useFixture(
            helpers.SecretsNotLogged(PASSWORD, basic))
        self.config(request_timeout=2, group='redfish')

    def info(self, **overrides: object) -> utils.RedfishInfo:
        node = self.task().node
        node.driver_info.update(overrides)
        return utils.parse(node)

    def open(self, auth_type: str = 'auto') -> connection.Connection:
        conn = connection.Connection(self.info(redfish_auth_type=auth_type))
        self.addCleanup(conn.close)
        return conn

    def task(self, index: int = 0) -> drivers_base.Task:
        system = self.sim.systems[index]
        # helpers.Task stands in for the protocol drivers take.
        return cast(drivers_base.Task, helpers.task_for({
            'redfish_address': system.address,
            'redfish_system_id': system.system_id,
            'redfish_username': system.username,
            'redfish_password': PASSWORD}))

    def read(self, conn: connection.Connection, index: int = 0,
             timeout: float = 5.0) -> str:
        """The system's PowerState read through ``conn.get_json``."""
        with deadline.bounded(timeout):
            doc = conn.get_json(self.sim.systems[index].system_id)
        return str(doc['PowerState'])

    def drop_sessions(self) -> None:
        """Log every session out on the BMC, as a BMC reboot would."""
        address = self.sim.systems[0].address
        auth = (self.sim.username, PASSWORD)
        listing = requests.get(address + sim_resources.SESSIONS, auth=auth,
                               timeout=5)
        for member in listing.json()['Members']:
            requests.delete(address + member['@odata.id'], auth=auth,
                            timeout=5).raise_for_status()

    def stat(self, name: str) -> int:
        return int(self.sim.stats()[name])

    @staticmethod
    def requests_path_forbidden(conn: connection.Connection
                                ) -> fixtures.MockPatchObject:
        """Fail any read that falls back to the requests session."""
        return fixtures.MockPatchObject(
            conn.connector.http, 'get',
            side_effect=AssertionError('fell back to requests'))


class WarmReadTestCase(LeanTestCase):

    def assert_lean_reads(self, conn: connection.Connection) -> None:
        self.read(conn)  # warm: the lean connection opens
        requests_before = self.stat('requests')
        opened_before = self.stat('connections_total')
        self.useFixture(self.requests_path_forbidden(conn))
        for index in range(self.systems_per_endpoint):
            self.assertEqual('Off', self.read(conn, index))
        self.assertEqual(self.systems_per_endpoint,
                         self.stat('requests') - requests_before)
        self.assertEqual(0, self.stat('connections_total') - opened_before)

    def test_basic_auth(self) -> None:
        conn = self.open('basic')
        self.assertIsNotNone(conn.connector.http.auth)
        self.assert_lean_reads(conn)

    def test_session_auth(self) -> None:
        conn = self.open('session')
        self.assertIsNone(conn.connector.http.auth)
        self.assertIn('X-Auth-Token', conn.connector.http.headers)
        self.assert_lean_reads(conn)

    def test_rejected_session_token_logs_in_again(self) -> None:
        conn = self.open('session')
        self.read(conn)
        token = conn.connector.http.headers['X-Auth-Token']
        self.drop_sessions()
        self.assertEqual('Off', self.read(conn))
        self.assertNotEqual(token, conn.connector.http.headers['X-Auth-Token'])
        # The new token serves the lean path again: one request a read.
        self.useFixture(self.requests_path_forbidden(conn))
        before = self.stat('requests')
        self.assertEqual('Off', self.read(conn))
        self.assertEqual(1, self.stat('requests') - before)

    def test_concurrent_reads_share_one_connection_safely(self) -> None:
        self.config(max_concurrent_requests_per_endpoint=2, group='redfish')
        conn = self.open()
        for index in range(0, self.systems_per_endpoint, 2):
            self.sim.set_power(index, 'On')
        self.sim.set_endpoint_behaviour(0, latency='fixed:0.005')
        self.useFixture(self.requests_path_forbidden(conn))
        expected = ['On' if i % 2 == 0 else 'Off'
                    for i in range(self.systems_per_endpoint)]
        failures: list[str] = []

        def reader(offset: int) -> None:
            try:
                for step in range(10):
                    index = (offset + step) % self.systems_per_endpoint
                    got = self.read(conn, index, timeout=20)
                    if got != expected[index]:
                        failures.append(f'system {index}: {got}')
            except Exception as exc:
                failures.append(repr(exc))

        threads = [threading.Thread(target=reader, args=(n,))
                   for n in range(20)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        self.assertEqual([], failures)
        self.assertLessEqual(self.sim.stats()['max_in_flight'], 2)
        # Connections are reused, not opened per read, and at most the
        # concurrency cap of them were ever needed.
        self.assertLessEqual(len(conn._lean._idle), 2)


class FailureTestCase(LeanTestCase):

    def test_hung_bmc_times_out_within_the_deadline(self) -> None:
        self.config(request_timeout=30, group='redfish')
        conn = self.open()
        self.read(conn)
        self.sim.set_system_behaviour(1, hang=True)
        self.useFixture(self.requests_path_forbidden(conn))
        started = time.monotonic()
        exc = self.assertRaises(exceptions.BMCTimeout, self.read, conn, 1,
                                timeout=0.5)
        self.assertLess(time.monotonic() - started, 5)
        self.assertIn('0.5 seconds', str(exc))
        self.secrets.check(str(exc))
        # The timed-out connection is dropped, not reused for the next read.
        self.assertEqual('Off', self.read(conn, 0))

    def test_server_error_maps_like_the_requests_path(self) -> None:
        self.config(server_side_retries=0, group='redfish')
        iface = power.RedfishPower()
        task = self.task()
        iface.get_power_state(task)
        self.sim.set_system_behaviour(0, error_fraction=1.0,
                                      error_status=500)
        lean_exc = self.assertRaises(exceptions.DriverError,
                                     iface.get_power_state, task)
        with mock.patch.object(lean_get.LeanGetter, 'get',
                               return_value=None):
            requests_exc = self.assertRaises(exceptions.DriverError,
                                             iface.get_power_state, task)
        self.assertIs(type(requests_exc), type(lean_exc))
        self.assertEqual(str(requests_exc), str(lean_exc))
        self.assertIn('HTTP 500', str(lean_exc))
        self.secrets.check(str(lean_exc))

    def test_environment_proxy_falls_back_to_requests(self) -> None:
        for name in ('NO_PROXY', 'no_proxy', 'http_proxy'):
            self.useFixture(fixtures.EnvironmentVariable(name))
        self.useFixture(fixtures.EnvironmentVariable(
            'HTTP_PROXY', 'http://127.0.0.1:9'))
        system = self.sim.systems[0]
        getter = lean_get.LeanGetter(system.address, True)
        self.addCleanup(getter.close)
        session = requests.Session()
        session.auth = (system.username, PASSWORD)
        # trust_env on ([redfish] trust_env): requests would use the proxy.
        self.assertIsNone(getter.get(system.system_id, session,
                                     JSON_HEADERS, 2))
        session.trust_env = False
        reply = getter.get(system.system_id, session, JSON_HEADERS, 2)
        self.assertEqual(200, reply[0] if reply else None)

    def test_unreproducible_auth_falls_back(self) -> None:
        session = requests.Session()
        session.auth = requests.auth.HTTPDigestAuth('admin', PASSWORD)
        self.assertIsNone(lean_get.auth_headers(session))
        session.auth = ('admin', 'pass\u20ac')  # not latin-1: requests fails
        self.assertIsNone(lean_get.auth_headers(session))

    def test_basic_auth_encoded_like_requests(self) -> None:
        session = requests.Session()
        session.auth = ('admin', 'p\u00e4ss')
        sent = lean_get.auth_headers(session) or {}
        prepared = session.prepare_request(
            requests.Request('GET', 'http://bmc/'))
        self.assertEqual(prepared.headers['Authorization'],
                         sent['Authorization'])


class LifecycleTestCase(LeanTestCase):

    def test_close_closes_the_socket(self) -> None:
        conn = self.open()
        self.read(conn)
        open_before = self.stat('connections')
        conn._lean.close()
        self.assertTrue(wait_until(
            lambda: self.stat('connections') == open_before - 1))
        # A read after close still works and keeps nothing open.
        self.assertEqual('Off', self.read(conn))
        self.assertEqual([], conn._lean._idle)
        self.assertTrue(wait_until(
            lambda: self.stat('connections') == open_before - 1))

    def test_connection_close_leaves_other_connections_usable(self) -> None:
        first, second = self.open('basic'), self.open('session')
        self.assertIs(first.connector.http.get_adapter(first.address),
                      second.connector.http.get_adapter(second.address))
        first.close()
        # The requests path (actions, sushy reads) of the other still works.
        path = self.sim.systems[0].system_id
        self.assertEqual(200, second.connector.get(path).status_code)
        self.assertEqual('Off', self.read(second))

    def test_root_document_trimmed_but_usable(self) -> None:
        conn = self.open()
        self.assertLessEqual(set(conn.root.json), {'Links', 'Systems'})
        self.assertTrue(conn.systems_path.endswith('/Systems'))
        self.assertTrue(conn.expand_supported())
        # Logging in again reads Links.Sessions from the trimmed document.
        self.assertEqual(sim_resources.SESSIONS,
                         conn.root.get_sessions_path())
        members = conn.root.get_system_collection().members_identities
        self.assertEqual(self.systems_per_endpoint, len(members))

    def test_ssl_contexts_shared(self) -> None:
        self.assertIs(lean_get._ssl_context(True),
                      lean_get._ssl_context(True))
        self.assertIsNot(lean_get._ssl_context(True),
                         lean_get._ssl_context(False))
        bundle = os.path.join(self.useFixture(fixtures.TempDir()).path,
                              'ca.pem')
        shutil.copy(requests.certs.where(), bundle)
        first = lean_get._ssl_context(bundle)
        self.assertIs(first, lean_get._ssl_context(bundle))
        os.utime(bundle, ns=(0, 0))  # a rotated CA file
        self.assertIsNot(first, lean_get._ssl_context(bundle))


class _ClosingHandler(http.server.BaseHTTPRequestHandler):
    """Answers keep-alive but closes the socket after each answer, as a
    BMC that times idle connections out does."""

    protocol_version = 'HTTP/1.1'
    encoding: str | None = None

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        body = b'{"PowerState": "On"}'
        self.send_response(200)
        self.send_header('Content-Type', 'application/json')
        if self.encoding:
            body = gzip.compress(body)
            self.send_header('Content-Encoding', self.encoding)
        self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        self.close_connection = True

    def log_message(self, *args: object) -> None:
        """Keep the test output quiet."""


class _GzipHandler(_ClosingHandler):
    """Compresses its answer although the client asked for identity."""

    encoding = 'gzip'


class StaleConnectionTestCase(base.TestCase):

    def serve(self, handler: type[_ClosingHandler] = _ClosingHandler
              ) -> str:
        """Start a server with ``handler``; its base URL."""
        server = http.server.ThreadingHTTPServer(('127.0.0.1', 0), handler)
        thread = threading.Thread(target=server.serve_forever)
        thread.start()
        self.addCleanup(thread.join)
        self.addCleanup(server.server_close)
        self.addCleanup(server.shutdown)
        return f'http://127.0.0.1:{server.server_address[1]}'

    def test_closed_keep_alive_connection_is_replaced(self) -> None:
        address = self.serve()
        getter = lean_get.LeanGetter(address, True)
        self.addCleanup(getter.close)
        session = requests.Session()
        for _ in range(3):
            self.assertEqual((200, b'{"PowerState": "On"}'),
                             getter.get('/redfish/v1/Systems/1', session,
                                        JSON_HEADERS, 5))

    def test_compressed_answer_left_to_requests(self) -> None:
        getter = lean_get.LeanGetter(self.serve(_GzipHandler), True)
        self.addCleanup(getter.close)
        self.assertIsNone(getter.get('/redfish/v1/Systems/1',
                                     requests.Session(), JSON_HEADERS, 5))


class PowerInterfaceTestCase(LeanTestCase):

    systems_per_endpoint = 1

    def test_power_actions_after_reads(self) -> None:
        """Actions go through the shared requests transport."""
        iface = power.RedfishPower()
        task = self.task()
        self.assertEqual(states.POWER_OFF, iface.get_power_state(task))
        iface.set_power_state(task, states.POWER_ON)
        self.assertEqual(states.POWER_ON, iface.get_power_state(task))
