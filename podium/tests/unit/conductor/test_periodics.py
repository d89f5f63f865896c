"""Declaring, collecting and running periodic tasks."""

import threading
from collections.abc import Iterator
from typing import Any

import fixtures

from podium.common import exceptions, hash_ring
from podium.conductor import periodics, task_manager
from podium.conductor import pool as pool_mod
from podium.db import api as db_api
from podium.drivers import driver_factory
from podium.drivers.modules import fake
from podium.tests import base
from podium.tests.unit.conductor import utils


class _Registry:
    """Stands in for the driver registry: just the given interfaces."""

    def __init__(self, *interfaces: tuple[str, str, Any]) -> None:
        self._interfaces = interfaces

    def all_interfaces(self) -> Iterator[tuple[str, str, Any]]:
        yield from self._interfaces


def collect(owner: Any, *interfaces: tuple[str, str, Any]
            ) -> list[periodics.PeriodicTask]:
    return periodics.collect(owner, registry=_Registry(*interfaces))


class _Owner:
    @periodics.periodic(7)
    def _every_seven(self, context: Any) -> None:
        pass

    @periodics.periodic('conductor.sync_power_state_interval')
    def _from_option(self, context: Any) -> None:
        pass

    @periodics.periodic(5, enabled=False)
    def _switched_off(self, context: Any) -> None:
        pass

    def not_periodic(self, context: Any) -> None:
        pass


class _GoodPower(fake.FakePower):
    @periodics.periodic(3)
    def check(self, manager: Any, context: Any) -> None:
        pass


class _BadSignaturePower(fake.FakePower):
    @periodics.periodic(3)
    def check(self, context: Any) -> None:
        pass


class _BadNodeBodyPower(fake.FakePower):
    @periodics.node_periodic('bad body', 3)
    def check(self, task: Any) -> None:
        pass


class TestCollect(base.TestCase):

    def test_manager_tasks_with_spacing(self) -> None:
        self.config(sync_power_state_interval=42, group='conductor')
        tasks = {task.name: task.spacing for task in collect(_Owner())}
        self.assertEqual({'_Owner._every_seven': 7.0,
                          '_Owner._from_option': 42.0}, tasks)

    def test_zero_from_option_disables(self) -> None:
        self.config(sync_power_state_interval=0, group='conductor')
        names = [task.name for task in collect(_Owner())]
        self.assertEqual(['_Owner._every_seven'], names)

    def test_non_positive_literal_spacing_names_the_task(self) -> None:
        for spacing in (0, -1, -0.5):
            class Bad:
                @periodics.periodic(spacing)
                def _tick(self, context: Any) -> None:
                    pass

            error = self.assertRaises(exceptions.PeriodicTaskInvalid,
                                      collect, Bad())
            self.assertIn('Bad._tick', str(error))
            self.assertIn('spacing must be positive', str(error))

    def test_unknown_option_names_the_task(self) -> None:
        class Bad:
            @periodics.periodic('conductor.no_such_interval')
            def _tick(self, context: Any) -> None:
                pass

        error = self.assertRaises(exceptions.PeriodicTaskInvalid,
                                  collect, Bad())
        self.assertIn('Bad._tick', str(error))
        self.assertIn('conductor.no_such_interval', str(error))

    def test_interface_tasks_collected_once(self) -> None:
        power = _GoodPower()
        tasks = collect(_Owner(), ('power', 'good', power),
                        ('power', 'alias', _GoodPower()))
        names = [task.name for task in tasks]
        self.assertIn('power.good._GoodPower.check', names)
        self.assertEqual(1, sum('check' in name for name in names))

    def test_interface_task_with_bad_signature(self) -> None:
        error = self.assertRaises(
            exceptions.PeriodicTaskInvalid, collect, _Owner(),
            ('power', 'bad', _BadSignaturePower()))
        self.assertIn('power.bad._BadSignaturePower.check', str(error))
        self.assertIn('(manager, context)', str(error))

    def test_node_task_with_bad_body_signature(self) -> None:
        error = self.assertRaises(
            exceptions.PeriodicTaskInvalid, collect, _Owner(),
            ('power', 'bad', _BadNodeBodyPower()))
        self.assertIn('_BadNodeBodyPower.check', str(error))
        self.assertIn('(self, task, context)', str(error))


class _Clock:
    """A slow and a fast periodic task, each on its own slot."""

    def __init__(self, pool: pool_mod.WorkerPool) -> None:
        self.pool = pool
        self.fast_runs = 0
        self.slow_started = threading.Event()
        self.slow_release = threading.Event()

    @periodics.periodic(0.001)
    def _fast(self, context: Any) -> None:
        # Some per-node-like fan-out too, as real tasks do.
        self.pool.fan_out(lambda item: item, range(3), 2,
                          lambda *args: None)
        self.fast_runs += 1

    @periodics.periodic(0.001)
    def _slow(self, context: Any) -> None:
        self.slow_started.set()
        self.slow_release.wait(30)


