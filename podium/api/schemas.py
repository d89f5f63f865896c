"""Request bodies, validated by pydantic before a route runs.

Unknown attributes are refused (``extra='forbid'``) and string lengths
match the database columns, so a request either passes here or gets a
400 naming the field; it never reaches the database half-valid.
"""

from typing import Annotated, Any, Literal

from oslo_utils import uuidutils
from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from podium.common import intended, names, states


def _uuid_like(value: str | None) -> str | None:
    if value is not None and not uuidutils.is_uuid_like(value):
        raise ValueError(f'"{value}" is not a valid UUID')
    return value


def _logical_name(value: str | None) -> str | None:
    problem = None if value is None else names.name_problem(value)
    if problem:
        raise ValueError(problem)
    return value


UUIDStr = Annotated[str, Field(max_length=36), AfterValidator(_uuid_like)]
NodeName = Annotated[str, AfterValidator(_logical_name)]


def _port_name(value: str | None) -> str | None:
    # A name that looks like a UUID would make /v1/ports/{id} ambiguous.
    problem = None if value is None else names.name_problem(value, 'port')
    if problem:
        raise ValueError(problem)
    return value


#: A name a port can be addressed by: the same rule as a node's name.
LogicalName = Annotated[str, AfterValidator(_port_name)]
InterfaceName = Annotated[str, Field(min_length=1, max_length=255)]
ConductorGroup = Annotated[
    str, Field(max_length=255, pattern=r'^[A-Za-z0-9_\-.]*$')]


class _Strict(BaseModel):
    model_config = ConfigDict(extra='forbid')


class NodeFields(_Strict):
    """The node attributes a client may set, at creation or by PATCH."""

    name: NodeName | None = None
    description: Annotated[str, Field(max_length=4096)] | None = None
    driver: Annotated[str, Field(min_length=1, max_length=255)]
    driver_info: dict[str, Any] = Field(default_factory=dict)
    properties: dict[str, Any] = Field(default_factory=dict)
    extra: dict[str, Any] = Field(default_factory=dict)
    instance_uuid: UUIDStr | None = None
    instance_info: dict[str, Any] = Field(default_factory=dict)
    resource_class: Annotated[str, Field(max_length=80)] | None = None
    owner: Annotated[str, Field(max_length=255)] | None = None
    conductor_group: ConductorGroup = ''
    power_interface: InterfaceName | None = None
    management_interface: InterfaceName | None = None
    inspect_interface: InterfaceName | None = None
    bios_interface: InterfaceName | None = None
    boot_interface: InterfaceName | None = None
    deploy_interface: InterfaceName | None = None
    #: A Podium extension: what the hardware should keep
    #: (:mod:`podium.common.intended`).
    intended_settings: Annotated[
        dict[str, Any] | None,
        AfterValidator(intended.normalise)] = None


class NodeCreate(NodeFields):
    """``POST /v1/nodes``."""

    uuid: UUIDStr | None = None


#: Attributes a JSON patch may change.
PATCHABLE = frozenset(NodeFields.model_fields)

class PatchOperation(_Strict):
    """One JSON-patch operation; Ironic accepts these three."""

    op: Literal['add', 'replace', 'remove']
    path: Annotated[str, Field(pattern=r'^/.+')]
    value: Any = None


class PortFields(_Strict):
    """The port attributes a client may set, at creation or by PATCH.

    ``address`` and ``local_link_connection`` are checked and normalised
    by :mod:`podium.common.network` afterwards, for Ironic's messages.
    """

    address: Annotated[str, Field(min_length=1, max_length=64)]
    node_uuid: UUIDStr | None = None
    name: LogicalName | None = None
    description: Annotated[str, Field(max_length=255)] | None = None
    extra: dict[str, Any] | None = Field(default_factory=dict)
    local_link_connection: dict[str, Any] | None = Field(
        default_factory=dict)
    pxe_enabled: bool = True
    physical_network: Annotated[str, Field(max_length=64)] | None = None
    is_smartnic: bool = False
    vendor: Annotated[str, Field(max_length=32)] | None = None
    category: Annotated[str, Field(max_length=80)] | None = None
    portgroup_uuid: UUIDStr | None = None


class PortCreate(PortFields):
    """``POST /v1/ports``: the node by ``node_uuid`` or ``node_ident``
    (a UUID or name)."""

    uuid: UUIDStr | None = None
    node_ident: Annotated[str, Field(min_length=1, max_length=255)] | \
        None = None


class PowerRequest(_Strict):
    """``PUT /v1/nodes/{id}/states/power``."""

    target: Literal[states.POWER_TARGETS]  # type: ignore[valid-type]
    timeout: Annotated[int, Field(gt=0, le=86400)] | None = None


class BootModeRequest(_Strict):
    """``PUT /v1/nodes/{id}/states/boot_mode``."""

    target: Literal[states.BOOT_MODES]  # type: ignore[valid-type]


class SecureBootRequest(_Strict):
    """``PUT /v1/nodes/{id}/states/secure_boot``."""

    target: bool


class BootDeviceRequest(_Strict):
    """``PUT /v1/nodes/{id}/management/boot_device``."""

    boot_device: Annotated[str, Field(min_length=1, max_length=64)]
    persistent: bool = False


class MaintenanceRequest(_Strict):
    """``PUT /v1/nodes/{id}/maintenance``."""

    reason: Annotated[str, Field(max_length=4096)] | None = None


class ProvisionRequest(_Strict):
    """``PUT /v1/nodes/{id}/states/provision``.

    The target is checked by the conductor against the state machine,
    so that an unknown target and a target the node's state does not
    allow get the same Ironic message naming node and state.
    """

    target: Annotated[str, Field(min_length=1, max_length=64)]
    clean_steps: list[dict[str, Any]] | None = None


AgentField = Annotated[str, Field(max_length=4096)]


class HeartbeatRequest(_Strict):
    """``POST /v1/heartbeat/{node}``: Ironic's ramdisk heartbeat, as the
    kickstart of Ironic's anaconda deploy sends it (``callback_url``
    empty: the installer cannot be called back)."""

    callback_url: Annotated[str, Field(max_length=2048)]
    agent_version: AgentField | None = None
    agent_token: AgentField | None = None
    agent_verify_ca: AgentField | None = None
    agent_status: Literal['start', 'end', 'error'] | None = None
    agent_status_message: AgentField | None = None


class BatchPolicy(_Strict):
    """The rollout policy of a batch; see ``podium.conductor.batches``."""

    concurrency: Annotated[int, Field(ge=1, le=10000)] | None = None
    canary: Annotated[int, Field(ge=0, le=10000)] = 0
    max_failure_percentage: Annotated[int, Field(ge=0, le=100)] = 100


class BatchRequest(_Strict):
    """``POST /v1/podium/batches``: an action and its ``args``, on the
    listed ``nodes`` or on those the ``filters`` match."""

    action: Annotated[str, Field(min_length=1, max_length=32)]
    args: dict[str, Any] = Field(default_factory=dict)
    nodes: list[Annotated[str, Field(min_length=1, max_length=255)]] | \
        None = None
    filters: dict[str, Any] | None = None
    policy: BatchPolicy = Field(default_factory=BatchPolicy)


class VmediaRequest(_Strict):
    """``POST /v1/nodes/{id}/vmedia`` (1.89), as Ironic's schema: the
    values are checked by :mod:`podium.common.vmedia`."""

    device_type: Annotated[str, Field(max_length=64)]
    image_url: Annotated[str, Field(max_length=2048)]
    image_download_source: Annotated[str, Field(max_length=64)] | None = None
