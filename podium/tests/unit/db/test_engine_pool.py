"""The connection pool of an SQLite file, as of a server database."""

import os
import threading

from sqlalchemy import event, text

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
