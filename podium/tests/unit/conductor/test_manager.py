"""The conductor manager's node actions (the RPC endpoint)."""

import threading
from collections.abc import Callable
from typing import Any
from unittest import mock

import sqlalchemy as sa

from podium.common import exceptions, states
from podium.conductor import task_manager
from podium.db import api as db_api
from podium.db import engine as db_engine
from podium.db import models
from podium.db import ports as db_ports
from podium.drivers.modules import fake
from podium.tests.unit.conductor import test_backoff, utils


class ManagerTestCase(utils.ConductorTestCase):

    def setUp(self) -> None:
        super().setUp()
        self.pool = self.make_pool(size=6, reserved=1, periodic_slots=1)
        self.manager = self.make_manager(self.pool)
        self.node = self.create_node('node-1', power_state=states.POWER_OFF)

    def stored(self) -> models.Node:
        return db_api.get_node(self.node.id)

    def wait_node(self, predicate: Callable[[models.Node], bool],
                  what: str) -> models.Node:
        """The stored node, once ``predicate`` holds for it."""
        def check() -> models.Node | None:
            node = self.stored()
            return node if predicate(node) else None
        return utils.wait_for(check, what=what)

    def wait_unlocked(self) -> models.Node:
        return self.wait_node(lambda n: n.reservation is None,
                              'node unlocked')


class TestPower(ManagerTestCase):

    def test_power_on(self) -> None:
        self.manager.change_node_power_state(self.context, 'node-1',
                                             states.POWER_ON)
        node = self.wait_node(lambda n: n.power_state == states.POWER_ON
                              and n.reservation is None, 'power on')
        self.assertIsNone(node.target_power_state)
        self.assertIsNone(node.last_error)
        self.assertEqual(states.POWER_ON,
                         node.driver_internal_info['fake_power_state'])

    def test_reboot_and_soft_targets(self) -> None:
        for target, result in ((states.REBOOT, states.POWER_ON),
                               (states.SOFT_POWER_OFF, states.POWER_OFF),
                               (states.SOFT_REBOOT, states.POWER_ON)):
            self.manager.change_node_power_state(self.context,
                                                 self.node.uuid, target)
            node = self.wait_unlocked()
            self.assertEqual(result, node.power_state, target)

    def test_lock_and_target_visible_while_action_runs(self) -> None:
        self.set_fake(self.node, fake_delay=0.5)
        self.manager.change_node_power_state(self.context, 'node-1',
                                             states.POWER_ON)
        node = self.stored()
        self.assertEqual(states.POWER_ON, node.target_power_state)
        self.assertEqual(self.HOST, node.reservation)
        # A second action on the busy node is refused at once.
        self.assertRaises(exceptions.NodeLocked,
                          self.manager.change_node_power_state,
                          self.context, 'node-1', states.POWER_OFF)
        self.assertEqual(states.POWER_ON, self.wait_unlocked().power_state)

    def test_invalid_target(self) -> None:
        error = self.assertRaises(exceptions.InvalidParameterValue,
                                  self.manager.change_node_power_state,
                                  self.context, 'node-1', 'sideways')
        self.assertIn('sideways', str(error))
        self.assertRaises(exceptions.InvalidParameterValue,
                          self.manager.change_node_power_state,
                          self.context, 'node-1', states.POWER_ON, -1)
        self.assertIsNone(self.stored().reservation)

    def test_unsupported_soft_target(self) -> None:
        with mock.patch.object(fake.FakePower, 'get_supported_power_states',
                               return_value=[states.POWER_ON,
                                             states.POWER_OFF]):
            error = self.assertRaises(
                exceptions.InvalidParameterValue,
                self.manager.change_node_power_state, self.context,
                'node-1', states.SOFT_REBOOT)
        self.assertIn('not supported', str(error))
        self.assertIsNone(self.stored().target_power_state)

    def test_missing_node(self) -> None:
        self.assertRaises(exceptions.NodeNotFound,
                          self.manager.change_node_power_state,
                          self.context, 'nope', states.POWER_ON)

    def test_no_free_worker(self) -> None:
        gate = threading.Event()
        self.addCleanup(gate.set)
        # 6 workers: 1 periodic slot, 5 for actions.
        for _ in range(5):
            self.pool.spawn(gate.wait, 30)
        error = self.assertRaises(exceptions.NoFreeConductorWorker,
                                  self.manager.change_node_power_state,
                                  self.context, 'node-1', states.POWER_ON)
        self.assertEqual(503, error.code)
        node = self.stored()
        self.assertIsNone(node.reservation)
        self.assertIsNone(node.target_power_state)

    def test_bmc_failure_recorded(self) -> None:
        self.set_fake(self.node, fake_fail='no route to BMC')
        self.manager.change_node_power_state(self.context, 'node-1',
                                             states.POWER_ON)
        node = self.wait_node(lambda n: bool(n.last_error), 'last_error')
        self.assertIn('no route to BMC', node.last_error)
        node = self.wait_unlocked()
        self.assertIsNone(node.target_power_state)
        self.assertEqual(states.POWER_OFF, node.power_state)

    def test_allowed_in_maintenance(self) -> None:
        self.manager.set_maintenance(self.context, 'node-1', True, 'repair')
        self.manager.change_node_power_state(self.context, 'node-1',
                                             states.POWER_ON)
        self.assertEqual(states.POWER_ON, self.wait_unlocked().power_state)

    def test_bad_driver_info_refused_at_once(self) -> None:
        self.set_fake(self.node, fake_delay='slow')
        self.assertRaises(exceptions.InvalidParameterValue,
                          self.manager.change_node_power_state,
                          self.context, 'node-1', states.POWER_ON)
        self.assertIsNone(self.stored().reservation)


