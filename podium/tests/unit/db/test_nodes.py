"""Node rows: create, read, update and delete through ``podium.db.api``.

The classes here run on SQLite as unit tests; the functional tests run
the same bodies on PostgreSQL and MariaDB (podium/tests/functional/db).
"""

import datetime
from typing import Any

import sqlalchemy as sa
from oslo_utils import uuidutils

from podium.common import exceptions
from podium.db import api as db_api
from podium.db import engine, models
from podium.tests import base


def create_node(**values: Any) -> models.Node:
    """A fake-hardware node; ``values`` override the defaults."""
    values.setdefault('driver', 'fake-hardware')
    return db_api.create_node(values)


class NodeCreateGetTest(base.DbTestCase):

    def test_create_fills_defaults(self) -> None:
        node = create_node(name='n1')
        self.assertTrue(uuidutils.is_uuid_like(node.uuid))
        self.assertIsInstance(node.id, int)
        self.assertEqual('enroll', node.provision_state)
        self.assertFalse(node.maintenance)
        self.assertEqual('', node.conductor_group)
        for field in ('driver_info', 'driver_internal_info', 'properties',
                      'extra', 'instance_info'):
            self.assertEqual({}, getattr(node, field), field)
        self.assertIsNone(node.reservation)
        self.assertIsNone(node.updated_at)
        age = models.utcnow() - node.created_at
        self.assertLess(abs(age), datetime.timedelta(minutes=1))

    def test_get_by_id_uuid_and_name(self) -> None:
        node = create_node(name='n1', driver_info={'a': {'b': [1, 2]}})
        for ident in (node.id, node.uuid, 'n1'):
            got = db_api.get_node(ident)
            self.assertEqual(node.uuid, got.uuid, str(ident))
            self.assertEqual({'a': {'b': [1, 2]}}, got.driver_info)

    def test_get_runs_one_select_without_a_transaction(self) -> None:
        node = create_node(name='n1')
        statements: list[str] = []

        def record(_conn: Any, _cursor: Any, statement: str,
                   *_args: Any) -> None:
            statements.append(statement.split()[0].upper())

        bind = engine.get_engine()
        sa.event.listen(bind, 'before_cursor_execute', record)
        self.addCleanup(sa.event.remove, bind, 'before_cursor_execute',
                        record)
        for ident in (node.id, node.uuid, 'n1'):
            statements.clear()
            self.assertEqual(node.uuid, db_api.get_node(ident).uuid)
            # One SELECT reads one snapshot on its own: on SQLite no
            # BEGIN before it (the server databases' drivers begin
            # without a statement of their own).
            self.assertEqual(['SELECT'], statements, str(ident))

    def test_values_round_trip(self) -> None:
        created = models.utcnow().replace(microsecond=123456)
        node = create_node(name='n1', created_at=created,
                           properties={'cpus': 32, 'tags': ['x']},
                           maintenance=True, maintenance_reason='r',
                           power_state='power on', conductor_group='g1')
        got = db_api.get_node(node.uuid)
        # Time zone and microseconds survive every backend.
        self.assertEqual(created, got.created_at)
        self.assertEqual(datetime.UTC, got.created_at.tzinfo)
        self.assertEqual({'cpus': 32, 'tags': ['x']}, got.properties)
        self.assertTrue(got.maintenance)
        self.assertEqual(('r', 'power on', 'g1'),
                         (got.maintenance_reason, got.power_state,
                          got.conductor_group))

    def test_get_missing(self) -> None:
        create_node(name='n1')
        for ident in (12345, uuidutils.generate_uuid(), 'nobody'):
            self.assertRaises(exceptions.NodeNotFound, db_api.get_node,
                              ident)

    def test_duplicate_name(self) -> None:
        create_node(name='n1')
        exc = self.assertRaises(exceptions.DuplicateName, create_node,
                                name='n1')
        self.assertIn('n1', str(exc))
        self.assertEqual(1, db_api.count_nodes())

    def test_duplicate_uuid(self) -> None:
        node = create_node(name='n1')
        exc = self.assertRaises(exceptions.NodeAlreadyExists, create_node,
                                uuid=node.uuid, name='n2')
        self.assertIn(node.uuid, str(exc))
        self.assertEqual(1, db_api.count_nodes())

    def test_unnamed_nodes_do_not_conflict(self) -> None:
        create_node()
        create_node()
        self.assertEqual(2, db_api.count_nodes())

    def test_create_nodes_all_or_nothing(self) -> None:
        nodes = db_api.create_nodes([{'driver': 'fake-hardware',
                                      'name': f'n{n}'} for n in range(3)])
        self.assertEqual(['n0', 'n1', 'n2'], [n.name for n in nodes])
        self.assertEqual(3, len({n.uuid for n in nodes}))
        self.assertRaises(exceptions.Conflict, db_api.create_nodes,
                          [{'driver': 'fake-hardware', 'name': 'n9'},
                           {'driver': 'fake-hardware', 'name': 'n0'}])
        self.assertRaises(exceptions.NodeNotFound, db_api.get_node, 'n9')
        self.assertEqual(3, db_api.count_nodes())


