"""The IPMI reactor: pyghmi's lock-order cycle, deadlines, pyghmi pins.

Every BMC here is a local UDP socket that never answers (a hung BMC), so
the tests need no BMC emulator and stay within a few seconds.
"""

import collections
import importlib
import os
import socket
import threading
import time
import types
from typing import Any

import fixtures
from pyghmi import exceptions as pyghmi_exc
from pyghmi.ipmi.private import session as ipmi_session

from podium.common import exceptions
from podium.drivers.modules.ipmi import client, power, pyghmi_compat, reactor
from podium.tests import base
from podium.tests.unit.drivers import helpers

_LOCKS = ('KEEPALIVE_SESSIONS', 'WAITING_SESSIONS')


class RecordingLock:
    """A re-entrant lock noting, per acquisition, which locks were held."""

    def __init__(self, name: str, lock: Any,
                 log: 'collections.deque[tuple[str, str, str]]',
                 held: threading.local) -> None:
        self.name, self.lock, self.log, self.held = name, lock, log, held

    def acquire(self, *args: Any, **kwargs: Any) -> bool:
        stack = self.held.__dict__.setdefault('stack', [])
        for outer in stack:
            if outer != self.name:
                self.log.append((outer, self.name,
                                 threading.current_thread().name))
        got = self.lock.acquire(*args, **kwargs)
        if got:
            stack.append(self.name)
        return bool(got)

    def release(self) -> None:
        self.held.stack.remove(self.name)
        self.lock.release()

    def __enter__(self) -> bool:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()


