"""The non-blocking Redfish power read: the HTTP/1.1 client
(``redfish.aio_get``) against scripted answers, and the power read
(``redfish.power_read_async``) against the in-process BMC simulator.

Every wait is bounded: futures are waited for with a timeout.
"""

import asyncio
import concurrent.futures
import socket
import socketserver
import threading
import time
from collections.abc import Sequence
from typing import Any, cast

import requests

from podium.common import exceptions, states
from podium.drivers import base as drivers_base
from podium.drivers.modules import aio_loop
from podium.drivers.modules.redfish import (
    aio_get,
    connection,
    power,
    power_read_async,
)
from podium.tests import base
from podium.tests.unit.drivers import helpers
from podium.tests.unit.drivers import test_redfish_lean_get as lean_tests

WAIT = 10.0
BODY = b'{"PowerState": "On"}'
HANG = b''


def ok(body: bytes = BODY, extra: str = '') -> bytes:
    return (f'HTTP/1.1 200 OK\r\nContent-Length: {len(body)}\r\n'
            f'{extra}\r\n').encode() + body


class _Scripted(socketserver.BaseRequestHandler):
    """Answers each request on a connection with the next scripted
    answer; ``None`` closes the connection without answering, ``HANG``
    never answers (until the client closes, bounded by ``WAIT``)."""

    def handle(self) -> None:
        server = cast(_Server, self.server)
        server.connections += 1
        buffer = b''
        self.request.settimeout(WAIT)
        while True:
            while b'\r\n\r\n' not in buffer:
                try:
                    data = self.request.recv(65536)
                except OSError:
                    return
                if not data:
                    return
                buffer += data
            head, buffer = buffer.split(b'\r\n\r\n', 1)
            server.heads.append(head.decode('latin-1'))
            with server.lock:
                answer = server.script.pop(0) if server.script else None
            if answer is None:
                return
            if answer == HANG:
                try:
                    self.request.recv(1)
                except OSError:
                    pass
                server.hung_closed.set()
                return
            self.request.sendall(answer)
            if server.close_after_answer:
                return


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, script: list[bytes | None],
                 close_after_answer: bool = False) -> None:
        super().__init__(('127.0.0.1', 0), _Scripted)
        self.script = script
        self.close_after_answer = close_after_answer
        self.heads: list[str] = []
        self.connections = 0
        self.lock = threading.Lock()
        self.hung_closed = threading.Event()


