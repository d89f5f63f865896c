"""Power actions on a chunk of nodes in one conductor call
(``change_nodes_power_state``): the same checks and outcomes as the
single-node call, a result per node, and one database transaction per
step for the whole chunk."""

import time
from typing import Any
from unittest import mock

from sqlalchemy import exc as sa_exc

from podium.common import exceptions, metrics, states
from podium.conductor import bulk_power, task_manager
from podium.db import api as db_api
from podium.db import models, node_locks
from podium.tests.unit.conductor import utils


class BulkPowerTestCase(utils.ConductorTestCase):

    def setUp(self) -> None:
        super().setUp()
        task_manager.reset_holdings()
        self.pool = self.make_pool(size=20, reserved=2)
        self.manager = self.make_manager(self.pool)
        self.addCleanup(self.pool.wait_idle, 10)

    def make_nodes(self, count: int, **values: Any) -> list[models.Node]:
        return [self.create_node(f'node-{i:02d}', power_state='power on',
                                 **values) for i in range(count)]

    def start(self, nodes: list[models.Node],
              target: str = states.POWER_OFF, **kwargs: Any
              ) -> dict[str, Any]:
        return self.manager.change_nodes_power_state(
            self.context, [node.uuid for node in nodes], target, **kwargs)

    def wait_done(self, nodes: list[models.Node]) -> list[models.Node]:
        """The nodes once no action runs on any of them."""
        def done() -> list[models.Node] | None:
            rows = [db_api.get_node(node.id) for node in nodes]
            return rows if all(row.reservation is None and
                               row.target_power_state is None
                               for row in rows) else None
        return list(utils.wait_for(done, what='power actions done'))


