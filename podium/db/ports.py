"""The queries on ports: create, read, list, update, delete.

A port belongs to one node. Changing or deleting a port takes the same
care as changing its node: it happens only while no action holds the
node's lock, and a caller's rule (say, no MAC change on a deployed node)
is checked against the node row locked in the same transaction, so
what is checked is what is written against.
"""

from collections.abc import Callable, Sequence
from typing import Any

import sqlalchemy as sa
from oslo_utils import uuidutils
from sqlalchemy import exc as sa_exc

from podium.common import exceptions
from podium.db import models, paging
from podium.db.engine import session_scope

#: Columns a port list may be sorted by (Ironic refuses the dict ones).
SORT_KEYS = ('id', 'uuid', 'address', 'name', 'pxe_enabled',
             'physical_network', 'is_smartnic', 'vendor', 'category',
             'created_at', 'updated_at')

#: Checks a change against the locked node row and the port as stored;
#: raises to refuse it.
Check = Callable[[models.Node, models.Port], None]


def _port_ident_clause(port_ident: str) -> sa.ColumnElement[bool]:
    if uuidutils.is_uuid_like(port_ident):
        return models.Port.uuid == port_ident
    return models.Port.name == port_ident


def _integrity_to_conflict(exc: sa_exc.IntegrityError,
                           values: dict[str, Any]) -> Exception:
    """The conflict a unique constraint (or foreign key) reported."""
    text = str(exc.orig).lower()
    if 'address' in text:
        return exceptions.MACAlreadyExists(mac=values.get('address'))
    if 'name' in text and values.get('name'):
        return exceptions.PortDuplicateName(name=values['name'])
    if 'uuid' in text:
        return exceptions.PortAlreadyExists(uuid=values.get('uuid'))
    if 'foreign key' in text:
        return exceptions.NodeNotFound(node=values.get('node_id'))
    return exceptions.Conflict(reason=str(exc.orig))


def _first_duplicate(rows: Sequence[dict[str, Any]]) -> Exception | None:
    """A conflict between the rows themselves, named precisely.

    A multi-row INSERT reports only which constraint failed, not which
    value; checking the batch first names the duplicate MAC or name.
    """
    for key, error in (('address', exceptions.MACAlreadyExists),
                       ('name', exceptions.PortDuplicateName),
                       ('uuid', exceptions.PortAlreadyExists)):
        seen: set[Any] = set()
        for values in rows:
            value = values.get(key)
            if value is None:
                continue
            if value in seen:
                arg = {'address': 'mac'}.get(key, key)
                return error(**{arg: value})
            seen.add(value)
    return None


def _existing_conflict(session: Any, rows: Sequence[dict[str, Any]]
                       ) -> Exception | None:
    """The first row whose MAC, name or UUID another port already has."""
    port = models.Port
    for key, column, error in (
            ('address', port.address, exceptions.MACAlreadyExists),
            ('name', port.name, exceptions.PortDuplicateName),
            ('uuid', port.uuid, exceptions.PortAlreadyExists)):
        wanted = [values[key] for values in rows
                  if values.get(key) is not None]
        if not wanted:
            continue
        taken = session.scalars(sa.select(column).where(
            column.in_(wanted)).limit(1)).first()
        if taken is not None:
            arg = {'address': 'mac'}.get(key, key)
            return error(**{arg: taken})
    return None


def create_ports(rows: Sequence[dict[str, Any]]) -> list[models.Port]:
    """Insert ports (each with ``node_id``) in one transaction: all or
    none. ``uuid`` is generated when not given.

    :raises MACAlreadyExists, PortDuplicateName, PortAlreadyExists: a
        value another port (or another row) has.
    :raises NodeNotFound: a ``node_id`` names no node.
    """
    rows = [dict(values) for values in rows]
    for values in rows:
        values.setdefault('uuid', uuidutils.generate_uuid())
    duplicate = _first_duplicate(rows)
    if duplicate is not None:
        raise duplicate
    ports = [models.Port(**values) for values in rows]
    try:
        with session_scope(writer=True) as session:
            conflict = _existing_conflict(session, rows)
            if conflict is not None:
                raise conflict
            node_ids = {values['node_id'] for values in rows}
            found = set(session.scalars(sa.select(models.Node.id).where(
                models.Node.id.in_(node_ids))))
            if found != node_ids:
                raise exceptions.NodeNotFound(
                    node=min(node_ids - found))
            session.add_all(ports)
            session.flush()
            for port in ports:
                session.refresh(port)
    except sa_exc.IntegrityError as exc:
        # Lost a race with a concurrent insert of the same value.
        if len(rows) == 1:
            raise _integrity_to_conflict(exc, rows[0]) from None
        raise exceptions.Conflict(reason=str(exc.orig)) from None
    return ports


