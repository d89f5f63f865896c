"""The group-wide rate limit of BMC resets: one row per conductor group.

Several conductors of one group share the database; a reset is allowed
when the conductor asking wins the group's row: one conditional UPDATE
(``last_reset <= now - interval``) moves ``last_reset`` to now, or, for
a group without a row yet, one INSERT, which the unique constraint lets
only one conductor do. Both are atomic on SQLite, PostgreSQL and
MariaDB, so of conductors racing for a reset in one group exactly one
gets it. Neither takes a lock on a row that does not exist (a SELECT
... FOR UPDATE would, on MariaDB, take gap locks that deadlock racing
inserts).

Times are the conductors' clocks, as for heartbeats: a conductor whose
clock runs ahead lengthens the interval for the others by that much;
it never shortens it.
"""

import datetime

import sqlalchemy as sa
from sqlalchemy import exc as sa_exc

from podium.db import models
from podium.db.engine import session_scope


def claim_reset(conductor_group: str, interval: float) -> float | None:
    """Take the right to reset one BMC of ``conductor_group`` now.

    :param interval: least seconds between two resets in the group.
    :returns: None when the reset is allowed (and recorded as done
        now), else how many seconds ago the group's last reset was.
    """
    group = conductor_group.lower()
    now = models.utcnow()
    cutoff = now - datetime.timedelta(seconds=interval)
    table = models.BmcReset
    with session_scope(writer=True) as session:
        result = session.execute(
            sa.update(table)
            .where(table.conductor_group == group,
                   table.last_reset <= cutoff)
            .values(last_reset=now))
    if result.rowcount:  # type: ignore[attr-defined]
        return None
    last = last_reset(group)
    if last is None:
        try:
            with session_scope(writer=True) as session:
                session.add(table(conductor_group=group, last_reset=now))
            return None
        except sa_exc.IntegrityError:
            # Another conductor created the group's row first.
            last = last_reset(group) or now
    return max(0.0, (now - last).total_seconds())


def last_reset(conductor_group: str) -> datetime.datetime | None:
    """When a BMC of ``conductor_group`` was last reset, if ever."""
    table = models.BmcReset
    with session_scope() as session:
        return session.scalars(sa.select(table.last_reset).where(
            table.conductor_group == conductor_group.lower())).first()
