"""Node locks taken by ``task_manager.acquire``."""

import threading

import fixtures

from podium.common import exceptions
from podium.conductor import task_manager
from podium.db import api as db_api
from podium.tests.unit.conductor import utils


class TestAcquire(utils.ConductorTestCase):

    def setUp(self) -> None:
        super().setUp()
        self.node = self.create_node('node-1')

    def reservation(self) -> str | None:
        return db_api.get_node(self.node.id).reservation

    def test_exclusive_lock_held_inside_released_after(self) -> None:
        with task_manager.acquire(self.context, 'node-1',
                                  purpose='test') as task:
            self.assertEqual(self.HOST, self.reservation())
            self.assertEqual(self.node.uuid, task.node.uuid)
            self.assertEqual('fake-hardware', task.driver.hardware_type)
            self.assertFalse(task.shared)
            self.assertEqual(60.0, task.timeout)
        self.assertIsNone(self.reservation())

    def test_released_when_body_raises(self) -> None:
        def body() -> None:
            with task_manager.acquire(self.context, self.node.uuid):
                raise RuntimeError('driver blew up')

        self.assertRaises(RuntimeError, body)
        self.assertIsNone(self.reservation())

    def test_locked_node_raises_node_locked(self) -> None:
        db_api.reserve_node('other-host', self.node.id)
        error = self.assertRaises(exceptions.NodeLocked,
                                  task_manager.acquire, self.context,
                                  self.node.id)
        self.assertIn('other-host', str(error))
        self.assertEqual(409, error.code)
        self.assertEqual('other-host', self.reservation())

    def test_lock_freed_during_retry_is_taken(self) -> None:
        self.config(node_locked_retry_attempts=50,
                    node_locked_retry_interval=0.01, group='conductor')
        db_api.reserve_node('other-host', self.node.id)
        retried = threading.Event()
        real_reserve = db_api.reserve_node

        def reserve(tag: str, node_id: object) -> object:
            if retried.is_set():
                db_api.release_node('other-host', self.node.id)
            retried.set()
            return real_reserve(tag, node_id)  # type: ignore[arg-type]

        self.useFixture(fixtures.MockPatch(
            'podium.db.api.reserve_node', side_effect=reserve))
        with task_manager.acquire(self.context, self.node.id):
            self.assertEqual(self.HOST, self.reservation())

    def test_missing_node(self) -> None:
        self.assertRaises(exceptions.NodeNotFound, task_manager.acquire,
                          self.context, 'no-such-node')

    def test_shared_lock_takes_no_reservation(self) -> None:
        db_api.reserve_node('other-host', self.node.id)
        with task_manager.acquire(self.context, self.node.id,
                                  shared=True, timeout=2.5) as task:
            self.assertTrue(task.shared)
            self.assertEqual(2.5, task.timeout)
        self.assertEqual('other-host', self.reservation())

    def test_save_writes_only_under_own_lock(self) -> None:
        with task_manager.acquire(self.context, self.node.id) as task:
            task.save(last_error='boom')
            self.assertEqual('boom', task.node.last_error)
            db_api.release_node(self.HOST, self.node.id)
            db_api.reserve_node('thief', self.node.id)
            self.assertRaises(exceptions.NodeLocked, task.save,
                              last_error='lost')
        self.assertEqual('boom', db_api.get_node(self.node.id).last_error)
        self.assertEqual('thief', self.reservation())

    def test_unknown_driver_releases_the_lock(self) -> None:
        db_api.update_node(self.node.id, {'driver': 'gone'})
        self.assertRaises(exceptions.DriverNotFound, task_manager.acquire,
                          self.context, self.node.id)
        self.assertIsNone(self.reservation())


class TestSpawnAfter(utils.ConductorTestCase):

    def setUp(self) -> None:
        super().setUp()
        self.node = self.create_node('node-1')
        self.pool = self.make_pool(size=3, reserved=1, periodic_slots=0)

    def test_worker_owns_then_releases_the_lock(self) -> None:
        gate = threading.Event()
        seen: list[str | None] = []

        def work(task: task_manager.TaskManager) -> None:
            gate.wait(20)
            seen.append(db_api.get_node(task.node.id).reservation)

        with task_manager.acquire(self.context, self.node.id) as task:
            task.spawn_after(self.pool.spawn, work)
        # The with block is over, but the worker still holds the lock.
        self.assertEqual(self.HOST, db_api.get_node(self.node.id).reservation)
        gate.set()
        utils.wait_for(
            lambda: db_api.get_node(self.node.id).reservation is None,
            what='lock release')
        self.assertEqual([self.HOST], seen)

    def test_worker_failure_still_releases(self) -> None:
        def work(task: task_manager.TaskManager) -> None:
            raise RuntimeError('oops')

        with task_manager.acquire(self.context, self.node.id) as task:
            task.spawn_after(self.pool.spawn, work)
        utils.wait_for(
            lambda: db_api.get_node(self.node.id).reservation is None,
            what='lock release')

    def test_no_free_worker_releases_and_calls_hook(self) -> None:
        hooked: list[Exception] = []

        def full(*_args: object) -> None:
            raise exceptions.NoFreeConductorWorker()

        def body() -> None:
            with task_manager.acquire(self.context, self.node.id) as task:
                task.set_spawn_error_hook(hooked.append)
                task.spawn_after(full, lambda task: None)

        self.assertRaises(exceptions.NoFreeConductorWorker, body)
        self.assertEqual(1, len(hooked))
        self.assertIsNone(db_api.get_node(self.node.id).reservation)

    def test_not_spawned_when_body_raises(self) -> None:
        ran: list[bool] = []

        def body() -> None:
            with task_manager.acquire(self.context, self.node.id) as task:
                task.spawn_after(self.pool.spawn, lambda t: ran.append(True))
                raise exceptions.InvalidParameterValue(err='bad')

        self.assertRaises(exceptions.InvalidParameterValue, body)
        self.assertTrue(self.pool.wait_idle(10))
        self.assertEqual([], ran)
        self.assertIsNone(db_api.get_node(self.node.id).reservation)
