"""The queries Podium runs, and nothing else touches the database.

Functions return detached model objects (or light row tuples on the hot
paths) and raise Podium exceptions, never SQLAlchemy ones, for the
conditions callers handle: not found, duplicate, locked.
"""

import datetime
import uuid as uuid_lib
from collections.abc import Collection, Iterable, Sequence
from typing import Any

import sqlalchemy as sa
from oslo_utils import uuidutils
from sqlalchemy import exc as sa_exc

from podium.common import exceptions
from podium.db import history, models, node_reads, paging, ports
from podium.db.engine import connection_scope, session_scope

#: Columns a list may be sorted by.
SORT_KEYS = ('id', 'uuid', 'name', 'driver', 'power_state',
             'provision_state', 'maintenance', 'created_at', 'updated_at',
             'conductor_group')

#: Filters ``list_nodes`` understands, and how each one matches.
NODE_FILTERS = ('maintenance', 'driver', 'provision_state',
                'conductor_group', 'associated', 'resource_class', 'owner',
                'fault', 'power_state', 'reserved', 'uuid_in', 'name_in',
                'id_in', 'has_intended_settings')

#: What power sync and other per-node periodic work read of each node.
SYNC_COLUMNS = ('id', 'uuid', 'name', 'driver', 'driver_info',
                'driver_internal_info', 'power_interface',
                'management_interface', 'inspect_interface',
                'bios_interface', 'boot_interface', 'deploy_interface',
                'boot_mode', 'secure_boot', 'power_state',
                'target_power_state', 'maintenance', 'fault', 'reservation',
                'conductor_group', 'provision_state')


def _node_ident_clause(node_ident: str | int) -> sa.ColumnElement[bool]:
    column = node_reads.ident_column(node_ident)
    result: sa.ColumnElement[bool] = column == node_ident
    return result


#: ``get_node``'s statements by identifying column, built once: building
#: a select and its cache key on every call cost about as much as
#: running it on SQLite.
_NODE_BY = {column.key: sa.select(models.Node).where(
    column == sa.bindparam('ident'))
    for column in (models.Node.id, models.Node.uuid, models.Node.name)}


def _integrity_to_conflict(exc: sa_exc.IntegrityError,
                           values: dict[str, Any]) -> Exception:
    text = str(exc.orig).lower()
    if 'name' in text and values.get('name'):
        return exceptions.DuplicateName(name=values['name'])
    if 'uuid' in text:
        return exceptions.NodeAlreadyExists(uuid=values.get('uuid'))
    return exceptions.Conflict(reason=str(exc.orig))


# Nodes -------------------------------------------------------------------

def create_node(values: dict[str, Any]) -> models.Node:
    """Insert a node; ``uuid`` is generated when not given.

    :raises DuplicateName, NodeAlreadyExists: on a unique conflict.
    """
    values = dict(values)
    values.setdefault('uuid', uuidutils.generate_uuid())
    node = models.Node(**values)
    try:
        with session_scope(writer=True) as session:
            session.add(node)
    except sa_exc.IntegrityError as exc:
        raise _integrity_to_conflict(exc, values) from None
    return node


def create_nodes(rows: Sequence[dict[str, Any]]) -> list[models.Node]:
    """Insert many nodes in one transaction: all or none."""
    nodes = []
    for values in rows:
        values = dict(values)
        values.setdefault('uuid', uuidutils.generate_uuid())
        nodes.append(models.Node(**values))
    try:
        with session_scope(writer=True) as session:
            session.add_all(nodes)
    except sa_exc.IntegrityError as exc:
        raise exceptions.Conflict(reason=str(exc.orig)) from None
    return nodes


def get_node(node_ident: str | int) -> models.Node:
    """A node by id, UUID or name.

    :raises NodeNotFound: when there is none.
    """
    query = _NODE_BY[node_reads.ident_column(node_ident).key]
    with session_scope(one_read=True) as session:
        node = session.scalars(query, {'ident': node_ident}).first()
    if node is None:
        raise exceptions.NodeNotFound(node=node_ident)
    return node


