"""The cached BIOS settings of nodes: read them, and replace them with
what a bios interface just reported.

A replacement writes only what changed: rows of attributes the BMC no
longer reports are deleted, new ones inserted and changed ones
updated, so ``created_at`` says when an attribute was first seen and
``updated_at`` when its value (or registry entry) last changed.
"""

from collections.abc import Sequence

import sqlalchemy as sa

from podium.common import exceptions
from podium.db import models
from podium.db.engine import session_scope
from podium.drivers import bios_settings

#: Columns compared when deciding whether a row changed.
_VALUE_COLUMNS = ('value',) + bios_settings.REGISTRY_FIELDS


def list_settings(node_id: int) -> list[models.BiosSetting]:
    """A node's cached settings, by name."""
    with session_scope() as session:
        query = (sa.select(models.BiosSetting)
                 .where(models.BiosSetting.node_id == node_id)
                 .order_by(models.BiosSetting.name))
        return list(session.scalars(query))


def get_setting(node_id: int, node_label: str,
                name: str) -> models.BiosSetting:
    """One cached setting.

    :raises BIOSSettingNotFound:
    """
    with session_scope() as session:
        found = session.scalars(sa.select(models.BiosSetting).where(
            models.BiosSetting.node_id == node_id,
            models.BiosSetting.name == name)).first()
    if found is None:
        raise exceptions.BIOSSettingNotFound(node=node_label, name=name)
    return found


def as_settings(rows: Sequence[models.BiosSetting]
                ) -> list[bios_settings.BiosSetting]:
    """Cached rows as the drivers' value type."""
    return [bios_settings.BiosSetting(
        name=row.name, value=row.value, attribute_type=row.attribute_type,
        allowable_values=(tuple(row.allowable_values)
                          if row.allowable_values is not None else None),
        lower_bound=row.lower_bound, upper_bound=row.upper_bound,
        min_length=row.min_length, max_length=row.max_length,
        read_only=row.read_only, reset_required=row.reset_required,
        unique=row.unique) for row in rows]


def replace_settings(node_id: int,
                     settings: Sequence[bios_settings.BiosSetting]
                     ) -> tuple[int, int, int]:
    """Make the cache of ``node_id`` hold exactly ``settings``.

    :returns: how many rows were ``(added, changed, deleted)``.
    """
    wanted = {setting.name: setting.as_row() for setting in settings}
    added = changed = 0
    with session_scope(writer=True) as session:
        rows = {row.name: row for row in session.scalars(
            sa.select(models.BiosSetting).where(
                models.BiosSetting.node_id == node_id))}
        stale = [row for name, row in rows.items() if name not in wanted]
        for row in stale:
            session.delete(row)
        for name, values in wanted.items():
            if name not in rows:
                session.add(models.BiosSetting(node_id=node_id, **values))
                added += 1
                continue
            row = rows[name]
            if any(getattr(row, column) != values[column]
                   for column in _VALUE_COLUMNS):
                for column in _VALUE_COLUMNS:
                    setattr(row, column, values[column])
                changed += 1
    return added, changed, len(stale)
