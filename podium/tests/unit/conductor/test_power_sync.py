"""Power-state sync against the fake hardware."""

import threading
import time
from typing import Any
from unittest import mock

import fixtures
from sqlalchemy import exc as sa_exc

from podium.common import exceptions, states
from podium.conductor import power_sync, sync_cycle
from podium.db import api as db_api
from podium.db import models
from podium.drivers.modules import fake
from podium.tests.unit.conductor import utils


class SyncTestCase(utils.ConductorTestCase):

    def setUp(self) -> None:
        super().setUp()
        self.config(power_state_read_timeout=5.0, sync_power_state_workers=4,
                    power_state_sync_max_retries=3, group='conductor')
        self.manager = self.make_manager(self.make_pool(size=12))
        self.sync = self.manager.power_sync

    #: The nodes of these tests are verified (``manageable``, or the
    #: state a test asks for), so that sync reads them.
    create_node = utils.ConductorTestCase.create_synced_node

    def run_sync(self) -> sync_cycle.CycleStats:
        return self.sync.run(self.context)

    def node(self, node: models.Node) -> models.Node:
        return db_api.get_node(node.id)

    def history(self, node: models.Node) -> list[tuple[str, str]]:
        return [(entry.severity, entry.event)
                for entry in db_api.list_node_history(node.id)]


def _relay_stuck() -> Any:
    """Every power change of the fake driver fails."""
    return mock.patch.object(
        fake.FakePower, 'set_power_state',
        side_effect=exceptions.DriverError(reason='relay stuck'))