def _apply_node_filters(query: sa.Select[Any],
                        filters: dict[str, Any]) -> sa.Select[Any]:
    node = models.Node
    for key, value in filters.items():
        if value is None:
            continue
        if key == 'associated':
            query = query.where(node.instance_uuid.isnot(None) if value
                                else node.instance_uuid.is_(None))
        elif key == 'reserved':
            query = query.where(node.reservation.isnot(None) if value
                                else node.reservation.is_(None))
        elif key == 'uuid_in':
            query = query.where(node.uuid.in_(list(value)))
        elif key == 'name_in':
            query = query.where(node.name.in_(list(value)))
        elif key == 'id_in':
            query = query.where(node.id.in_(list(value)))
        elif key == 'has_intended_settings':
            query = query.where(node.intended_settings.isnot(None) if value
                                else node.intended_settings.is_(None))
        elif key == 'conductor_group':
            query = query.where(sa.func.lower(node.conductor_group)
                                == str(value).lower())
        elif key in NODE_FILTERS:
            query = query.where(getattr(node, key) == value)
        else:
            raise exceptions.InvalidParameterValue(
                err=f'Unknown node filter {key}.')
    return query


def _paged_node_query(session: Any, query: sa.Select[Any],
                      filters: dict[str, Any] | None,
                      limit: int | None, marker: str | None,
                      sort_key: str, sort_dir: str) -> sa.Select[Any]:
    """``query`` filtered, sorted and cut to the page after ``marker``."""
    query = _apply_node_filters(query, filters or {})
    return paging.page(session, query, models.Node, SORT_KEYS, limit,
                       marker, sort_key, sort_dir)


def list_nodes(filters: dict[str, Any] | None = None,
               limit: int | None = None,
               marker: str | None = None,
               sort_key: str = 'id',
               sort_dir: str = 'asc') -> list[models.Node]:
    """Nodes matching ``filters``, a page after ``marker`` (a UUID).

    :raises MarkerNotFound: for a marker that names no node.
    :raises InvalidParameterValue: for a bad sort key or direction.
    """
    with session_scope() as session:
        query = _paged_node_query(session, sa.select(models.Node), filters,
                                  limit, marker, sort_key, sort_dir)
        return list(session.scalars(query))


def list_node_page_rows(columns: Iterable[str],
                        filters: dict[str, Any] | None = None,
                        limit: int | None = None,
                        marker: str | None = None,
                        sort_key: str = 'id',
                        sort_dir: str = 'asc') -> list[sa.Row[Any]]:
    """Like :func:`list_nodes`, but only ``columns``, as named rows.

    The API's list path: no ORM objects are built, and a request for a
    few fields reads only their columns.
    """
    cols = [getattr(models.Node, name) for name in columns]
    with session_scope() as session:
        query = _paged_node_query(session, sa.select(*cols), filters,
                                  limit, marker, sort_key, sort_dir)
        # On the session's connection, not through the ORM: columns
        # only, so the ORM's row loading would just copy every row once
        # more (a tenth of a detailed list's CPU).
        return list(session.connection().execute(query).all())


def list_node_rows(columns: Iterable[str] = SYNC_COLUMNS,
                   filters: dict[str, Any] | None = None
                   ) -> list[sa.Row[Any]]:
    """Only ``columns`` of matching nodes, as named rows, in id order.

    The hot path of power sync: no ORM objects are built.
    """
    cols = [getattr(models.Node, name) for name in columns]
    query = _apply_node_filters(sa.select(*cols), filters or {})
    with session_scope() as session:
        return list(session.execute(query.order_by(models.Node.id)))


def count_nodes(filters: dict[str, Any] | None = None) -> int:
    query = _apply_node_filters(
        sa.select(sa.func.count()).select_from(models.Node), filters or {})
    with session_scope() as session:
        return int(session.execute(query).scalar_one())