class TestOutcomeThroughOutage(ManagerTestCase):
    """The BMC acted while the database was unreachable: the result is
    recorded by the heartbeat once it answers, and only then is the node
    unlocked. Before, ``target_power_state`` stayed set for ever and
    power sync skipped the node."""

    def act_during_outage(self, target: str) -> None:
        self.manager.change_node_power_state(self.context, 'node-1', target)
        lost = test_backoff.outage()
        with mock.patch.object(db_api, 'write_locked_node',
                               side_effect=lost), \
                mock.patch.object(db_api, 'release_node', side_effect=lost):
            utils.wait_for(
                lambda: not task_manager.held_node_ids(self.HOST),
                what='the action to end')
            self.assertEqual(0, task_manager.retry_failed_releases(
                self.HOST))
        node = self.stored()
        self.assertEqual(self.HOST, node.reservation)
        self.assertEqual(target, node.target_power_state)

    def test_result_recorded_when_the_database_answers(self) -> None:
        self.set_fake(self.node, fake_delay=0.3)
        self.act_during_outage(states.POWER_ON)
        self.assertEqual(1, task_manager.retry_failed_releases(self.HOST))
        node = self.stored()
        self.assertIsNone(node.reservation)
        self.assertIsNone(node.target_power_state)
        self.assertEqual(states.POWER_ON, node.power_state)
        self.assertEqual(0, task_manager.retry_failed_releases(self.HOST))

    def test_failure_recorded_when_the_database_answers(self) -> None:
        self.set_fake(self.node, fake_delay=0.3, fake_fail='BMC on fire')
        self.act_during_outage(states.POWER_ON)
        self.assertEqual(1, task_manager.retry_failed_releases(self.HOST))
        node = self.stored()
        self.assertIsNone(node.reservation)
        self.assertIsNone(node.target_power_state)
        self.assertEqual(states.POWER_OFF, node.power_state)
        self.assertIn('BMC on fire', node.last_error)

    def test_other_errors_are_not_kept(self) -> None:
        task = task_manager.acquire(self.context, self.node.id,
                                    host=self.HOST)
        with task:
            self.assertRaises(
                ValueError, task.write_outcome,
                mock.Mock(side_effect=ValueError('a bug')))
        self.assertIsNone(self.stored().reservation)


