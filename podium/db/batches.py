"""The queries of batches (``/v1/podium/batches``) and their per-node
results.

A batch row says what to do and which conductor runs it; one
``batch_nodes`` row per node holds that node's result. Writes that
change a batch's state are conditional on the state the caller saw, so
two API requests (a cancel and a resume) or two conductors (one
adopting a batch another one runs) can never both win.
"""

import datetime
from collections.abc import Collection, Iterable, Mapping, Sequence
from typing import Any, cast

import sqlalchemy as sa
from oslo_utils import uuidutils

from podium.common import exceptions
from podium.db import models
from podium.db.engine import connection_scope, session_scope

_BATCH_NODES = cast(sa.Table, models.BatchNode.__table__)

#: Batch states. A batch is *active* while a conductor runs it.
RUNNING = 'running'
CANCELLING = 'cancelling'
STOPPED = 'stopped'
CANCELLED = 'cancelled'
SUCCEEDED = 'succeeded'
FAILED = 'failed'
ACTIVE_STATES = (RUNNING, CANCELLING)

#: Node states within a batch.
NODE_PENDING = 'pending'
NODE_RUNNING = 'running'
NODE_SUCCEEDED = 'succeeded'
NODE_FAILED = 'failed'
NODE_CANCELLED = 'cancelled'
NODE_STATES = (NODE_PENDING, NODE_RUNNING, NODE_SUCCEEDED, NODE_FAILED,
               NODE_CANCELLED)


def create_batch(values: Mapping[str, Any],
                 nodes: Sequence[Any]) -> models.Batch:
    """Insert a batch and one pending result per node, in one
    transaction; ``nodes`` are rows with ``id``, ``uuid``, ``name`` and
    ``conductor_group``, in the order they will run."""
    batch = models.Batch(**dict(values, uuid=uuidutils.generate_uuid()))
    with session_scope(writer=True) as session:
        session.add(batch)
        session.flush()
        session.execute(sa.insert(models.BatchNode), [
            {'batch_id': batch.id, 'node_id': row.id,
             'node_uuid': row.uuid, 'node_name': row.name,
             'conductor_group': (row.conductor_group or '').lower(),
             'state': NODE_PENDING, 'run': 0}
            for row in nodes])
    return batch


def get_batch(ident: str | int) -> models.Batch:
    """A batch by UUID (or id).

    :raises BatchNotFound:
    """
    column = models.Batch.id if isinstance(ident, int) else models.Batch.uuid
    with session_scope() as session:
        batch = session.scalars(
            sa.select(models.Batch).where(column == ident)).first()
    if batch is None:
        raise exceptions.BatchNotFound(batch=ident)
    return batch


def get_batch_status(batch_id: int) -> tuple[str, str | None] | None:
    """A batch's ``(state, conductor)`` alone, what a running batch
    checks every tick; None once it is gone."""
    with session_scope() as session:
        row = session.execute(
            sa.select(models.Batch.state, models.Batch.conductor)
            .where(models.Batch.id == batch_id)).first()
    return None if row is None else (row.state, row.conductor)


def list_batches(limit: int | None = None, marker: str | None = None,
                 state: str | None = None) -> list[models.Batch]:
    """Batches, oldest first, a page after ``marker`` (a batch UUID).

    :raises MarkerNotFound:
    """
    query = sa.select(models.Batch).order_by(models.Batch.id)
    if state is not None:
        query = query.where(models.Batch.state == state)
    with session_scope() as session:
        if marker is not None:
            marker_id = session.scalars(sa.select(models.Batch.id).where(
                models.Batch.uuid == marker)).first()
            if marker_id is None:
                raise exceptions.MarkerNotFound(marker=marker)
            query = query.where(models.Batch.id > marker_id)
        if limit is not None:
            query = query.limit(limit)
        return list(session.scalars(query))


def list_active_batches() -> list[sa.Row[Any]]:
    """``(id, uuid, conductor)`` of every batch a conductor should run."""
    with session_scope() as session:
        return list(session.execute(
            sa.select(models.Batch.id, models.Batch.uuid,
                      models.Batch.conductor)
            .where(models.Batch.state.in_(ACTIVE_STATES))
            .order_by(models.Batch.id)))


def count_nodes(batch_ids: Collection[int]) -> dict[int, dict[str, int]]:
    """``{batch_id: {node state: count}}``, every state present (0 when
    none): one grouped query for all the batches."""
    counts: dict[int, dict[str, int]] = {
        batch_id: dict.fromkeys(NODE_STATES, 0) for batch_id in batch_ids}
    if not counts:
        return counts
    node = models.BatchNode
    with session_scope() as session:
        for batch_id, state, count in session.execute(
                sa.select(node.batch_id, node.state, sa.func.count())
                .where(node.batch_id.in_(list(counts)))
                .group_by(node.batch_id, node.state)):
            counts[batch_id][state] = int(count)
    return counts


def list_batch_nodes(batch_id: int,
                     states: Iterable[str] | None = None
                     ) -> list[models.BatchNode]:
    """A batch's per-node results in request order."""
    query = (sa.select(models.BatchNode)
             .where(models.BatchNode.batch_id == batch_id)
             .order_by(models.BatchNode.id))
    if states is not None:
        query = query.where(models.BatchNode.state.in_(list(states)))
    with session_scope() as session:
        return list(session.scalars(query))


#: The columns of a per-node result the API shows.
RESULT_COLUMNS = ('node_uuid', 'node_name', 'state', 'error', 'run',
                  'started_at', 'finished_at')