def update_node(node_ident: str | int, values: dict[str, Any],
                expected_reservation: str | None | bool = False,
                expected_values: dict[str, Any] | None = None
                ) -> models.Node:
    """Change a node and return it as stored.

    :param expected_reservation: when not ``False``, the update happens
        only while the node's reservation equals this (``None`` meaning
        unlocked); otherwise ``NodeLocked`` is raised.
    :param expected_values: the update happens only while these fields
        still hold these values (what the caller read and changed);
        otherwise ``NodeChanged`` is raised, so that a read-modify-write
        never overwrites a concurrent one.
    :raises NodeNotFound, DuplicateName, NodeLocked, NodeChanged:
    """
    if 'uuid' in values or 'id' in values:
        raise exceptions.InvalidParameterValue(
            err='A node\'s uuid and id cannot be changed.')
    query = sa.select(models.Node).where(_node_ident_clause(node_ident))
    if expected_reservation is not False or expected_values:
        # Lock the row: a reservation taken between this check and the
        # write would otherwise be overwritten (PostgreSQL, MySQL; SQLite
        # writers are serialised already).
        query = query.with_for_update()
    try:
        with session_scope(writer=True) as session:
            node = session.scalars(query).first()
            if node is None:
                raise exceptions.NodeNotFound(node=node_ident)
            if (expected_reservation is not False
                    and node.reservation != expected_reservation):
                raise exceptions.NodeLocked(node=node.ident,
                                            host=node.reservation)
            changed = sorted(
                key for key, value in (expected_values or {}).items()
                if getattr(node, key) != value)
            if changed:
                raise exceptions.NodeChanged(node=node.ident,
                                             fields=', '.join(changed))
            for key, value in values.items():
                setattr(node, key, value)
            session.flush()
    except sa_exc.IntegrityError as exc:
        raise _integrity_to_conflict(exc, values) from None
    return node


def update_node_by_id(node_id: int, values: dict[str, Any]) -> None:
    """Write ``values`` to one node without reading it first."""
    values = dict(values, updated_at=models.utcnow())
    table = models.NODE_TABLE
    with connection_scope(writer=True) as conn:
        conn.execute(sa.update(table).where(table.c.id == node_id)
                     .values(**values))


def update_nodes_if(changes: Sequence[tuple[int, dict[str, Any],
                                            dict[str, Any]]]) -> set[int]:
    """Write each ``(node_id, expected, values)`` only where the node's
    columns still hold ``expected`` (None matching NULL); returns the ids
    written. One transaction for all.

    Power sync writes what it read a moment before; an action or an
    operator that changed the node meanwhile must win, so its writes are
    compare-and-set.
    """
    written: set[int] = set()
    if not changes:
        return written
    now = models.utcnow()
    with session_scope(writer=True) as session:
        for node_id, expected, values in changes:
            conditions = [models.Node.id == node_id]
            for name, value in expected.items():
                column = getattr(models.Node, name)
                conditions.append(column.is_(None) if value is None
                                  else column == value)
            result = session.execute(sa.update(models.Node)
                                     .where(*conditions)
                                     .values(**values, updated_at=now))
            if result.rowcount:  # type: ignore[attr-defined]
                written.add(node_id)
    return written


def destroy_node(node_ident: str | int) -> None:
    """Delete a node that is not locked, with its ports and history.

    :raises NodeNotFound, NodeLocked:
    """
    with session_scope(writer=True) as session:
        node = session.scalars(sa.select(models.Node).where(
            _node_ident_clause(node_ident))).first()
        if node is None:
            raise exceptions.NodeNotFound(node=node_ident)
        if node.reservation is not None:
            raise exceptions.NodeLocked(node=node.ident,
                                        host=node.reservation)
        session.execute(sa.delete(models.NodeHistory)
                        .where(models.NodeHistory.node_id == node.id))
        ports.destroy_node_ports(session, node.id)
        session.delete(node)


# Locks ------------------------------------------------------------------

def reserve_node(tag: str, node_ident: str | int) -> models.Node:
    """Take the exclusive lock of a node for ``tag`` (a conductor host).

    One conditional UPDATE: it succeeds only where ``reservation`` is
    empty, which is atomic on SQLite, PostgreSQL and MySQL alike.

    :raises NodeNotFound: no such node.
    :raises NodeLocked: someone holds it.
    """
    with session_scope(writer=True) as session:
        result = session.execute(
            sa.update(models.Node)
            .where(_node_ident_clause(node_ident),
                   models.Node.reservation.is_(None))
            .values(reservation=tag))
        node = session.scalars(sa.select(models.Node).where(
            _node_ident_clause(node_ident))).first()
    if node is None:
        raise exceptions.NodeNotFound(node=node_ident)
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise exceptions.NodeLocked(node=node.ident, host=node.reservation)
    return node


