"""Driver interfaces: what a hardware driver implements.

A hardware type (``podium.hardware.types`` entry point) names the
interfaces it supports; each interface (``podium.hardware.interfaces.<kind>``
entry point) is a small class implementing one of the abstract bases
below. Interfaces are instantiated once per conductor process and shared
by every node and thread, so they keep no per-node state on ``self``
other than thread-safe caches.

Every method receives a :class:`Task`: the node (read-only view) and the
call's deadline. A driver bounds each BMC call by ``task.timeout``; the
conductor's safety net only stops *waiting* for a driver that ignores it,
it cannot free the worker thread the driver occupies.
"""

import abc
import dataclasses
from collections.abc import Callable, Hashable, Mapping, Sequence
from typing import Any, ClassVar, Protocol

from podium.common import exceptions, states
from podium.db import bios as db_bios
from podium.drivers import bios_settings, boot_order, sensor_readings, steps


class NodeView(Protocol):
    """What drivers may read of a node (ORM object or light row)."""

    id: int
    uuid: str
    name: str | None
    driver: str
    driver_info: dict[str, Any]
    driver_internal_info: dict[str, Any]
    power_state: str | None


class Task(Protocol):
    """The context of one driver call.

    ``node`` is the node; ``timeout`` the seconds the call may take in
    all; ``shared`` whether the caller holds only a shared lock (then the
    driver must not change the hardware).
    """

    node: NodeView
    timeout: float
    shared: bool


@dataclasses.dataclass(frozen=True)
class DriverInfoProperty:
    """One ``driver_info`` key an interface understands."""

    description: str
    required: bool = False


class PowerReadFuture(Protocol):
    """What :meth:`PowerInterface.start_power_read` returns: the part
    of ``concurrent.futures.Future`` power sync uses (a
    ``concurrent.futures.Future`` is one;
    :class:`podium.drivers.modules.read_future.ReadFuture` is a cheaper
    one)."""

    def add_done_callback(self, fn: Callable[[Any], Any]) -> None: ...

    def cancel(self) -> bool: ...

    def cancelled(self) -> bool: ...

    def exception(self, timeout: float | None = None
                  ) -> BaseException | None: ...

    def result(self, timeout: float | None = None) -> Any: ...


def request_sent(task: Task) -> None:
    """Tell whoever started ``task``'s non-blocking read that its
    request is on its way (:meth:`PowerInterface.start_power_read`):
    from then on the read only waits, which costs its caller no CPU.
    Does nothing for a caller that did not ask (no ``sent`` callable on
    the task)."""
    sent: Callable[[], None] | None = getattr(task, 'sent', None)
    if sent is not None:
        sent()


def observed_settings(task: Task) -> dict[str, Any] | None:
    """Where a power read puts the settings it sees on the way (see
    ``PowerInterface.observed_settings``); None when nobody asked."""
    observed: dict[str, Any] | None = getattr(task, 'observed', None)
    return observed


def node_label(node: NodeView) -> str:
    """How messages name a node: its name, else its UUID."""
    return node.name or node.uuid


class BaseInterface(abc.ABC):
    """Common behaviour of every interface kind."""

    #: The kind: power, management, inspect.
    interface_type: ClassVar[str]

    #: ``driver_info`` keys this interface reads.
    properties: ClassVar[Mapping[str, DriverInfoProperty]] = {}

    def get_properties(self) -> Mapping[str, DriverInfoProperty]:
        return self.properties

    def validate(self, node: NodeView) -> None:
        """Check ``node.driver_info`` for this interface.

        The default checks that required keys are present and not empty;
        drivers extend it to check formats.

        :raises MissingParameterValue: naming every missing key.
        :raises InvalidParameterValue: naming the malformed key and why.
        """
        info = node.driver_info or {}
        missing = sorted(key for key, prop in self.get_properties().items()
                         if prop.required and info.get(key) in (None, ''))
        if missing:
            raise exceptions.MissingParameterValue(
                err=f'Node {node_label(node)}: driver_info is missing '
                    f'required key(s) for the {self.interface_type} '
                    f'interface: {", ".join(missing)}.')

    def validate_step_args(self, node: NodeView, step: str,
                           args: Mapping[str, Any]) -> None:
        """Check the arguments of one of this interface's clean steps
        before cleaning starts (in the request, before any BMC call);
        the default accepts what :mod:`steps` already checked.

        :raises InvalidParameterValue: naming what is wrong.
        """
        return None


