"""Node locks taken, written and dropped many at a time."""

from podium.db import api as db_api
from podium.db import node_locks
from podium.tests import base
from podium.tests.unit.db.test_nodes import create_node


class NodeLocksTest(base.DbTestCase):

    def test_reserve_takes_the_free_nodes_only(self) -> None:
        free = create_node(name='free')
        other = create_node(name='other')
        mine = create_node(name='mine')
        db_api.reserve_node('host-b', other.id)
        db_api.reserve_node('host-a', mine.id)
        missing = '5d4c2c4c-1f29-4a55-9d3e-000000000000'
        reserved = node_locks.reserve_nodes(
            'host-a', [free.uuid, other.uuid, mine.uuid, missing])
        self.assertEqual([free.id], [node.id for node in reserved.taken])
        self.assertEqual('host-a', reserved.taken[0].reservation)
        # Held by this very tag is held all the same: not taken twice.
        self.assertEqual({other.uuid: 'host-b', mine.uuid: 'host-a'},
                         reserved.locked)
        self.assertEqual([missing], reserved.missing)
        self.assertEqual('host-a', db_api.get_node(free.id).reservation)
        self.assertEqual('host-b', db_api.get_node(other.id).reservation)

    def test_write_only_where_the_lock_is_held(self) -> None:
        nodes = [create_node(name=f'n{i}') for i in range(3)]
        node_locks.reserve_nodes('host-a', [node.uuid for node in nodes])
        # The lock of n2 was swept meanwhile and taken by another host.
        db_api.release_node('host-a', nodes[2].id)
        db_api.reserve_node('host-b', nodes[2].id)
        written = node_locks.write_locked_nodes('host-a', {
            nodes[0].id: {'power_state': 'power off', 'last_error': None},
            nodes[1].id: {'last_error': 'BMC on fire'},
            nodes[2].id: {'power_state': 'power off', 'last_error': None},
        }, release=True)
        self.assertEqual({nodes[0].id, nodes[1].id}, written)
        first, second, third = (db_api.get_node(node.id) for node in nodes)
        self.assertEqual(('power off', None), (first.power_state,
                                               first.reservation))
        self.assertEqual(('BMC on fire', None), (second.last_error,
                                                 second.reservation))
        self.assertIsNone(third.power_state)
        self.assertEqual('host-b', third.reservation)

    def test_write_without_release_keeps_the_locks(self) -> None:
        node = create_node(name='n1')
        node_locks.reserve_nodes('host-a', [node.uuid])
        self.assertEqual({node.id}, node_locks.write_locked_nodes(
            'host-a', {node.id: {'target_power_state': 'power off'}}))
        stored = db_api.get_node(node.id)
        self.assertEqual('power off', stored.target_power_state)
        self.assertEqual('host-a', stored.reservation)

    def test_release_drops_only_the_tags_locks(self) -> None:
        nodes = [create_node(name=f'n{i}') for i in range(2)]
        db_api.reserve_node('host-a', nodes[0].id)
        db_api.reserve_node('host-b', nodes[1].id)
        self.assertEqual(1, node_locks.release_nodes(
            'host-a', [node.id for node in nodes]))
        self.assertIsNone(db_api.get_node(nodes[0].id).reservation)
        self.assertEqual('host-b', db_api.get_node(nodes[1].id).reservation)
