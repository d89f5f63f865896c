"""Loads enabled hardware types and interfaces from entry points.

A third party ships a driver as its own package with entry points in
``podium.hardware.types`` and ``podium.hardware.interfaces.<kind>``; the
operator enables it by name. Interfaces are instantiated once per
process and shared by every node.
"""

import dataclasses
import threading
from collections.abc import Iterator
from typing import Any

import stevedore
from oslo_log import log

from podium.common import exceptions
from podium.conf import CONF
from podium.drivers import base

LOG = log.getLogger(__name__)

TYPES_NAMESPACE = 'podium.hardware.types'
INTERFACES_NAMESPACE = 'podium.hardware.interfaces.'


@dataclasses.dataclass(frozen=True)
class NodeDriver:
    """The interface instances serving one node."""

    hardware_type: str
    power: base.PowerInterface
    management: base.ManagementInterface
    inspect: base.InspectInterface
    bios: base.BiosInterface
    boot: base.BootInterface | None = None
    deploy: base.DeployInterface | None = None

    def interfaces(self) -> Iterator[tuple[str, base.BaseInterface]]:
        """Every interface the node has (optional kinds it lacks are
        left out)."""
        for kind in base.INTERFACE_KINDS:
            interface = getattr(self, kind)
            if interface is not None:
                yield kind, interface


def _load(namespace: str, names: list[str], what: str) -> dict[str, Any]:
    """Instantiate the named plugins, failing on any unknown name."""
    loaded: dict[str, Any] = {}
    failures: list[str] = []

    def _on_failure(_mgr: Any, entry_point: Any,
                    exc: BaseException) -> None:
        failures.append(f'{entry_point.name} ({exc})')

    if not names:
        return loaded
    manager: stevedore.NamedExtensionManager[Any] = (
        stevedore.NamedExtensionManager(
            namespace, names, invoke_on_load=True, name_order=True,
            on_load_failure_callback=_on_failure))
    for ext in manager:
        loaded[ext.name] = ext.obj
    unknown = [name for name in names if name not in loaded]
    if unknown or failures:
        detail = ', '.join(failures) if failures else ', '.join(unknown)
        raise exceptions.ConfigInvalid(
            reason=f'cannot load enabled {what}: {detail}')
    return loaded


#: The node attribute naming each interface kind's interface.
_INTERFACE_ATTRS = tuple(f'{kind}_interface' for kind in base.INTERFACE_KINDS)


class DriverRegistry:
    """The hardware types and interfaces enabled on this process."""

    def __init__(self) -> None:
        self.hardware_types: dict[str, base.HardwareType] = _load(
            TYPES_NAMESPACE, list(CONF.enabled_hardware_types),
            'hardware types ([DEFAULT] enabled_hardware_types)')
        self.interfaces: dict[str, dict[str, base.BaseInterface]] = {}
        for kind, base_class in base.INTERFACE_KINDS.items():
            option = f'enabled_{kind}_interfaces'
            loaded = _load(INTERFACES_NAMESPACE + kind,
                           list(getattr(CONF, option)),
                           f'{kind} interfaces ([DEFAULT] {option})')
            for name, obj in loaded.items():
                if not isinstance(obj, base_class):
                    raise exceptions.ConfigInvalid(
                        reason=f'{kind} interface {name} is not a '
                               f'{base_class.__name__}')
            self.interfaces[kind] = loaded
        for name in self.hardware_types:
            for kind in base.INTERFACE_KINDS:
                # Fails start-up when a type has no usable interface.
                self.default_interface(name, kind)
        self._node_drivers: dict[tuple[str, ...], NodeDriver] = {}
        self._lock = threading.Lock()

    def enabled_interfaces(self, hardware_type: str, kind: str) -> list[str]:
        """Interfaces of ``kind`` both supported by the type and enabled."""
        hw_type = self.get_hardware_type(hardware_type)
        return [name for name in hw_type.supported_interfaces(kind)
                if name in self.interfaces[kind]]

    def default_interface(self, hardware_type: str,
                          kind: str) -> str | None:
        """The first enabled interface the type supports; None for an
        optional kind (:data:`base.OPTIONAL_KINDS`) the type supports
        none of.

        :raises ConfigInvalid: the type supports interfaces of ``kind``
            but none of them is enabled.
        """
        enabled = self.enabled_interfaces(hardware_type, kind)
        if not enabled:
            supported = self.get_hardware_type(
                hardware_type).supported_interfaces(kind)
            if kind in base.OPTIONAL_KINDS and not supported:
                return None
            raise exceptions.ConfigInvalid(
                reason=f'hardware type {hardware_type} supports no enabled '
                       f'{kind} interface (supported: '
                       f'{", ".join(supported)})')
        return enabled[0]

    def get_hardware_type(self, name: str) -> base.HardwareType:
        try:
            return self.hardware_types[name]
        except KeyError:
            raise exceptions.DriverNotFound(driver_name=name) from None

    def resolve_interfaces(self, hardware_type: str,
                           requested: dict[str, str | None]
                           ) -> dict[str, str | None]:
        """The interface names a node of ``hardware_type`` will use.

        :param requested: ``{kind: name or None}``; None picks the default.
        :raises DriverNotFound: unknown or disabled hardware type.
        :raises InvalidParameterValue: an interface the type does not
            support or that is not enabled, naming both.
        """
        self.get_hardware_type(hardware_type)
        result: dict[str, str | None] = {}
        for kind in base.INTERFACE_KINDS:
            name = requested.get(kind)
            if name is None:
                result[kind] = self.default_interface(hardware_type, kind)
                continue
            enabled = self.enabled_interfaces(hardware_type, kind)
            if name not in enabled:
                raise exceptions.InvalidParameterValue(
                    err=f'Could not find a suitable {kind} interface '
                        f'{name} for hardware type {hardware_type}; '
                        f'enabled and supported: {", ".join(enabled)}.')
            result[kind] = name
        return result

    def for_node(self, node: Any) -> NodeDriver:
        """The interfaces serving ``node`` (ORM object or row)."""
        # Power sync asks for every node of every cycle: the key is
        # built without a dict or f-strings.
        key = (node.driver, *[getattr(node, attr, None)
                              for attr in _INTERFACE_ATTRS])
        driver = self._node_drivers.get(key)
        if driver is not None:
            return driver
        requested = dict(zip(base.INTERFACE_KINDS, key[1:], strict=True))
        names = self.resolve_interfaces(node.driver, requested)
        chosen = {kind: self.interfaces[kind][name]
                  for kind, name in names.items() if name is not None}
        driver = NodeDriver(hardware_type=node.driver, **chosen)  # type: ignore[arg-type]
        with self._lock:
            self._node_drivers[key] = driver
        return driver

    def all_interfaces(self) -> Iterator[tuple[str, str,
                                               base.BaseInterface]]:
        """Every loaded interface as ``(kind, name, instance)``."""
        for kind, loaded in self.interfaces.items():
            for name, obj in loaded.items():
                yield kind, name, obj


_registry: DriverRegistry | None = None
_registry_lock = threading.Lock()


def get_registry() -> DriverRegistry:
    """The process-wide registry, loaded on first use."""
    global _registry
    if _registry is None:
        with _registry_lock:
            if _registry is None:
                _registry = DriverRegistry()
    return _registry


def reset_registry() -> None:
    """Forget the loaded drivers (tests, or after a configuration change)."""
    global _registry
    with _registry_lock:
        _registry = None
