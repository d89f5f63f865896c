"""Port rows through ``podium.db.ports``: uniqueness, batches, locks.

Run on SQLite here and on PostgreSQL and MariaDB by the functional
database tests.
"""

from typing import Any

from podium.common import exceptions
from podium.db import api as db_api
from podium.db import models
from podium.db import ports as db_ports
from podium.tests import base
from podium.tests.unit.db import test_nodes


class PortTest(base.DbTestCase):

    def setUp(self) -> None:
        super().setUp()
        self.node = test_nodes.create_node(name='n1')
        self.other = test_nodes.create_node(name='n2')

    def port(self, address: str, **values: Any) -> dict[str, Any]:
        return {'address': address, 'node_id': self.node.id, **values}

    def test_create_and_read(self) -> None:
        port = db_ports.create_port(self.port('52:54:00:00:00:01',
                                              name='eth0'))
        self.assertEqual(self.node.uuid, port.node_uuid)
        self.assertEqual((True, False, {}, {}, {}),
                         (port.pxe_enabled, port.is_smartnic, port.extra,
                          port.internal_info, port.local_link_connection))
        self.assertEqual(port.uuid, db_ports.get_port('eth0').uuid)
        self.assertEqual(port.uuid, db_ports.get_port(port.uuid).uuid)
        self.assertRaises(exceptions.PortNotFound, db_ports.get_port, 'x')

    def test_batch_is_all_or_none(self) -> None:
        db_ports.create_port(self.port('52:54:00:00:00:01'))
        rows = [self.port('52:54:00:00:00:02'),
                self.port('52:54:00:00:00:01')]
        exc = self.assertRaises(exceptions.MACAlreadyExists,
                                db_ports.create_ports, rows)
        self.assertIn('52:54:00:00:00:01', str(exc))
        self.assertEqual(1, len(db_ports.list_ports()))
        # A duplicate within the batch is named too.
        exc = self.assertRaises(
            exceptions.MACAlreadyExists, db_ports.create_ports,
            [self.port('52:54:00:00:00:03'), self.port('52:54:00:00:00:03')])
        self.assertIn('52:54:00:00:00:03', str(exc))
        exc = self.assertRaises(
            exceptions.PortDuplicateName, db_ports.create_ports,
            [self.port('52:54:00:00:00:04', name='a'),
             self.port('52:54:00:00:00:05', name='a')])
        self.assertIn('a', str(exc))
        self.assertRaises(exceptions.NodeNotFound, db_ports.create_ports,
                          [{'address': '52:54:00:00:00:06',
                            'node_id': self.node.id + 100}])
        self.assertEqual(1, len(db_ports.list_ports()))
        made = db_ports.create_ports([self.port('52:54:00:00:00:07'),
                                      self.port('52:54:00:00:00:08')])
        self.assertEqual([self.node.uuid] * 2, [p.node_uuid for p in made])

    def test_list_filters_and_pages(self) -> None:
        made = db_ports.create_ports(
            [self.port(f'52:54:00:00:00:0{i}') for i in range(4)]
            + [{'address': '52:54:00:00:01:00', 'node_id': self.other.id}])
        self.assertEqual([p.uuid for p in made[:4]],
                         [p.uuid for p in db_ports.list_ports(
                             node_id=self.node.id)])
        self.assertEqual([made[4].uuid], [p.uuid for p in db_ports.list_ports(
            address='52:54:00:00:01:00')])
        page = db_ports.list_ports(limit=2, marker=made[1].uuid)
        self.assertEqual([p.uuid for p in made[2:4]], [p.uuid for p in page])
        page = db_ports.list_ports(sort_key='address', sort_dir='desc',
                                   limit=1)
        self.assertEqual(made[4].uuid, page[0].uuid)
        self.assertRaises(exceptions.MarkerNotFound, db_ports.list_ports,
                          marker='8f4a9ad6-4f7c-4a43-9a3c-9ac2a1b9d2f0')
        self.assertRaises(exceptions.InvalidParameterValue,
                          db_ports.list_ports, sort_key='extra')

    def test_update(self) -> None:
        port = db_ports.create_port(self.port('52:54:00:00:00:01'))
        db_ports.create_port(self.port('52:54:00:00:00:02', name='taken'))
        updated = db_ports.update_port(port.uuid, {
            'node_id': self.other.id, 'extra': {'a': 1}})
        self.assertEqual((self.other.uuid, {'a': 1}),
                         (updated.node_uuid, updated.extra))
        self.assertRaises(exceptions.MACAlreadyExists, db_ports.update_port,
                          port.uuid, {'address': '52:54:00:00:00:02'})
        self.assertRaises(exceptions.PortDuplicateName, db_ports.update_port,
                          port.uuid, {'name': 'taken'})
        self.assertRaises(exceptions.InvalidParameterValue,
                          db_ports.update_port, port.uuid, {'uuid': 'x'})

    def test_locks_and_checks(self) -> None:
        port = db_ports.create_port(self.port('52:54:00:00:00:01'))
        db_api.reserve_node('host-a', self.other.id)
        # Moving a port onto a node an action holds is refused.
        self.assertRaises(exceptions.NodeLocked, db_ports.update_port,
                          port.uuid, {'node_id': self.other.id})
        db_api.reserve_node('host-a', self.node.id)
        self.assertRaises(exceptions.NodeLocked, db_ports.update_port,
                          port.uuid, {'extra': {'a': 1}})
        self.assertRaises(exceptions.NodeLocked, db_ports.destroy_port,
                          port.uuid)
        db_api.release_node('host-a', self.node.id)

        def refuse(node: models.Node, checked: models.Port) -> None:
            self.assertEqual((self.node.id, port.uuid),
                             (node.id, checked.uuid))
            raise exceptions.InvalidState('refused')

        self.assertRaises(exceptions.InvalidState, db_ports.destroy_port,
                          port.uuid, check=refuse)
        self.assertRaises(exceptions.InvalidState, db_ports.update_port,
                          port.uuid, {'extra': {'a': 1}}, check=refuse)
        self.assertEqual({}, db_ports.get_port(port.uuid).extra)
        db_ports.destroy_port(port.uuid)
        self.assertRaises(exceptions.PortNotFound, db_ports.destroy_port,
                          port.uuid)

    def test_node_deletion_deletes_ports(self) -> None:
        db_ports.create_port(self.port('52:54:00:00:00:01'))
        kept = db_ports.create_port({'address': '52:54:00:00:00:02',
                                     'node_id': self.other.id})
        db_api.destroy_node(self.node.id)
        self.assertEqual([kept.uuid], [p.uuid for p in db_ports.list_ports()])
