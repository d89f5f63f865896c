"""The database engine and sessions.

One engine per process, built lazily from ``[database] connection``.
SQLite runs in WAL mode with a busy timeout so that the API's readers
and the conductor's writers do not block each other.
"""

import contextlib
import json
import os
import threading
import time
from collections.abc import Iterator
from typing import Any

import orjson
import sqlalchemy as sa
from oslo_log import log
from sqlalchemy import event, orm

from podium.common import exceptions, private_files
from podium.conf import CONF

LOG = log.getLogger(__name__)

_lock = threading.Lock()
_engine: sa.Engine | None = None
_sessionmaker: orm.sessionmaker[orm.Session] | None = None


def connection_url() -> str:
    """The configured database URL, or the embedded SQLite default."""
    if CONF.database.connection:
        return str(CONF.database.connection)
    state_path = private_files.private_dir(
        os.path.expanduser(CONF.state_path))
    return 'sqlite:///' + os.path.join(state_path, 'podium.sqlite')


#: The DB-API module of a dialect, the package providing it and the
#: Podium extra that installs it.
_DRIVER_PACKAGES = {
    'psycopg2': ('psycopg2-binary', 'postgresql'),
    'pymysql': ('PyMySQL', 'mysql'),
}


def _driver_missing(url: sa.URL, exc: ImportError) -> exceptions.ConfigInvalid:
    module = (exc.name or str(exc)).split('.')[0]
    package, extra = _DRIVER_PACKAGES.get(module, (None, None))
    shown = url.render_as_string(hide_password=True)
    if extra:
        hint = f"pip install 'podium[{extra}]' (or {package})"
    elif url.get_backend_name() == 'mysql':
        hint = ("use mysql+pymysql:// and pip install 'podium[mysql]'")
    else:
        hint = f'install the Python package that provides {module}'
    return exceptions.ConfigInvalid(
        reason=f'[database] connection {shown} needs the database driver '
               f'module {module}, which is not installed: {hint}')


def _private_sqlite_file(url: sa.URL) -> None:
    # SQLite gives the -wal and -shm files the database file's mode.
    database = url.database
    if database and database != ':memory:' and \
            not database.startswith('file:'):
        private_files.private_dir(os.path.dirname(os.path.abspath(database)))
        private_files.private_file(database)


def _configure_sqlite(engine: sa.Engine) -> None:
    busy_ms = CONF.database.sqlite_busy_timeout * 1000

    @event.listens_for(engine, 'connect')
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Take transaction control from pysqlite so _on_begin decides
        # between a deferred and an immediate BEGIN.
        dbapi_conn.isolation_level = None
        cursor = dbapi_conn.cursor()
        cursor.execute('PRAGMA journal_mode=WAL')
        cursor.execute('PRAGMA synchronous=NORMAL')
        cursor.execute(f'PRAGMA busy_timeout={int(busy_ms)}')
        cursor.execute('PRAGMA foreign_keys=ON')
        cursor.close()

    @event.listens_for(engine, 'begin')
    def _on_begin(conn: sa.Connection) -> None:
        # A deferred transaction that reads and then writes fails at once
        # with SQLITE_BUSY when another writer committed in between (the
        # busy timeout does not apply); writers therefore take the write
        # lock up front and wait for it under the busy timeout.
        # A session of one SELECT needs no transaction: the statement
        # reads one snapshot on its own, without two more round trips
        # into SQLite (BEGIN, and COMMIT, which is then a no-op).
        options = conn.get_execution_options()
        if options.get('podium_writer'):
            conn.exec_driver_sql('BEGIN IMMEDIATE')
        elif not options.get('podium_one_read'):
            conn.exec_driver_sql('BEGIN')


def _json_loads(text: str) -> Any:
    """A JSON column's value: orjson, several times faster than the
    standard library on the list path's five JSON columns per node; the
    standard library for what orjson refuses (NaN, integers past 64
    bits), which ``json.dumps`` may have written."""
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text)