def list_batch_node_rows(batch_id: int,
                         states: Iterable[str] | None = None,
                         columns: Iterable[str] = RESULT_COLUMNS
                         ) -> list[sa.Row[Any]]:
    """``columns`` of a batch's per-node results in request order, as
    named rows: the API shows a running batch over and over, and
    building an ORM object per node cost more than the rest of the
    request."""
    node = models.BatchNode
    query = (sa.select(*(getattr(node, name) for name in columns))
             .where(node.batch_id == batch_id).order_by(node.id))
    if states is not None:
        query = query.where(node.state.in_(list(states)))
    with session_scope() as session:
        return list(session.execute(query))


def record_nodes(changes: Sequence[Mapping[str, Any]]) -> None:
    """Write per-node results: each change holds the ``id`` of a
    ``batch_nodes`` row and the values to set. One transaction, one
    statement per distinct set of keys."""
    if not changes:
        return
    by_keys: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for change in changes:
        by_keys.setdefault(tuple(sorted(change)), []).append(
            {('_id' if key == 'id' else key): value
             for key, value in change.items()})
    table = _BATCH_NODES
    with connection_scope(writer=True) as conn:
        for keys, rows in by_keys.items():
            # A Core executemany: the ORM's bulk update by primary key
            # costs several times its CPU for the same statement.
            conn.execute(sa.update(table)
                         .where(table.c.id == sa.bindparam('_id'))
                         .values({key: sa.bindparam(key)
                                  for key in keys if key != 'id'}), rows)


def update_batch(batch_id: int, values: Mapping[str, Any],
                 expected_states: Collection[str] | None = None,
                 expected_conductor: str | None | bool = False) -> bool:
    """Write ``values`` to a batch while its state is one of
    ``expected_states`` and (unless ``False``) its conductor is
    ``expected_conductor``; whether it was written."""
    conditions = [models.Batch.id == batch_id]
    if expected_states is not None:
        conditions.append(models.Batch.state.in_(list(expected_states)))
    if expected_conductor is not False:
        conditions.append(
            models.Batch.conductor.is_(None) if expected_conductor is None
            else models.Batch.conductor == expected_conductor)
    with session_scope(writer=True) as session:
        result = session.execute(
            sa.update(models.Batch).where(*conditions)
            .values(**values, updated_at=models.utcnow()))
    return bool(result.rowcount)  # type: ignore[attr-defined]


def transition(batch_uuid: str, from_states: Collection[str],
               values: Mapping[str, Any],
               node_states: Mapping[str, str] | None = None,
               next_run: bool = False) -> models.Batch:
    """Move a batch out of one of ``from_states`` (cancel, resume,
    retry), in one transaction with its nodes: ``node_states`` maps a
    node state to the state those nodes get. With ``next_run`` the
    batch's run counter goes up by one.

    :raises BatchNotFound:
    :raises BatchStateConflict: the batch is in another state.
    """
    batch = get_batch(batch_uuid)
    if batch.state not in from_states:
        raise exceptions.BatchStateConflict(
            batch=batch.uuid, state=batch.state,
            reason=f'this needs one of: {", ".join(from_states)}.')
    update = dict(values, updated_at=models.utcnow())
    if next_run:
        update['run'] = models.Batch.run + 1
    with session_scope(writer=True) as session:
        result = session.execute(
            sa.update(models.Batch)
            .where(models.Batch.id == batch.id,
                   models.Batch.state == batch.state)
            .values(**update))
        if not result.rowcount:  # type: ignore[attr-defined]
            raise exceptions.BatchStateConflict(
                batch=batch.uuid, state='changing',
                reason='another request changed it meanwhile; retry.')
        for old, new in (node_states or {}).items():
            session.execute(
                sa.update(models.BatchNode)
                .where(models.BatchNode.batch_id == batch.id,
                       models.BatchNode.state == old)
                .values(state=new))
    return get_batch(batch.id)


def finish_batch(batch_id: int, conductor: str, state: str,
                 last_error: str | None,
                 node_states: Mapping[str, str]) -> bool:
    """Record a batch's end, if ``conductor`` still runs it, with its
    nodes moved as ``node_states`` says (pending ones cancelled, say);
    whether it was recorded."""
    with session_scope(writer=True) as session:
        result = session.execute(
            sa.update(models.Batch)
            .where(models.Batch.id == batch_id,
                   models.Batch.state.in_(ACTIVE_STATES),
                   models.Batch.conductor == conductor)
            .values(state=state, last_error=last_error,
                    updated_at=models.utcnow()))
        if not result.rowcount:  # type: ignore[attr-defined]
            return False
        for old, new in node_states.items():
            session.execute(
                sa.update(models.BatchNode)
                .where(models.BatchNode.batch_id == batch_id,
                       models.BatchNode.state == old)
                .values(state=new))
    return True


def purge_before(cutoff: datetime.datetime) -> int:
    """Delete finished batches last changed before ``cutoff``, with
    their results; returns how many batches."""
    finished = sa.and_(models.Batch.state.not_in(ACTIVE_STATES),
                       models.Batch.updated_at < cutoff)
    with session_scope(writer=True) as session:
        ids = list(session.scalars(sa.select(models.Batch.id)
                                   .where(finished)))
        if not ids:
            return 0
        session.execute(sa.delete(models.BatchNode)
                        .where(models.BatchNode.batch_id.in_(ids)))
        session.execute(sa.delete(models.Batch)
                        .where(models.Batch.id.in_(ids)))
    return len(ids)
