"""Batch rows through ``podium.db.batches``: results in request order,
counts, conditional state changes and the purge.

Run on SQLite here and on PostgreSQL and MariaDB by the functional
database tests.
"""

import datetime

from podium.common import exceptions
from podium.db import api as db_api
from podium.db import batches as db_batches
from podium.db import models
from podium.tests import base


class BatchDbTest(base.DbTestCase):

    def setUp(self) -> None:
        super().setUp()
        self.nodes = [db_api.create_node({'driver': 'fake-hardware',
                                          'name': f'n{i}',
                                          'conductor_group': 'Rack-A'})
                      for i in range(3)]
        # Request order, not id order.
        self.batch = db_batches.create_batch(
            {'action': 'power', 'args': {'target': 'power off'},
             'policy': {}, 'state': db_batches.RUNNING, 'run': 1,
             'conductor': 'c1'}, self.nodes[::-1])

    def test_create_read_and_record(self) -> None:
        rows = db_batches.list_batch_nodes(self.batch.id)
        self.assertEqual(['n2', 'n1', 'n0'], [r.node_name for r in rows])
        self.assertEqual({'rack-a'}, {r.conductor_group for r in rows})
        self.assertEqual({db_batches.NODE_PENDING}, {r.state for r in rows})
        db_batches.record_nodes([
            {'id': rows[0].id, 'state': db_batches.NODE_FAILED,
             'error': 'password=hunter2 refused'},
            {'id': rows[1].id, 'state': db_batches.NODE_SUCCEEDED}])
        counts = db_batches.count_nodes([self.batch.id])[self.batch.id]
        self.assertEqual(1, counts[db_batches.NODE_FAILED])
        self.assertEqual(1, counts[db_batches.NODE_SUCCEEDED])
        self.assertEqual(1, counts[db_batches.NODE_PENDING])
        self.assertEqual(0, counts[db_batches.NODE_CANCELLED])
        failed = db_batches.list_batch_nodes(self.batch.id,
                                             [db_batches.NODE_FAILED])
        self.assertNotIn('hunter2', failed[0].error)
        self.assertEqual(('running', 'c1'),
                         db_batches.get_batch_status(self.batch.id))

    def test_list_and_page(self) -> None:
        other = db_batches.create_batch(
            {'action': 'maintenance', 'args': {}, 'policy': {},
             'state': db_batches.SUCCEEDED, 'run': 1}, self.nodes[:1])
        self.assertEqual([self.batch.uuid, other.uuid],
                         [b.uuid for b in db_batches.list_batches()])
        self.assertEqual([other.uuid], [b.uuid for b in
                                        db_batches.list_batches(
                                            marker=self.batch.uuid)])
        self.assertEqual([other.uuid], [b.uuid for b in
                                        db_batches.list_batches(
                                            state=db_batches.SUCCEEDED)])
        self.assertEqual([(self.batch.id, self.batch.uuid, 'c1')],
                         [tuple(r) for r in
                          db_batches.list_active_batches()])
        self.assertRaises(exceptions.MarkerNotFound,
                          db_batches.list_batches, marker='nope')
        self.assertRaises(exceptions.BatchNotFound,
                          db_batches.get_batch, 'nope')

    def test_conditional_changes(self) -> None:
        self.assertFalse(db_batches.update_batch(
            self.batch.id, {'conductor': 'c2'}, expected_conductor='c9'))
        self.assertTrue(db_batches.update_batch(
            self.batch.id, {'conductor': 'c2'},
            expected_states=db_batches.ACTIVE_STATES,
            expected_conductor='c1'))
        # Only the conductor that runs it records its end.
        self.assertFalse(db_batches.finish_batch(
            self.batch.id, 'c1', db_batches.STOPPED, 'x', {}))
        self.assertTrue(db_batches.finish_batch(
            self.batch.id, 'c2', db_batches.STOPPED, 'threshold', {}))
        self.assertRaises(exceptions.BatchStateConflict,
                          db_batches.transition, self.batch.uuid,
                          (db_batches.RUNNING,), {})
        batch = db_batches.transition(
            self.batch.uuid, (db_batches.STOPPED,),
            {'state': db_batches.CANCELLED},
            {db_batches.NODE_PENDING: db_batches.NODE_CANCELLED},
            next_run=True)
        self.assertEqual(2, batch.run)
        self.assertEqual({db_batches.NODE_CANCELLED}, {
            r.state for r in db_batches.list_batch_nodes(batch.id)})

    def test_purge_keeps_active_and_recent_batches(self) -> None:
        old = db_batches.create_batch(
            {'action': 'power', 'args': {}, 'policy': {},
             'state': db_batches.SUCCEEDED, 'run': 1}, self.nodes)
        past = models.utcnow() - datetime.timedelta(days=40)
        db_batches.update_batch(old.id, {})
        db_batches.update_batch(self.batch.id, {})
        with db_batches.session_scope(writer=True) as session:
            session.execute(
                models.Batch.__table__.update().values(updated_at=past))
        cutoff = models.utcnow() - datetime.timedelta(days=30)
        self.assertEqual(1, db_batches.purge_before(cutoff))
        self.assertRaises(exceptions.BatchNotFound, db_batches.get_batch,
                          old.uuid)
        self.assertEqual([], db_batches.list_batch_nodes(old.id))
        self.assertEqual(3, len(db_batches.list_batch_nodes(
            self.batch.id)))