class TestOutOfBand(SyncTestCase):

    def drifted_node(self, **conductor: Any) -> models.Node:
        """Node ``n1``, recorded off while its BMC says on, after
        setting the ``[conductor]`` options ``conductor``."""
        if conductor:
            self.config(group='conductor', **conductor)
        node = self.create_node('n1', power_state=states.POWER_OFF)
        self.set_fake_power(node, states.POWER_ON)
        return node

    def test_change_recorded_in_node_and_history(self) -> None:
        node = self.drifted_node()
        stats = self.run_sync()
        self.assertEqual((1, 1, 0), (stats.nodes, stats.changed,
                                     stats.failed))
        self.assertEqual(states.POWER_ON, self.node(node).power_state)
        [(severity, event)] = self.history(node)
        self.assertEqual(states.WARNING, severity)
        self.assertIn('from power off to power on', event)

    def test_first_state_recorded_without_history(self) -> None:
        node = self.create_node('n1', power_state=None)
        self.set_fake_power(node, states.POWER_ON)
        self.run_sync()
        self.assertEqual(states.POWER_ON, self.node(node).power_state)
        self.assertEqual([], self.history(node))

    def test_force_pushes_recorded_state_back(self) -> None:
        node = self.drifted_node(force_power_state_during_sync=True)
        stats = self.run_sync()
        self.assertEqual(1, stats.forced)
        stored = self.node(node)
        self.assertEqual(states.POWER_OFF, stored.power_state)
        self.assertEqual(states.POWER_OFF,
                         stored.driver_internal_info['fake_power_state'])
        self.assertIsNone(stored.reservation)
        [(severity, event)] = self.history(node)
        self.assertIn('pushed back to power off', event)

    def test_force_skips_node_locked_meanwhile(self) -> None:
        node = self.drifted_node(force_power_state_during_sync=True)
        real_get = fake.FakePower.get_power_state

        def get_and_lock(iface: Any, task: Any) -> str:
            db_api.reserve_node('operator-action', node.id)
            return real_get(iface, task)

        with mock.patch.object(fake.FakePower, 'get_power_state',
                               get_and_lock):
            stats = self.run_sync()
        self.assertEqual(0, stats.forced)
        self.assertEqual(states.POWER_ON, self.node(
            node).driver_internal_info['fake_power_state'])

    def test_push_back_gets_the_budget_of_an_action(self) -> None:
        self.drifted_node(force_power_state_during_sync=True,
                          action_timeout=30.0)
        budgets: list[float] = []
        real_set = fake.FakePower.set_power_state

        def set_power_state(iface: Any, task: Any, state: str,
                            timeout: float | None = None) -> None:
            budgets.append(task.timeout)
            real_set(iface, task, state, timeout)

        with mock.patch.object(fake.FakePower, 'set_power_state',
                               set_power_state):
            self.assertEqual(1, self.run_sync().forced)
        # Not the 5 s a read may take.
        self.assertEqual([30.0], budgets)

    def test_failed_push_back_reported_as_a_power_action(self) -> None:
        node = self.drifted_node(force_power_state_during_sync=True)
        with _relay_stuck():
            stats = self.run_sync()
        self.assertEqual((0, 0, 1), (stats.failed, stats.forced,
                                     stats.push_failed))
        stored = self.node(node)
        self.assertEqual(
            'Failed to push the power state back to power off (the BMC '
            'reported power on): Driver error: relay stuck',
            stored.last_error)
        self.assertFalse(stored.last_error.startswith(
            sync_cycle.READ_FAILURE_PREFIX))
        self.assertEqual(states.POWER_OFF, stored.power_state)
        self.assertEqual([(states.ERROR_SEVERITY, stored.last_error)],
                         self.history(node))
        # The next cycle reads fine and pushes back: the error goes.
        stats = self.run_sync()
        self.assertEqual((1, 0), (stats.forced, stats.push_failed))
        stored = self.node(node)
        self.assertIsNone(stored.last_error)
        self.assertEqual(states.POWER_OFF,
                         stored.driver_internal_info['fake_power_state'])
        self.assertEqual(0, self.sync.failure_count(node.id))

    def test_push_back_failing_on_leads_to_maintenance(self) -> None:
        node = self.drifted_node(force_power_state_during_sync=True)
        with _relay_stuck():
            for _ in range(3):
                self.run_sync()
        stored = self.node(node)
        self.assertTrue(stored.maintenance)
        self.assertEqual(states.POWER_FAILURE, stored.fault)
        self.assertTrue(stored.maintenance_reason.startswith(
            sync_cycle.PUSH_FAILURE_PREFIX))

    def test_hung_push_back_not_waited_for_past_its_budget(self) -> None:
        node = self.drifted_node(
            force_power_state_during_sync=True, action_timeout=0.2)
        release = threading.Event()
        self.addCleanup(release.set)
        with mock.patch.object(fake.FakePower, 'set_power_state',
                               lambda *args, **kwargs: release.wait(20)):
            started = time.monotonic()
            stats = self.run_sync()
            elapsed = time.monotonic() - started
        # Budget plus grace, not the 20 s the push-back hangs.
        self.assertLess(elapsed, 0.2 + power_sync.TIMEOUT_GRACE + 5)
        self.assertEqual((1, 0), (stats.push_failed, stats.failed))
        self.assertEqual(1, self.sync.failure_count(node.id))

    def test_action_during_read_wins(self) -> None:
        node = self.drifted_node()
        real_get = fake.FakePower.get_power_state

        def get_while_action_runs(iface: Any, task: Any) -> str:
            # An operator action changes the recorded state meanwhile.
            db_api.update_node(node.id, {'power_state': 'rebooting'})
            return real_get(iface, task)

        with mock.patch.object(fake.FakePower, 'get_power_state',
                               get_while_action_runs):
            stats = self.run_sync()
        self.assertEqual(1, stats.changed)
        self.assertEqual(0, stats.written)
        self.assertEqual('rebooting', self.node(node).power_state)
        self.assertEqual([], self.history(node))

    def test_unchanged_nodes_cost_one_query_and_no_write(self) -> None:
        for index in range(20):
            self.create_node(f'n{index}', power_state=states.POWER_OFF)
        self.run_sync()
        lists = self.useFixture(fixtures.MockPatch(
            'podium.db.api.list_node_rows', wraps=db_api.list_node_rows))
        writes = self.useFixture(fixtures.MockPatch(
            'podium.db.api.update_nodes_if', wraps=db_api.update_nodes_if))
        history = self.useFixture(fixtures.MockPatch(
            'podium.db.api.add_node_history_bulk'))
        stats = self.run_sync()
        self.assertEqual((20, 0, 0), (stats.nodes, stats.changed,
                                      stats.written))
        self.assertEqual(1, lists.mock.call_count)
        writes.mock.assert_not_called()
        history.mock.assert_not_called()