class PowerInterface(BaseInterface):
    """Reads and changes a node's power state."""

    interface_type = 'power'

    #: Intended settings (:mod:`podium.common.intended` names) that a
    #: power read sees in the same BMC answer. For a node with intended
    #: settings, power sync gives its read task an ``observed`` dict;
    #: a driver listing a setting here puts that setting's current value
    #: in it (see :func:`observed_settings`), at no extra request. Drift
    #: checks read the settings not listed here on their own, slower
    #: periodic. A task without ``observed`` (every other caller, and
    #: nodes without intended settings) costs nothing.
    observed_settings: ClassVar[frozenset[str]] = frozenset()

    @abc.abstractmethod
    def get_power_state(self, task: Task) -> str:
        """Return ``states.POWER_ON`` or ``states.POWER_OFF``.

        :raises DriverError: (or a subclass) when the BMC cannot say.
        """

    @abc.abstractmethod
    def set_power_state(self, task: Task, power_state: str,
                        timeout: float | None = None) -> None:
        """Drive the node to ``power_state`` (one of ``POWER_TARGETS``).

        :param timeout: seconds to wait for the state to be reached, for
            the targets that support it; None means the driver default.
        """

    @abc.abstractmethod
    def reboot(self, task: Task, timeout: float | None = None) -> None:
        """Hard-reboot the node and leave it powered on."""

    def get_supported_power_states(self, task: Task) -> list[str]:
        return [states.POWER_ON, states.POWER_OFF, states.REBOOT]

    @steps.clean_step(priority=10)
    def power_off(self, task: Task) -> None:
        """Clean step: leave the node powered off, so that a cleaned node
        draws no power and boots afresh when it is deployed."""
        self.set_power_state(task, states.POWER_OFF)

    def batch_key(self, node: NodeView) -> Hashable | None:
        """Nodes with the same non-None key may be read in one batch.

        Power sync groups nodes by this key and calls
        :meth:`get_power_states` once per group. The default (None)
        reads every node on its own.
        """
        return None

    def bmc_endpoint(self, node: NodeView) -> str | None:
        """The ``host:port`` of the BMC answering for ``node``, the key
        of its health record (:mod:`podium.conductor.bmc_health`); None
        when the node has no BMC of its own to track (the default) or
        its ``driver_info`` does not parse."""
        return None

    def open_sessions(self, endpoint: str) -> int | None:
        """Sessions this process holds open at ``endpoint``, when the
        driver keeps any; None when it does not know."""
        return None

    def drop_session(self, node: NodeView) -> None:
        """Forget any session or connection to ``node``'s BMC cached in
        this process, so the next call connects afresh (the first step
        of the BMC recovery ladder). Nothing by default."""

    def get_power_states(self, tasks: Sequence[Task]
                         ) -> dict[int, str | Exception]:
        """Read the power state of several nodes sharing a batch key.

        Returns, by node id, the power state or the error for that node.
        A node left out of the result is read on its own afterwards with
        :meth:`get_power_state`, in parallel with the others and with its
        own timeout; so a batch read that cannot serve some nodes (or
        none: the default) leaves them out rather than reading them one
        after the other under the batch's single timeout.
        """
        return {}

    def start_power_read(self, tasks: Sequence[Task]
                         ) -> PowerReadFuture | None:
        """Start reading ``tasks`` (one node, or nodes sharing a batch
        key) without a thread waiting for the BMC.

        An optional capability, used by power sync with ``[conductor]
        power_read_mode = async``: the future resolves to what
        :meth:`get_power_states` returns (one node's error included as
        its value), each read bounded by its task's timeout. Nodes left
        out of the result are read on the threaded path
        (:meth:`get_power_state`), which is also how a driver declines
        what it cannot serve exactly; None (the default) declines every
        node of the call. Must not block: it is called in power sync's
        dispatching thread. Once a read's request is written, the driver
        calls :func:`request_sent` for its tasks: power sync limits the
        reads still starting (they cost CPU), not the reads waiting.
        """
        return None


