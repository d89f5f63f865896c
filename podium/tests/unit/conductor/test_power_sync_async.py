"""Power sync with ``power_read_mode = async`` against the Redfish BMC
simulator: the same results, errors and health records as the threaded
reads, and hung BMCs that hold no thread.

Every wait is bounded: sync cycles end at their read timeouts, and the
thread sampler stops with the test.
"""

import re
import threading
import time
from typing import Any

import fixtures
import requests

from podium.common import states
from podium.conductor import sync_cycle
from podium.db import api as db_api
from podium.db import models
from podium.drivers.modules.redfish import connection
from podium.simulator import resources as sim_resources
from podium.tests.unit.conductor import test_metrics, utils
from podium.tests.unit.drivers import helpers

PASSWORD = 'Async-Pa55word-q7'

#: How a read past its 2 s budget fails (the budget less the
#: microseconds spent before the read started, to the tenth of a second,
#: as on the threaded path).
TIMED_OUT = r'did not answer within 2 seconds'


class AsyncSyncTestCase(utils.ConductorTestCase):

    endpoints = 3
    systems_per_endpoint = 1
    auth_type = 'basic'

    def setUp(self) -> None:
        super().setUp()
        self.config(enabled_hardware_types=['fake-hardware', 'redfish'],
                    enabled_power_interfaces=['fake', 'redfish'],
                    enabled_management_interfaces=['fake', 'redfish'])
        self.config(request_timeout=2, group='redfish')
        self.config(power_read_mode='async', power_state_read_timeout=2.0,
                    sync_power_state_workers=2, bmc_probe_workers=1,
                    bmc_probe_timeout=0.5, power_state_sync_max_retries=5,
                    group='conductor')
        self.sim = helpers.start_simulator(
            self, endpoints=self.endpoints,
            systems_per_endpoint=self.systems_per_endpoint, password=PASSWORD,
            seed=3)
        self.manager = self.make_manager(self.make_pool(size=12))
        self.sync = self.manager.power_sync
        self.nodes = [self.create_synced_node(
            f'n{index}', driver='redfish', power_interface='redfish',
            management_interface='redfish', power_state=states.POWER_OFF,
            driver_info={'redfish_address': system.address,
                         'redfish_system_id': system.system_id,
                         'redfish_username': system.username,
                         'redfish_password': PASSWORD,
                         'redfish_auth_type': self.auth_type})
            for index, system in enumerate(self.sim.systems)]

    def run_sync(self) -> sync_cycle.CycleStats:
        return self.sync.run(self.context)

    def row(self, node: models.Node) -> models.Node:
        return db_api.get_node(node.id)

    def threaded_reads_forbidden(self) -> None:
        """Fail any read that goes to the threaded path."""
        self.useFixture(fixtures.MockPatchObject(
            connection.Connection, 'get_json',
            side_effect=AssertionError('read on the threaded path')))