class TestFailures(SyncTestCase):

    def test_failures_lead_to_maintenance_and_recovery_clears(self) -> None:
        node = self.create_node('n1', power_state=states.POWER_ON)
        self.set_fake(node, fake_fail='BMC on fire')
        self.run_sync()
        stored = self.node(node)
        self.assertIn('BMC on fire', stored.last_error)
        self.assertFalse(stored.maintenance)
        self.assertEqual(1, self.sync.failure_count(node.id))
        self.run_sync()
        self.assertFalse(self.node(node).maintenance)
        self.run_sync()
        stored = self.node(node)
        self.assertTrue(stored.maintenance)
        self.assertEqual(states.POWER_FAILURE, stored.fault)
        self.assertIn('BMC on fire', stored.maintenance_reason)
        self.assertEqual(states.ERROR_SEVERITY, self.history(node)[-1][0])
        # Still failing in maintenance: nothing more is written.
        stats = self.run_sync()
        self.assertEqual((1, 0), (stats.failed, stats.written))

        self.set_fake(node)
        self.set_fake_power(node, states.POWER_OFF)
        self.run_sync()
        stored = self.node(node)
        self.assertFalse(stored.maintenance)
        self.assertIsNone(stored.fault)
        self.assertIsNone(stored.maintenance_reason)
        self.assertIsNone(stored.last_error)
        self.assertEqual(states.POWER_OFF, stored.power_state)
        self.assertEqual(0, self.sync.failure_count(node.id))
        events = [event for _, event in self.history(node)]
        self.assertIn('BMC answers again', events[-2])
        self.assertIn('out-of-band from power on to power off', events[-1])

    def test_success_resets_the_count(self) -> None:
        node = self.create_node('n1', power_state=states.POWER_ON)
        self.set_fake(node, fake_fail='flaky')
        self.run_sync()
        self.run_sync()
        self.set_fake(node)
        self.run_sync()
        self.assertIsNone(self.node(node).last_error)
        self.set_fake(node, fake_fail='flaky')
        self.run_sync()
        self.run_sync()
        self.assertFalse(self.node(node).maintenance)

    def test_operator_maintenance_and_locked_nodes_skipped(self) -> None:
        in_maintenance = self.create_node('m', maintenance=True)
        locked = self.create_node('l')
        acting = self.create_node('a', target_power_state=states.POWER_ON)
        for node in (in_maintenance, locked, acting):
            self.set_fake(node, fake_fail='must not be read')
        db_api.reserve_node('someone', locked.id)
        stats = self.run_sync()
        self.assertEqual((0, 0), (stats.nodes, stats.failed))

    def test_enroll_and_transient_nodes_not_read(self) -> None:
        # Ironic's SYNC_EXCLUDED_STATES: credentials never verified
        # (enroll), adoption refused, or a conductor working on the node.
        excluded = (states.ENROLL, states.ADOPTFAIL) + \
            states.TRANSIENT_STATES
        for state in excluded:
            node = self.create_node(f'x-{state}', provision_state=state,
                                    power_state=states.POWER_OFF)
            self.set_fake_power(node, states.POWER_ON)
        synced = [self.create_node(f's-{state}', provision_state=state,
                                   power_state=states.POWER_OFF)
                  for state in (states.MANAGEABLE, states.AVAILABLE,
                                states.ACTIVE, states.ERROR,
                                states.CLEANFAIL, states.DEPLOYFAIL,
                                states.INSPECTFAIL)]
        for node in synced:
            self.set_fake_power(node, states.POWER_ON)
        with mock.patch.object(fake.FakePower, 'get_power_state',
                               autospec=True,
                               side_effect=fake.FakePower.get_power_state
                               ) as read:
            stats = self.run_sync()
        self.assertEqual(sorted(node.name for node in synced),
                         sorted(call.args[1].node.name
                                for call in read.call_args_list))
        self.assertEqual((len(synced), len(synced)),
                         (stats.nodes, stats.changed))
        for state in excluded:
            stored = db_api.get_node(f'x-{state}')
            self.assertEqual(states.POWER_OFF, stored.power_state)
            self.assertEqual([], self.history(stored))

    def test_nodes_of_other_conductors_skipped(self) -> None:
        self.create_node('other-group', conductor_group='rack9')
        self.assertEqual(0, self.run_sync().nodes)

    def test_bad_answer_counts_as_failure(self) -> None:
        node = self.create_node('n1')
        with mock.patch.object(fake.FakePower, 'get_power_state',
                               return_value='sideways'):
            stats = self.run_sync()
        self.assertEqual(1, stats.failed)
        self.assertIn('sideways', self.node(node).last_error)

    def test_read_error_of_an_earlier_conductor_cleared(self) -> None:
        # Written by this conductor before a restart, or by the previous
        # owner: this conductor has no failure count for it.
        node = self.create_node(
            'n1', power_state=states.POWER_ON,
            last_error=sync_cycle.READ_FAILURE_PREFIX + 'timed out')
        other = self.create_node(
            'n2', power_state=states.POWER_ON,
            last_error='Failed to change power state to power off: busy')
        for each in (node, other):
            self.set_fake_power(each, states.POWER_ON)
        self.run_sync()
        self.assertIsNone(self.node(node).last_error)
        # An action's error is the operator's to read: it stays.
        self.assertEqual(other.last_error, self.node(other).last_error)

    def test_secret_not_in_last_error(self) -> None:
        node = self.create_node('n1')
        self.set_fake(node, fake_fail="login failed: password='hunter2'")
        self.run_sync()
        self.assertNotIn('hunter2', self.node(node).last_error)