class NodeUpdateTest(base.DbTestCase):

    def test_update_returns_stored_node(self) -> None:
        node = create_node(name='n1')
        updated = db_api.update_node('n1', {'power_state': 'power on',
                                            'extra': {'rack': 7}})
        self.assertEqual('power on', updated.power_state)
        got = db_api.get_node(node.id)
        self.assertEqual({'rack': 7}, got.extra)
        assert got.updated_at is not None
        self.assertGreaterEqual(got.updated_at, got.created_at)

    def test_update_missing(self) -> None:
        self.assertRaises(exceptions.NodeNotFound, db_api.update_node,
                          'nobody', {'power_state': 'power on'})

    def test_update_to_duplicate_name(self) -> None:
        create_node(name='n1')
        create_node(name='n2')
        self.assertRaises(exceptions.DuplicateName, db_api.update_node,
                          'n2', {'name': 'n1'})
        self.assertEqual('n2', db_api.get_node('n2').name)

    def test_uuid_and_id_are_fixed(self) -> None:
        node = create_node()
        for values in ({'uuid': uuidutils.generate_uuid()}, {'id': 99}):
            self.assertRaises(exceptions.InvalidParameterValue,
                              db_api.update_node, node.id, values)

    def test_expected_reservation(self) -> None:
        node = create_node(name='n1')
        # None: only while nobody holds the lock.
        db_api.update_node(node.id, {'power_state': 'power on'},
                           expected_reservation=None)
        db_api.reserve_node('host-a', node.id)
        exc = self.assertRaises(exceptions.NodeLocked, db_api.update_node,
                                node.id, {'power_state': 'power off'},
                                expected_reservation=None)
        self.assertIn('host-a', str(exc))
        self.assertRaises(exceptions.NodeLocked, db_api.update_node,
                          node.id, {'power_state': 'power off'},
                          expected_reservation='host-b')
        self.assertEqual('power on', db_api.get_node(node.id).power_state)
        # The holder itself may write.
        db_api.update_node(node.id, {'power_state': 'power off'},
                           expected_reservation='host-a')
        self.assertEqual('power off', db_api.get_node(node.id).power_state)

    def test_update_by_id(self) -> None:
        n1, n2 = (create_node(name=f'n{n}') for n in range(1, 3))
        db_api.update_node_by_id(n1.id, {'power_state': 'power on'})
        got = {n.name: n for n in db_api.list_nodes()}
        self.assertEqual(('power on', None),
                         tuple(got[n].power_state for n in ('n1', 'n2')))
        self.assertIsNotNone(got['n1'].updated_at)

    def test_update_nodes_if_is_compare_and_set(self) -> None:
        n1 = create_node(name='n1', power_state='power off')
        n2 = create_node(name='n2')
        n3 = create_node(name='n3', power_state='power on')
        written = db_api.update_nodes_if([
            (n1.id, {'power_state': 'power off'},
             {'power_state': 'power on'}),
            # Expected NULL matches an unset column.
            (n2.id, {'power_state': None}, {'power_state': 'power on'}),
            # Changed meanwhile: not written.
            (n3.id, {'power_state': 'power off'},
             {'power_state': 'error'}),
        ])
        self.assertEqual({n1.id, n2.id}, written)
        self.assertEqual(
            ['power on', 'power on', 'power on'],
            [n.power_state for n in db_api.list_nodes()])
        self.assertEqual(set(), db_api.update_nodes_if([]))


class NodeDestroyTest(base.DbTestCase):

    def test_destroy_removes_node_and_history(self) -> None:
        node = create_node(name='n1')
        keep = create_node(name='n2')
        for target in (node, keep):
            db_api.add_node_history(target.id, 'event', 'power',
                                    'ERROR', 'c1')
        db_api.destroy_node('n1')
        self.assertRaises(exceptions.NodeNotFound, db_api.get_node, 'n1')
        self.assertEqual([], db_api.list_node_history(node.id))
        self.assertEqual(1, len(db_api.list_node_history(keep.id)))

    def test_destroy_missing(self) -> None:
        self.assertRaises(exceptions.NodeNotFound, db_api.destroy_node,
                          uuidutils.generate_uuid())

    def test_destroy_locked(self) -> None:
        node = create_node(name='n1')
        db_api.reserve_node('host-a', node.id)
        self.assertRaises(exceptions.NodeLocked, db_api.destroy_node, 'n1')
        self.assertEqual(node.uuid, db_api.get_node('n1').uuid)
