"""The connection pool of an SQLite file, as of a server database."""

import os
import threading

from sqlalchemy import event, text
from sqlalchemy import exc as sa_exc

from podium.db import engine as db_engine
from podium.tests import base


class SqlitePoolTest(base.TestCase):

    def test_concurrent_requests_reuse_connections(self) -> None:
        # More threads at once than SQLAlchemy's default pool of 5: each
        # connection is opened once and kept, not opened and closed for
        # every request past the fifth.
        self.config(max_pool_size=12, group='database')
        engine = db_engine.create_engine(
            'sqlite:///' + os.path.join(self.state_dir, 'pool.sqlite'))
        self.addCleanup(engine.dispose)
        self.assertEqual(12, engine.pool.size())
        opened: list[int] = []

        @event.listens_for(engine, 'connect')
        def count(*_args: object) -> None:
            opened.append(1)

        barrier = threading.Barrier(10, timeout=30)

        def query() -> None:
            for _ in range(5):
                with engine.connect() as conn:
                    barrier.wait()
                    conn.execute(text('SELECT 1'))
        threads = [threading.Thread(target=query) for _ in range(10)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        self.assertEqual(10, len(opened))

    def test_no_overflow_past_the_pool(self) -> None:
        # SQLite takes one writer at a time: a connection past the pool
        # waits for a pooled one rather than adding a writer to SQLite's
        # busy handler, whatever max_overflow says.
        self.config(max_pool_size=2, max_overflow=50, pool_timeout=1,
                    group='database')
        engine = db_engine.create_engine(
            'sqlite:///' + os.path.join(self.state_dir, 'cap.sqlite'))
        self.addCleanup(engine.dispose)
        held = [engine.connect() for _ in range(2)]
        try:
            self.assertRaises(sa_exc.TimeoutError, engine.connect)
            held.pop().close()
            with engine.connect() as conn:
                self.assertEqual(1, conn.execute(text('SELECT 1')).scalar())
        finally:
            for conn in held:
                conn.close()
