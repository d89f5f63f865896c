"""The conductor service: start-up, takeover and shutdown in-process."""

import datetime
import logging

import fixtures
import sqlalchemy as sa

from podium.common import exceptions, hash_ring, states
from podium.conductor import rpcapi, service
from podium.db import api as db_api
from podium.db import engine, models
from podium.tests.unit.conductor import utils


class ServiceTestCase(utils.ConductorTestCase):

    def setUp(self) -> None:
        super().setUp()
        self.config(rpc_transport='local')
        self.config(workers_pool_size=8, heartbeat_interval=1,
                    graceful_shutdown_timeout=20, group='conductor')
        # The service registers itself; a live registration of its host
        # name would be another process's.
        db_api.unregister_conductor(self.HOST)

    def start_service(self) -> service.ConductorService:
        conductor = service.ConductorService()
        conductor.start()
        self.addCleanup(conductor.stop, graceful=False)
        return conductor

    def make_stale(self, hostname: str) -> None:
        stale = models.utcnow() - datetime.timedelta(hours=1)
        with engine.session_scope(writer=True) as session:
            session.execute(sa.update(models.Conductor)
                            .where(models.Conductor.hostname == hostname)
                            .values(updated_at=stale))


class TestStartStop(ServiceTestCase):

    def test_start_registers_and_stop_unregisters(self) -> None:
        node = self.create_node('left-locked')
        db_api.reserve_node(self.HOST, node.id)
        conductor = self.start_service()
        # A previous life of this host left a lock: cleared at start-up.
        self.assertIsNone(db_api.get_node(node.id).reservation)
        record = db_api.get_conductor(self.HOST)
        self.assertTrue(record.online)
        self.assertEqual(['fake-hardware'], record.drivers)
        names = {task.name for task in conductor.periodic_tasks}
        self.assertEqual({'ConductorManager._sync_power_states',
                          'ConductorManager._check_batches',
                          'ConductorManager._check_drift',
                          'ConductorManager._check_provision_timeouts',
                          'ConductorManager._manage_node_history',
                          'ConductorService._heartbeat',
                          # The ramdisk deploy's boot check.
                          'deploy.ramdisk.RamdiskDeploy.check_booted'},
                         names)
        self.assertIs(conductor.manager, rpcapi._local_manager)
        conductor.stop()
        self.assertTrue(conductor.wait(0))
        self.assertFalse(db_api.get_conductor(self.HOST).online)
        self.assertIsNone(rpcapi._local_manager)

    def test_pool_too_small_for_the_periodic_tasks(self) -> None:
        self.config(workers_pool_size=3, reserved_workers_pool_percentage=50,
                    group='conductor')
        conductor = service.ConductorService()
        error = self.assertRaises(exceptions.ConfigInvalid, conductor.start)
        self.assertIn('7 periodic tasks', str(error))

    def test_heartbeat_keeps_conductor_alive(self) -> None:
        self.make_stale(self.HOST)
        self.assertEqual([], db_api.get_alive_conductors(5))
        self.start_service()
        utils.wait_for(lambda: db_api.get_alive_conductors(5),
                       what='alive conductor')

    def test_graceful_stop_finishes_action_then_releases(self) -> None:
        node = self.create_node('busy', power_state=states.POWER_OFF,
                                driver_info={'fake_delay': 0.5})
        conductor = self.start_service()
        assert conductor.manager is not None
        conductor.manager.change_node_power_state(self.context, 'busy',
                                                  states.POWER_ON)
        conductor.stop()
        stored = db_api.get_node(node.id)
        self.assertEqual(states.POWER_ON, stored.power_state)
        self.assertIsNone(stored.reservation)
        self.assertIsNone(stored.target_power_state)
        self.assertFalse(db_api.get_conductor(self.HOST).online)
        # No new action once stopped.
        self.assertRaises(exceptions.NoFreeConductorWorker,
                          conductor.manager.change_node_power_state,
                          self.context, 'busy', states.POWER_OFF)