def offers_power_read_start(power: PowerInterface) -> bool:
    """Whether ``power`` implements
    :meth:`PowerInterface.start_power_read` at all."""
    return (type(power).start_power_read
            is not PowerInterface.start_power_read)


class ManagementInterface(BaseInterface):
    """Boot device and mode, persistent boot order, NMI and BMC reset."""

    interface_type = 'management'

    def reset_bmc(self, task: Task) -> None:
        """Restart the node's BMC (not the node): the BMC recovery
        ladder's second step. The BMC may stop answering for a while.

        :raises UnsupportedDriverExtension: the driver cannot (default).
        """
        raise exceptions.UnsupportedDriverExtension(
            extension='Resetting the BMC', node=node_label(task.node))

    def get_sensors_data(self, task: Task
                         ) -> list[sensor_readings.SensorReading]:
        """The node's power, temperature, fan and voltage readings, as
        the BMC gives them now (one read, no caching: the conductor
        caches). Only reads; safe under a shared lock.

        :raises UnsupportedDriverExtension: the driver cannot (default),
            or this BMC serves no sensors.
        """
        raise self._unsupported(task, 'Reading sensors')

    def inject_nmi(self, task: Task) -> None:
        """Send a non-maskable interrupt (a diagnostic interrupt) to the
        node, so a hung operating system dumps its state.

        :raises UnsupportedDriverExtension: the driver cannot (default).
        """
        raise self._unsupported(task, 'Injecting an NMI')

    def get_boot_order(self, task: Task) -> list[boot_order.BootOption]:
        """The node's persistent boot order, first option first.

        :raises UnsupportedDriverExtension: the driver cannot (default).
        """
        raise self._unsupported(task, 'Reading the boot order')

    def set_boot_order(self, task: Task, request: boot_order.OrderRequest
                       ) -> list[boot_order.BootOption]:
        """Change the persistent boot order as ``request`` says (devices
        or a NIC's MAC first) and return the order the BMC reports
        afterwards. A device or MAC the node's options do not have is
        refused before anything is changed.

        :raises InvalidParameterValue: naming the unknown device or MAC.
        :raises DriverError: the BMC accepted the order and reports
            another one.
        :raises UnsupportedDriverExtension: the driver cannot (default).
        """
        raise self._unsupported(task, 'Setting the boot order')

    def check_boot_order(self, task: Task, request: boot_order.OrderRequest
                         ) -> boot_order.OrderCheck:
        """Whether the persistent boot order already is what ``request``
        asks for (setting it would change nothing); reads the order,
        changes nothing."""
        return boot_order.check(self.get_boot_order(task), request,
                                node_label(task.node))

    @abc.abstractmethod
    def get_supported_boot_devices(self, task: Task) -> list[str]:
        """Boot devices (``states.BOOT_DEVICES`` names) the node takes."""

    @abc.abstractmethod
    def set_boot_device(self, task: Task, device: str,
                        persistent: bool = False) -> None:
        """Boot from ``device`` next time (every time if persistent)."""

    @abc.abstractmethod
    def get_boot_device(self, task: Task) -> dict[str, Any]:
        """Return ``{'boot_device': str | None, 'persistent': bool | None}``.
        """

    def _unsupported(self, task: Task, what: str) -> Exception:
        return exceptions.UnsupportedDriverExtension(
            extension=what, node=node_label(task.node))

    def get_supported_boot_modes(self, task: Task) -> list[str]:
        """Boot modes (``states.BOOT_MODES``) the node can be set to;
        none by default (the interface cannot set the mode)."""
        return []

    def get_boot_mode(self, task: Task) -> str | None:
        """The node's boot mode, ``uefi`` or ``bios``; None if unknown.
        """
        return None

    def set_boot_mode(self, task: Task, mode: str) -> None:
        """Make the node boot in ``mode`` (``uefi`` or ``bios``).

        :raises UnsupportedDriverExtension: by default.
        """
        raise self._unsupported(task, 'Setting the boot mode')

    def get_secure_boot_state(self, task: Task) -> bool | None:
        """Whether UEFI secure boot is on; None if unknown."""
        return None

    def set_secure_boot_state(self, task: Task, state: bool) -> None:
        """Turn UEFI secure boot on or off.

        :raises UnsupportedDriverExtension: by default.
        """
        raise self._unsupported(task, 'Secure boot')

    def attach_virtual_media(self, task: Task, device_type: str,
                             image_url: str) -> None:
        """Insert the image at ``image_url`` into the node's virtual
        media device of ``device_type`` (Ironic's ``cdrom``, ``disk``,
        ``floppy``; already checked by :mod:`podium.common.vmedia`).

        :raises UnsupportedDriverExtension: by default.
        :raises Conflict: every such device holds another image.
        """
        raise self._unsupported(task, 'Virtual media')

    def detach_virtual_media(self, task: Task,
                             device_types: Sequence[str] | None = None
                             ) -> None:
        """Eject the images of ``device_types`` (every type when None).

        :raises UnsupportedDriverExtension: by default.
        """
        raise self._unsupported(task, 'Virtual media')

    def virtual_media_booted(self, task: Task, device_type: str,
                             image_url: str) -> bool:
        """Whether the node is on and booted ``image_url`` from its
        ``device_type`` virtual media: the image is inserted and the
        one-time boot override to the device was spent by a boot.

        :raises UnsupportedDriverExtension: by default.
        """
        raise self._unsupported(task, 'Virtual media')

    def check_boot_device(self, task: Task, device: str) -> None:
        """Refuse a device the node does not support, naming both."""
        supported = self.get_supported_boot_devices(task)
        if device not in supported:
            raise exceptions.InvalidParameterValue(
                err=f'Invalid boot device {device}, valid devices are: '
                    f'{", ".join(supported)}.')


