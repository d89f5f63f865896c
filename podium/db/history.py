"""Node history: recording events, reading them a page at a time, and
keeping the table bounded.

Every entry notes the node's provision state and target at the time
it was written, as Ironic's history does, so an operator reading it
later sees what the node was doing. Retention keeps the newest
``[conductor] node_history_max_entries`` entries of each node (entries
younger than ``node_history_minimum_days`` always stay), so a BMC that
flaps all day cannot grow the table without bound.
"""

import datetime
import uuid as uuid_lib
from collections.abc import Collection, Sequence
from typing import Any

import sqlalchemy as sa
from oslo_log import log

from podium.common import exceptions
from podium.conf import CONF
from podium.db import models, paging
from podium.db.engine import session_scope

LOG = log.getLogger(__name__)

#: Columns a history list may be sorted by.
SORT_KEYS = ('id', 'uuid', 'created_at', 'severity', 'event_type',
             'conductor', 'user')


def add_node_history_bulk(entries: Sequence[tuple[int, str, str, str]],
                          conductor: str | None,
                          user: str | None = None,
                          project: str | None = None,
                          duration_seconds: int | None = None) -> None:
    """Record ``(node_id, event, event_type, severity)`` entries at once,
    each with its node's current provision state and target.

    Nothing is recorded when ``[conductor] node_history`` is off.
    """
    if not entries or not CONF.conductor.node_history:
        return
    now = models.utcnow()
    node = models.Node
    with session_scope(writer=True) as session:
        node_states = {row.id: row for row in session.execute(
            sa.select(node.id, node.provision_state,
                      node.target_provision_state)
            .where(node.id.in_({entry[0] for entry in entries})))}
        rows: list[dict[str, Any]] = []
        for node_id, event, event_type, severity in entries:
            found = node_states.get(node_id)
            rows.append({
                'uuid': str(uuid_lib.uuid4()), 'node_id': node_id,
                'event': event, 'event_type': event_type,
                'severity': severity, 'conductor': conductor, 'user': user,
                'project': project, 'duration_seconds': duration_seconds,
                'state': found.provision_state if found else None,
                'target_provision_state':
                    found.target_provision_state if found else None,
                'created_at': now})
        session.execute(sa.insert(models.NodeHistory), rows)


def add_node_history(node_id: int, event: str, event_type: str,
                     severity: str, conductor: str | None,
                     user: str | None = None, project: str | None = None,
                     duration_seconds: int | None = None) -> None:
    """Record one event; see :func:`add_node_history_bulk`."""
    add_node_history_bulk([(node_id, event, event_type, severity)],
                          conductor=conductor, user=user, project=project,
                          duration_seconds=duration_seconds)


def list_node_history(node_id: int, limit: int | None = None,
                      marker: str | None = None, sort_key: str = 'id',
                      sort_dir: str = 'asc') -> list[models.NodeHistory]:
    """A node's events, oldest first by default, a page after
    ``marker`` (an event UUID).

    :raises MarkerNotFound, InvalidParameterValue:
    """
    query = sa.select(models.NodeHistory).where(
        models.NodeHistory.node_id == node_id)
    with session_scope() as session:
        query = paging.page(session, query, models.NodeHistory, SORT_KEYS,
                            limit, marker, sort_key, sort_dir)
        return list(session.scalars(query))


def get_node_history(node_id: int, event_uuid: str) -> models.NodeHistory:
    """One event of a node.

    :raises NodeHistoryNotFound: no such event on this node.
    """
    with session_scope() as session:
        entry = session.scalars(sa.select(models.NodeHistory).where(
            models.NodeHistory.node_id == node_id,
            models.NodeHistory.uuid == event_uuid)).first()
    if entry is None:
        raise exceptions.NodeHistoryNotFound(history=event_uuid)
    return entry


def purge(node_ids: Collection[int], max_entries: int, minimum_days: int,
          batch_count: int) -> int:
    """Delete the entries of ``node_ids`` beyond the newest
    ``max_entries`` of each node, sparing those younger than
    ``minimum_days``; stop once about ``batch_count`` rows went (a node
    is always purged whole). Returns how many rows were deleted.
    """
    entry = models.NodeHistory
    wanted = set(node_ids)
    if not wanted or batch_count <= 0:
        return 0
    with session_scope() as session:
        # One grouped scan finds the few nodes over the limit; the owned
        # set is applied here rather than as a huge IN list.
        over = [node_id for node_id, in session.execute(
            sa.select(entry.node_id).group_by(entry.node_id)
            .having(sa.func.count() > max_entries))
            if node_id in wanted]
    cutoff = (models.utcnow() - datetime.timedelta(days=minimum_days)
              if minimum_days > 0 else None)
    deleted = 0
    for node_id in sorted(over):
        if deleted >= batch_count:
            LOG.warning('Node history clean-up stopped after %d entries, '
                        '[conductor] node_history_cleanup_batch_count; '
                        'nodes with too many entries are left for the '
                        'next run. Run it more often or lower '
                        'node_history_max_entries if this repeats.',
                        deleted)
            break
        with session_scope(writer=True) as session:
            # Entry ids grow with time; everything at or below the
            # newest entry beyond the limit goes.
            boundary = session.scalars(
                sa.select(entry.id).where(entry.node_id == node_id)
                .order_by(entry.id.desc()).offset(max_entries).limit(1)
            ).first()
            if boundary is None:
                continue
            conditions = [entry.node_id == node_id, entry.id <= boundary]
            if cutoff is not None:
                conditions.append(entry.created_at < cutoff)
            result = session.execute(sa.delete(entry).where(*conditions))
            deleted += int(result.rowcount)  # type: ignore[attr-defined]
    return deleted
