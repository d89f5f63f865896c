"""Nodes left mid-transition or abandoned: restart, takeover, timeouts,
and live work is not cut."""

import datetime
import threading
from unittest import mock

from podium.common import states
from podium.conductor import recovery, task_manager
from podium.db import api as db_api
from podium.db import models
from podium.tests.unit.conductor import test_service, utils


class _Stuck(utils.ConductorTestCase):

    def stuck(self, name: str, state: str, holder: str | None = None,
              age: float = 0.0) -> int:
        """A node left in ``state`` ``age`` seconds ago."""
        node = self.create_node(name, provision_state=state)
        values = {'provision_updated_at': models.utcnow()
                  - datetime.timedelta(seconds=age),
                  'clean_step': {'interface': 'power', 'step': 'power_off'}}
        db_api.update_node(node.id, values)
        if holder is not None:
            db_api.reserve_node(holder, node.id)
        return node.id


class InterruptedTest(test_service.ServiceTestCase, _Stuck):

    def test_restart_fails_what_it_was_doing(self) -> None:
        cases = {'c': (states.CLEANING, states.CLEANFAIL),
                 'd': (states.DEPLOYING, states.DEPLOYFAIL),
                 'v': (states.VERIFYING, states.ENROLL),
                 'x': (states.DELETING, states.ERROR)}
        for name, (state, _failed) in cases.items():
            self.stuck(name, state, holder=self.HOST)
        self.start_service()
        for name, (state, failed) in cases.items():
            node = db_api.get_node(name)
            self.assertEqual(failed, node.provision_state, name)
            self.assertIsNone(node.reservation)
            self.assertIsNone(node.clean_step)
            self.assertEqual(f'{state.capitalize()} was interrupted: '
                             f'conductor {self.HOST} restarted while it '
                             f'ran.',
                             node.last_error)

    def test_takeover_fails_dead_conductors_nodes(self) -> None:
        conductor = self.start_service()
        db_api.register_conductor('dead-host', ['fake-hardware'])
        self.make_stale('dead-host')
        self.stuck('i', states.INSPECTING, holder='dead-host')
        self.assertEqual(1, conductor.release_dead_conductor_locks())
        node = db_api.get_node('i')
        self.assertEqual(states.INSPECTFAIL, node.provision_state)
        self.assertEqual(states.MANAGEABLE, node.target_provision_state)
        self.assertIn('conductor dead-host died while it ran',
                      node.last_error)


class TimeoutTest(_Stuck):

    def test_timeouts(self) -> None:
        self.config(clean_callback_timeout=60, deploy_callback_timeout=0,
                    group='conductor')
        old = self.stuck('old', states.CLEANWAIT, age=3600)
        self.stuck('new', states.CLEANWAIT, age=1)
        self.stuck('locked', states.CLEANING, holder='other', age=3600)
        self.stuck('off', states.DEPLOYWAIT, age=3600)
        manager = self.make_manager()
        self.assertEqual(1, recovery.fail_timed_out(
            self.context, self.HOST, manager.ring))
        node = db_api.get_node(old)
        self.assertEqual(states.CLEANFAIL, node.provision_state)
        self.assertIn('Timeout reached while clean wait', node.last_error)
        self.assertIn('clean_callback_timeout', node.last_error)
        for name, state in (('new', states.CLEANWAIT),
                            ('locked', states.CLEANING),
                            ('off', states.DEPLOYWAIT)):
            self.assertEqual(state, db_api.get_node(name).provision_state)
        history = db_api.list_node_history(old)
        self.assertEqual('ERROR', history[-1].severity)

    def test_power_sync_leaves_transient_nodes_alone(self) -> None:
        self.stuck('busy', states.CLEANING)
        self.create_node('idle', provision_state=states.AVAILABLE)
        manager = self.make_manager()
        stats = manager.power_sync.run(self.context)
        self.assertEqual(1, stats.nodes)