class TestTakeover(ServiceTestCase):

    def test_dead_conductor_locks_released(self) -> None:
        conductor = self.start_service()
        db_api.register_conductor('dead-one', ['fake-hardware'])
        db_api.register_conductor('alive-one', ['fake-hardware'])
        self.make_stale('dead-one')
        orphan = self.create_node('orphan')
        kept = self.create_node('kept')
        db_api.reserve_node('dead-one', orphan.id)
        db_api.reserve_node('alive-one', kept.id)
        self.assertEqual(1, conductor.release_dead_conductor_locks())
        self.assertIsNone(db_api.get_node(orphan.id).reservation)
        self.assertEqual('alive-one', db_api.get_node(kept.id).reservation)

    def test_interrupted_power_action_is_reported(self) -> None:
        conductor = self.start_service()
        db_api.register_conductor('dead-one', ['fake-hardware'])
        self.make_stale('dead-one')
        node = self.create_node('mid-action',
                                target_power_state=states.POWER_ON)
        idle = self.create_node('idle')
        db_api.reserve_node('dead-one', node.id)
        db_api.reserve_node('dead-one', idle.id)
        self.assertEqual(2, conductor.release_dead_conductor_locks())
        stored = db_api.get_node(node.id)
        self.assertIsNone(stored.reservation)
        self.assertIsNone(stored.target_power_state)
        self.assertIn('Power action to "power on" was interrupted: '
                      'conductor dead-one died', stored.last_error)
        self.assertEqual(['ERROR'], [entry.severity for entry in
                                     db_api.list_node_history(node.id)])
        # A node merely locked had nothing in flight to report.
        self.assertIsNone(db_api.get_node(idle.id).last_error)
        self.assertEqual([], db_api.list_node_history(idle.id))

    def test_namesake_alive_refuses_to_start(self) -> None:
        db_api.register_conductor(self.HOST, ['fake-hardware'])
        node = self.create_node('held')
        db_api.reserve_node(self.HOST, node.id)
        conductor = service.ConductorService()
        error = self.assertRaises(exceptions.ConductorAlreadyRegistered,
                                  conductor.start)
        self.assertIn('unique [DEFAULT] host', str(error))
        # Stopping the refused service (as podium serve does on any
        # start-up error) leaves the live namesake its locks and its
        # registration.
        conductor.stop(graceful=False)
        self.assertTrue(conductor.wait(0))
        self.assertEqual(self.HOST, db_api.get_node(node.id).reservation)
        self.assertTrue(db_api.get_conductor(self.HOST).online)
        self.make_stale(self.HOST)
        self.start_service()
        self.assertIsNone(db_api.get_node(node.id).reservation)

    def test_unserved_group_logged_once(self) -> None:
        logs = self.useFixture(fixtures.FakeLogger(level=logging.INFO))
        self.create_node('lonely', conductor_group='Rack-9')
        conductor = self.start_service()
        conductor._warn_unserved_groups()
        conductor._warn_unserved_groups()
        self.assertEqual(1, logs.output.count(
            'No alive conductor serves conductor group(s) "rack-9"'))
        db_api.register_conductor('rack9-conductor', ['fake-hardware'],
                                  'rack-9')
        hash_ring.HashRingManager.reset()
        conductor._warn_unserved_groups()
        self.assertIn('Every conductor group with nodes is served again',
                      logs.output)

    def test_heartbeat_adopts_orphans(self) -> None:
        db_api.register_conductor('gone', ['fake-hardware'])
        db_api.unregister_conductor('gone')
        orphan = self.create_node('orphan')
        db_api.reserve_node('gone', orphan.id)
        self.start_service()
        utils.wait_for(
            lambda: db_api.get_node(orphan.id).reservation is None,
            what='orphan lock released by the heartbeat')
