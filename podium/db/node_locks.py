"""Node locks taken, written and dropped many at a time.

The bulk counterpart of ``reserve_node``, ``write_locked_node`` and
``release_node`` in :mod:`podium.db.api`, for an action that a
conductor starts on a chunk of nodes at once (a batch's power action):
one transaction per step for the whole chunk instead of one per node.
The statements are Core ones on the ``nodes`` table (no ORM unit of
work), with the same guards as the single-node queries: a lock is taken
only where ``reservation`` is empty and written only where the tag
still holds it.
"""

from collections.abc import Collection, Mapping
from typing import Any

import sqlalchemy as sa

from podium.db import models
from podium.db.engine import connection_scope, session_scope

_NODES = models.NODE_TABLE


class Reserved:
    """What :func:`reserve_nodes` did to each of the nodes asked for."""

    def __init__(self) -> None:
        #: The nodes now locked by the tag, as detached ORM objects.
        self.taken: list[models.Node] = []
        #: UUID -> holder of the nodes someone else holds.
        self.locked: dict[str, str | None] = {}
        #: The UUIDs that name no node.
        self.missing: list[str] = []


def reserve_nodes(tag: str, uuids: Collection[str]) -> Reserved:
    """Lock for ``tag`` every node of ``uuids`` that nobody holds, in
    one transaction: the free ones are read (``FOR UPDATE`` where the
    database has it; SQLite writers are serialised already), then taken
    by one ``UPDATE ... WHERE id IN (...) AND reservation IS NULL``.

    A node held by anyone, ``tag`` included (another task of this
    conductor), is reported in :attr:`Reserved.locked`: nothing waits
    or retries here, the caller decides.
    """
    result = Reserved()
    wanted = set(uuids)
    if not wanted:
        return result
    node = models.Node
    with session_scope(writer=True) as session:
        holders = {row.uuid: (row.id, row.reservation)
                   for row in session.execute(
                       sa.select(node.id, node.uuid, node.reservation)
                       .where(node.uuid.in_(wanted)).with_for_update())}
        free = [node_id for node_id, holder in holders.values()
                if holder is None]
        if free:
            session.execute(sa.update(_NODES)
                            .where(_NODES.c.id.in_(free),
                                   _NODES.c.reservation.is_(None))
                            .values(reservation=tag))
            result.taken = list(session.scalars(
                sa.select(node).where(node.id.in_(free),
                                      node.reservation == tag)
                .order_by(node.id)))
    result.locked = {uuid: holder for uuid, (_, holder) in holders.items()
                     if holder is not None}
    result.missing = sorted(wanted - set(holders))
    return result


def write_locked_nodes(tag: str, writes: Mapping[int, Mapping[str, Any]],
                       release: bool = False) -> set[int]:
    """Write each node's values, only where ``tag`` holds its lock, in
    one transaction with one ``UPDATE ... WHERE id IN (...)`` per
    distinct set of values (a chunk's nodes mostly end alike); with
    ``release``, drop the locks in the same statements. Returns the ids
    written: a node missing from it lost its lock (or row) meanwhile.
    """
    if not writes:
        return set()
    # Values may hold dicts (not hashable): grouped by their repr.
    groups: dict[tuple[tuple[str, str], ...],
                 tuple[list[int], Mapping[str, Any]]] = {}
    for node_id, values in writes.items():
        if 'uuid' in values or 'id' in values:
            raise ValueError('a node\'s uuid and id cannot be changed')
        key = tuple(sorted((name, repr(value))
                           for name, value in values.items()))
        groups.setdefault(key, ([], values))[0].append(node_id)
    now = models.utcnow()
    written: set[int] = set()
    with connection_scope(writer=True) as conn:
        for ids, given in groups.values():
            values = dict(given, updated_at=now)
            if release:
                values['reservation'] = None
            update = sa.update(_NODES).where(
                _NODES.c.id.in_(ids), _NODES.c.reservation == tag
            ).values(**values)
            if conn.dialect.update_returning:
                written.update(conn.scalars(update.returning(_NODES.c.id)))
                continue
            # No UPDATE ... RETURNING (MySQL): read the held ones first.
            held = list(conn.scalars(
                sa.select(_NODES.c.id)
                .where(_NODES.c.id.in_(ids), _NODES.c.reservation == tag)
                .with_for_update()))
            if held:
                conn.execute(update)
            written.update(held)
    return written


def release_nodes(tag: str, node_ids: Collection[int]) -> int:
    """Drop ``tag``'s locks on ``node_ids`` in one statement; how many
    it held."""
    if not node_ids:
        return 0
    with connection_scope(writer=True) as conn:
        result = conn.execute(
            sa.update(_NODES)
            .where(_NODES.c.id.in_(list(node_ids)),
                   _NODES.c.reservation == tag)
            .values(reservation=None))
    return int(result.rowcount)