class TestRunning(base.TestCase):

    def start(self, size: int = 6) -> _Clock:
        pool = pool_mod.WorkerPool(size, 1)
        self.addCleanup(pool.shutdown)
        clock = _Clock(pool)
        tasks = collect(clock)
        pool.reserve_periodic_slots(len(tasks))
        worker = periodics.make_worker(tasks, pool)
        thread = threading.Thread(target=worker.start, daemon=True)
        thread.start()
        self.addCleanup(thread.join, 10)
        self.addCleanup(worker.stop)
        self.addCleanup(clock.slow_release.set)
        return clock

    def test_fast_task_keeps_its_schedule_while_slow_one_runs(self) -> None:
        clock = self.start()
        self.assertTrue(clock.slow_started.wait(20))
        runs_when_slow_started = clock.fast_runs
        utils.wait_for(lambda: clock.fast_runs >= runs_when_slow_started
                       + 30, what='fast task runs')
        # The slow task's first run is still going on.
        self.assertFalse(clock.slow_release.is_set())

    def test_thread_count_stays_bounded(self) -> None:
        before = threading.active_count()
        clock = self.start(size=6)
        utils.wait_for(lambda: clock.fast_runs >= 100, what='100 runs')
        warmed_up = threading.active_count()
        utils.wait_for(lambda: clock.fast_runs >= 700, what='700 runs')
        self.assertLessEqual(threading.active_count(), warmed_up)
        # The pool's threads plus the periodic worker's loop, no more.
        self.assertLessEqual(warmed_up, before + 6 + 1)


class _Manager:
    """What node_periodic needs of the conductor manager."""

    def __init__(self, host: str, pool: pool_mod.WorkerPool) -> None:
        self.host = host
        self.pool = pool
        self.ring = hash_ring.HashRingManager()
        self.seen: list[str] = []

    @periodics.node_periodic('test node task', 60, parallelism=2)
    def _per_node(self, task: task_manager.TaskManager,
                  context: Any) -> None:
        self.seen.append(task.node.name)
        if task.node.name == 'broken':
            raise RuntimeError('the body failed')


class _PeriodicPower(fake.FakePower):
    def __init__(self) -> None:
        self.seen: list[str] = []

    @periodics.node_periodic('power check', 60, shared_task=False,
                             predicate=lambda row: row.name != 'skip-me')
    def check(self, task: task_manager.TaskManager, context: Any) -> None:
        self.seen.append(task.node.name)
        assert db_api.get_node(task.node.id).reservation == 'test-conductor'


class TestNodePeriodic(utils.ConductorTestCase):

    def setUp(self) -> None:
        super().setUp()
        self.pool = self.make_pool(size=6)
        self.manager = _Manager(self.HOST, self.pool)

    def test_runs_for_each_owned_unlocked_node(self) -> None:
        logs = self.useFixture(fixtures.FakeLogger())
        for name in ('a', 'broken', 'c'):
            self.create_node(name)
        self.create_node('maint', maintenance=True)
        locked = self.create_node('locked')
        db_api.reserve_node('other', locked.id)
        self.create_node('foreign', conductor_group='elsewhere')
        self.create_node('disabled-driver', driver='gone')
        self.manager._per_node(self.context)
        self.assertEqual(['a', 'broken', 'c'], sorted(self.manager.seen))
        self.assertIn('Node broken: periodic task "test node task" failed',
                      logs.output)
        self.assertNotIn('disabled-driver', logs.output)
        # A failure for one node does not stop later runs either.
        self.manager.seen.clear()
        self.manager._per_node(self.context)
        self.assertEqual(['a', 'broken', 'c'], sorted(self.manager.seen))

    def test_interface_task_sees_only_its_nodes(self) -> None:
        power = _PeriodicPower()
        registry = driver_factory.get_registry()
        self.useFixture(fixtures.MockPatchObject(
            registry, 'interfaces',
            dict(registry.interfaces, power={'fake': power})))
        registry._node_drivers.clear()
        self.addCleanup(registry._node_drivers.clear)
        self.create_node('mine')
        self.create_node('skip-me')
        self.create_node('other-driver', driver='gone')
        power.check(self.manager, self.context)
        self.assertEqual(['mine'], power.seen)
        node = db_api.get_node('mine')
        self.assertIsNone(node.reservation)
