"""Node locks: the ``reservation`` column taken by one conditional UPDATE."""

import threading

from oslo_utils import uuidutils

from podium.common import exceptions
from podium.db import api as db_api
from podium.db import models
from podium.tests import base, threads
from podium.tests.unit.db.test_nodes import create_node

#: Contenders in the race tests: more than the cores, fewer than the
#: database connection pool.
_RACERS = 20


class ReservationTest(base.DbTestCase):

    def test_reserve_and_release(self) -> None:
        node = create_node(name='n1')
        reserved = db_api.reserve_node('host-a', 'n1')
        self.assertEqual('host-a', reserved.reservation)
        self.assertEqual('host-a', db_api.get_node(node.id).reservation)
        self.assertTrue(db_api.release_node('host-a', node.id))
        self.assertIsNone(db_api.get_node(node.id).reservation)
        # Releasing twice is harmless and says so.
        self.assertFalse(db_api.release_node('host-a', node.id))

    def test_reserve_by_each_ident(self) -> None:
        node = create_node(name='n1')
        for ident in (node.id, node.uuid, 'n1'):
            db_api.reserve_node('host-a', ident)
            self.assertTrue(db_api.release_node('host-a', node.id))

    def test_reserve_held_node(self) -> None:
        node = create_node(name='n1')
        db_api.reserve_node('host-a', node.id)
        exc = self.assertRaises(exceptions.NodeLocked, db_api.reserve_node,
                                'host-b', node.id)
        self.assertIn('host-a', str(exc))
        # The same host does not hold a lock twice either.
        self.assertRaises(exceptions.NodeLocked, db_api.reserve_node,
                          'host-a', node.id)
        self.assertEqual('host-a', db_api.get_node(node.id).reservation)

    def test_reserve_missing_node(self) -> None:
        self.assertRaises(exceptions.NodeNotFound, db_api.reserve_node,
                          'host-a', uuidutils.generate_uuid())

    def test_release_by_other_host(self) -> None:
        node = create_node(name='n1')
        db_api.reserve_node('host-a', node.id)
        self.assertFalse(db_api.release_node('host-b', node.id))
        self.assertEqual('host-a', db_api.get_node(node.id).reservation)

    def test_clear_reservations_of_one_conductor(self) -> None:
        nodes = [create_node(name=f'n{n}') for n in range(4)]
        for node, host in zip(nodes, ('a', 'a', 'b', None), strict=True):
            if host:
                db_api.reserve_node(host, node.id)
        self.assertEqual(2, db_api.clear_node_reservations_for_conductor('a'))
        self.assertEqual([None, None, 'b', None],
                         [n.reservation for n in db_api.list_nodes()])
        self.assertEqual(0, db_api.clear_node_reservations_for_conductor('a'))

    def _race(self, node: models.Node) -> tuple[list[str], int]:
        """All racers reserve ``node`` at once: (winners, NodeLocked)."""
        start = threading.Barrier(_RACERS)

        def contend(host: str) -> str | None:
            start.wait(timeout=30)
            try:
                return db_api.reserve_node(host, node.id).reservation
            except exceptions.NodeLocked:
                return None

        with threads.executor(_RACERS) as executor:
            outcomes = list(executor.map(
                contend, [f'host-{n}' for n in range(_RACERS)]))
        winners = [o for o in outcomes if o is not None]
        return winners, outcomes.count(None)

    def test_reserve_race_has_one_winner(self) -> None:
        node = create_node(name='n1')
        winners, locked = self._race(node)
        self.assertEqual(1, len(winners), str(winners))
        self.assertEqual(_RACERS - 1, locked)
        self.assertEqual(winners[0], db_api.get_node(node.id).reservation)
        # And again after the winner lets go.
        db_api.release_node(winners[0], node.id)
        winners, _locked = self._race(node)
        self.assertEqual(1, len(winners), str(winners))