class TestBulkPower(BulkPowerTestCase):

    def test_chunk_is_powered_with_one_transaction_per_step(self) -> None:
        nodes = self.make_nodes(5)
        with mock.patch.object(db_api, 'reserve_node') as single_reserve, \
                mock.patch.object(db_api, 'write_locked_node') as single, \
                mock.patch.object(node_locks, 'reserve_nodes',
                                  wraps=node_locks.reserve_nodes) as reserve:
            results = self.start(nodes)
            rows = self.wait_done(nodes)
        self.assertEqual({node.uuid: None for node in nodes}, results)
        reserve.assert_called_once()
        single_reserve.assert_not_called()
        single.assert_not_called()
        for row in rows:
            self.assertEqual(states.POWER_OFF, row.power_state)
            self.assertEqual(states.POWER_OFF,
                             row.driver_internal_info['fake_power_state'])
            self.assertIsNone(row.last_error)
        self.pool.wait_idle(10)
        self.assertEqual(set(), task_manager.held_node_ids(self.HOST))

    def test_locked_node_gets_its_result_and_is_left_alone(self) -> None:
        nodes = self.make_nodes(3)
        db_api.reserve_node('someone-else', nodes[1].id)
        results = self.start(nodes)
        self.assertIsNone(results[nodes[0].uuid])
        self.assertIsNone(results[nodes[2].uuid])
        name, message = results[nodes[1].uuid]
        self.assertEqual('NodeLocked', name)
        self.assertIn('someone-else', message)
        self.assertIsInstance(bulk_power.result_error(results[nodes[1].uuid]),
                              exceptions.NodeLocked)
        self.wait_done([nodes[0], nodes[2]])
        busy = db_api.get_node(nodes[1].id)
        self.assertEqual('someone-else', busy.reservation)
        self.assertEqual(states.POWER_ON, busy.power_state)
        self.assertIsNone(busy.target_power_state)

    def test_node_this_conductor_holds_is_locked_too(self) -> None:
        nodes = self.make_nodes(1)
        db_api.reserve_node(self.HOST, nodes[0].id)
        results = self.start(nodes)
        self.assertEqual('NodeLocked', results[nodes[0].uuid][0])
        self.assertEqual(self.HOST, db_api.get_node(nodes[0].id).reservation)

    def test_missing_node_is_not_found(self) -> None:
        nodes = self.make_nodes(1)
        missing = '5d4c2c4c-1f29-4a55-9d3e-000000000000'
        results = self.manager.change_nodes_power_state(
            self.context, [nodes[0].uuid, missing], states.POWER_OFF)
        self.assertEqual('NodeNotFound', results[missing][0])
        self.assertIsNone(results[nodes[0].uuid])
        self.wait_done(nodes)

    def test_maintenance_node_is_powered_as_by_the_single_call(self) -> None:
        # Power actions are allowed in maintenance (as in Ironic), on
        # both paths; maintenance itself is left as it is.
        nodes = self.make_nodes(2, maintenance=True,
                                maintenance_reason='repairs')
        self.manager.change_node_power_state(self.context, nodes[0].uuid,
                                             states.POWER_OFF)
        results = self.start(nodes[1:])
        self.assertIsNone(results[nodes[1].uuid])
        single, bulk = self.wait_done(nodes)
        for row in (single, bulk):
            self.assertEqual(states.POWER_OFF, row.power_state)
            self.assertTrue(row.maintenance)
            self.assertEqual('repairs', row.maintenance_reason)

    def test_driver_failure_of_one_node_is_its_last_error(self) -> None:
        nodes = self.make_nodes(4)
        self.set_fake(nodes[2], fake_fail='BMC on fire')
        with mock.patch.object(metrics, 'observe_bmc_request') as observe:
            results = self.start(nodes)
            rows = self.wait_done(nodes)
        # Started like the others: the failure is the action's outcome.
        self.assertIsNone(results[nodes[2].uuid])
        failed = rows[2]
        self.assertEqual(states.POWER_ON, failed.power_state)
        self.assertEqual('Failed to change power state to power off: '
                         'Driver error: BMC on fire', failed.last_error)
        for row in rows[:2] + rows[3:]:
            self.assertEqual(states.POWER_OFF, row.power_state)
            self.assertIsNone(row.last_error)
        # One BMC request counted per node, the failed one as failed.
        self.assertEqual([False, False, False, True], sorted(
            call.kwargs['failed'] for call in observe.call_args_list))

    def test_success_clears_an_earlier_error(self) -> None:
        nodes = self.make_nodes(1, last_error='old failure')
        self.start(nodes)
        self.assertIsNone(self.wait_done(nodes)[0].last_error)

    def test_node_failing_validation_is_released_untouched(self) -> None:
        nodes = self.make_nodes(2)
        self.set_fake(nodes[0], fake_delay='soon')
        results = self.start(nodes)
        name, message = results[nodes[0].uuid]
        self.assertEqual('InvalidParameterValue', name)
        self.assertIn('fake_delay', message)
        bad, good = self.wait_done(nodes)
        self.assertEqual(states.POWER_ON, bad.power_state)
        self.assertIsNone(bad.last_error)
        self.assertEqual(states.POWER_OFF, good.power_state)

    def test_invalid_target_locks_nothing(self) -> None:
        nodes = self.make_nodes(2)
        self.assertRaises(exceptions.InvalidParameterValue, self.start,
                          nodes, 'power sideways')
        self.assertRaises(exceptions.InvalidParameterValue, self.start,
                          nodes, timeout=0)
        for node in nodes:
            self.assertIsNone(db_api.get_node(node.id).reservation)

    def test_nodes_without_a_worker_are_refused_and_released(self) -> None:
        # Room for 3 actions: 4 workers less the periodic slot.
        self.pool = self.make_pool(size=4, reserved=1)
        self.manager = self.make_manager(self.pool)
        self.addCleanup(self.pool.wait_idle, 10)
        nodes = self.make_nodes(5, driver_info={'fake_delay': 0.3})
        results = self.start(nodes)
        refused = [node for node in nodes if results[node.uuid]]
        self.assertEqual(2, len(refused))
        for node in refused:
            self.assertEqual('NoFreeConductorWorker', results[node.uuid][0])
            row = db_api.get_node(node.id)
            self.assertIsNone(row.reservation)
            self.assertIsNone(row.target_power_state)
            self.assertEqual(states.POWER_ON, row.power_state)
        started = [node for node in nodes if not results[node.uuid]]
        for row in self.wait_done(started):
            self.assertEqual(states.POWER_OFF, row.power_state)

    def test_slow_bmc_does_not_hold_back_the_others(self) -> None:
        nodes = self.make_nodes(4)
        self.set_fake(nodes[0], fake_delay=2.0)
        start = time.monotonic()
        self.start(nodes)
        self.wait_done(nodes[1:])
        self.assertLess(time.monotonic() - start, 1.5)
        slow = db_api.get_node(nodes[0].id)
        self.assertEqual(self.HOST, slow.reservation)
        self.assertEqual(states.POWER_OFF, slow.target_power_state)
        self.assertEqual(states.POWER_OFF,
                         self.wait_done(nodes[:1])[0].power_state)

    def test_outcome_kept_while_the_database_is_away(self) -> None:
        nodes = self.make_nodes(2)
        outage = sa_exc.OperationalError('UPDATE', {},
                                         Exception('database is locked'))
        with mock.patch.object(node_locks, 'write_locked_nodes',
                               side_effect=self._outage_on_release(outage)), \
                mock.patch.object(db_api, 'write_locked_node',
                                  side_effect=outage):
            self.start(nodes)
            self.pool.wait_idle(10)
        # Kept with the locks, as the single-node path keeps them...
        for node in nodes:
            row = db_api.get_node(node.id)
            self.assertEqual(self.HOST, row.reservation)
            self.assertEqual(states.POWER_ON, row.power_state)
        # ...and recorded by the heartbeat once the database answers.
        self.assertEqual(2, task_manager.retry_failed_releases(self.HOST))
        for row in self.wait_done(nodes):
            self.assertEqual(states.POWER_OFF, row.power_state)

    def _outage_on_release(self, error: Exception) -> Any:
        real = node_locks.write_locked_nodes

        def write(tag: str, writes: Any, release: bool = False) -> Any:
            if release:
                raise error
            return real(tag, writes, release=release)
        return write
