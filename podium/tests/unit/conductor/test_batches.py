"""Running batches on a conductor: the rollout policy (concurrency,
canary, failure threshold), and batches nobody runs (a restart, a dead
conductor, a runner that failed)."""

import datetime
import threading
from typing import Any
from unittest import mock

from podium.common import exceptions, states
from podium.conductor import batch_actions, rpcapi
from podium.db import api as db_api
from podium.db import batches as db_batches
from podium.db import models, node_locks
from podium.tests.unit.conductor import utils


class BatchTestCase(utils.ConductorTestCase):

    def setUp(self) -> None:
        super().setUp()
        self.config(rpc_transport='local')
        self.config(batch_poll_interval=0.01, group='conductor')
        self.pool = self.make_pool(size=40, reserved=2, periodic_slots=1)
        self.manager = self.make_manager(self.pool)
        rpcapi.register_local_manager(self.manager)
        self.addCleanup(rpcapi.unregister_local_manager)
        self.addCleanup(self.pool.wait_idle, 10)

    def make_nodes(self, count: int, **values: Any) -> list[models.Node]:
        return [self.create_node(f'node-{i:02d}', power_state='power on',
                                 **values) for i in range(count)]

    def create_batch(self, nodes: list[models.Node], host: str | None = None,
                     action: str = 'power',
                     args: dict[str, Any] | None = None,
                     **policy: Any) -> models.Batch:
        args = batch_actions.validate(
            action, args if args is not None else {'target': 'power off'})
        return db_batches.create_batch(
            {'action': action, 'args': args,
             'policy': dict({'concurrency': 50, 'canary': 0,
                             'max_failure_percentage': 100}, **policy),
             'state': db_batches.RUNNING, 'run': 1,
             'conductor': host or self.HOST}, nodes)

    def run_batch(self, batch: models.Batch, *wanted: str
                  ) -> models.Batch:
        self.assertTrue(self.manager.batches.start(batch.uuid))
        return self.wait_batch(batch, *wanted)

    def wait_batch(self, batch: models.Batch, *wanted: str
                   ) -> models.Batch:
        def ended() -> models.Batch | None:
            found = db_batches.get_batch(batch.uuid)
            return found if found.state in wanted else None
        return utils.wait_for(ended, what=f'batch {" or ".join(wanted)}')

    def results(self, batch: models.Batch) -> dict[str, models.BatchNode]:
        return {row.node_name: row
                for row in db_batches.list_batch_nodes(batch.id)}