def write_locked_node(tag: str, node_id: int, values: dict[str, Any],
                      release: bool = False) -> None:
    """Write ``values`` to a node ``tag`` holds locked, in one UPDATE
    (no read first: the reservation already keeps other writers of the
    lock holder's columns away); with ``release``, drop the lock in the
    same statement.

    :raises NodeNotFound: no such node.
    :raises NodeLocked: ``tag`` does not hold the lock (any more).
    :raises DuplicateName, Conflict:
    """
    if 'uuid' in values or 'id' in values:
        raise exceptions.InvalidParameterValue(
            err='A node\'s uuid and id cannot be changed.')
    values = dict(values, updated_at=models.utcnow())
    if release:
        values['reservation'] = None
    try:
        table = models.NODE_TABLE
        with connection_scope(writer=True) as conn:
            result = conn.execute(
                sa.update(table)
                .where(table.c.id == node_id, table.c.reservation == tag)
                .values(**values))
            if result.rowcount == 1:
                return
            holder = conn.execute(
                sa.select(models.Node.uuid, models.Node.reservation)
                .where(models.Node.id == node_id)).first()
    except sa_exc.IntegrityError as exc:
        raise _integrity_to_conflict(exc, values) from None
    if holder is None:
        raise exceptions.NodeNotFound(node=node_id)
    raise exceptions.NodeLocked(node=holder.uuid, host=holder.reservation)


def release_node(tag: str, node_id: int) -> bool:
    """Drop ``tag``'s lock on a node; False if ``tag`` did not hold it."""
    table = models.NODE_TABLE
    with connection_scope(writer=True) as conn:
        result = conn.execute(
            sa.update(table)
            .where(table.c.id == node_id, table.c.reservation == tag)
            .values(reservation=None))
    return bool(result.rowcount)


def clear_node_reservations_for_conductor(
        hostname: str, interrupted_by: str | None = None,
        keep: Collection[int] = ()) -> int:
    """Release every lock held under ``hostname``, except those of the
    node ids in ``keep`` (actions still running); returns how many.

    :param interrupted_by: why the holder's actions cannot finish (it
        died, or stopped before they ended). A node it held with a power
        action in flight then loses its ``target_power_state``, which
        nothing would ever reach, and gets a ``last_error`` and a
        history entry saying which action was interrupted.
    """
    held = sa.and_(models.Node.reservation == hostname,
                   models.Node.id.not_in(list(keep)))
    with session_scope(writer=True) as session:
        interrupted: list[tuple[int, str]] = []
        if interrupted_by is not None:
            interrupted = [(row.id, row.target_power_state)
                           for row in session.execute(
                               sa.select(models.Node.id,
                                         models.Node.target_power_state)
                               .where(held, models.Node.target_power_state
                                      .is_not(None)))]
        messages = {}
        for node_id, target in interrupted:
            message = (f'Power action to "{target}" was interrupted: '
                       f'{interrupted_by}')
            messages[node_id] = message
            session.execute(
                sa.update(models.Node)
                .where(models.Node.id == node_id,
                       models.Node.reservation == hostname)
                .values(target_power_state=None, last_error=message))
        result = session.execute(
            sa.update(models.Node).where(held).values(reservation=None))
        if messages:
            now = models.utcnow()
            session.execute(sa.insert(models.NodeHistory), [
                {'uuid': str(uuid_lib.uuid4()), 'node_id': node_id,
                 'event': message, 'event_type': 'power',
                 'severity': 'ERROR', 'conductor': hostname, 'user': None,
                 'created_at': now}
                for node_id, message in messages.items()])
    return int(result.rowcount)  # type: ignore[attr-defined]


# Node history -----------------------------------------------------------

# Recording and reading history lives in podium.db.history; these names
# are kept for the callers that record events alongside node changes.
add_node_history = history.add_node_history
add_node_history_bulk = history.add_node_history_bulk
list_node_history = history.list_node_history


# Conductors -------------------------------------------------------------