class TestDatabaseErrors(SyncTestCase):
    """The database failing in the middle of a cycle."""

    def setUp(self) -> None:
        super().setUp()
        # Small batches, written while reads are still in flight.
        self.useFixture(fixtures.MockPatch(
            'podium.conductor.sync_cycle.FLUSH_BATCH', 2))
        self.nodes = [self.create_node(f'n{index}',
                                       power_state=states.POWER_OFF)
                      for index in range(6)]
        for node in self.nodes:
            self.set_fake_power(node, states.POWER_ON)

    def fail_once(self, target: str) -> mock.Mock:
        real = getattr(db_api, target)
        calls = mock.Mock(side_effect=[sa_exc.OperationalError(
            'UPDATE', {}, Exception('database is locked'))] + [real] * 20)

        def call(*args: Any, **kwargs: Any) -> Any:
            outcome = calls(*args, **kwargs)
            return outcome(*args, **kwargs)

        self.useFixture(fixtures.MockPatch(f'podium.db.api.{target}', call))
        return calls

    def test_node_write_error_keeps_the_batch(self) -> None:
        calls = self.fail_once('update_nodes_if')
        stats = self.run_sync()
        self.assertGreater(calls.call_count, 1)
        self.assertEqual((6, 6), (stats.changed, stats.written))
        for node in self.nodes:
            self.assertEqual(states.POWER_ON, self.node(node).power_state)
            self.assertEqual(1, len(self.history(node)))

    def test_history_write_error_keeps_the_entries(self) -> None:
        calls = self.fail_once('add_node_history_bulk')
        stats = self.run_sync()
        self.assertGreater(calls.call_count, 1)
        self.assertEqual(6, stats.written)
        for node in self.nodes:
            # Once each: the retry does not write the nodes again.
            self.assertEqual(1, len(self.history(node)))

    def test_database_down_to_the_end_fails_the_cycle(self) -> None:
        self.useFixture(fixtures.MockPatch(
            'podium.db.api.update_nodes_if',
            side_effect=sa_exc.OperationalError('UPDATE', {}, Exception(
                'database is locked'))))
        self.assertRaises(sa_exc.OperationalError, self.run_sync)
        self.assertEqual(0, self.manager.pool.busy)