class TestAsyncReads(AsyncSyncTestCase):

    def test_first_cycle_on_threads_then_no_thread_reads(self) -> None:
        # Cycle 1 opens the connections (a log-in is synchronous).
        self.assertEqual(0, self.run_sync().failed)
        self.sim.set_power(1, 'On')
        self.threaded_reads_forbidden()
        before = self.sim.stats()['requests']
        stats = self.run_sync()
        self.assertEqual((3, 1, 0), (stats.nodes, stats.changed,
                                     stats.failed))
        self.assertEqual(3, self.sim.stats()['requests'] - before)
        self.assertEqual(states.POWER_ON, self.row(self.nodes[1]).power_state)
        history = db_api.list_node_history(self.nodes[1].id)
        self.assertIn('changed out-of-band from power off to power on',
                      history[-1].event)
        # Each read is in its BMC's health record.
        for entry in self.sync.health.snapshot():
            self.assertEqual(2, entry['requests'])
            self.assertFalse(entry['suspect'])

    def test_hung_bmc_fails_at_its_deadline_like_a_threaded_read(
            self) -> None:
        self.run_sync()
        self.sim.set_system_behaviour(0, hang=True)
        started = time.monotonic()
        stats = self.run_sync()
        self.assertLess(time.monotonic() - started, 2.0 + 1.5)
        self.assertEqual(1, stats.failed)
        error = self.row(self.nodes[0]).last_error or ''
        self.assertTrue(error.startswith(sync_cycle.READ_FAILURE_PREFIX))
        self.assertRegex(error, TIMED_OUT)
        self.assertEqual(1, self.sync.failure_count(self.nodes[0].id))
        record = self.sync.health.get(
            self.sim.systems[0].address.split('://', 1)[1])
        assert record is not None
        self.assertEqual(1, record.consecutive_timeouts)
        # The threaded path words the same failure the same way.
        self.config(power_read_mode='threads', group='conductor')
        self.sync.reset_failures(self.nodes[0].id)
        db_api.update_node(self.nodes[0].id, {'last_error': None})
        self.config(bmc_suspect_failures=5, group='conductor')
        self.run_sync()
        threaded = self.row(self.nodes[0]).last_error or ''
        # The same words; the seconds left of the budget may differ in
        # their last digits.
        self.assertEqual(re.sub(TIMED_OUT, '', error),
                         re.sub(TIMED_OUT, '', threaded))


    def test_metrics_like_threaded_reads(self) -> None:
        self.run_sync()
        self.sim.set_system_behaviour(0, hang=True)
        self.sim.set_power(1, 'On')
        labels = {'driver': 'redfish', 'operation': 'get_power_state'}
        outcomes = ('read', 'changed', 'timed_out')
        delta = test_metrics.Deltas(
            *(('podium_power_sync_nodes_total', {'outcome': name})
              for name in outcomes),
            ('podium_bmc_request_duration_seconds_count', labels),
            ('podium_bmc_request_failures_total', labels))
        self.threaded_reads_forbidden()
        self.run_sync()
        self.assertEqual(
            {'read': 2, 'changed': 1, 'timed_out': 1},
            {name: delta('podium_power_sync_nodes_total', outcome=name)
             for name in outcomes})
        self.assertEqual(3, delta(
            'podium_bmc_request_duration_seconds_count', **labels))
        self.assertEqual(1, delta('podium_bmc_request_failures_total',
                                  **labels))


class TestExpand(AsyncSyncTestCase):

    endpoints = 1
    systems_per_endpoint = 4

    def test_batch_read_in_one_request(self) -> None:
        self.run_sync()  # opens the connection, learns $expand
        self.sim.set_power(3, 'On')
        self.threaded_reads_forbidden()
        before = self.sim.stats()['requests']
        stats = self.run_sync()
        self.assertEqual((4, 1, 0), (stats.nodes, stats.changed,
                                     stats.failed))
        self.assertEqual(1, self.sim.stats()['requests'] - before)


class TestSessionFallback(AsyncSyncTestCase):

    auth_type = 'session'

    def test_rejected_token_read_on_threads_which_log_in(self) -> None:
        self.run_sync()
        address = self.sim.systems[0].address
        conn = connection.CACHE.peek(connection.utils.parse(
            self.row(self.nodes[0])))
        assert conn is not None
        token = conn.connector.http.headers['X-Auth-Token']
        # The BMC forgets every session (as a reboot would).
        auth = (self.sim.username, PASSWORD)
        listing = requests.get(address + sim_resources.SESSIONS, auth=auth,
                               timeout=5)
        for member in listing.json()['Members']:
            requests.delete(address + member['@odata.id'], auth=auth,
                            timeout=5).raise_for_status()
        stats = self.run_sync()
        self.assertEqual(0, stats.failed)
        self.assertNotEqual(token, conn.connector.http.headers.get(
            'X-Auth-Token'))