def register_conductor(hostname: str, drivers: list[str],
                       conductor_group: str = '',
                       refuse_alive_within: float | None = None
                       ) -> models.Conductor:
    """Register (or re-register) a conductor as online now.

    :param refuse_alive_within: refuse when a conductor of this name is
        online and heartbeat within that many seconds: two processes
        with one host name would serve, lock and release the same nodes
        as if they were one.
    :raises ConductorAlreadyRegistered: see ``refuse_alive_within``.
    """
    now = models.utcnow()
    values = {'drivers': list(drivers), 'conductor_group': conductor_group,
              'online': True, 'updated_at': now}
    # No SELECT ... FOR UPDATE: on MariaDB, conductors starting together
    # would deadlock on the gap locks it takes where no row exists yet.
    # An INSERT, or one conditional UPDATE, is atomic everywhere.
    try:
        with session_scope(writer=True) as session:
            update = (sa.update(models.Conductor)
                      .where(models.Conductor.hostname == hostname)
                      .values(**values))
            if refuse_alive_within is not None:
                cutoff = now - datetime.timedelta(
                    seconds=refuse_alive_within)
                update = update.where(sa.or_(
                    models.Conductor.online.is_(False),
                    models.Conductor.updated_at.is_(None),
                    models.Conductor.updated_at < cutoff))
            exists = session.scalars(sa.select(models.Conductor.id).where(
                models.Conductor.hostname == hostname)).first()
            if exists is None:
                session.add(models.Conductor(hostname=hostname, **values))
                session.flush()
            elif not session.execute(update).rowcount:  # type: ignore[attr-defined]
                raise exceptions.ConductorAlreadyRegistered(
                    conductor=hostname)
    except sa_exc.IntegrityError:
        # Another process inserted the same host name first.
        raise exceptions.ConductorAlreadyRegistered(
            conductor=hostname) from None
    return get_conductor(hostname)


def touch_conductor(hostname: str) -> None:
    """Record a heartbeat.

    :raises ConductorNotFound: the row was removed under us.
    """
    with session_scope(writer=True) as session:
        result = session.execute(
            sa.update(models.Conductor)
            .where(models.Conductor.hostname == hostname)
            .values(updated_at=models.utcnow(), online=True))
    if not result.rowcount:  # type: ignore[attr-defined]
        raise exceptions.ConductorNotFound(conductor=hostname)


def unregister_conductor(hostname: str) -> None:
    """Mark a conductor offline (its row stays, for the operator)."""
    with session_scope(writer=True) as session:
        session.execute(sa.update(models.Conductor)
                        .where(models.Conductor.hostname == hostname)
                        .values(online=False, updated_at=models.utcnow()))


def get_conductor(hostname: str) -> models.Conductor:
    with session_scope() as session:
        conductor = session.scalars(sa.select(models.Conductor).where(
            models.Conductor.hostname == hostname)).first()
    if conductor is None:
        raise exceptions.ConductorNotFound(conductor=hostname)
    return conductor


def list_conductors(limit: int | None = None,
                    marker: str | None = None) -> list[models.Conductor]:
    """Conductors ordered by hostname, a page after ``marker``."""
    query = sa.select(models.Conductor).order_by(models.Conductor.hostname)
    with session_scope() as session:
        if marker is not None:
            if session.scalars(sa.select(models.Conductor.id).where(
                    models.Conductor.hostname == marker)).first() is None:
                raise exceptions.MarkerNotFound(marker=marker)
            query = query.where(models.Conductor.hostname > marker)
        if limit is not None:
            query = query.limit(limit)
        return list(session.scalars(query))


def list_node_conductor_groups() -> set[str]:
    """The conductor groups nodes are in, lower-cased (as the hash ring
    compares them); ``''`` is the default group."""
    with session_scope() as session:
        return {group.lower() for group in session.scalars(
            sa.select(models.Node.conductor_group).distinct())}


def is_alive(conductor: models.Conductor, timeout: float) -> bool:
    """Whether ``conductor`` is online and heartbeat within ``timeout``."""
    if not conductor.online or conductor.updated_at is None:
        return False
    age = models.utcnow() - conductor.updated_at
    return age <= datetime.timedelta(seconds=timeout)


def get_alive_conductors(timeout: float) -> list[models.Conductor]:
    """Conductors that heartbeat within ``timeout`` seconds."""
    cutoff = models.utcnow() - datetime.timedelta(seconds=timeout)
    with session_scope() as session:
        return list(session.scalars(
            sa.select(models.Conductor)
            .where(models.Conductor.online.is_(True),
                   models.Conductor.updated_at >= cutoff)
            .order_by(models.Conductor.hostname)))


def count_nodes_by_state() -> list[tuple[str | None, str | None, bool,
                                         str | None, int]]:
    """``(power_state, provision_state, maintenance, fault, count)`` for
    every combination that occurs: one grouped query, no rows loaded."""
    node = models.Node
    query = (sa.select(node.power_state, node.provision_state,
                       node.maintenance, node.fault, sa.func.count())
             .group_by(node.power_state, node.provision_state,
                       node.maintenance, node.fault))
    with session_scope() as session:
        return [(power, provision, bool(maintenance), fault, int(count))
                for power, provision, maintenance, fault, count
                in session.execute(query)]