class TestHungBMC(SyncTestCase):
    """A hung BMC costs one worker for its timeout, nothing more."""

    def setUp(self) -> None:
        super().setUp()
        self.config(power_state_read_timeout=2.0, group='conductor')
        self.useFixture(fixtures.MockPatch(
            'podium.conductor.sync_cycle.FLUSH_INTERVAL', 0.05))
        self.hung = self.create_node('hung', power_state=states.POWER_ON,
                                     driver_info={'fake_hang': True})
        self.healthy = [self.create_node(f'ok{index}',
                                         power_state=states.POWER_OFF)
                        for index in range(8)]
        for node in self.healthy:
            self.set_fake_power(node, states.POWER_ON)
        self.hang_started = threading.Event()
        self.hang_ended = threading.Event()
        real_behave = fake.behave

        def observed_behave(task: Any) -> None:
            if task.node.id != self.hung.id:
                return real_behave(task)
            self.hang_started.set()
            try:
                return real_behave(task)
            finally:
                self.hang_ended.set()

        self.useFixture(fixtures.MockPatch(
            'podium.drivers.modules.fake.behave', observed_behave))

    def start_sync(self) -> threading.Thread:
        thread = threading.Thread(target=self.run_sync)
        thread.start()
        self.addCleanup(thread.join, 30)
        return thread

    def test_other_nodes_synced_while_hung_read_waits(self) -> None:
        thread = self.start_sync()
        utils.wait_for(lambda: all(
            self.node(node).power_state == states.POWER_ON
            for node in self.healthy), what='healthy nodes synced')
        # All of them were recorded while the hung read still waited.
        self.assertTrue(self.hang_started.is_set())
        self.assertFalse(self.hang_ended.is_set())
        thread.join(30)
        self.assertIn('did not answer', self.node(self.hung).last_error)
        self.assertEqual(1, self.sync.failure_count(self.hung.id))

    def test_power_action_not_delayed_by_hung_read(self) -> None:
        self.start_sync()
        self.assertTrue(self.hang_started.wait(20))
        target = self.healthy[0]
        self.manager.change_node_power_state(self.context, target.uuid,
                                             states.POWER_OFF)
        utils.wait_for(lambda: (
            self.node(target).target_power_state is None
            and self.node(target).driver_internal_info[
                'fake_power_state'] == states.POWER_OFF),
            what='power action done')
        self.assertFalse(self.hang_ended.is_set())

    def test_suspects_read_after_the_healthy(self) -> None:
        self.config(sync_power_state_workers=1, group='conductor')
        self.config(power_state_read_timeout=0.2, group='conductor')
        self.sync.count_failure(self.hung.id)
        order: list[int] = []
        real_get = fake.FakePower.get_power_state

        def get(iface: Any, task: Any) -> str:
            order.append(task.node.id)
            return real_get(iface, task)

        with mock.patch.object(fake.FakePower, 'get_power_state', get):
            self.run_sync()
        self.assertEqual(self.hung.id, order[-1])