class ClientTestCase(base.TestCase):
    """HTTP parsing and connection reuse by http.client's rules."""

    def serve(self, script: Sequence[bytes | None],
              close_after_answer: bool = False) -> _Server:
        server = _Server(list(script), close_after_answer)
        thread = threading.Thread(target=server.serve_forever,
                                  kwargs={'poll_interval': 0.05})
        thread.start()
        self.addCleanup(thread.join, WAIT)
        self.addCleanup(server.server_close)
        self.addCleanup(server.shutdown)
        return server

    def getter(self, server: _Server) -> aio_get.AioGetter:
        getter = aio_get.AioGetter(
            f'http://127.0.0.1:{server.server_address[1]}', True)
        self.addCleanup(aio_loop.LOOP.call_soon, getter.close)
        return getter

    def get(self, getter: aio_get.AioGetter, path: str = '/x'
            ) -> tuple[int, bytes] | None:
        return aio_loop.LOOP.submit(getter.get(
            path, {'Accept': 'application/json'})).result(WAIT)

    def test_content_length_kept_alive(self) -> None:
        server = self.serve([ok(), ok(b'{}')])
        getter = self.getter(server)
        self.assertEqual((200, BODY), self.get(getter))
        self.assertEqual((200, b'{}'), self.get(getter))
        self.assertEqual(1, server.connections)
        self.assertTrue(server.heads[0].startswith('GET /x HTTP/1.1\r\n'))
        self.assertIn('Host: 127.0.0.1:', server.heads[0])
        self.assertIn('Accept: application/json', server.heads[0])

    def test_chunked_with_extensions_and_trailers(self) -> None:
        answer = (b'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n'
                  b'5;ext=1\r\n{"Pow\r\n'
                  b'f\r\nerState": "On"}\r\n'
                  b'0\r\nX-Trailer: 1\r\n\r\n')
        server = self.serve([answer, ok()])
        getter = self.getter(server)
        self.assertEqual((200, BODY), self.get(getter))
        self.assertEqual((200, BODY), self.get(getter))  # same connection
        self.assertEqual(1, server.connections)

    def test_body_up_to_the_close(self) -> None:
        server = self.serve([b'HTTP/1.0 200 OK\r\n\r\n' + BODY, ok()],
                            close_after_answer=True)
        getter = self.getter(server)
        self.assertEqual((200, BODY), self.get(getter))
        self.assertEqual((200, BODY), self.get(getter))
        self.assertEqual(2, server.connections)

    def test_connection_close_not_reused(self) -> None:
        server = self.serve([ok(extra='Connection: close\r\n'), ok()])
        getter = self.getter(server)
        self.assertEqual((200, BODY), self.get(getter))
        self.assertEqual([], getter._idle)
        self.assertEqual((200, BODY), self.get(getter))
        self.assertEqual(2, server.connections)

    def test_http10_keep_alive_reused(self) -> None:
        answer = (f'HTTP/1.0 200 OK\r\nConnection: keep-alive\r\n'
                  f'Content-Length: {len(BODY)}\r\n\r\n').encode() + BODY
        server = self.serve([answer, ok()])
        getter = self.getter(server)
        self.assertEqual((200, BODY), self.get(getter))
        self.assertEqual((200, BODY), self.get(getter))
        self.assertEqual(1, server.connections)

    def test_interim_answer_skipped_and_no_body_statuses(self) -> None:
        server = self.serve([b'HTTP/1.1 100 Continue\r\n\r\n' + ok(),
                             b'HTTP/1.1 204 No Content\r\n\r\n', ok()])
        getter = self.getter(server)
        self.assertEqual((200, BODY), self.get(getter))
        self.assertEqual((204, b''), self.get(getter))
        self.assertEqual((200, BODY), self.get(getter))
        self.assertEqual(1, server.connections)

    def test_stale_keep_alive_connection_replaced_once(self) -> None:
        # Keep-alive answers, but the server closes after each one (a BMC
        # timing idle connections out): the next GET finds it closed.
        server = self.serve([ok(), ok(), ok()], close_after_answer=True)
        getter = self.getter(server)
        for _ in range(3):
            self.assertEqual((200, BODY), self.get(getter))
        self.assertEqual(3, server.connections)

    def test_sent_said_once_even_when_the_request_is_written_twice(
            self) -> None:
        server = self.serve([ok(), ok()], close_after_answer=True)
        getter = self.getter(server)
        self.assertEqual((200, BODY), self.get(getter))
        sent: list[bool] = []
        # The kept connection is stale: the request goes out twice.
        self.assertEqual((200, BODY), aio_loop.LOOP.submit(getter.get(
            '/x', {}, on_sent=lambda: sent.append(True))).result(WAIT))
        self.assertEqual(2, server.connections)
        self.assertEqual([True], sent)

    def test_close_without_answer_on_fresh_connection(self) -> None:
        getter = self.getter(self.serve([None]))
        self.assertIsNone(self.get(getter))

    def test_unservable_answers_left_to_the_threaded_path(self) -> None:
        for answer in (b'garbage\r\n\r\n',
                       ok(extra='Content-Encoding: gzip\r\n'),
                       b'HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n',
                       b'HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n',
                       b'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked'
                       b'\r\n\r\nzz\r\n'):
            getter = self.getter(self.serve([answer]))
            self.assertIsNone(self.get(getter), repr(answer))

    def test_oversized_head_left_to_the_threaded_path(self) -> None:
        huge = ('X-Pad: ' + 'a' * (aio_get.MAX_HEADER_BYTES + 10) + '\r\n')
        getter = self.getter(self.serve([ok(extra=huge)]))
        self.assertIsNone(self.get(getter))

    def test_refused_connection_left_to_the_threaded_path(self) -> None:
        with socket.socket() as sock:
            sock.bind(('127.0.0.1', 0))
            port = sock.getsockname()[1]
        getter = aio_get.AioGetter(f'http://127.0.0.1:{port}', True)
        self.assertIsNone(self.get(getter))

    def test_cancelled_read_closes_its_connection(self) -> None:
        server = self.serve([HANG])

        async def bounded() -> Any:
            async with asyncio.timeout(0.2):
                return await getter.get('/x', {})

        getter = self.getter(server)
        future = aio_loop.LOOP.submit(bounded())
        self.assertRaises(TimeoutError, future.result, WAIT)
        self.assertEqual([], getter._idle)
        # The server sees the connection closed, not left half-used.
        self.assertTrue(server.hung_closed.wait(WAIT))