class TestManyHungBMCs(AsyncSyncTestCase):
    """Many more hung BMCs than sync and probe workers together."""

    HUNG = 200
    endpoints = HUNG + 10

    def setUp(self) -> None:
        super().setUp()
        self.answered: dict[str, float] = {}
        real = sync_cycle.Cycle._answered

        def answered(cycle: Any, row: Any, state: str) -> None:
            self.answered[row.name] = time.monotonic()
            real(cycle, row, state)

        self.useFixture(fixtures.MockPatchObject(
            sync_cycle.Cycle, '_answered', answered))
        self.assertEqual(0, self.run_sync().failed)  # warm, on threads
        for index in range(self.HUNG):
            self.sim.set_system_behaviour(index, hang=True)
        self.healthy = {node.name for node in self.nodes[self.HUNG:]}

    def sample_threads(self) -> list[int]:
        """Sample the thread count every 20 ms until the test ends."""
        samples: list[int] = []
        stop = threading.Event()

        def sample() -> None:
            while not stop.wait(0.02):
                samples.append(threading.active_count())

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        self.addCleanup(sampler.join, 5)
        self.addCleanup(stop.set)
        return samples

    def test_first_cycle_after_they_hang(self) -> None:
        before = threading.active_count()
        samples = self.sample_threads()
        self.answered.clear()
        started = time.monotonic()
        stats = self.run_sync()
        elapsed = time.monotonic() - started
        self.assertEqual(self.HUNG, stats.failed)
        # The healthy nodes were all read before the first hung read
        # reached its 2 s deadline, not after the 200 hung reads (which
        # 2 + 1 workers would take 67 deadlines for). The bound is the
        # deadline, not the ~0.1 s it takes on a quiet machine, so that
        # a loaded machine cannot fail it.
        self.assertEqual(self.healthy, set(self.answered))
        self.assertLess(max(self.answered.values()) - started, 2.0)
        # The hung reads ended at their deadline, all together.
        self.assertLess(elapsed, 2.0 + 2.0)
        # No thread per hung read: at most the sampler and the loop.
        self.assertLessEqual(max(samples), before + 2)
        for node in self.nodes[:3]:
            self.assertRegex(self.row(node).last_error or '', TIMED_OUT)

    def test_suspects_probed_within_the_budget_with_a_short_deadline(
            self) -> None:
        self.run_sync()
        self.answered.clear()
        started = time.monotonic()
        stats = self.run_sync()
        elapsed = time.monotonic() - started
        # The probe budget holds in async mode too: 1 probe worker x
        # 60 s / 0.5 s = 120 a cycle, the other 80 deferred.
        self.assertEqual((120, self.HUNG - 120),
                         (stats.probed, stats.deferred))
        # Before the read deadline of a healthy node (2 s): not queued
        # behind the probes.
        self.assertLess(max(self.answered.values()) - started, 2.0)
        self.assertLess(elapsed, 0.5 + 2.0)
        self.assertEqual(self.HUNG, sum(
            1 for e in self.sync.health.snapshot() if e['suspect']))


class TestSuspectsThatRecover(AsyncSyncTestCase):
    """Suspects that answer again are probed faster and faster."""

    SUSPECTS = 40
    endpoints = SUSPECTS + 2

    def test_probe_budget_grows_while_probes_answer(self) -> None:
        # A base budget of 1 probe worker x 2 s / 0.5 s = 4 a cycle.
        self.config(sync_power_state_interval=2, group='conductor')
        self.assertEqual(0, self.run_sync().failed)  # warm, on threads
        for index in range(self.SUSPECTS):
            self.sim.set_system_behaviour(index, hang=True)
        self.assertEqual(self.SUSPECTS, self.run_sync().failed)
        for index in range(self.SUSPECTS):
            self.sim.set_system_behaviour(index, hang=None)
        probed = []
        for _ in range(3):
            stats = self.run_sync()
            self.assertEqual(0, stats.failed)
            self.assertEqual(stats.probed, stats.probes_answered)
            probed.append(stats.probed)
        # 4, then 4 + 4 x 4 = 20, then what is left of the 40 (16): at
        # the base rate alone they would take ten cycles.
        self.assertEqual([4, 20, 16], probed)
        self.assertEqual(0, sum(
            1 for e in self.sync.health.snapshot() if e['suspect']))

    def test_probe_budget_stays_at_the_base_while_probes_fail(
            self) -> None:
        self.config(sync_power_state_interval=2, group='conductor')
        self.assertEqual(0, self.run_sync().failed)
        for index in range(self.SUSPECTS):
            self.sim.set_system_behaviour(index, hang=True)
        self.run_sync()
        for _ in range(2):
            stats = self.run_sync()
            self.assertEqual((4, 0), (stats.probed, stats.probes_answered))
