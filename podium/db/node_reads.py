"""One node's columns by id, UUID or name, without the ORM.

The API's read path for one node. :func:`get_node_row` runs on a worker
thread's pooled connection, like every other query. :class:`LoopReader`
runs the same SELECT on the API's event loop thread, for the one case
where that cannot wait on anything: the embedded SQLite database, whose
readers never wait for writers in WAL mode, read through a connection
only the loop thread uses, so never waiting for the pool either.

Why on the loop at all: handing a request to a worker thread and back
costs more CPU than a node show's SELECT, rendering and JSON together
(about 0.35 of 0.78 ms, measured with ``bench.api_load``).
"""

import functools
import threading
from typing import Any

import sqlalchemy as sa
from oslo_log import log as logging
from oslo_utils import uuidutils

from podium.common import exceptions
from podium.db import engine as db_engine
from podium.db import models

LOG = logging.getLogger(__name__)


class WouldWait(Exception):
    """The read cannot be done on the event loop without waiting: hand
    it to a worker thread."""


def ident_column(node_ident: str | int) -> Any:
    """The column ``node_ident`` names a node by: id, UUID or name."""
    if isinstance(node_ident, int):
        return models.Node.id
    if uuidutils.is_uuid_like(node_ident):
        return models.Node.uuid
    return models.Node.name


@functools.lru_cache(maxsize=64)
def _query(key: str, columns: tuple[str, ...]) -> sa.Select[Any]:
    # Built once per column set: building a select and its cache key
    # costs about as much as running it on SQLite.
    node = models.Node
    return sa.select(*[getattr(node, name) for name in columns]).where(
        getattr(node, key) == sa.bindparam('ident'))


def _read(conn: sa.Connection, node_ident: str | int,
          columns: tuple[str, ...]) -> sa.Row[Any] | None:
    query = _query(ident_column(node_ident).key, columns)
    return conn.execute(query, {'ident': node_ident}).first()


def _found(row: sa.Row[Any] | None, node_ident: str | int) -> sa.Row[Any]:
    if row is None:
        raise exceptions.NodeNotFound(node=node_ident)
    return row


def get_node_row(node_ident: str | int,
                 columns: tuple[str, ...]) -> sa.Row[Any]:
    """Only ``columns`` of a node, as a named row (a worker thread's
    read: it may wait for a pooled connection or a busy database).

    :raises NodeNotFound: when there is none.
    """
    with db_engine.connection_scope(one_read=True) as conn:
        row = _read(conn, node_ident, columns)
    return _found(row, node_ident)


class LoopReader:
    """Reads of the API's event loop thread, on a connection of its own.

    The connection is taken from the engine's pool by a worker thread
    (:meth:`prepare`), since taking one may wait, and is held from then
    on; the loop thread alone reads on it. SQLite's busy timeout is off
    on it: a read that would wait fails at once, the connection is
    dropped, and the caller hands the request to a worker thread.
    """

    def __init__(self) -> None:
        #: Held by the one worker thread taking a connection, which may
        #: wait for the pool; others hand their request on meanwhile.
        self._preparing = threading.Lock()
        #: Held only to swap the connection: never for long.
        self._swap = threading.Lock()
        # (engine, connection), replaced in one assignment: the loop
        # thread reads it without a lock.
        self._held: tuple[sa.Engine, sa.Connection] | None = None

    def get_node_row(self, node_ident: str | int,
                     columns: tuple[str, ...]) -> sa.Row[Any]:
        """As :func:`get_node_row`, on the loop thread.

        :raises WouldWait: there is no connection for the loop (call
            :meth:`prepare` on a worker thread), or the database is not
            the embedded SQLite one, or the read would wait.
        :raises NodeNotFound: when there is none.
        """
        held = self._held
        if held is None or held[0] is not db_engine.current_engine():
            raise WouldWait('no connection for the event loop')
        conn = held[1]
        try:
            row = _read(conn, node_ident, columns)
            # Ends SQLAlchemy's transaction; SQLite ran none (one_read).
            conn.rollback()
        except sa.exc.DBAPIError as exc:
            LOG.debug('Event loop read failed, dropping its connection: '
                      '%s', db_engine.error_reason(exc))
            self.release()
            raise WouldWait(db_engine.error_reason(exc)) from None
        return _found(row, node_ident)

    def prepare(self) -> None:
        """Take the loop's connection when it has none (a worker thread's
        call: the pool may make it wait); nothing for other databases
        than an SQLite file, or while another thread is taking one."""
        engine = db_engine.current_engine()
        if engine is None or not db_engine.is_sqlite_file(engine) or \
                self._is_held(engine) or \
                not self._preparing.acquire(blocking=False):
            return
        try:
            if self._is_held(engine):
                return
            conn = engine.connect()
            conn.execution_options(podium_one_read=True)
            # A WAL reader waits only in rare cases (a checkpoint
            # restarting the log, recovery): fail then rather than hold
            # the event loop for the busy timeout.
            conn.exec_driver_sql('PRAGMA busy_timeout=0')
            conn.rollback()
            self._replace((engine, conn))
        finally:
            self._preparing.release()

    def release(self) -> None:
        """Give the connection up (a failed read; an engine replaced)."""
        self._replace(None)

    def _is_held(self, engine: sa.Engine) -> bool:
        held = self._held
        return held is not None and held[0] is engine

    def _replace(self, new: tuple[sa.Engine, sa.Connection] | None) -> None:
        with self._swap:
            old, self._held = self._held, new
        if old is not None:
            self._close(old[1])

    @staticmethod
    def _close(conn: sa.Connection) -> None:
        # Not back to the pool: its busy timeout is off.
        try:
            conn.invalidate()
            conn.close()
        except sa.exc.SQLAlchemyError as exc:
            LOG.debug('Closing the event loop connection: %s', exc)


#: The API process's event loop reader.
LOOP_READER = LoopReader()