class _LockCounter:
    """Counts the node locks held at once, from the database calls that
    take and drop them, one node or many at a time."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.held: dict[int, str] = {}
        self.max_total = 0
        self.max_by_group: dict[str, int] = {}
        self._reserve = db_api.reserve_node
        self._release = db_api.release_node
        self._write = db_api.write_locked_node
        self._reserve_many = node_locks.reserve_nodes
        self._release_many = node_locks.release_nodes
        self._write_many = node_locks.write_locked_nodes

    def _taken(self, nodes: list[Any]) -> None:
        with self._lock:
            for node in nodes:
                self.held[node.id] = str(node.conductor_group)
            self.max_total = max(self.max_total, len(self.held))
            for group in {str(node.conductor_group) for node in nodes}:
                count = sum(1 for g in self.held.values() if g == group)
                self.max_by_group[group] = max(
                    self.max_by_group.get(group, 0), count)

    def _dropped(self, node_ids: Any) -> None:
        with self._lock:
            for node_id in node_ids:
                self.held.pop(node_id, None)

    def reserve(self, tag: str, ident: Any) -> models.Node:
        node = self._reserve(tag, ident)
        self._taken([node])
        return node

    def reserve_many(self, tag: str, uuids: Any) -> node_locks.Reserved:
        reserved = self._reserve_many(tag, uuids)
        self._taken(reserved.taken)
        return reserved

    def release(self, tag: str, node_id: int) -> bool:
        self._dropped([node_id])
        return self._release(tag, node_id)

    def release_many(self, tag: str, node_ids: Any) -> int:
        self._dropped(node_ids)
        return self._release_many(tag, node_ids)

    def write_locked(self, tag: str, node_id: int, values: dict[str, Any],
                     release: bool = False) -> None:
        """A write that may drop the lock in the same statement."""
        if release:
            self._dropped([node_id])
        self._write(tag, node_id, values, release=release)

    def write_locked_many(self, tag: str, writes: dict[int, Any],
                          release: bool = False) -> set[int]:
        if release:
            self._dropped(writes)
        return self._write_many(tag, writes, release=release)


class TestPolicy(BatchTestCase):

    def count_locks(self) -> _LockCounter:
        counter = _LockCounter()
        for module, name, method in (
                (db_api, 'reserve_node', counter.reserve),
                (db_api, 'release_node', counter.release),
                (db_api, 'write_locked_node', counter.write_locked),
                (node_locks, 'reserve_nodes', counter.reserve_many),
                (node_locks, 'release_nodes', counter.release_many),
                (node_locks, 'write_locked_nodes',
                 counter.write_locked_many)):
            patcher = mock.patch.object(module, name, method)
            patcher.start()
            self.addCleanup(patcher.stop)
        return counter

    def test_concurrency_bounds_the_locks_held(self) -> None:
        nodes = self.make_nodes(12, driver_info={'fake_delay': 0.15})
        counter = self.count_locks()
        batch = self.run_batch(self.create_batch(nodes, concurrency=3),
                               db_batches.SUCCEEDED)
        self.assertEqual(3, counter.max_total)
        self.assertEqual({}, counter.held)
        self.assertEqual(12, sum(
            row.state == db_batches.NODE_SUCCEEDED
            for row in self.results(batch).values()))
        for node in nodes:
            self.assertEqual(states.POWER_OFF,
                             db_api.get_node(node.id).power_state)

    def test_chunks_never_hold_more_locks_than_concurrency(self) -> None:
        nodes = self.make_nodes(30, driver_info={'fake_delay': 0.05})
        counter = self.count_locks()
        batch = self.run_batch(self.create_batch(nodes, concurrency=7),
                               db_batches.SUCCEEDED)
        self.assertEqual(7, counter.max_total)
        self.assertEqual({}, counter.held)
        self.assertEqual(30, sum(
            row.state == db_batches.NODE_SUCCEEDED
            for row in self.results(batch).values()))

    def test_power_starts_a_chunk_per_call_not_a_node(self) -> None:
        nodes = self.make_nodes(20)
        api = rpcapi.ConductorAPI
        with mock.patch.object(api, 'change_nodes_power_state',
                               autospec=True,
                               side_effect=api.change_nodes_power_state
                               ) as chunked, \
                mock.patch.object(api, 'change_node_power_state',
                                  autospec=True) as single:
            self.run_batch(self.create_batch(nodes, concurrency=20),
                           db_batches.SUCCEEDED)
        single.assert_not_called()
        self.assertEqual(1, chunked.call_count)
        self.assertEqual(sorted(node.uuid for node in nodes),
                         sorted(chunked.call_args.args[2]))
        for node in nodes:
            self.assertEqual(states.POWER_OFF,
                             db_api.get_node(node.id).power_state)

    def test_older_conductor_gets_one_call_per_node(self) -> None:
        nodes = self.make_nodes(3)
        api = rpcapi.ConductorAPI
        with mock.patch.object(
                api, 'change_nodes_power_state',
                side_effect=exceptions.RPCVersionUnsupported(
                    host=self.HOST, reason='no 1.9 here')), \
                mock.patch.object(api, 'change_node_power_state',
                                  autospec=True,
                                  side_effect=api.change_node_power_state
                                  ) as single:
            self.run_batch(self.create_batch(nodes), db_batches.SUCCEEDED)
        self.assertEqual(3, single.call_count)
        for node in nodes:
            self.assertEqual(states.POWER_OFF,
                             db_api.get_node(node.id).power_state)

    def test_maintenance_and_failing_nodes_in_one_chunk(self) -> None:
        nodes = self.make_nodes(4)
        db_api.update_node(nodes[1].id, {'maintenance': True})
        self.set_fake(nodes[2], fake_fail='dead BMC')
        batch = self.run_batch(self.create_batch(nodes), db_batches.FAILED)
        results = self.results(batch)
        self.assertEqual(
            [db_batches.NODE_SUCCEEDED, db_batches.NODE_SUCCEEDED,
             db_batches.NODE_FAILED, db_batches.NODE_SUCCEEDED],
            [results[node.name].state for node in nodes])
        self.assertIn('dead BMC', results['node-02'].error)
        self.assertIn('dead BMC', db_api.get_node(nodes[2].id).last_error)

    def test_concurrency_is_per_conductor_group(self) -> None:
        nodes = (self.make_nodes(4, driver_info={'fake_delay': 0.15})
                 + [self.create_node(f'b-{i}', power_state='power on',
                                     conductor_group='rack-b',
                                     driver_info={'fake_delay': 0.15})
                    for i in range(4)])
        db_api.register_conductor('rack-b-conductor', ['fake-hardware'],
                                  'rack-b')
        counter = self.count_locks()
        # Every node runs here (local transport), whatever its group.
        with mock.patch.object(rpcapi.ConductorAPI, 'get_topic_for',
                               return_value=self.HOST):
            self.run_batch(self.create_batch(nodes, concurrency=2),
                           db_batches.SUCCEEDED)
        self.assertLessEqual(counter.max_by_group[''], 2)
        self.assertLessEqual(counter.max_by_group['rack-b'], 2)
        self.assertLessEqual(counter.max_total, 4)
        self.assertGreater(counter.max_total, 2)

    def test_canary_runs_first_and_alone(self) -> None:
        nodes = self.make_nodes(6, driver_info={'fake_delay': 0.1})
        batch = self.run_batch(self.create_batch(nodes, concurrency=6,
                                                 canary=2),
                               db_batches.SUCCEEDED)
        rows = [self.results(batch)[node.name] for node in nodes]
        canary_end = max(row.finished_at for row in rows[:2])
        for row in rows[2:]:
            self.assertGreaterEqual(row.started_at, canary_end)

    def test_failed_canary_stops_the_batch(self) -> None:
        nodes = self.make_nodes(6)
        self.set_fake(nodes[1], fake_fail='BMC on fire')
        batch = self.run_batch(self.create_batch(nodes, canary=2),
                               db_batches.STOPPED)
        self.assertIn('canary failed', batch.last_error)
        self.assertIn('BMC on fire', batch.last_error)
        results = self.results(batch)
        self.assertEqual(db_batches.NODE_SUCCEEDED,
                         results['node-00'].state)
        self.assertEqual(db_batches.NODE_FAILED, results['node-01'].state)
        for node in nodes[2:]:
            self.assertEqual(db_batches.NODE_PENDING,
                             results[node.name].state)
            self.assertEqual(states.POWER_ON,
                             db_api.get_node(node.id).power_state)

    def test_failure_threshold_stops_the_batch(self) -> None:
        nodes = self.make_nodes(10)
        for node in nodes[:3]:
            self.set_fake(node, fake_fail='dead BMC')
        batch = self.run_batch(
            self.create_batch(nodes, concurrency=1,
                              max_failure_percentage=20),
            db_batches.STOPPED)
        counts = db_batches.count_nodes([batch.id])[batch.id]
        # The third failure passes 20 % of 10 nodes: nothing after it.
        self.assertEqual(3, counts[db_batches.NODE_FAILED])
        self.assertEqual(7, counts[db_batches.NODE_PENDING])
        self.assertIn('3 of 10 nodes failed', batch.last_error)

    def test_busy_node_is_tried_again(self) -> None:
        nodes = self.make_nodes(2)
        db_api.reserve_node('someone-else', nodes[0].id)
        batch = self.create_batch(nodes)
        self.manager.batches.start(batch.uuid)
        utils.wait_for(lambda: self.results(batch)['node-01'].state ==
                       db_batches.NODE_SUCCEEDED, what='node-01 done')
        self.assertEqual(db_batches.NODE_RUNNING,
                         self.results(batch)['node-00'].state)
        db_api.release_node('someone-else', nodes[0].id)
        self.wait_batch(batch, db_batches.SUCCEEDED)

    def test_provision_and_boot_device(self) -> None:
        nodes = self.make_nodes(3, provision_state=states.ENROLL)
        batch = self.run_batch(
            self.create_batch(nodes, action='provision',
                              args={'target': 'manage'}),
            db_batches.SUCCEEDED)
        for node in nodes:
            self.assertEqual(states.MANAGEABLE,
                             db_api.get_node(node.id).provision_state)
        self.assertEqual(3, len(self.results(batch)))
        batch = self.run_batch(
            self.create_batch(nodes, action='boot_device',
                              args={'boot_device': 'pxe'}),
            db_batches.SUCCEEDED)
        for node in nodes:
            self.assertEqual('pxe', db_api.get_node(
                node.id).driver_internal_info['fake_boot_device'])

    def test_provision_failure_is_the_nodes_error(self) -> None:
        nodes = self.make_nodes(2, provision_state=states.ENROLL)
        self.set_fake(nodes[0], fake_fail='bad credentials')
        batch = self.run_batch(
            self.create_batch(nodes, action='provision',
                              args={'target': 'manage'}),
            db_batches.FAILED)
        results = self.results(batch)
        self.assertEqual(db_batches.NODE_FAILED, results['node-00'].state)
        self.assertIn('bad credentials', results['node-00'].error)
        self.assertEqual(db_batches.NODE_SUCCEEDED,
                         results['node-01'].state)


class TestNobodyRunsIt(BatchTestCase):

    def make_dead(self, host: str) -> None:
        db_api.register_conductor(host, ['fake-hardware'])
        old = models.utcnow() - datetime.timedelta(hours=1)
        with mock.patch.object(models, 'utcnow', return_value=old):
            db_api.touch_conductor(host)

    def test_batch_of_a_dead_conductor_is_resumed(self) -> None:
        nodes = self.make_nodes(4)
        self.make_dead('dead-host')
        batch = self.create_batch(nodes, host='dead-host')
        # The dead conductor had started node-00's power action...
        db_api.reserve_node('dead-host', nodes[0].id)
        db_api.update_node(nodes[0].id,
                           {'target_power_state': states.POWER_OFF})
        first = db_batches.list_batch_nodes(batch.id)[0]
        db_batches.record_nodes([{'id': first.id, 'run': 1,
                                  'state': db_batches.NODE_RUNNING}])
        # ...which the survivors' lock cleanup reports interrupted.
        db_api.clear_node_reservations_for_conductor(
            'dead-host', interrupted_by='conductor dead-host died')

        self.assertEqual(1, self.manager.batches.check())
        batch = self.wait_batch(batch, db_batches.FAILED)
        self.assertEqual(self.HOST, batch.conductor)
        results = self.results(batch)
        self.assertEqual(db_batches.NODE_FAILED, results['node-00'].state)
        self.assertIn('dead-host died', results['node-00'].error)
        for node in nodes[1:]:
            self.assertEqual(db_batches.NODE_SUCCEEDED,
                             results[node.name].state)
        self.assertEqual(0, self.manager.batches.check())

    def test_batch_of_a_live_conductor_is_left_alone(self) -> None:
        nodes = self.make_nodes(1)
        db_api.register_conductor('alive-host', ['fake-hardware'])
        batch = self.create_batch(nodes, host='alive-host')
        self.assertEqual(0, self.manager.batches.check())
        self.assertEqual('alive-host',
                         db_batches.get_batch(batch.uuid).conductor)

    def test_own_batch_without_runner_is_started(self) -> None:
        # As after a restart: assigned here, no runner in this process.
        batch = self.create_batch(self.make_nodes(2))
        self.assertEqual(1, self.manager.batches.check())
        self.wait_batch(batch, db_batches.SUCCEEDED)

    def test_runner_that_fails_ends_the_batch_cleanly(self) -> None:
        nodes = self.make_nodes(3, driver_info={'fake_delay': 0.05})
        with mock.patch.object(batch_actions.Power, 'outcome',
                               side_effect=RuntimeError('boom')):
            batch = self.run_batch(self.create_batch(nodes, concurrency=1),
                                   db_batches.FAILED)
        self.assertIn('boom', batch.last_error)
        results = [row.state for row in self.results(batch).values()]
        self.assertEqual([db_batches.NODE_FAILED, db_batches.NODE_CANCELLED,
                          db_batches.NODE_CANCELLED], results)
        self.assertEqual(0, self.manager.batches.check())

    def test_runner_stops_when_another_conductor_took_it(self) -> None:
        nodes = self.make_nodes(3, driver_info={'fake_delay': 0.2})
        batch = self.create_batch(nodes, concurrency=1)
        self.manager.batches.start(batch.uuid)
        utils.wait_for(lambda: self.results(batch)['node-00'].state ==
                       db_batches.NODE_RUNNING, what='node-00 running')
        db_batches.update_batch(batch.id, {'conductor': 'other-host'})
        self.pool.wait_idle(10)
        self.assertEqual(db_batches.RUNNING,
                         db_batches.get_batch(batch.uuid).state)
        self.assertEqual(db_batches.NODE_PENDING,
                         self.results(batch)['node-02'].state)


def _define(class_name: str, **attributes: Any) -> type:
    """Define a batch action with ``validate``, ``dispatch`` and
    ``attributes`` (the definition itself may refuse it)."""

    def validate(cls: type, args: dict[str, Any]) -> dict[str, Any]:
        return args

    def dispatch(self: Any, rpcapi: Any, context: Any, node_uuid: str,
                 topic: str) -> None:
        return None

    return type(class_name, (batch_actions.BatchAction,),
                {'name': class_name.lower(),
                 'validate': classmethod(validate), 'dispatch': dispatch,
                 **attributes})


class TestActionInterface(utils.ConductorTestCase):
    """A batch action missing a piece fails when it is defined or made,
    not in the middle of a batch."""

    def test_action_without_dispatch_cannot_be_made(self) -> None:
        class NoDispatch(batch_actions.BatchAction):
            name = 'no_dispatch'

            @classmethod
            def validate(cls, args: dict[str, Any]) -> dict[str, Any]:
                return args

        self.assertRaises(TypeError, NoDispatch, {})

    def test_asynchronous_action_needs_an_outcome(self) -> None:
        self.assertRaisesRegex(TypeError, 'NoOutcome is asynchronous',
                               _define, 'NoOutcome', asynchronous=True)

    def test_bulk_action_needs_dispatch_many(self) -> None:
        self.assertRaisesRegex(TypeError, 'NoChunks is bulk',
                               _define, 'NoChunks', bulk=True)

    def test_synchronous_action_succeeds_when_dispatched(self) -> None:
        action = batch_actions.load('maintenance',
                                    {'enabled': True, 'reason': None})
        self.assertEqual((True, None), action.outcome(object()))
