"""Firmware versions of node components: read them, and record what an
inspection found.

Recording keeps each component's ``initial_version`` (the first version
seen) and updates ``current_version``; a component inspection no longer
reports is left as it was, since a BMC that failed to say is not a
component that disappeared.
"""

from collections.abc import Mapping

import sqlalchemy as sa

from podium.db import models
from podium.db.engine import session_scope


def list_components(node_id: int) -> list[models.FirmwareComponent]:
    """A node's components, by name."""
    with session_scope() as session:
        return list(session.scalars(
            sa.select(models.FirmwareComponent)
            .where(models.FirmwareComponent.node_id == node_id)
            .order_by(models.FirmwareComponent.component)))


def record_versions(node_id: int, versions: Mapping[str, str]) -> int:
    """Store ``{component: version}``; returns how many rows changed."""
    changed = 0
    with session_scope(writer=True) as session:
        rows = {row.component: row for row in session.scalars(
            sa.select(models.FirmwareComponent).where(
                models.FirmwareComponent.node_id == node_id))}
        for component, version in versions.items():
            if component not in rows:
                session.add(models.FirmwareComponent(
                    node_id=node_id, component=component,
                    initial_version=version, current_version=version))
                changed += 1
            elif rows[component].current_version != version:
                rows[component].current_version = version
                changed += 1
    return changed