class InspectInterface(BaseInterface):
    """Hardware inventory discovery."""

    interface_type = 'inspect'

    @abc.abstractmethod
    def inspect_hardware(self, task: Task) -> dict[str, Any]:
        """Return the properties found: ``cpus``, ``cpu_arch``,
        ``memory_mb``, ``local_gb`` where known, and ``macs`` (a list of
        the MAC addresses of the node's network interfaces) and
        ``firmware`` where known (``{component: version}``, with
        Ironic's component names ``bios`` and ``bmc``). The
        conductor merges the properties into the node's ``properties``
        and creates a port for each MAC no port has yet
        (:mod:`podium.conductor.inspection`)."""


class BootInterface(BaseInterface):
    """How a node boots the deploy environment (Ironic's boot interface):
    an installer over the network, a ramdisk from virtual media."""

    interface_type = 'boot'

    @abc.abstractmethod
    def prepare_ramdisk(self, task: 'DriverTask') -> None:
        """Make the node boot the deploy environment next time it starts
        (once: the installed system boots from its disk afterwards)."""

    @abc.abstractmethod
    def clean_up_ramdisk(self, task: 'DriverTask') -> None:
        """Undo :meth:`prepare_ramdisk`: no boot override is left."""


class DeployInterface(BaseInterface):
    """Puts an instance on a node and takes it off again.

    :meth:`deploy` either finishes (the node becomes ``active``) or
    returns ``states.DEPLOYWAIT``: the node then waits, holding no lock
    and no thread, until :meth:`heartbeat` reports the outcome or
    ``[conductor] deploy_callback_timeout`` fails it (Ironic's
    convention).
    """

    interface_type = 'deploy'

    def validate_deploy(self, node: NodeView,
                        instance_info: Mapping[str, Any]) -> None:
        """Check that ``instance_info`` holds what a deploy needs.

        :raises MissingParameterValue, InvalidParameterValue: naming the
            key.
        """

    @abc.abstractmethod
    def deploy(self, task: 'DriverTask') -> str | None:
        """Deploy the node's instance: None when it is active, or
        ``states.DEPLOYWAIT`` when an installer will call back."""

    @abc.abstractmethod
    def tear_down(self, task: 'DriverTask') -> None:
        """Remove the instance; return when the node may be cleaned."""

    def abort(self, task: 'DriverTask') -> None:
        """Stop a deploy waiting for its call-back (the node is already
        ``deploy failed``); the default does nothing."""


class DriverTask(Task, Protocol):
    """A task whose driver calls may use the node's other interfaces
    (a deploy switches power and sets the boot device)."""

    driver: Any


