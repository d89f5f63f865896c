"""Node history rows: recording, paging and the retention purge.

Run on SQLite here and on PostgreSQL and MariaDB by the functional
database tests.
"""

import datetime

import sqlalchemy as sa

from podium.common import exceptions, states
from podium.db import api as db_api
from podium.db import engine as db_engine
from podium.db import history, models
from podium.tests import base
from podium.tests.unit.db import test_nodes


class HistoryTest(base.DbTestCase):

    def setUp(self) -> None:
        super().setUp()
        self.node = test_nodes.create_node(name='n1')
        self.other = test_nodes.create_node(name='n2')

    def add(self, node: models.Node, count: int) -> None:
        history.add_node_history_bulk(
            [(node.id, f'event {i}', 'power', states.INFO)
             for i in range(count)], conductor='c1')

    def events(self, node: models.Node) -> list[str]:
        return [e.event for e in history.list_node_history(node.id)]

    def age(self, days: int) -> None:
        """Make every entry ``days`` old."""
        when = models.utcnow() - datetime.timedelta(days=days)
        with db_engine.session_scope(writer=True) as session:
            session.execute(sa.update(models.NodeHistory)
                            .values(created_at=when))

    def test_records_node_states(self) -> None:
        db_api.update_node_by_id(self.node.id, {
            'provision_state': states.INSPECTING,
            'target_provision_state': states.MANAGEABLE})
        history.add_node_history(self.node.id, 'inspecting', 'provision',
                                 states.INFO, 'c1', user='u', project='p',
                                 duration_seconds=3)
        [entry] = history.list_node_history(self.node.id)
        self.assertEqual(('inspecting', 'manageable', 'u', 'p', 3, 'c1'),
                         (entry.state, entry.target_provision_state,
                          entry.user, entry.project, entry.duration_seconds,
                          entry.conductor))
        self.assertEqual(entry.uuid, history.get_node_history(
            self.node.id, entry.uuid).uuid)
        self.assertRaises(exceptions.NodeHistoryNotFound,
                          history.get_node_history, self.other.id,
                          entry.uuid)

    def test_recording_can_be_off(self) -> None:
        self.config(node_history=False, group='conductor')
        self.add(self.node, 2)
        self.assertEqual([], self.events(self.node))

    def test_pages(self) -> None:
        self.add(self.node, 5)
        entries = history.list_node_history(self.node.id)
        page = history.list_node_history(self.node.id, limit=2,
                                         marker=entries[1].uuid,
                                         sort_key='created_at')
        self.assertEqual(['event 2', 'event 3'], [e.event for e in page])
        page = history.list_node_history(self.node.id, limit=2,
                                         sort_dir='desc')
        self.assertEqual(['event 4', 'event 3'], [e.event for e in page])

    def test_purge_keeps_newest_per_node(self) -> None:
        self.add(self.node, 10)
        self.add(self.other, 4)
        deleted = history.purge([self.node.id, self.other.id],
                                max_entries=5, minimum_days=0,
                                batch_count=1000)
        self.assertEqual(5, deleted)
        self.assertEqual([f'event {i}' for i in range(5, 10)],
                         self.events(self.node))
        self.assertEqual(4, len(self.events(self.other)))

    def test_purge_only_given_nodes(self) -> None:
        self.add(self.node, 6)
        self.add(self.other, 6)
        history.purge([self.other.id], max_entries=1, minimum_days=0,
                      batch_count=1000)
        self.assertEqual((6, 1), (len(self.events(self.node)),
                                  len(self.events(self.other))))

    def test_purge_spares_recent_entries(self) -> None:
        self.add(self.node, 6)
        self.assertEqual(0, history.purge([self.node.id], max_entries=2,
                                          minimum_days=1, batch_count=100))
        self.age(days=2)
        self.assertEqual(4, history.purge([self.node.id], max_entries=2,
                                          minimum_days=1, batch_count=100))

    def test_purge_stops_after_batch(self) -> None:
        self.add(self.node, 6)
        self.add(self.other, 6)
        # A node is purged whole; the batch stops before the next one.
        self.assertEqual(5, history.purge([self.node.id, self.other.id],
                                          max_entries=1, minimum_days=0,
                                          batch_count=3))
        self.assertEqual(5, history.purge([self.node.id, self.other.id],
                                          max_entries=1, minimum_days=0,
                                          batch_count=3))
        self.assertEqual(0, history.purge([self.node.id], max_entries=1,
                                          minimum_days=0, batch_count=0))

    def test_node_deletion_deletes_history(self) -> None:
        self.add(self.node, 2)
        db_api.destroy_node(self.node.id)
        self.assertEqual([], self.events(self.node))
