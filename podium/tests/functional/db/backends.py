"""Run database unit tests on PostgreSQL and MariaDB.

:func:`on_backend` turns a unit test class (a :class:`base.DbTestCase`
running on SQLite) into one running the same test bodies on a server
database: each generated class gets a fresh database named
``podium_func_<hex>``, created when its first test starts and dropped
after its last; rows are deleted after every test. A server that is not
reachable skips the tests, or fails them in CI
(``PODIUM_TEST_REQUIRE_SERVICES=1``).
"""

import uuid
from typing import ClassVar

import sqlalchemy as sa

from podium.db import engine as db_engine
from podium.db import models
from podium.tests import base


class ServerDatabase:
    """A database server on loopback the tests may create databases on."""

    def __init__(self, title: str, port: int, admin_url: str,
                 url_format: str, create_suffix: str = '',
                 drop_suffix: str = '') -> None:
        self.title = title
        self.port = port
        self._admin_url = admin_url
        self._url_format = url_format
        self._create_suffix = create_suffix
        self._drop_suffix = drop_suffix

    def reachable(self) -> bool:
        return base.tcp_reachable('127.0.0.1', self.port)

    def url(self, database: str) -> str:
        return self._url_format.format(database=database)

    def _admin(self, statement: str) -> None:
        # CREATE/DROP DATABASE cannot run inside a transaction.
        engine = sa.create_engine(self._admin_url,
                                  isolation_level='AUTOCOMMIT')
        try:
            with engine.connect() as conn:
                conn.exec_driver_sql(statement)
        finally:
            engine.dispose()

    def create_database(self) -> str:
        name = f'podium_func_{uuid.uuid4().hex[:12]}'
        self._admin(f'CREATE DATABASE {name}{self._create_suffix}')
        return name

    def drop_database(self, name: str) -> None:
        self._admin(f'DROP DATABASE IF EXISTS {name}{self._drop_suffix}')


POSTGRESQL = ServerDatabase(
    'PostgreSQL', 5432,
    admin_url='postgresql+psycopg2://postgres@127.0.0.1:5432/postgres',
    url_format='postgresql+psycopg2://postgres@127.0.0.1:5432/{database}',
    # Connections a failed test left open must not keep the database.
    drop_suffix=' WITH (FORCE)')

MARIADB = ServerDatabase(
    'MariaDB', 3306,
    admin_url='mysql+pymysql://root@127.0.0.1:3306/',
    url_format='mysql+pymysql://root@127.0.0.1:3306/{database}'
               '?charset=utf8mb4',
    create_suffix=' CHARACTER SET utf8mb4')


class _ServerBackend(base.DbTestCase):
    """Put first among the bases of a DbTestCase subclass: its tests then
    run on ``server``. Not collected itself: no test module imports it
    by name."""

    server: ClassVar[ServerDatabase]
    database: ClassVar[str | None] = None

    def database_url(self) -> str:
        server = self.server
        self.require_service(server.reachable(),
                             f'{server.title} is not reachable on '
                             f'127.0.0.1:{server.port}')
        cls = type(self)
        if cls.database is None:
            cls.database = server.create_database()
        return server.url(cls.database)

    def setUp(self) -> None:
        super().setUp()
        self.addCleanup(_delete_rows)

    @classmethod
    def tearDownClass(cls) -> None:
        if cls.database is not None:
            db_engine.dispose()
            cls.server.drop_database(cls.database)
            cls.database = None
        super().tearDownClass()


def _delete_rows() -> None:
    """Empty every table (children first), keeping the schema."""
    with db_engine.get_engine().begin() as conn:
        for table in reversed(models.Base.metadata.sorted_tables):
            conn.execute(table.delete())


def on_backend(server: ServerDatabase, suite: type[base.DbTestCase],
               module: str) -> type[base.DbTestCase]:
    """``suite``'s tests, running on a fresh database of ``server``.

    :param module: the module the class is published in, for test ids.
    """
    name = server.title + suite.__name__
    return type(name, (_ServerBackend, suite),
                {'server': server, 'database': None,
                 '__module__': module, '__qualname__': name,
                 '__doc__': f'{suite.__name__} on {server.title}.'})