class TestBatching(SyncTestCase):

    def test_nodes_sharing_a_key_read_in_one_call(self) -> None:
        nodes = [self.create_node(f'n{index}',
                                  driver_info={'endpoint': str(index % 2)})
                 for index in range(6)]
        solo = self.create_node('solo')
        for node in nodes + [solo]:
            self.set_fake_power(node, states.POWER_ON)
        calls: list[list[int]] = []
        real_batch = fake.FakePower.get_power_states

        def get_power_states(iface: Any, tasks: Any) -> Any:
            calls.append(sorted(task.node.id for task in tasks))
            return real_batch(iface, tasks)

        with mock.patch.object(
                fake.FakePower, 'batch_key',
                lambda iface, node: (node.driver_info or {}).get(
                    'endpoint')), \
                mock.patch.object(fake.FakePower, 'get_power_states',
                                  get_power_states):
            stats = self.run_sync()
        self.assertEqual(7, stats.changed)
        self.assertEqual(sorted([[n.id for n in nodes[0::2]],
                                 [n.id for n in nodes[1::2]]]),
                         sorted(calls))

    def test_nodes_left_out_of_a_batch_read_alone_in_parallel(self) -> None:
        nodes = [self.create_node(f'n{index}') for index in range(4)]
        for node in nodes:
            self.set_fake_power(node, states.POWER_ON)
        answered = nodes[0].id
        # The three left out must be read at the same time, not one after
        # the other: each waits here for the other two.
        together = threading.Barrier(3, timeout=5)
        real_get = fake.FakePower.get_power_state

        def get_power_state(iface: Any, task: Any) -> str:
            together.wait()
            return real_get(iface, task)

        with mock.patch.object(fake.FakePower, 'batch_key',
                               lambda iface, node: 'one-endpoint'), \
                mock.patch.object(
                    fake.FakePower, 'get_power_states',
                    lambda iface, tasks: {answered: states.POWER_ON}), \
                mock.patch.object(fake.FakePower, 'get_power_state',
                                  get_power_state):
            stats = self.run_sync()
        self.assertEqual((4, 4, 0), (stats.nodes, stats.changed,
                                     stats.failed))
        self.assertFalse(together.broken)


