"""The ipmi interfaces against pyghmi's own fake BMC (a child process).

The fake BMC answers a cipher suite 17 proposal with suite 3, as stock
pyghmi does, so every test here also exercises Podium's client-side
cipher workaround.
"""

import os
import socket
import time

from pyghmi.ipmi.private import session as ipmi_session

from podium.common import exceptions, states
from podium.drivers.modules.ipmi import management, power, reactor
from podium.tests import base, threads
from podium.tests.functional.drivers import emulators
from podium.tests.unit.drivers import helpers

_HIGH_FD = 1500


class IPMIFakeBmcTestCase(base.TestCase):

    def setUp(self) -> None:
        super().setUp()
        self.bmcs = self.useFixture(emulators.FakeIpmiBmcs(count=3))
        self.secrets = self.useFixture(
            helpers.SecretsNotLogged(emulators.PASSWORD, 'wrong-Pw-93x'))
        self.config(power_state_poll_interval=0.2, command_timeout=3,
                    group='ipmi')
        self.addCleanup(reactor.REACTOR.clear)
        self.power = power.IPMIPower()

    def task(self, index: int, timeout: float = 10.0,
             **overrides: object) -> helpers.Task:
        info = dict(self.bmcs.driver_info(index), **overrides)
        return helpers.task_for(info, timeout, driver='ipmi')

    def assert_fails(self, error: type[Exception], call: object,
                     *args: object) -> Exception:
        exc = self.assertRaises(error, call, *args)
        self.secrets.check(str(exc))
        return exc

    def test_power_actions_and_read_back(self) -> None:
        task = self.task(0)
        self.assertEqual(states.POWER_OFF, self.power.get_power_state(task))
        self.power.set_power_state(task, states.POWER_ON)
        self.assertEqual(states.POWER_ON, self.power.get_power_state(task))
        self.assertEqual('on', self.bmcs.state(0)[0])
        self.power.reboot(task)
        self.assertEqual(states.POWER_ON, self.power.get_power_state(task))
        self.power.set_power_state(task, states.SOFT_POWER_OFF)
        self.assertEqual('off', self.bmcs.state(0)[0])
        self.power.set_power_state(task, states.POWER_ON)
        self.power.set_power_state(task, states.POWER_OFF)
        self.assertEqual(states.POWER_OFF, self.power.get_power_state(task))

    def test_session_reused_across_calls(self) -> None:
        task = self.task(0)
        self.power.get_power_state(task)

        def session_ids() -> list[int]:
            return [id(bmc.session)
                    for bmc in reactor.REACTOR._bmcs.values()]
        first = reactor.REACTOR.call_soon(session_ids, 5)
        self.power.get_power_state(self.task(0))
        self.assertEqual(first, reactor.REACTOR.call_soon(session_ids, 5))
        self.assertEqual(1, len(first))

    def test_reset_bmc_and_drop_session(self) -> None:
        mgmt = management.IPMIManagement()
        self.power.get_power_state(self.task(2))

        def sessions() -> list[int]:
            return [id(bmc.session) for bmc in reactor.REACTOR._bmcs.values()
                    if bmc.session is not None]
        before = reactor.REACTOR.call_soon(sessions, 5)
        self.assertEqual(1, len(before))
        self.assertEqual(1, self.power.open_sessions(
            self.power.bmc_endpoint(self.task(2).node) or ''))
        self.power.drop_session(self.task(2).node)
        self.assertEqual([], reactor.REACTOR.call_soon(sessions, 5))
        self.bmcs.set_mode(2, 'wedged')
        self.assertRaises(exceptions.BMCTimeout, self.power.get_power_state,
                          self.task(2, timeout=2.0))
        # The reset goes through the reactor like any command, logs in
        # afresh and cures the wedged BMC.
        mgmt.reset_bmc(self.task(2))
        self.assertEqual(1, self.bmcs.resets(2))
        self.assertEqual(states.POWER_OFF,
                         self.power.get_power_state(self.task(2)))

    def test_boot_device(self) -> None:
        mgmt = management.IPMIManagement()
        task = self.task(1)
        mgmt.set_boot_device(task, states.BOOT_DEVICE_PXE, persistent=True)
        self.assertEqual({'boot_device': states.BOOT_DEVICE_PXE,
                          'persistent': True}, mgmt.get_boot_device(task))
        self.assertEqual(('off', 'network', True), self.bmcs.state(1))
        mgmt.set_boot_device(task, states.BOOT_DEVICE_DISK)
        self.assertEqual({'boot_device': states.BOOT_DEVICE_DISK,
                          'persistent': False}, mgmt.get_boot_device(task))
        self.assert_fails(exceptions.InvalidParameterValue,
                          mgmt.set_boot_device, task, states.BOOT_DEVICE_USB)

    def test_wrong_credentials(self) -> None:
        exc = self.assert_fails(
            exceptions.BMCAuthError, self.power.get_power_state,
            self.task(0, ipmi_password='wrong-Pw-93x'))
        self.assertIn('ipmi_password', str(exc))
        self.assertEqual(states.POWER_OFF,
                         self.power.get_power_state(self.task(0)))

    def test_unresponsive_and_unreachable_bmcs(self) -> None:
        # A BMC that takes the packets and never answers.
        black_hole = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.addCleanup(black_hole.close)
        black_hole.bind(('127.0.0.1', 0))
        hung = self.task(0, timeout=2,
                         ipmi_port=black_hole.getsockname()[1])
        dead = self.task(0, timeout=2,
                         ipmi_port=emulators.free_port(socket.SOCK_DGRAM))
        healthy = self.task(2, timeout=2)

        def timed(task: helpers.Task) -> tuple[object, float]:
            started = time.monotonic()
            try:
                result: object = self.power.get_power_state(task)
            except Exception as exc:
                result = exc
            return result, time.monotonic() - started

        with threads.executor(3) as pool:
            futures = [pool.submit(timed, t) for t in (hung, dead, healthy)]
            (hung_r, hung_s), (dead_r, dead_s), (ok_r, ok_s) = [
                f.result(30) for f in futures]
        for result, secs in ((hung_r, hung_s), (dead_r, dead_s)):
            self.assertIsInstance(result, exceptions.BMCTimeout)
            self.secrets.check(str(result))
            self.assertIn('did not answer within 2 seconds', str(result))
            self.assertLess(secs, 2 + 3)
        self.assertEqual(states.POWER_OFF, ok_r)
        self.assertLess(ok_s, hung_s)
        # The hung BMC's abandoned session does not block a new call.
        self.assertIsInstance(timed(hung)[0], exceptions.BMCTimeout)

    def test_read_sees_out_of_band_change(self) -> None:
        tasks = [self.task(i) for i in range(self.bmcs.count)]

        def read_all() -> list[str]:
            return [self.power.get_power_state(task) for task in tasks]

        self.assertEqual([states.POWER_OFF] * 3, read_all())
        self.bmcs.set_power(1, 'on')  # on the fake BMC object itself
        self.assertEqual([states.POWER_OFF, states.POWER_ON,
                          states.POWER_OFF], read_all())

    def test_pyghmi_socket_above_fd_1024(self) -> None:
        # pyghmi's IO thread waits on all its sockets; one at fd >= 1024
        # used to kill it (select()), taking every session down.
        self.power.get_power_state(self.task(0))  # IO thread running
        sock = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
        high = socket.socket(fileno=os.dup2(sock.fileno(), _HIGH_FD))
        sock.close()
        self.addCleanup(high.close)
        ipmi_session.iosockets.append(high)
        self.addCleanup(ipmi_session.iosockets.remove, high)
        # Every answer wakes the IO thread, which then waits on the new
        # socket set: several round trips make sure it has.
        self.power.get_power_state(self.task(1))
        self.power.set_power_state(self.task(2), states.POWER_ON)
        self.assertEqual(states.POWER_ON,
                         self.power.get_power_state(self.task(2)))
        self.assertTrue(ipmi_session.iothread.is_alive())

    def read_timed(self, task: helpers.Task) -> tuple[object, float]:
        started = time.monotonic()
        try:
            result: object = self.power.get_power_state(task)
        except Exception as exc:
            result = exc
        return result, time.monotonic() - started

    def test_bad_bmcs_cost_only_their_own_node(self) -> None:
        self.config(command_timeout=1, command_retries=1, group='ipmi')
        self.bmcs.set_mode(0, 'garbage')
        self.bmcs.set_mode(1, 'nocipher')
        healthy = self.task(2, timeout=3)
        garbage, secs = self.read_timed(self.task(0, timeout=3))
        self.assertIsInstance(garbage, exceptions.DriverError)
        self.assertIn('the BMC sent a malformed answer', str(garbage))
        self.assertLess(secs, 1)
        refused, secs = self.read_timed(self.task(1, timeout=3))
        self.assertIsInstance(refused, exceptions.DriverError)
        self.assertIn('No Cipher suite match', str(refused))
        self.assertLess(secs, 3)
        self.assertEqual(states.POWER_OFF, self.power.get_power_state(healthy))
        for index in (0, 1):
            self.bmcs.set_mode(index, 'ok')
            self.assertEqual(states.POWER_OFF,
                             self.power.get_power_state(self.task(index)))

    def test_session_reset_mid_command(self) -> None:
        self.config(command_timeout=1, command_retries=1, group='ipmi')
        self.power.get_power_state(self.task(0))  # logged in
        # Once: the retry logs in afresh and gets the answer.
        self.bmcs.set_mode(0, 'reset-once')
        result, secs = self.read_timed(self.task(0, timeout=3))
        self.assertEqual(states.POWER_OFF, result)
        self.assertLess(secs, 3)
        # Always: the node's read fails at its deadline, readably.
        self.bmcs.set_mode(0, 'reset')
        result, secs = self.read_timed(self.task(0, timeout=2))
        self.assertIsInstance(result, exceptions.BMCTimeout)
        self.assertIn('the BMC did not answer', str(result))
        self.assertLess(secs, 2 + 0.5)
        self.assertEqual(states.POWER_OFF,
                         self.power.get_power_state(self.task(1)))