class TestBootDevice(ManagerTestCase):

    def test_set_and_get(self) -> None:
        self.manager.set_boot_device(self.context, 'node-1', 'pxe',
                                     persistent=True)
        self.assertEqual({'boot_device': 'pxe', 'persistent': True},
                         self.manager.get_boot_device(self.context,
                                                      'node-1'))
        self.assertIsNone(self.stored().reservation)

    def test_unsupported_device(self) -> None:
        error = self.assertRaises(exceptions.InvalidParameterValue,
                                  self.manager.set_boot_device,
                                  self.context, 'node-1', 'floppy')
        self.assertIn('floppy', str(error))
        self.assertIsNone(self.stored().last_error)

    def test_supported_devices(self) -> None:
        self.assertIn('pxe', self.manager.get_supported_boot_devices(
            self.context, 'node-1'))

    def test_failure_recorded_and_raised(self) -> None:
        self.set_fake(self.node, fake_fail='BMC busy')
        self.assertRaises(exceptions.DriverError,
                          self.manager.set_boot_device, self.context,
                          'node-1', 'disk')
        self.assertIn('BMC busy', self.stored().last_error)
        self.assertIsNone(self.stored().reservation)
        self.set_fake(self.node, fake_fail='still busy')
        self.assertRaises(exceptions.DriverError,
                          self.manager.get_boot_device, self.context,
                          'node-1')
        self.assertIn('still busy', self.stored().last_error)

    def test_locked_node(self) -> None:
        db_api.reserve_node('other', self.node.id)
        self.assertRaises(exceptions.NodeLocked,
                          self.manager.set_boot_device, self.context,
                          'node-1', 'pxe')
        # Reading needs no exclusive lock.
        self.manager.get_boot_device(self.context, 'node-1')


class TestMaintenance(ManagerTestCase):

    def test_on_and_off(self) -> None:
        self.manager.set_maintenance(self.context, 'node-1', True, 'disk')
        node = self.stored()
        self.assertTrue(node.maintenance)
        self.assertEqual('disk', node.maintenance_reason)
        self.manager.set_maintenance(self.context, 'node-1', False)
        node = self.stored()
        self.assertFalse(node.maintenance)
        self.assertIsNone(node.maintenance_reason)
        self.assertIsNone(node.reservation)
        self.assertEqual(['Maintenance set: disk', 'Maintenance unset.'],
                         [h.event for h in
                          db_api.list_node_history(self.node.id)])

    def test_unset_clears_fault_and_sync_failures(self) -> None:
        db_api.update_node(self.node.id, {
            'maintenance': True, 'fault': states.POWER_FAILURE,
            'maintenance_reason': 'power sync gave up'})
        for _ in range(3):
            self.manager.power_sync.count_failure(self.node.id)
        self.manager.set_maintenance(self.context, 'node-1', False)
        self.assertIsNone(self.stored().fault)
        self.assertEqual(0, self.manager.power_sync.failure_count(
            self.node.id))