class TestHungBMCsBeyondWorkers(SyncTestCase):
    """More hung BMCs than sync workers: the healthy nodes are read as
    if there were none (module :mod:`podium.conductor.sync_plan`)."""

    HUNG = 6

    def setUp(self) -> None:
        super().setUp()
        # Healthy reads are instant; the margins below are seconds, so
        # the ordering holds on a loaded machine.
        self.config(power_state_read_timeout=2.0, sync_power_state_workers=2,
                    bmc_probe_workers=2, bmc_probe_timeout=1.5,
                    group='conductor')
        # Hung nodes first: the worst order for the healthy ones.
        self.hung = [self.create_node(
            f'hung{index}', driver_info={'fake_hang': True,
                                         'fake_bmc': f'hung{index}:623'})
            for index in range(self.HUNG)]
        self.healthy = [self.create_node(
            f'ok{index}', driver_info={'fake_bmc': f'ok{index}:623'})
            for index in range(6)]
        self.reads: list[tuple[str, float, float, float]] = []
        real_get = fake.FakePower.get_power_state

        def get(iface: Any, task: Any) -> str:
            started = time.monotonic()
            try:
                return real_get(iface, task)
            finally:
                self.reads.append((task.node.name, started,
                                   time.monotonic(), task.timeout))

        self.useFixture(fixtures.MockPatchObject(
            fake.FakePower, 'get_power_state', get))

    def answered_once(self) -> None:
        """The hung BMCs answered before (they worked, then hung): the
        first timeout makes them suspects."""
        for node in self.hung:
            self.sync.health.observe(node.driver_info['fake_bmc'],
                                     'fake-hardware', 0.01, ok=True)

    def ends(self, prefix: str) -> list[float]:
        return [end for name, _, end, _ in self.reads
                if name.startswith(prefix)]

    def test_second_cycle_probes_apart_with_a_short_timeout(self) -> None:
        self.answered_once()
        self.run_sync()
        self.assertEqual(self.HUNG, sum(
            1 for e in self.sync.health.snapshot() if e['suspect']))
        self.reads.clear()
        stats = self.run_sync()
        self.assertEqual((len(self.healthy) + self.HUNG, self.HUNG),
                         (stats.nodes, stats.probed))
        # Every healthy node was read before the first hung BMC's probe
        # gave up, though the probes outnumber the sync workers 3 to 1.
        self.assertLess(max(self.ends('ok')), min(self.ends('hung')))
        self.assertEqual({1.5}, {round(timeout, 1) for name, _, _, timeout
                                 in self.reads if name.startswith('hung')})

    def test_first_cycle_slow_reads_leave_the_sync_workers(self) -> None:
        # Healthy reads start once the hung ones moved off (3 x 0.5 s)
        # and end long before the first hung read times out (4 s).
        self.config(bmc_probe_workers=self.HUNG, bmc_probe_timeout=0.5,
                    power_state_read_timeout=4.0, group='conductor')
        self.run_sync()
        # The hung reads still got the full read timeout (nothing was
        # known of their BMCs), but moved to the probe budget after
        # bmc_probe_timeout: the healthy reads did not wait for them.
        self.assertLess(max(self.ends('ok')), min(self.ends('hung')))
        self.assertEqual({4.0}, {round(timeout, 1) for name, _, _, timeout
                                 in self.reads if name.startswith('hung')})

    def test_hung_from_the_start_read_again_after_the_healthy(self) -> None:
        # Never answered and timed out once: read once more in the next
        # cycle, with the full read timeout, the healthy nodes first;
        # probed apart from the third cycle on.
        self.run_sync()
        self.assertEqual(0, self.sync.health.suspect_count())
        self.reads.clear()
        stats = self.run_sync()
        self.assertEqual((0, self.HUNG),
                         (stats.probed, len(self.ends('hung'))))
        self.assertLess(max(self.ends('ok')), min(self.ends('hung')))
        self.assertEqual({2.0}, {round(timeout, 1) for name, _, _, timeout
                                 in self.reads if name.startswith('hung')})
        self.assertEqual(self.HUNG, self.sync.health.suspect_count())
        self.reads.clear()
        self.assertEqual(self.HUNG, self.run_sync().probed)

    def test_siblings_of_a_suspect_bmc_share_its_probe(self) -> None:
        for node in self.hung:
            db_api.update_node(node.id, {'driver_info': {
                'fake_hang': True, 'fake_bmc': 'shared:623'}})
        self.run_sync()
        self.reads.clear()
        stats = self.run_sync()
        self.assertEqual(1, stats.probed)
        self.assertEqual(1, len(self.ends('hung')))
        for node in self.hung:
            self.assertEqual(2, self.sync.failure_count(node.id))
            self.assertIn('did not answer' if node.id == self.hung[0].id
                          else 'failed its probe',
                          self.node(node).last_error)

    def test_probes_per_cycle_bounded(self) -> None:
        self.config(sync_power_state_interval=1, bmc_probe_timeout=0.5,
                    group='conductor')
        self.answered_once()
        self.run_sync()
        self.reads.clear()
        stats = self.run_sync()
        # 2 probe workers x (1 s interval / 0.5 s probe): 4 of 6.
        self.assertEqual((4, 2), (stats.probed, stats.deferred))
        probed = {name for name, *_ in self.reads if name.startswith('hung')}
        left_out = {node.name for node in self.hung} - probed
        self.assertEqual(2, len(left_out))
        self.reads.clear()
        self.run_sync()
        # The least recently probed go first.
        probed = {name for name, *_ in self.reads if name.startswith('hung')}
        self.assertLessEqual(left_out, probed)
