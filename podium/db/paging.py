"""Keyset pagination shared by every list query: sort, then cut after
the marker row.

A page is ``ORDER BY <column>, id`` with the rows after the marker's
``(value, id)``; ties on the column are broken by id so that pages never
repeat or skip a row, whatever the column.
"""

from typing import Any

import sqlalchemy as sa
from sqlalchemy import orm

from podium.common import exceptions


def sort_order(column: Any, id_column: Any, ascending: bool) -> list[Any]:
    """ORDER BY ``column`` then id, NULLs first ascending, last descending.

    Backends disagree on where NULLs sort (PostgreSQL puts them last,
    SQLite and MySQL first) and MySQL has no NULLS FIRST, so a nullable
    column sorts on its NULL flag explicitly: every backend pages the
    same way, and :func:`after_marker` can rely on that order.
    """
    if column is id_column:
        return [id_column.asc() if ascending else id_column.desc()]
    order = []
    if column.nullable:
        is_set = sa.case((column.is_(None), 0), else_=1)
        order.append(is_set.asc() if ascending else is_set.desc())
    if ascending:
        return order + [column.asc(), id_column.asc()]
    return order + [column.desc(), id_column.desc()]


def after_marker(column: Any, id_column: Any, value: Any, marker_id: int,
                 ascending: bool) -> sa.ColumnElement[bool]:
    """Rows that come after the marker row in :func:`sort_order`.

    Ties on ``column`` are broken by id; a NULL marker value needs its
    own branch because comparisons with NULL are never true.
    """
    later_id = id_column > marker_id if ascending else id_column < marker_id
    if column is id_column:
        return later_id
    if value is None:
        same_null = sa.and_(column.is_(None), later_id)
        # Ascending: NULLs come first, so every set value follows.
        return sa.or_(same_null, column.isnot(None)) if ascending \
            else same_null
    # A bound literal: SQLAlchemy refuses ``column > False`` for booleans.
    bound = sa.literal(value, type_=column.type)
    beyond = column > bound if ascending else column < bound
    after = sa.or_(beyond, sa.and_(column == bound, later_id))
    if column.nullable and not ascending:
        # Descending: NULLs come last, after every set value.
        return sa.or_(after, column.is_(None))
    return after


def page(session: orm.Session, query: sa.Select[Any], model: Any,
         sort_keys: tuple[str, ...], limit: int | None, marker: str | None,
         sort_key: str, sort_dir: str) -> sa.Select[Any]:
    """``query`` over ``model`` sorted and cut to the page after
    ``marker`` (a UUID).

    :raises InvalidParameterValue: a sort key not in ``sort_keys`` or a
        bad direction.
    :raises MarkerNotFound: the marker names no row.
    """
    if sort_key not in sort_keys:
        raise exceptions.InvalidParameterValue(
            err=f'Invalid sort_key {sort_key}, valid keys: '
                f'{", ".join(sort_keys)}.')
    if sort_dir not in ('asc', 'desc'):
        raise exceptions.InvalidParameterValue(
            err=f'Invalid sort_dir {sort_dir}, valid: asc, desc.')
    column = getattr(model, sort_key)
    ascending = sort_dir == 'asc'
    if marker is not None:
        marker_row = session.execute(
            sa.select(column, model.id).where(model.uuid == marker)).first()
        if marker_row is None:
            raise exceptions.MarkerNotFound(marker=marker)
        value, marker_id = marker_row
        query = query.where(after_marker(column, model.id, value, marker_id,
                                         ascending))
    query = query.order_by(*sort_order(column, model.id, ascending))
    if limit is not None:
        query = query.limit(limit)
    return query