class TestValidateAndInspect(ManagerTestCase):

    def test_validate(self) -> None:
        result = self.manager.validate_driver_interfaces(self.context,
                                                         'node-1')
        self.assertEqual({'result': True, 'reason': None}, result['power'])
        self.set_fake(self.node, fake_delay=-1, password='s3cret')
        result = self.manager.validate_driver_interfaces(self.context,
                                                         'node-1')
        self.assertFalse(result['power']['result'])
        self.assertIn('fake_delay', result['power']['reason'])
        self.assertNotIn('s3cret', str(result))
        self.assertEqual({'power', 'management', 'inspect', 'bios', 'boot',
                          'deploy'}, set(result))

    def test_inspect_merges_properties(self) -> None:
        db_api.update_node(self.node.id, {'properties': {'rack': 'r1',
                                                         'cpus': 1},
                                          'provision_state': 'manageable'})
        self.manager.do_provisioning_action(self.context, 'node-1',
                                            'inspect')
        node = self.wait_node(lambda n: n.properties.get('cpus') == 4
                              and n.reservation is None, 'inspection')
        self.assertEqual('r1', node.properties['rack'])
        self.assertEqual(16384, node.properties['memory_mb'])

    def inspect(self) -> models.Node:
        self.manager.do_provisioning_action(self.context, 'node-1',
                                            'inspect')
        return self.wait_node(lambda n: n.reservation is None
                              and n.provision_state == 'manageable',
                              'inspection')

    def test_inspect_creates_ports_once(self) -> None:
        other = self.create_node('node-2')
        db_api.update_node(self.node.id, {
            'provision_state': 'manageable', 'driver_info': {
                'fake_macs': '52:54:00:AA:00:01,52:54:00:aa:00:02,'
                             '52:54:00:aa:00:03,52:54:00:aa:00:04'}})
        # One MAC has a port of this node already (an operator's, with
        # its own settings), one is another node's.
        mine = db_ports.create_port({'node_id': self.node.id,
                                     'address': '52:54:00:aa:00:02',
                                     'pxe_enabled': False})
        theirs = db_ports.create_port({'node_id': other.id,
                                       'address': '52:54:00:aa:00:04'})
        node = self.inspect()
        self.assertNotIn('macs', node.properties)
        self.assertIsNone(node.last_error)
        ports = {port.address: port for port in db_ports.list_ports()}
        self.assertEqual({'52:54:00:aa:00:01': (self.node.id, True),
                          '52:54:00:aa:00:02': (self.node.id, False),
                          '52:54:00:aa:00:03': (self.node.id, True),
                          '52:54:00:aa:00:04': (other.id, True)},
                         {address: (port.node_id, port.pxe_enabled)
                          for address, port in ports.items()})
        self.assertEqual((mine.uuid, theirs.uuid),
                         (ports['52:54:00:aa:00:02'].uuid,
                          ports['52:54:00:aa:00:04'].uuid))
        # Inspecting again finds the same NICs: no new port.
        self.inspect()
        self.assertEqual(4, len(db_ports.list_ports()))

    def test_inspect_failure_recorded(self) -> None:
        db_api.update_node(self.node.id, {'driver_info': {
            'fake_fail': 'inventory unreadable'},
            'provision_state': 'manageable'})
        self.manager.do_provisioning_action(self.context, 'node-1',
                                            'inspect')
        node = self.wait_node(lambda n: n.reservation is None
                              and bool(n.last_error), 'last_error')
        self.assertEqual('inspect failed', node.provision_state)
        self.assertIn('Failed to inspect hardware', node.last_error)
        self.assertIn('inventory unreadable', node.last_error)



class TestHistoryRetention(ManagerTestCase):

    def test_periodic_keeps_newest_entries_of_owned_nodes(self) -> None:
        self.config(node_history_max_entries=2, group='conductor')
        stranger = db_api.create_node({'driver': 'fake-hardware',
                                       'name': 'elsewhere',
                                       'conductor_group': 'other-group'})
        for node in (self.node, stranger):
            db_api.add_node_history_bulk(
                [(node.id, f'event {i}', 'power', states.INFO)
                 for i in range(5)], conductor=None)
        self.manager._manage_node_history(self.context)
        self.assertEqual(['event 3', 'event 4'],
                         [e.event for e in db_api.list_node_history(
                             self.node.id)])
        # A node no conductor of this one's group manages is not touched.
        self.assertEqual(5, len(db_api.list_node_history(stranger.id)))


class TestPowerActionStatements(ManagerTestCase):
    """What a power action costs the database: the lock, the target, the
    BMC's own record (fake hardware keeps its state in the node) and one
    statement for the result and the release together."""

    def test_statements_of_one_power_action(self) -> None:
        statements: list[str] = []

        def record(_conn: Any, _cursor: Any, statement: str,
                   *_args: Any) -> None:
            verb = statement.split(None, 1)[0].upper()
            if verb != 'BEGIN':  # SQLite's writer transactions
                statements.append(verb)

        engine = db_engine.get_engine()
        sa.event.listen(engine, 'before_cursor_execute', record)
        try:
            self.manager.change_node_power_state(self.context, 'node-1',
                                                 states.POWER_ON)
            utils.wait_for(
                lambda: not task_manager.held_node_ids(self.HOST),
                what='the action to end')
        finally:
            sa.event.remove(engine, 'before_cursor_execute', record)
        # reserve (UPDATE, SELECT), target (UPDATE), the fake BMC's state
        # (UPDATE), result and release (UPDATE); no SELECT ... FOR UPDATE.
        self.assertEqual(['UPDATE', 'SELECT', 'UPDATE', 'UPDATE', 'UPDATE'],
                         statements)
        node = self.stored()
        self.assertEqual(states.POWER_ON, node.power_state)
        self.assertIsNone(node.reservation)
