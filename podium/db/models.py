"""SQLAlchemy models: nodes, ports, conductors, node history, the
cached BIOS settings and firmware versions of nodes, batches, and the
last BMC reset of each conductor group.

Column names follow Ironic's so that an operator who knows one database
reads the other. JSON columns hold dicts; they are replaced, never
mutated in place, so SQLAlchemy sees every change.
"""

import datetime
from typing import Any, cast

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
    select,
)
from sqlalchemy.dialects import mysql
from sqlalchemy.orm import (
    DeclarativeBase,
    Mapped,
    column_property,
    mapped_column,
)

from podium.common import masking
from podium.db import encryption


def utcnow() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


class UTCDateTime(TypeDecorator[datetime.datetime]):
    """A timestamp stored as naive UTC and read back as aware UTC.

    SQLite and MySQL keep no time zone; storing naive UTC everywhere and
    tagging it on the way out gives the same value on every backend.
    MySQL's DATETIME drops fractions of a second unless asked to keep
    them; without them, heartbeats and sort ties would differ there.
    """

    impl = DateTime
    cache_ok = True

    def load_dialect_impl(self, dialect: Any) -> Any:
        if dialect.name == 'mysql':
            return dialect.type_descriptor(mysql.DATETIME(fsp=6))
        return dialect.type_descriptor(DateTime())

    def process_bind_param(self, value: datetime.datetime | None,
                           dialect: Any) -> datetime.datetime | None:
        if value is not None and value.tzinfo is not None:
            value = value.astimezone(datetime.UTC).replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime.datetime | None,
                             dialect: Any) -> datetime.datetime | None:
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=datetime.UTC)
        return value


class MaskedText(TypeDecorator[str]):
    """Free text that may quote a secret (an error from a BMC, a
    history event): masked on every write, whichever code path writes it,
    so the database never holds what no output may show."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: str | None,
                           dialect: Any) -> str | None:
        return masking.mask_text(value) if value else value


class Base(DeclarativeBase):
    """Base of Podium's models."""

    def as_dict(self) -> dict[str, Any]:
        return {c.name: getattr(self, c.key)
                for c in self.__table__.columns}


class TimestampMixin:
    created_at: Mapped[datetime.datetime] = mapped_column(
        UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime.datetime | None] = mapped_column(
        UTCDateTime(), onupdate=utcnow, nullable=True)