class TestAbandonedPowerActions(test_service.ServiceTestCase):

    def abandoned(self, holder: str, name: str = 'mid-action') -> int:
        """A node locked by ``holder`` in the middle of a power action."""
        node = self.create_synced_node(name, power_state=states.POWER_OFF)
        db_api.reserve_node(holder, node.id)
        db_api.update_node_by_id(
            node.id, {'target_power_state': states.POWER_ON})
        return node.id

    def assert_aborted(self, node_id: int, why: str) -> None:
        stored = db_api.get_node(node_id)
        self.assertIsNone(stored.reservation)
        self.assertIsNone(stored.target_power_state)
        self.assertEqual(f'Power action to "{states.POWER_ON}" was '
                         f'interrupted: {why}', stored.last_error)
        events = [entry.event for entry in
                  db_api.list_node_history(node_id)]
        self.assertEqual([stored.last_error], events)

    def test_start_aborts_what_the_previous_run_left(self) -> None:
        node_id = self.abandoned(self.HOST)
        locked_only = self.create_node('locked-only')
        db_api.reserve_node(self.HOST, locked_only.id)
        self.start_service()
        self.assert_aborted(
            node_id, f'conductor {self.HOST} restarted while it ran')
        # A lock without a power action is released, nothing else.
        stored = db_api.get_node(locked_only.id)
        self.assertIsNone(stored.reservation)
        self.assertIsNone(stored.last_error)
        self.assertEqual([], db_api.list_node_history(locked_only.id))

    def test_start_then_power_sync_reads_the_node_again(self) -> None:
        self.config(sync_power_state_interval=1,
                    force_power_state_during_sync=False, group='conductor')
        node_id = self.abandoned(self.HOST)
        node = db_api.get_node(node_id)
        self.set_fake_power(node, states.POWER_ON)
        self.start_service()
        utils.wait_for(lambda: db_api.get_node(node_id).power_state
                       == states.POWER_ON, what='power sync of the node')

    def test_takeover_aborts_a_dead_conductors_action(self) -> None:
        conductor = self.start_service()
        db_api.register_conductor('dead-one', ['fake-hardware'])
        self.make_stale('dead-one')
        node_id = self.abandoned('dead-one')
        self.assertEqual(1, conductor.release_dead_conductor_locks())
        self.assert_aborted(node_id,
                            'conductor dead-one died while it ran')

    def test_keep_leaves_locks_alone(self) -> None:
        kept = self.abandoned(self.HOST, 'kept')
        freed = self.abandoned(self.HOST, 'freed')
        self.assertEqual(1, db_api.clear_node_reservations_for_conductor(
            self.HOST, interrupted_by='testing', keep={kept}))
        stored = db_api.get_node(kept)
        self.assertEqual(self.HOST, stored.reservation)
        self.assertEqual(states.POWER_ON, stored.target_power_state)
        self.assert_aborted(freed, 'testing')


class TestDrainTimeout(test_service.ServiceTestCase):

    def test_stop_keeps_the_lock_of_a_still_running_action(self) -> None:
        self.config(graceful_shutdown_timeout=0.2, group='conductor')
        node = self.create_node('stuck', power_state=states.POWER_OFF)
        idle = self.create_node('idle')
        conductor = self.start_service()
        db_api.reserve_node(self.HOST, idle.id)
        assert conductor.manager is not None
        release = threading.Event()
        self.addCleanup(release.set)
        started = threading.Event()

        def hang(task: task_manager.TaskManager, *args: object) -> None:
            started.set()
            release.wait(30)

        with mock.patch.object(conductor.manager, '_do_power_action', hang):
            conductor.manager.change_node_power_state(
                self.context, 'stuck', states.POWER_ON)
            self.assertTrue(started.wait(10))
            conductor.stop()
            # The worker still runs: its lock stays, the others go.
            stored = db_api.get_node(node.id)
            self.assertEqual(self.HOST, stored.reservation)
            self.assertEqual(states.POWER_ON, stored.target_power_state)
            self.assertIsNone(db_api.get_node(idle.id).reservation)
            self.assertFalse(db_api.get_conductor(self.HOST).online)
            release.set()
            # When it ends it releases its own lock.
            utils.wait_for(
                lambda: db_api.get_node(node.id).reservation is None,
                what='the worker to release its lock')


class TestFailedRelease(utils.ConductorTestCase):

    def test_heartbeat_retries_a_release_the_database_refused(self) -> None:
        node = self.create_node('n1')
        real_release = db_api.release_node
        with mock.patch.object(db_api, 'release_node',
                               side_effect=RuntimeError('database gone')):
            with task_manager.acquire(self.context, node.id,
                                      host=self.HOST):
                pass
        self.assertEqual(self.HOST, db_api.get_node(node.id).reservation)
        self.assertEqual(set(), task_manager.held_node_ids(self.HOST))
        with mock.patch.object(db_api, 'release_node',
                               side_effect=RuntimeError('still gone')):
            self.assertEqual(0, task_manager.retry_failed_releases(
                self.HOST))
        self.assertEqual(self.HOST, db_api.get_node(node.id).reservation)
        self.assertIs(real_release, db_api.release_node)
        self.assertEqual(1, task_manager.retry_failed_releases(self.HOST))
        self.assertIsNone(db_api.get_node(node.id).reservation)
        self.assertEqual(0, task_manager.retry_failed_releases(self.HOST))

    def test_lock_taken_again_is_not_released_by_the_retry(self) -> None:
        node = self.create_node('n1')
        with mock.patch.object(db_api, 'release_node',
                               side_effect=RuntimeError('database gone')):
            with task_manager.acquire(self.context, node.id,
                                      host=self.HOST):
                pass
        db_api.release_node(self.HOST, node.id)
        with task_manager.acquire(self.context, node.id, host=self.HOST):
            self.assertEqual(0, task_manager.retry_failed_releases(
                self.HOST))
            self.assertEqual(self.HOST,
                             db_api.get_node(node.id).reservation)
        self.assertIsNone(db_api.get_node(node.id).reservation)
