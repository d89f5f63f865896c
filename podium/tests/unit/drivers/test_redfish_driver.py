"""The Redfish interfaces against Podium's in-process BMC simulator.

Covers the connection cache, the per-endpoint limit, error mapping,
``$expand`` batching (counting requests on the simulator) and the CPU a
power read costs.
"""

import threading
import time
from unittest import mock

import requests
import sushy
import testtools.content
from sushy import exceptions as sushy_exc
from sushy.resources.system import system as system_mod

from podium.common import exceptions, states
from podium.drivers.modules import deadline
from podium.drivers.modules.redfish import (
    connection,
    inspect,
    management,
    power,
    power_read,
    transport,
)
from podium.simulator import Simulator
from podium.simulator.util import process_cpu_seconds
from podium.tests import base
from podium.tests.unit.drivers import helpers

PASSWORD = 'Sim-Pa55word-q8'


class SimulatorTestCase(base.TestCase):

    systems_per_endpoint = 4

    def setUp(self) -> None:
        super().setUp()
        self.sim = helpers.start_simulator(
            self, endpoints=2, systems_per_endpoint=self.systems_per_endpoint,
            password=PASSWORD, seed=7)
        self.secrets = self.useFixture(helpers.SecretsNotLogged(PASSWORD))
        self.config(request_timeout=2, power_state_poll_interval=0.1,
                    group='redfish')
        self.power = power.RedfishPower()

    def info(self, index: int, **overrides: object) -> dict[str, object]:
        system = self.sim.systems[index]
        return dict(system.driver_info(), **overrides)

    def task(self, index: int, timeout: float = 5.0,
             **overrides: object) -> helpers.Task:
        return helpers.task_for(self.info(index, **overrides), timeout)

    def requests(self) -> int:
        return int(self.sim.stats()['requests'])


class ConnectionCacheTestCase(SimulatorTestCase):

    def test_reused_and_one_request_per_read(self) -> None:
        self.power.get_power_state(self.task(0))
        conn = connection.CACHE.get(power_read.utils.parse(
            self.task(0).node))
        before = self.requests()
        for index in range(self.systems_per_endpoint):
            self.assertEqual(states.POWER_OFF,
                             self.power.get_power_state(self.task(index)))
        self.assertEqual(self.systems_per_endpoint,
                         self.requests() - before)
        self.assertIs(conn, connection.CACHE.get(power_read.utils.parse(
            self.task(1).node)))
        self.assertEqual(1, len(connection.CACHE))

    def test_password_change_opens_a_new_connection(self) -> None:
        self.power.get_power_state(self.task(0))
        exc = self.assertRaises(exceptions.BMCAuthError,
                                self.power.get_power_state,
                                self.task(0, redfish_password='nope'))
        self.secrets.check(str(exc))
        self.assertIn('401', str(exc))
        self.assertEqual(1, len(connection.CACHE))  # the bad one dropped

    def test_eviction_by_size_and_ttl(self) -> None:
        self.config(connection_cache_size=1, group='redfish')
        self.power.get_power_state(self.task(0))
        other = self.systems_per_endpoint  # on the second endpoint
        self.power.get_power_state(self.task(other))
        self.assertEqual(1, len(connection.CACHE))
        # Said once, not at every eviction: a too small cache evicts on
        # every read of a power sync cycle.
        self.power.get_power_state(self.task(0))
        self.power.get_power_state(self.task(other))
        warned = [record for record in self.secrets.logger.output.splitlines()
                  if 'raise [redfish] connection_cache_size' in record]
        self.assertEqual(1, len(warned), warned)
        self.config(connection_cache_size=10, connection_cache_ttl=60,
                    group='redfish')
        self.power.get_power_state(self.task(0))
        self.assertEqual(2, len(connection.CACHE))
        for conn in list(connection.CACHE._entries.values()):
            conn.last_used -= 120  # both idle past the TTL
        self.power.get_power_state(self.task(0))
        self.assertEqual(1, len(connection.CACHE))

    def test_session_auth(self) -> None:
        task = self.task(0, redfish_auth_type='session')
        self.assertEqual(states.POWER_OFF, self.power.get_power_state(task))