def black_hole(test: base.TestCase) -> int:
    """A UDP port that takes packets and never answers."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    test.addCleanup(sock.close)
    sock.bind(('127.0.0.1', 0))
    return int(sock.getsockname()[1])


class ReactorTestCase(base.TestCase):

    def setUp(self) -> None:
        super().setUp()
        # The process's reactor: a second one would run pyghmi from a
        # second thread, the very thing the design rules out.
        self.reactor = reactor.REACTOR
        self.addCleanup(self.reactor.clear)

    def request(self, port: int, timeout: float) -> reactor.Request:
        target = reactor.Target('127.0.0.1', port, b'admin', b'pw',
                                key=('test', port))
        return reactor.Request(target, 0x00, 0x01, (), None,
                               time.monotonic() + timeout)

    def record_locks(self) -> 'collections.deque[tuple[str, str, str]]':
        """Swap pyghmi's two locks for recording ones (on the reactor
        thread, between iterations, so no lock is held meanwhile)."""
        log: collections.deque[tuple[str, str, str]] = collections.deque()
        held = threading.local()
        originals = {name: getattr(ipmi_session, name) for name in _LOCKS}

        def swap(locks: dict[str, Any]) -> None:
            for name, lock in locks.items():
                setattr(ipmi_session, name, lock)
        self.reactor.call_soon(lambda: swap(
            {name: RecordingLock(name, lock, log, held)
             for name, lock in originals.items()}), 5)
        self.addCleanup(self.reactor.call_soon,
                        lambda: swap(originals), 5)
        return log

    def test_pyghmi_takes_its_two_locks_in_both_orders(self) -> None:
        # The root cause of the production deadlock, shown without a
        # race: sending holds KEEPALIVE_SESSIONS and takes
        # WAITING_SESSIONS (send_payload -> _xmit_packet); a retransmit
        # holds WAITING_SESSIONS and takes KEEPALIVE_SESSIONS
        # (wait_for_rsp -> _timedout -> send_payload). Two threads doing
        # one each deadlock. Only the reactor thread ever does either.
        log = self.record_locks()
        request = self.request(black_hole(self), timeout=2.5)
        self.reactor.submit(request)
        self.assertRaises(reactor.Expired, request.future.result, 5)
        edges = {(outer, inner) for outer, inner, _thread in log}
        self.assertIn(('KEEPALIVE_SESSIONS', 'WAITING_SESSIONS'), edges)
        self.assertIn(('WAITING_SESSIONS', 'KEEPALIVE_SESSIONS'), edges)
        self.assertEqual({'podium-ipmi-reactor'},
                         {thread for _o, _i, thread in log})

    def test_hung_bmc_fails_at_its_deadline_only(self) -> None:
        hung = [self.request(black_hole(self), timeout=1.0)
                for _ in range(5)]
        started = time.monotonic()
        for request in hung:
            self.reactor.submit(request)
        for request in hung:
            self.assertRaises(reactor.Expired, request.future.result, 3)
        self.assertLess(time.monotonic() - started, 1.0 + 1.5)
        # A later request is not held up by the abandoned ones.
        late = self.request(black_hole(self), timeout=0.3)
        started = time.monotonic()
        self.reactor.submit(late)
        self.assertRaises(reactor.Expired, late.future.result, 3)
        self.assertLess(time.monotonic() - started, 0.3 + 1.5)

    def test_clear_fails_what_is_queued(self) -> None:
        request = self.request(black_hole(self), timeout=30)
        self.reactor.submit(request)
        self.reactor.clear()
        self.assertRaises(reactor.Expired, request.future.result, 1)
        self.assertEqual(0, self.reactor.sessions())

    def test_call_soon_returns_and_raises(self) -> None:
        self.assertEqual('podium-ipmi-reactor', self.reactor.call_soon(
            lambda: threading.current_thread().name, 5))
        self.assertRaises(ZeroDivisionError, self.reactor.call_soon,
                          lambda: 1 / 0, 5)


class DriverDeadlineTestCase(base.TestCase):

    def setUp(self) -> None:
        super().setUp()
        self.config(command_timeout=0.6, command_retries=1, group='ipmi')
        self.addCleanup(reactor.REACTOR.clear)

    def test_read_of_hung_bmc_ends_at_task_timeout(self) -> None:
        task = helpers.task_for({'ipmi_address': '127.0.0.1',
                                 'ipmi_port': black_hole(self),
                                 'ipmi_username': 'admin',
                                 'ipmi_password': 'Pw-4-test'},
                                timeout=1.5, driver='ipmi')
        started = time.monotonic()
        exc = self.assertRaises(exceptions.BMCTimeout,
                                power.IPMIPower().get_power_state, task)
        took = time.monotonic() - started
        # Two attempts of 0.6 s fit in the 1.5 s budget; a third does not.
        self.assertGreater(took, 1.1)
        self.assertLess(took, 1.5 + 1.0)
        self.assertIn('did not answer within 0.6 seconds', str(exc))
        self.assertIn('reading the power state at IPMI BMC', str(exc))
        self.assertNotIn('Pw-4-test', str(exc))

    def test_unresolvable_address_names_it(self) -> None:
        task = helpers.task_for({'ipmi_address': 'no-such-bmc.invalid'},
                                timeout=5, driver='ipmi')
        exc = self.assertRaises(exceptions.DriverError,
                                power.IPMIPower().get_power_state, task)
        self.assertIn('cannot resolve IPMI address no-such-bmc.invalid',
                      str(exc))

    def test_short_answer_is_a_readable_error(self) -> None:
        engine = types.SimpleNamespace(submit=lambda request: (
            request.future.set_result({'code': 0, 'data': b''})))
        task = helpers.task_for({'ipmi_address': '127.0.0.1'}, timeout=5,
                                driver='ipmi')
        info = client.utils.parse(task.node)
        exc = self.assertRaises(
            exceptions.DriverError, client.run, task, info, 'reading',
            lambda conn: conn.xraw_command(0, 1)['data'][0],
            engine)  # type: ignore[arg-type]
        self.assertIn('the BMC sent a malformed answer', str(exc))

    def test_pyghmi_giving_up_reads_as_a_timeout(self) -> None:
        error = client._readable(pyghmi_exc.IpmiException('timeout', 0xFFFF))
        self.assertIsInstance(error, exceptions.BMCTimeout)
        self.assertIn('pyghmi gave up', str(error))


class PyghmiPinTestCase(base.TestCase):

    def test_pyghmi_is_what_was_patched(self) -> None:
        # A new pyghmi changed a function pyghmi_compat patches or relies
        # on: re-read it against the workarounds, then update the digest.
        self.assertEqual(pyghmi_compat.FINGERPRINTS,
                         pyghmi_compat.fingerprints())

    def test_pyghmi_bmc_side_is_what_the_simulator_relies_on(self) -> None:
        # The simulator's workarounds (podium.simulator.pyghmi_fixes)
        # subclass and override these: re-read them against a new pyghmi.
        for module_name, expected in \
                pyghmi_compat.SIMULATOR_FINGERPRINTS.items():
            module = importlib.import_module(module_name)
            self.assertEqual(expected, pyghmi_compat.fingerprints(
                module, expected), module_name)

    def test_a_changed_function_is_noticed(self) -> None:
        # What a new pyghmi looks like to the digest: another source.
        expected = pyghmi_compat.SIMULATOR_FINGERPRINTS[
            'pyghmi.ipmi.bmc']
        changed = types.ModuleType('pyghmi_next')
        path = os.path.join(self.useFixture(fixtures.TempDir()).path,
                            'pyghmi_next.py')
        with open(path, 'w', encoding='utf-8') as handle:
            handle.write('class Bmc:\n'
                         '    def handle_raw_request(self, r, s):\n'
                         '        return None\n')
        changed.__file__ = path
        self.assertNotEqual(expected,
                            pyghmi_compat.fingerprints(changed, expected))

    def test_malformed_packet_breaks_only_its_session(self) -> None:
        broken: list[str] = []

        def explode(session: Any) -> None:
            raise IndexError('bytearray index out of range')
        guarded = pyghmi_compat._guarded_packets(explode)
        session = types.SimpleNamespace(
            servermode=False, pktqueue=collections.deque([b'x']),
            incommand=123.0, _mark_broken=broken.append)
        guarded(session)
        self.assertEqual(['the BMC sent a malformed answer (IndexError: '
                          'bytearray index out of range)'], broken)
        self.assertFalse(session.pktqueue)
        self.assertFalse(session.incommand)