class Node(TimestampMixin, Base):
    """One physical server and what Podium knows about it."""

    __tablename__ = 'nodes'
    __table_args__ = (
        # Named as the migrations name them, so that a schema made by
        # create_schema and one made by migrations can be altered alike.
        UniqueConstraint('uuid', name='uniq_nodes0uuid'),
        UniqueConstraint('name', name='uniq_nodes0name'),
        Index('nodes_reservation_idx', 'reservation'),
        Index('nodes_driver_idx', 'driver'),
        Index('nodes_conductor_group_idx', 'conductor_group'),
        Index('nodes_provision_state_idx', 'provision_state'),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uuid: Mapped[str] = mapped_column(String(36))
    name: Mapped[str | None] = mapped_column(String(255))
    description: Mapped[str | None] = mapped_column(Text)
    driver: Mapped[str] = mapped_column(String(255))
    driver_info: Mapped[dict[str, Any]] = mapped_column(
        encryption.SecretJSON(), default=dict)
    driver_internal_info: Mapped[dict[str, Any]] = mapped_column(
        JSON, default=dict)
    properties: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    extra: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    instance_uuid: Mapped[str | None] = mapped_column(String(36))
    instance_info: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    resource_class: Mapped[str | None] = mapped_column(String(80))
    owner: Mapped[str | None] = mapped_column(String(255))
    power_interface: Mapped[str | None] = mapped_column(String(255))
    management_interface: Mapped[str | None] = mapped_column(String(255))
    inspect_interface: Mapped[str | None] = mapped_column(String(255))
    bios_interface: Mapped[str | None] = mapped_column(String(255))
    #: The boot mode (``uefi``, ``bios``) and secure boot state the BMC
    #: last reported; None until read.
    boot_mode: Mapped[str | None] = mapped_column(String(16))
    secure_boot: Mapped[bool | None] = mapped_column(Boolean)
    boot_interface: Mapped[str | None] = mapped_column(String(255))
    deploy_interface: Mapped[str | None] = mapped_column(String(255))
    power_state: Mapped[str | None] = mapped_column(String(15))
    target_power_state: Mapped[str | None] = mapped_column(String(15))
    provision_state: Mapped[str] = mapped_column(String(15),
                                                 default='enroll')
    target_provision_state: Mapped[str | None] = mapped_column(String(15))
    provision_updated_at: Mapped[datetime.datetime | None] = mapped_column(
        UTCDateTime(), nullable=True)
    inspection_started_at: Mapped[datetime.datetime | None] = mapped_column(
        UTCDateTime(), nullable=True)
    inspection_finished_at: Mapped[datetime.datetime | None] = \
        mapped_column(UTCDateTime(), nullable=True)
    clean_step: Mapped[dict[str, Any] | None] = mapped_column(JSON,
                                                              nullable=True)
    deploy_step: Mapped[dict[str, Any] | None] = mapped_column(
        JSON, nullable=True)
    maintenance: Mapped[bool] = mapped_column(Boolean, default=False)
    maintenance_reason: Mapped[str | None] = mapped_column(Text)
    fault: Mapped[str | None] = mapped_column(String(255))
    reservation: Mapped[str | None] = mapped_column(String(255))
    conductor_group: Mapped[str] = mapped_column(String(255), default='')
    last_error: Mapped[str | None] = mapped_column(MaskedText())
    #: What the operator wants the hardware to keep, and the settings
    #: the BMC reports otherwise (:mod:`podium.common.intended`); NULL
    #: when there are none, which power sync tests for nothing more.
    intended_settings: Mapped[dict[str, Any] | None] = mapped_column(
        JSON(none_as_null=True), nullable=True)
    drift: Mapped[list[dict[str, Any]] | None] = mapped_column(
        JSON(none_as_null=True), nullable=True)

    @property
    def ident(self) -> str:
        """What log lines call the node: its name, else its UUID."""
        return self.name or self.uuid


class Conductor(TimestampMixin, Base):
    """A registered conductor; ``updated_at`` is its last heartbeat."""

    __tablename__ = 'conductors'
    __table_args__ = (
        UniqueConstraint('hostname', name='uniq_conductors0hostname'),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    hostname: Mapped[str] = mapped_column(String(255))
    conductor_group: Mapped[str] = mapped_column(String(255), default='')
    drivers: Mapped[list[str]] = mapped_column(JSON, default=list)
    online: Mapped[bool] = mapped_column(Boolean, default=True)


class NodeHistory(Base):
    """An event worth keeping about a node: faults, out-of-band changes,
    actions and who asked for them; ``state`` and
    ``target_provision_state`` are the node's when it was recorded."""

    __tablename__ = 'node_history'
    __table_args__ = (
        UniqueConstraint('uuid', name='uniq_node_history0uuid'),
        Index('history_node_id_idx', 'node_id'),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uuid: Mapped[str] = mapped_column(String(36))
    node_id: Mapped[int] = mapped_column(
        Integer, ForeignKey('nodes.id', ondelete='CASCADE'))
    event: Mapped[str] = mapped_column(MaskedText())
    event_type: Mapped[str] = mapped_column(String(255))
    severity: Mapped[str] = mapped_column(String(255))
    conductor: Mapped[str | None] = mapped_column(String(255))
    user: Mapped[str | None] = mapped_column(String(255))
    project: Mapped[str | None] = mapped_column(String(80))
    state: Mapped[str | None] = mapped_column(String(255))
    target_provision_state: Mapped[str | None] = mapped_column(String(255))
    duration_seconds: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime.datetime] = mapped_column(
        UTCDateTime(), default=utcnow)


class Port(TimestampMixin, Base):
    """A network interface of a node, known by its MAC address."""

    __tablename__ = 'ports'
    __table_args__ = (
        UniqueConstraint('uuid', name='uniq_ports0uuid'),
        UniqueConstraint('address', name='uniq_ports0address'),
        UniqueConstraint('name', name='uniq_ports0name'),
        Index('ports_node_id_idx', 'node_id'),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uuid: Mapped[str] = mapped_column(String(36))
    # Lower-case colon-separated; 18 characters as in Ironic.
    address: Mapped[str] = mapped_column(String(18))
    node_id: Mapped[int] = mapped_column(
        Integer, ForeignKey('nodes.id', ondelete='CASCADE'))
    name: Mapped[str | None] = mapped_column(String(255))
    description: Mapped[str | None] = mapped_column(String(255))
    extra: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    internal_info: Mapped[dict[str, Any]] = mapped_column(JSON,
                                                          default=dict)
    local_link_connection: Mapped[dict[str, Any]] = mapped_column(
        JSON, default=dict)
    pxe_enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    physical_network: Mapped[str | None] = mapped_column(String(64))
    is_smartnic: Mapped[bool] = mapped_column(Boolean, default=False)
    vendor: Mapped[str | None] = mapped_column(String(32))
    category: Mapped[str | None] = mapped_column(String(80))
    # The API names a port's node by UUID; loaded with the port in the
    # same query, so a list of ports costs one statement.
    node_uuid: Mapped[str] = column_property(
        select(Node.uuid).where(Node.id == node_id).scalar_subquery())


class BiosSetting(TimestampMixin, Base):
    """One BIOS attribute of a node as the BMC last reported it, with
    what its attribute registry says of it (None where the BMC serves no
    registry). A cache: refreshed by inspection, cleaning and after a
    BIOS step, never the source of truth."""

    __tablename__ = 'bios_settings'
    __table_args__ = (
        UniqueConstraint('node_id', 'name',
                         name='uniq_bios_settings0node_id0name'),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    node_id: Mapped[int] = mapped_column(
        Integer, ForeignKey('nodes.id', ondelete='CASCADE'))
    name: Mapped[str] = mapped_column(String(255))
    value: Mapped[str | None] = mapped_column(Text)
    attribute_type: Mapped[str | None] = mapped_column(String(255))
    allowable_values: Mapped[list[str] | None] = mapped_column(
        JSON, nullable=True)
    lower_bound: Mapped[int | None] = mapped_column(Integer)
    upper_bound: Mapped[int | None] = mapped_column(Integer)
    min_length: Mapped[int | None] = mapped_column(Integer)
    max_length: Mapped[int | None] = mapped_column(Integer)
    read_only: Mapped[bool | None] = mapped_column(Boolean)
    reset_required: Mapped[bool | None] = mapped_column(Boolean)
    unique: Mapped[bool | None] = mapped_column(Boolean)


class Batch(TimestampMixin, Base):
    """One fleet action over many nodes (``/v1/podium/batches``): what
    to do, the rollout policy, and which conductor runs it.

    ``run`` counts the runs (1, then one more per resume or retry); a
    node's result belongs to the run that recorded it, and the failure
    threshold of a run counts only its own results.
    """

    __tablename__ = 'batches'
    __table_args__ = (
        UniqueConstraint('uuid', name='uniq_batches0uuid'),
        Index('batches_state_idx', 'state'),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uuid: Mapped[str] = mapped_column(String(36))
    action: Mapped[str] = mapped_column(String(32))
    args: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    policy: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    state: Mapped[str] = mapped_column(String(16))
    run: Mapped[int] = mapped_column(Integer, default=1)
    conductor: Mapped[str | None] = mapped_column(String(255))
    user: Mapped[str | None] = mapped_column(String(255))
    last_error: Mapped[str | None] = mapped_column(MaskedText())


class BatchNode(Base):
    """One node of a batch and its result, in request order (``id``)."""

    __tablename__ = 'batch_nodes'
    __table_args__ = (
        Index('batch_nodes_batch_id_idx', 'batch_id', 'state'),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    batch_id: Mapped[int] = mapped_column(
        Integer, ForeignKey('batches.id', ondelete='CASCADE'))
    # No foreign key: a node deleted later keeps its result here.
    node_id: Mapped[int] = mapped_column(Integer)
    node_uuid: Mapped[str] = mapped_column(String(36))
    node_name: Mapped[str | None] = mapped_column(String(255))
    conductor_group: Mapped[str] = mapped_column(String(255), default='')
    state: Mapped[str] = mapped_column(String(16))
    run: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(MaskedText())
    started_at: Mapped[datetime.datetime | None] = mapped_column(
        UTCDateTime(), nullable=True)
    finished_at: Mapped[datetime.datetime | None] = mapped_column(
        UTCDateTime(), nullable=True)


class FirmwareComponent(TimestampMixin, Base):
    """The firmware version of one component of a node (``bios``,
    ``bmc``) as inspection last found it; ``initial_version`` is the one
    first seen (Ironic's ``firmware_information`` table)."""

    __tablename__ = 'firmware_information'
    __table_args__ = (
        UniqueConstraint('node_id', 'component',
                         name='uniq_firmware_information0node_id0component'),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    node_id: Mapped[int] = mapped_column(
        Integer, ForeignKey('nodes.id', ondelete='CASCADE'))
    component: Mapped[str] = mapped_column(String(255))
    initial_version: Mapped[str] = mapped_column(String(255))
    current_version: Mapped[str] = mapped_column(String(255))
    last_version_flashed: Mapped[str | None] = mapped_column(String(255))


class BmcReset(Base):
    """When the BMC recovery ladder last reset a BMC in one conductor
    group (lower-cased), whichever conductor did: the group-wide limit
    ``[conductor] bmc_reset_interval`` is taken against this row."""

    __tablename__ = 'bmc_resets'
    __table_args__ = (
        UniqueConstraint('conductor_group',
                         name='uniq_bmc_resets0conductor_group'),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    conductor_group: Mapped[str] = mapped_column(String(255))
    last_reset: Mapped[datetime.datetime] = mapped_column(UTCDateTime())


#: The nodes table, for the Core statements of the hot write paths
#: (locks, outcome writes): no ORM unit of work, a fraction of its CPU.
NODE_TABLE = cast(Table, Node.__table__)