def create_port(values: dict[str, Any]) -> models.Port:
    """Insert one port; see :func:`create_ports`."""
    return create_ports([values])[0]


def get_port(port_ident: str) -> models.Port:
    """A port by UUID or name.

    :raises PortNotFound:
    """
    with session_scope() as session:
        port = session.scalars(sa.select(models.Port).where(
            _port_ident_clause(port_ident))).first()
    if port is None:
        raise exceptions.PortNotFound(port=port_ident)
    return port


def list_ports(node_id: int | None = None, address: str | None = None,
               limit: int | None = None, marker: str | None = None,
               sort_key: str = 'id', sort_dir: str = 'asc'
               ) -> list[models.Port]:
    """Ports, of one node or with one MAC when asked, a page after
    ``marker`` (a port UUID).

    :raises MarkerNotFound, InvalidParameterValue:
    """
    query = sa.select(models.Port)
    if node_id is not None:
        query = query.where(models.Port.node_id == node_id)
    if address is not None:
        query = query.where(models.Port.address == address)
    with session_scope() as session:
        query = paging.page(session, query, models.Port, SORT_KEYS, limit,
                            marker, sort_key, sort_dir)
        return list(session.scalars(query))


def _locked_for_change(session: Any, port_ident: str
                       ) -> tuple[models.Port, models.Node]:
    """The port and its node, the node row locked; refuses a node an
    action holds."""
    port = session.scalars(sa.select(models.Port).where(
        _port_ident_clause(port_ident))).first()
    if port is None:
        raise exceptions.PortNotFound(port=port_ident)
    node = session.scalars(sa.select(models.Node).where(
        models.Node.id == port.node_id).with_for_update()).one()
    if node.reservation is not None:
        raise exceptions.NodeLocked(node=node.ident, host=node.reservation)
    return port, node


def update_port(port_ident: str, values: dict[str, Any],
                check: Check | None = None) -> models.Port:
    """Change a port while its node is unlocked; returns it as stored.

    :param check: called with the locked node and the stored port
        before anything is written.
    :raises PortNotFound, NodeLocked, MACAlreadyExists,
        PortDuplicateName: and whatever ``check`` raises.
    """
    if 'uuid' in values or 'id' in values:
        raise exceptions.InvalidParameterValue(
            err='A port\'s uuid and id cannot be changed.')
    try:
        with session_scope(writer=True) as session:
            port, node = _locked_for_change(session, port_ident)
            if check is not None:
                check(node, port)
            if values.get('node_id', port.node_id) != port.node_id:
                # Moving a port: the new node must be unlocked too.
                target = session.scalars(sa.select(models.Node).where(
                    models.Node.id == values['node_id']
                ).with_for_update()).first()
                if target is None:
                    raise exceptions.NodeNotFound(node=values['node_id'])
                if target.reservation is not None:
                    raise exceptions.NodeLocked(node=target.ident,
                                                host=target.reservation)
            for key, value in values.items():
                setattr(port, key, value)
            session.flush()
            session.refresh(port)
    except sa_exc.IntegrityError as exc:
        raise _integrity_to_conflict(exc, values) from None
    return port


def destroy_port(port_ident: str, check: Check | None = None) -> None:
    """Delete a port while its node is unlocked.

    :raises PortNotFound, NodeLocked: and whatever ``check`` raises.
    """
    with session_scope(writer=True) as session:
        port, node = _locked_for_change(session, port_ident)
        if check is not None:
            check(node, port)
        session.delete(port)


def destroy_node_ports(session: Any, node_id: int) -> None:
    """Delete a node's ports inside the caller's transaction (the node
    is being deleted)."""
    session.execute(sa.delete(models.Port)
                    .where(models.Port.node_id == node_id))