def _server_connect_args(url: sa.URL) -> dict[str, Any]:
    """Timeouts of a server database's connections: opening one takes
    at most ``connect_timeout``; once open, a server gone silent is given
    up after about ``socket_timeout`` rather than waited for forever."""
    # psycopg2 and PyMySQL both take connect_timeout.
    args: dict[str, Any] = {'connect_timeout': CONF.database.connect_timeout}
    silent = CONF.database.socket_timeout
    if url.get_backend_name() == 'mysql':
        args.update(read_timeout=silent, write_timeout=silent)
    elif url.get_backend_name() == 'postgresql':
        # libpq: probe an idle connection after a third of the timeout,
        # then three probes; unacknowledged data fails at the timeout.
        args.update(keepalives=1, keepalives_idle=max(1, silent // 3),
                    keepalives_interval=max(1, silent // 9),
                    keepalives_count=3, tcp_user_timeout=silent * 1000)
    return args


def _in_memory(url: sa.URL) -> bool:
    """Whether an SQLite ``url`` names no file: an in-memory database."""
    return url.database in (None, '', ':memory:')


def create_engine(url: str | None = None) -> sa.Engine:
    """Build an engine for ``url`` (default: the configured one).

    :raises ConfigInvalid: when the URL is malformed, names an unknown
        database, or its driver is not installed (naming the package).
    """
    url = url or connection_url()
    try:
        parsed = sa.make_url(url)
    except sa.exc.ArgumentError as exc:
        raise exceptions.ConfigInvalid(
            reason=f'[database] connection is not a database URL: '
                   f'{exc}') from None
    kwargs: dict[str, Any] = {'future': True,
                              'json_deserializer': _json_loads}
    sqlite = parsed.get_backend_name() == 'sqlite'
    memory = sqlite and _in_memory(parsed)
    if not memory:
        # SQLAlchemy's default pool keeps 5 connections: under more
        # concurrent requests than that (the API's thread pool, the
        # conductor's workers) every request past the fifth opened a
        # connection and closed it, and SQLite's connect hook runs four
        # PRAGMAs each time. The kept connections are bounded by the
        # pool (the soak test checks their descriptors against it).
        # SQLite takes one writer at a time: connections past the pool
        # only add writers polling in its busy handler (a batch of 1,000
        # power actions cost 1.7 ms of CPU per node with 50 more, 1.1
        # without), so an SQLite file gets no overflow.
        kwargs.update(pool_size=CONF.database.max_pool_size,
                      max_overflow=(0 if sqlite
                                    else CONF.database.max_overflow),
                      pool_timeout=CONF.database.pool_timeout)
    if sqlite:
        kwargs['connect_args'] = {'check_same_thread': False,
                                  'timeout': CONF.database.sqlite_busy_timeout}
    else:
        kwargs['connect_args'] = _server_connect_args(parsed)
        kwargs.update(pool_pre_ping=True, pool_recycle=3600)
    try:
        engine = sa.create_engine(parsed, **kwargs)
    except ImportError as exc:
        raise _driver_missing(parsed, exc) from None
    except sa.exc.NoSuchModuleError:
        raise exceptions.ConfigInvalid(
            reason=f'[database] connection '
                   f'{parsed.render_as_string(hide_password=True)}: '
                   f'unknown database type {parsed.drivername!r}; use '
                   f'sqlite, postgresql+psycopg2 or mysql+pymysql') from None
    if engine.dialect.name == 'sqlite':
        _private_sqlite_file(parsed)
        _configure_sqlite(engine)
    return engine


def check_connection(engine: sa.Engine) -> None:
    """Reach the database, retrying a bounded number of times.

    :raises DatabaseUnavailable: with the URL (password hidden) and the
        driver's reason, when every attempt failed.
    """
    attempts = CONF.database.connect_retries + 1
    for attempt in range(1, attempts + 1):
        try:
            with engine.connect() as conn:
                conn.exec_driver_sql('SELECT 1')
            return
        except sa.exc.SQLAlchemyError as exc:
            reason = str(getattr(exc, 'orig', None) or exc).strip()
            if attempt == attempts:
                raise exceptions.DatabaseUnavailable(
                    url=engine.url.render_as_string(hide_password=True),
                    reason=reason.splitlines()[0] if reason else
                    type(exc).__name__) from None
            LOG.warning('Database not reachable (attempt %d of %d): %s',
                        attempt, attempts, reason)
            time.sleep(CONF.database.connect_retry_interval)


def is_outage(error: BaseException) -> bool:
    """Whether ``error`` is a lost or refused database connection (a
    temporary failure worth a retry), not a bug in a query."""
    return isinstance(error, sa.exc.DBAPIError) and (
        isinstance(error, (sa.exc.OperationalError, sa.exc.InterfaceError))
        or error.connection_invalidated)


def error_reason(error: BaseException) -> str:
    """The first line of what ``error`` says: the database driver's own
    message for a database error, without SQLAlchemy's background link."""
    text = str(getattr(error, 'orig', None) or error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def current_engine() -> sa.Engine | None:
    """The process-wide engine if it was created, without creating it."""
    return _engine


def is_sqlite_file(engine: sa.Engine) -> bool:
    """Whether ``engine`` is SQLite on a file (not in memory, nor a
    ``file:`` URI opened in memory)."""
    return engine.dialect.name == 'sqlite' and \
        not _in_memory(engine.url) and 'mode=memory' not in str(engine.url)


def get_engine() -> sa.Engine:
    """The process-wide engine, created on first use."""
    global _engine, _sessionmaker
    if _engine is None:
        with _lock:
            if _engine is None:
                engine = create_engine()
                _sessionmaker = orm.sessionmaker(bind=engine,
                                                 expire_on_commit=False)
                _engine = engine
    return _engine


def get_sessionmaker() -> orm.sessionmaker[orm.Session]:
    get_engine()
    assert _sessionmaker is not None
    return _sessionmaker


def dispose() -> None:
    """Close every pooled connection and forget the engine (tests, fork)."""
    global _engine, _sessionmaker
    with _lock:
        if _engine is not None:
            _engine.dispose()
        _engine = None
        _sessionmaker = None


@contextlib.contextmanager
def session_scope(writer: bool = False,
                  one_read: bool = False) -> Iterator[orm.Session]:
    """A session in one transaction: committed on success, else rolled
    back. Objects stay usable after the session closes.

    :param writer: the transaction writes; on SQLite it then takes the
        write lock when it begins rather than on its first write.
    :param one_read: the session runs a single SELECT and nothing else;
        on SQLite it then runs without BEGIN and COMMIT.
    """
    session = get_sessionmaker()()
    try:
        with session.begin():
            if writer:
                session.connection(
                    execution_options={'podium_writer': True})
            elif one_read:
                session.connection(
                    execution_options={'podium_one_read': True})
            yield session
    finally:
        session.close()


@contextlib.contextmanager
def connection_scope(writer: bool = False,
                     one_read: bool = False) -> Iterator[sa.Connection]:
    """A connection in one transaction, for Core statements: what
    :func:`session_scope` gives without an ORM session, whose set-up
    costs more CPU than a one-row UPDATE (the hot write paths: locks
    and action outcomes). Committed on success, else rolled back.

    :param writer: as for :func:`session_scope`.
    :param one_read: as for :func:`session_scope`.
    """
    with get_engine().connect() as conn:
        if writer:
            conn.execution_options(podium_writer=True)
        elif one_read:
            conn.execution_options(podium_one_read=True)
        with conn.begin():
            yield conn