class EndpointLimitTestCase(base.TestCase):

    def test_slot_wait_bounded_by_deadline(self) -> None:
        self.config(max_concurrent_requests_per_endpoint=1, group='redfish')
        limiter = transport.EndpointLimiter()
        held, release = threading.Event(), threading.Event()

        def hold() -> None:
            with limiter.slot('http://bmc:80'):
                held.set()
                release.wait(10)

        thread = threading.Thread(target=hold)
        thread.start()
        self.addCleanup(thread.join)
        self.addCleanup(release.set)
        held.wait(10)
        with deadline.bounded(0.2):
            exc = self.assertRaises(exceptions.BMCTimeout,
                                    limiter.slot('http://bmc:80').__enter__)
        self.assertIn('max_concurrent_requests_per_endpoint', str(exc))
        with deadline.bounded(0.2), limiter.slot('http://other:80'):
            pass  # another endpoint is not limited by this one
        release.set()
        thread.join()
        with limiter.slot('http://bmc:80'), limiter.slot('http://bmc:80'):
            pass  # re-entrant in one thread

    def test_concurrency_capped_on_the_simulator(self) -> None:
        sim = Simulator(endpoints=1, systems_per_endpoint=6, seed=3,
                        password=PASSWORD)
        sim.start()
        self.addCleanup(sim.stop)
        self.addCleanup(connection.CACHE.clear)
        self.config(max_concurrent_requests_per_endpoint=2, group='redfish')
        sim.set_endpoint_behaviour(0, latency='fixed:0.05')
        iface = power.RedfishPower()
        tasks = [helpers.task_for({
            'redfish_address': s.address, 'redfish_system_id': s.system_id,
            'redfish_username': s.username, 'redfish_password': PASSWORD})
            for s in sim.systems]
        iface.get_power_state(tasks[0])  # warm the connection
        threads = [threading.Thread(target=iface.get_power_state, args=(t,))
                   for t in tasks for _ in range(3)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        self.assertLessEqual(sim.stats()['max_in_flight'], 2)


class ErrorMappingTestCase(SimulatorTestCase):

    def test_hung_system_times_out_within_the_task_timeout(self) -> None:
        self.power.get_power_state(self.task(0))
        self.sim.set_system_behaviour(1, hang=True)
        self.config(request_timeout=30, group='redfish')
        started = time.monotonic()
        exc = self.assertRaises(exceptions.BMCTimeout,
                                self.power.get_power_state,
                                self.task(1, timeout=0.5))
        self.assertLess(time.monotonic() - started, 5)
        self.assertIn('within 0.5 seconds', str(exc))
        self.assertIn('node-', str(exc))

    def test_server_error_is_a_driver_error(self) -> None:
        self.config(server_side_retries=0, group='redfish')
        self.sim.set_system_behaviour(0, error_fraction=1.0,
                                      error_status=500)
        exc = self.assertRaises(exceptions.DriverError,
                                self.power.get_power_state, self.task(0))
        self.assertNotIsInstance(exc, exceptions.BMCTimeout)
        self.assertIn('HTTP 500', str(exc))

    def test_power_and_boot_actions(self) -> None:
        task = self.task(0)
        self.power.set_power_state(task, states.POWER_ON)
        self.assertEqual('On', self.sim.get_power(0))
        self.power.reboot(task)
        self.power.set_power_state(task, states.SOFT_POWER_OFF)
        self.assertEqual('Off', self.sim.get_power(0))
        mgmt = management.RedfishManagement()
        mgmt.set_boot_device(task, states.BOOT_DEVICE_PXE)
        self.assertEqual({'boot_device': states.BOOT_DEVICE_PXE,
                          'persistent': False}, mgmt.get_boot_device(task))
        self.assertRaises(exceptions.InvalidParameterValue,
                          self.power.set_power_state, task, 'sideways')

    def test_power_action_not_reached_in_time(self) -> None:
        self.sim.set_system_behaviour(0, power_delay=30)
        exc = self.assertRaises(exceptions.PowerStateFailure,
                                self.power.set_power_state, self.task(0),
                                states.POWER_ON, 0.3)
        self.assertIn('did not reach PowerState On', str(exc))


class ExpandBatchTestCase(SimulatorTestCase):

    systems_per_endpoint = 20

    def endpoint_tasks(self) -> list[helpers.Task]:
        return [self.task(i) for i in range(self.systems_per_endpoint)]

    def test_batched_once_expand_is_known(self) -> None:
        tasks = self.endpoint_tasks()
        # Nothing is known of the BMC yet: read alone, in parallel.
        self.assertEqual({None}, {self.power.batch_key(t.node)
                                  for t in tasks})
        self.power.get_power_state(tasks[0])  # opens the connection
        keys = {self.power.batch_key(t.node) for t in tasks}
        self.assertEqual(1, len(keys))
        self.assertIsNotNone(keys.pop())

    def test_one_request_per_batch(self) -> None:
        tasks = self.endpoint_tasks()
        self.power.get_power_states(tasks)  # warm up
        self.sim.set_power(3, 'On')  # out of band
        before = self.requests()
        result = self.power.get_power_states(tasks)
        self.assertEqual(1, self.requests() - before)
        self.assertEqual(states.POWER_ON, result[tasks[3].node.id])
        self.assertEqual(19, sum(1 for v in result.values()
                                 if v == states.POWER_OFF))

    def test_without_expand_nodes_are_left_for_single_reads(self) -> None:
        tasks = self.endpoint_tasks()
        self.power.get_power_state(tasks[0])  # opens the connection
        self.config(use_expand=False, group='redfish')
        self.assertIsNone(self.power.batch_key(tasks[0].node))
        before = self.requests()
        # Not read one after the other under one timeout: left out, for
        # power sync to read alone and in parallel.
        self.assertEqual({}, self.power.get_power_states(tasks))
        self.assertEqual(0, self.requests() - before)

    def test_unknown_system_left_out(self) -> None:
        tasks = self.endpoint_tasks()[:3]
        tasks.append(self.task(0, redfish_system_id='/redfish/v1/Systems/x'))
        result = self.power.get_power_states(tasks)
        self.assertEqual(states.POWER_OFF, result[tasks[0].node.id])
        self.assertNotIn(tasks[3].node.id, result)
        self.assertIsInstance(self.assertRaises(
            exceptions.DriverError, self.power.get_power_state, tasks[3]),
            exceptions.DriverError)

    def test_hung_endpoint_fails_the_batch_once(self) -> None:
        tasks = [self.task(i, timeout=0.5) for i in range(5)]
        self.power.get_power_states(tasks)
        self.sim.set_endpoint_behaviour(0, hang=True)
        started = time.monotonic()
        result = self.power.get_power_states(tasks)
        self.assertLess(time.monotonic() - started, 5)
        for value in result.values():
            self.assertIsInstance(value, exceptions.BMCTimeout)

    def test_cpu_per_read(self) -> None:
        """Batched reads cost far less client CPU than single ones.

        Client CPU = process CPU minus the simulator loop's own CPU.
        """
        tasks = self.endpoint_tasks()
        self.power.get_power_states(tasks)
        rounds = 5

        def client_cpu(run: object) -> float:
            sim_before = self.sim.stats()['loop_cpu_seconds']
            before = process_cpu_seconds()
            for _ in range(rounds):
                run()  # type: ignore[operator]
            spent = process_cpu_seconds() - before
            sim_spent = self.sim.stats()['loop_cpu_seconds'] - sim_before
            return (spent - sim_spent) / (rounds * len(tasks))

        single = client_cpu(lambda: [self.power.get_power_state(t)
                                     for t in tasks])
        batched = client_cpu(lambda: self.power.get_power_states(tasks))
        # A figure for whoever reads a failure, not test output.
        self.addDetail('client-cpu', testtools.content.text_content(
            f'client CPU per power read: single {single * 1e3:.3f} ms, '
            f'batched {batched * 1e3:.3f} ms'))
        self.assertLess(batched, single / 2)


class InspectTest(SimulatorTestCase):

    def test_inventory_and_macs(self) -> None:
        found = inspect.RedfishInspect().inspect_hardware(self.task(0))
        system = self.sim.systems[0]
        self.assertEqual(sorted(mac.lower() for mac in system.macs),
                         found['macs'])
        self.assertEqual((32, 64 * 1024), (found['cpus'],
                                          found['memory_mb']))
        # The simulator's BiosVersion and its manager's FirmwareVersion.
        self.assertEqual({'bios': '2.4.1', 'bmc': '1.0.0'},
                         found['firmware'])

    def test_only_enabled_nics_count(self) -> None:
        self.assertEqual(['52:54:00:00:00:01', '52:54:00:00:00:03'],
                         inspect.enabled_macs({
                             '52:54:00:00:00:03': sushy.State.ENABLED,
                             '52:54:00:00:00:02': sushy.State.DISABLED,
                             '52:54:00:00:00:01': sushy.State.ENABLED,
                             '52:54:00:00:00:04': None}))


class ClearBootOverrideTest(SimulatorTestCase):

    def test_cleared(self) -> None:
        mgmt = management.RedfishManagement()
        mgmt.set_boot_device(self.task(0), states.BOOT_DEVICE_PXE,
                             persistent=True)
        mgmt.clear_boot_override(self.task(0))
        self.assertEqual('Disabled',
                         self.sim.get_boot(self.sim.systems[0])['enabled'])

    def test_bmc_that_wants_a_target_gets_the_current_one(self) -> None:
        # As sushy-tools' emulator: HTTP 400 for a PATCH that does not
        # name BootSourceOverrideTarget.
        real = system_mod.System.set_system_boot_options
        sent: list[dict[str, object]] = []

        def strict(system: object, **kwargs: object) -> None:
            sent.append(kwargs)
            if 'target' not in kwargs:
                response = requests.Response()
                response.status_code = 400
                response._content = b'{}'
                raise sushy_exc.BadRequestError('PATCH', 'url', response)
            real(system, **kwargs)

        mgmt = management.RedfishManagement()
        mgmt.set_boot_device(self.task(0), states.BOOT_DEVICE_PXE,
                             persistent=True)
        with mock.patch.object(system_mod.System, 'set_system_boot_options',
                               autospec=True, side_effect=strict):
            mgmt.clear_boot_override(self.task(0))
        disabled = sushy.BootSourceOverrideEnabled.DISABLED
        self.assertEqual([{'enabled': disabled},
                          {'target': sushy.BootSource.PXE,
                           'enabled': disabled}], sent)
        self.assertEqual({'target': 'Pxe', 'enabled': 'Disabled'}, {
            key: value for key, value in
            self.sim.get_boot(self.sim.systems[0]).items()
            if key != 'mode'})