class BiosInterface(BaseInterface):
    """BIOS settings: read them (with the attribute registry where the
    BMC serves one), change them and reset them to the defaults.

    Changes are made by the manual clean steps ``apply_configuration``
    and ``factory_reset``, as in Ironic; both refresh the node's cached
    settings when they succeed. :meth:`validate_step_args` checks a
    requested change against the cache before cleaning starts, so bad
    input never reaches the BMC.
    """

    interface_type = 'bios'

    @abc.abstractmethod
    def get_settings(self, task: Task) -> list[bios_settings.BiosSetting]:
        """Every BIOS attribute the BMC reports, with its registry entry
        where the BMC serves a registry."""

    def get_values(self, task: Task) -> dict[str, Any]:
        """Every attribute's current value, by name: what drift checks
        compare. The default reads :meth:`get_settings`; a driver that
        can read the values alone, without the registry, does so."""
        return {setting.name: setting.value
                for setting in self.get_settings(task)}

    @abc.abstractmethod
    def apply_settings(self, task: Task, settings: Mapping[str, Any]
                       ) -> None:
        """Set ``{name: value}`` and return once the BMC reports the new
        values in effect.

        :raises SettingNotKept: naming the attributes the BMC accepted
            but did not keep.
        """

    @abc.abstractmethod
    def reset_settings(self, task: Task) -> None:
        """Reset every attribute to its default; return once in effect."""

    def cache_bios_settings(self, task: Task) -> None:
        """Read the settings and store them as the node's cache."""
        db_bios.replace_settings(task.node.id, self.get_settings(task))

    def validate_step_args(self, node: NodeView, step: str,
                           args: Mapping[str, Any]) -> None:
        """Refuse ``apply_configuration`` settings that the node's
        cached settings and registry say the BMC would refuse.

        :raises InvalidParameterValue: naming every bad setting.
        """
        if step == 'apply_configuration':
            label = node_label(node)
            cached = db_bios.as_settings(db_bios.list_settings(node.id))
            bios_settings.check_changes(
                label, bios_settings.normalise_request(
                    label, args.get('settings')), cached)

    @steps.clean_step(priority=0, argsinfo={
        'settings': {'description': 'A list of {"name": ..., "value": '
                                    '...} BIOS settings to apply.',
                     'required': True}})
    def apply_configuration(self, task: Task,
                            settings: list[dict[str, Any]]) -> None:
        """Clean step: apply BIOS settings, then refresh the cache."""
        values = bios_settings.normalise_request(node_label(task.node),
                                                 settings)
        self.apply_settings(task, values)
        self.cache_bios_settings(task)

    @steps.clean_step(priority=0)
    def factory_reset(self, task: Task) -> None:
        """Clean step: reset the BIOS to its defaults, then refresh the
        cache."""
        self.reset_settings(task)
        self.cache_bios_settings(task)


#: Interface kinds and their base classes, in display order.
INTERFACE_KINDS: dict[str, type[BaseInterface]] = {
    'power': PowerInterface,
    'management': ManagementInterface,
    'inspect': InspectInterface,
    'bios': BiosInterface,
    'boot': BootInterface,
    'deploy': DeployInterface,
}

#: Kinds a hardware type may lack altogether: its nodes then have None
#: there and refuse the actions needing it (a type that cannot deploy
#: can still adopt). Every other kind is required.
OPTIONAL_KINDS = frozenset({'boot', 'deploy'})


class HardwareType:
    """A family of hardware: which interface of each kind it works with.

    The first name of each ``supported_*_interfaces`` list that is also
    enabled is the default a node gets when it names none.
    """

    supported_power_interfaces: ClassVar[Sequence[str]] = ()
    supported_management_interfaces: ClassVar[Sequence[str]] = ()
    supported_inspect_interfaces: ClassVar[Sequence[str]] = ()
    #: Optional kind: a type that names none gets ``no-bios``.
    supported_bios_interfaces: ClassVar[Sequence[str]] = ('no-bios',)
    supported_boot_interfaces: ClassVar[Sequence[str]] = ()
    supported_deploy_interfaces: ClassVar[Sequence[str]] = ()

    def supported_interfaces(self, kind: str) -> Sequence[str]:
        return tuple(getattr(self, f'supported_{kind}_interfaces'))
