"""One node's row, on a worker thread or on the event loop's connection
(``podium.db.node_reads``)."""

import threading
from unittest import mock

import sqlalchemy as sa

from podium.common import exceptions
from podium.db import api as db_api
from podium.db import engine as db_engine
from podium.db import node_reads
from podium.tests import base

COLUMNS = ('uuid', 'name', 'power_state')


class NodeTestCase(base.DbTestCase):
    """One node, n1, powered on."""

    def setUp(self) -> None:
        super().setUp()
        self.node = db_api.create_node({'driver': 'fake-hardware',
                                        'name': 'n1',
                                        'power_state': 'power on'})


class GetNodeRowTest(NodeTestCase):

    def test_by_id_uuid_and_name_only_the_columns(self) -> None:
        for ident in (self.node.id, self.node.uuid, 'n1'):
            row = node_reads.get_node_row(ident, COLUMNS)
            self.assertEqual(COLUMNS, row._fields)
            self.assertEqual((self.node.uuid, 'n1', 'power on'), tuple(row))

    def test_unknown_node(self) -> None:
        self.assertRaises(exceptions.NodeNotFound,
                          node_reads.get_node_row, 'nope', COLUMNS)


class LoopReaderTest(NodeTestCase):

    def setUp(self) -> None:
        super().setUp()
        self.reader = node_reads.LoopReader()
        self.addCleanup(self.reader.release)

    def read(self) -> sa.Row:  # type: ignore[type-arg]
        return self.reader.get_node_row('n1', COLUMNS)

    def test_waits_until_a_worker_prepared_its_connection(self) -> None:
        self.assertRaises(node_reads.WouldWait, self.read)
        self.reader.prepare()
        self.assertEqual('power on', self.read().power_state)
        self.assertRaises(exceptions.NodeNotFound,
                          self.reader.get_node_row, 'nope', COLUMNS)

    def test_keeps_one_connection(self) -> None:
        pool = db_engine.get_engine().pool
        self.reader.prepare()
        held = pool.checkedout()  # type: ignore[attr-defined]
        self.assertEqual(1, held)
        for _ in range(3):
            self.read()
            self.reader.prepare()
        self.assertEqual(held, pool.checkedout())  # type: ignore[attr-defined]

    def test_sees_commits_not_a_writer_holding_the_lock(self) -> None:
        self.reader.prepare()
        self.read()
        db_api.update_node(self.node.uuid, {'power_state': 'power off'})
        self.assertEqual('power off', self.read().power_state)
        with db_engine.connection_scope(writer=True) as writer:
            writer.execute(sa.text(
                "UPDATE nodes SET power_state = 'error' WHERE name = 'n1'"))
            # The writer holds SQLite's write lock; with the busy timeout
            # off, a read that had to wait for it would fail.
            self.assertEqual('power off', self.read().power_state)
        self.assertEqual('error', self.read().power_state)

    def test_failed_read_drops_the_connection_out_of_the_pool(self) -> None:
        engine = db_engine.get_engine()
        self.reader.prepare()
        failure = sa.exc.OperationalError('SELECT', {}, Exception('locked'))
        with mock.patch.object(node_reads, '_read', side_effect=failure):
            self.assertRaises(node_reads.WouldWait, self.read)
        self.assertRaises(node_reads.WouldWait, self.read)
        self.assertEqual(0, engine.pool.checkedout())  # type: ignore[attr-defined]
        # Every connection the pool hands out has the configured busy
        # timeout: the loop's (timeout 0) was not put back in it.
        conns = [engine.connect()
                 for _ in range(engine.pool.checkedin() + 1)]  # type: ignore[attr-defined]
        try:
            for conn in conns:
                self.assertNotEqual(0, conn.exec_driver_sql(
                    'PRAGMA busy_timeout').scalar())
        finally:
            for conn in conns:
                conn.close()
        self.reader.prepare()
        self.assertEqual('power on', self.read().power_state)

    def test_a_replaced_engine_is_not_read(self) -> None:
        self.reader.prepare()
        self.read()
        db_engine.dispose()
        db_engine.get_engine()
        self.assertRaises(node_reads.WouldWait, self.read)
        self.reader.prepare()
        self.assertEqual('power on', self.read().power_state)

    def test_nothing_for_other_databases(self) -> None:
        with mock.patch.object(db_engine, 'is_sqlite_file',
                               return_value=False):
            self.reader.prepare()
        self.assertRaises(node_reads.WouldWait, self.read)

    def test_one_worker_prepares_others_go_on(self) -> None:
        engine = db_engine.get_engine()
        entered, go_on = threading.Event(), threading.Event()
        connect = engine.connect

        def slow_connect() -> sa.Connection:
            entered.set()
            self.assertTrue(go_on.wait(10))
            return connect()

        with mock.patch.object(engine, 'connect',
                               side_effect=slow_connect) as connected:
            first = threading.Thread(target=self.reader.prepare)
            first.start()
            self.assertTrue(entered.wait(10))
            # A second worker does not wait for the first one's pool.
            self.reader.prepare()
            self.assertRaises(node_reads.WouldWait, self.read)
            go_on.set()
            first.join(10)
        self.assertFalse(first.is_alive())
        self.assertEqual(1, connected.call_count)
        self.assertEqual('power on', self.read().power_state)

    def test_is_sqlite_file(self) -> None:
        self.assertTrue(db_engine.is_sqlite_file(db_engine.get_engine()))
        for url in ('sqlite://', 'sqlite:///:memory:'):
            self.assertFalse(db_engine.is_sqlite_file(sa.create_engine(url)))
