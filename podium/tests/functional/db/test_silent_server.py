"""A database server that accepts connections and never answers.

A proxy in ``hang`` mode stands for a server whose host still accepts
TCP but whose database process is stuck, or a network that swallows
the answers. Opening a connection through it must fail within
``[database] connect_timeout`` plus ``socket_timeout``, as a database
outage (a 503 for the API), never hang the caller.
"""

import time

import sqlalchemy as sa

from podium.db import engine as db_engine
from podium.tests import base
from podium.tests.functional import fault_proxy
from podium.tests.functional.db import backends


class SilentServerTest(base.TestCase):

    def check(self, server: backends.ServerDatabase) -> None:
        self.require_service(server.reachable(),
                             f'{server.title} is not reachable on '
                             f'127.0.0.1:{server.port}')
        self.config(connect_timeout=2, socket_timeout=2, group='database')
        proxy = self.useFixture(fault_proxy.FaultProxy(
            ('127.0.0.1', server.port), mode='hang'))
        url = server.url('test').replace(f':{server.port}/',
                                         f':{proxy.port}/')
        engine = db_engine.create_engine(url)
        self.addCleanup(engine.dispose)
        started = time.monotonic()
        with self.assertRaises(sa.exc.DBAPIError) as caught:
            with engine.connect() as conn:
                conn.exec_driver_sql('SELECT 1')
        self.assertLess(time.monotonic() - started, 10)
        self.assertTrue(db_engine.is_outage(caught.exception),
                        caught.exception)
        # The same engine works once the server answers again.
        proxy.set_mode('pass')
        with engine.connect() as conn:
            self.assertEqual(1, conn.exec_driver_sql('SELECT 1').scalar())

    def test_postgresql(self) -> None:
        self.check(backends.POSTGRESQL)

    def test_mariadb(self) -> None:
        self.check(backends.MARIADB)