class PowerReadTestCase(lean_tests.LeanTestCase):
    """``start_power_read`` against the simulator."""

    def setUp(self) -> None:
        super().setUp()
        self.iface = power.RedfishPower()

    def warm(self, index: int = 0, auth_type: str = 'auto'
             ) -> drivers_base.Task:
        """A task whose connection the threaded path opened already."""
        task = self.task(index)
        task.node.driver_info['redfish_auth_type'] = auth_type
        self.iface.get_power_state(task)
        return task

    def start(self, tasks: Sequence[drivers_base.Task]
              ) -> concurrent.futures.Future[dict[int, str | Exception]]:
        future = self.iface.start_power_read(tasks)
        self.assertIsNotNone(future)
        assert future is not None
        return future

    def assert_async_reads(self, auth_type: str) -> None:
        task = self.warm(auth_type=auth_type)
        conn = connection.CACHE.peek(
            power_read_async.utils.parse(task.node))
        assert conn is not None
        self.useFixture(self.requests_path_forbidden(conn))
        self.sim.set_power(0, 'On')
        before = self.stat('requests')
        result = self.start([task]).result(WAIT)
        self.assertEqual({task.node.id: states.POWER_ON}, result)
        self.assertEqual(1, self.stat('requests') - before)

    def test_session_auth(self) -> None:
        self.assert_async_reads('session')

    def test_basic_auth(self) -> None:
        self.assert_async_reads('basic')

    def test_caller_told_when_the_request_is_on_its_way(self) -> None:
        task = self.warm()
        sent: list[bool] = []
        task.sent = lambda: sent.append(True)  # type: ignore[attr-defined]
        self.start([task]).result(WAIT)
        self.assertEqual([True], sent)

    def test_not_offered_before_the_connection_is_open(self) -> None:
        self.assertIsNone(self.iface.start_power_read([self.task()]))
        self.assertIsNone(self.iface.start_power_read([]))

    def test_expand_reads_every_system_in_one_request(self) -> None:
        tasks = [self.warm(index) for index in range(
            self.systems_per_endpoint)]
        self.sim.set_power(2, 'On')
        self.assertIsNotNone(self.iface.batch_key(tasks[0].node))
        before = self.stat('requests')
        result = self.start(tasks).result(WAIT)
        self.assertEqual(1, self.stat('requests') - before)
        self.assertEqual(
            {t.node.id: states.POWER_ON if i == 2 else states.POWER_OFF
             for i, t in enumerate(tasks)}, result)

    def test_boot_mode_observed_on_the_way(self) -> None:
        tasks = [self.warm(index) for index in range(2)]
        self.sim.set_boot(1, mode='Legacy')
        seen: dict[str, Any] = {}
        helpers_task = cast(helpers.Task, tasks[1])
        helpers_task.observed = seen
        self.start(tasks).result(WAIT)  # a batch: $expand
        self.assertEqual({'boot_mode': 'bios'}, seen)
        self.assertIsNone(cast(helpers.Task, tasks[0]).observed)
        alone = cast(helpers.Task, self.warm(2))
        alone.observed = {}
        self.start([alone]).result(WAIT)
        self.assertEqual({'boot_mode': 'uefi'}, alone.observed)

    def test_rejected_session_left_to_the_threaded_path(self) -> None:
        task = self.warm(auth_type='session')
        self.drop_sessions()
        # The 401 is not served here: the node is left out ...
        self.assertEqual({}, self.start([task]).result(WAIT))
        # ... and the threaded path logs in again and reads it.
        self.assertEqual(states.POWER_OFF, self.iface.get_power_state(task))
        self.assertEqual({task.node.id: states.POWER_OFF},
                         self.start([task]).result(WAIT))

    def test_hung_bmc_fails_at_its_deadline_like_the_threaded_path(
            self) -> None:
        task = self.warm(1)
        self.sim.set_system_behaviour(1, hang=True)
        slow = cast(drivers_base.Task, helpers.task_for(
            dict(task.node.driver_info), timeout=0.5))
        slow.node.id = task.node.id
        started = time.monotonic()
        error = self.start([slow]).result(WAIT)[task.node.id]
        self.assertLess(time.monotonic() - started, 3)
        self.assertIsInstance(error, exceptions.BMCTimeout)
        threaded = self.assertRaises(exceptions.BMCTimeout,
                                     self.iface.get_power_state, slow)
        self.assertEqual(str(threaded), str(error))
        self.secrets.check(str(error))

    def test_endpoint_limit_shared_with_the_threaded_path(self) -> None:
        self.config(max_concurrent_requests_per_endpoint=2, group='redfish')
        tasks = [self.warm(index) for index in range(
            self.systems_per_endpoint)]
        self.sim.set_endpoint_behaviour(0, latency='fixed:0.02')
        self.sim.reset_stats()
        futures = [self.start([tasks[n % len(tasks)]]) for n in range(40)]
        # A threaded read meanwhile counts against the same two slots.
        self.assertEqual(states.POWER_OFF,
                         self.iface.get_power_state(tasks[0]))
        for future in futures:
            self.assertEqual([states.POWER_OFF],
                             list(future.result(WAIT).values()))
        self.assertLessEqual(self.sim.stats()['max_in_flight'], 2)

    def test_proxy_left_to_the_threaded_path(self) -> None:
        task = self.warm()
        conn = connection.CACHE.peek(power_read_async.utils.parse(task.node))
        assert conn is not None
        conn.connector.http.trust_env = True
        conn.aio_getter()._proxied = True
        self.assertIsNone(self.iface.start_power_read([task]))
        self.assertIsInstance(conn.connector.http, requests.Session)

    def test_closing_the_connection_closes_its_getter(self) -> None:
        task = self.warm()
        self.assertEqual({task.node.id: states.POWER_OFF},
                         self.start([task]).result(WAIT))
        conn = connection.CACHE.peek(power_read_async.utils.parse(task.node))
        assert conn is not None
        getter = conn.aio_getter()
        opened = self.stat('connections')
        connection.CACHE.clear()
        self.assertTrue(lean_tests.wait_until(
            lambda: getter._closed and not getter._idle))
        # Its kept-alive socket (and the lean and sushy ones) are gone.
        self.assertTrue(lean_tests.wait_until(
            lambda: self.stat('connections') < opened))
