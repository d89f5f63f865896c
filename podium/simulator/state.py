"""State of simulated systems and the counters kept per endpoint.

A :class:`SimSystem` is one server behind a BMC: identity, power, boot
override and a fixed inventory. Its serialised Redfish document is cached
and dropped on every change, because reading a system is the hot path of a
power-sync benchmark and mutations are rare.

All mutation happens on the simulator's event loop thread; the Python API
marshals calls there (see :mod:`podium.simulator.redfish`).
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Callable
from typing import Any

from podium.simulator.behaviour import Behaviour, apply_overrides
from podium.simulator.bios import SimBios
from podium.simulator.boot_order import SimBootOrder
from podium.simulator.sensors import SimSensors
from podium.simulator.vmedia import SimVirtualMedia

#: ``hook(system, powered_on, boot_target)``, see ``SimSystem.power_hook``.
PowerHook = Callable[["SimSystem", bool, "str | None"], None]

POWER_ON = "On"
POWER_OFF = "Off"
POWER_STATES = (POWER_ON, POWER_OFF)

BOOT_TARGETS = ("None", "Pxe", "Cd", "Hdd", "Usb", "BiosSetup", "UefiShell")
BOOT_ENABLED = ("Disabled", "Once", "Continuous")
BOOT_MODES = ("UEFI", "Legacy")


@dataclasses.dataclass(frozen=True)
class Inventory:
    """Hardware every simulated system reports (the same for all)."""

    cpu_count: int = 2
    cpu_model: str = "Podium Simulated CPU @ 2.40GHz"
    cores_per_cpu: int = 8
    threads_per_core: int = 2
    memory_gib: int = 64
    disk_bytes: int = 480 * 10**9
    nic_count: int = 2
    manufacturer: str = "Podium"
    model: str = "Simulated Server"


def mac_address(index: int, nic: int) -> str:
    """A stable, locally administered MAC for NIC ``nic`` of system
    ``index`` (up to 16M systems and 256 NICs each)."""
    return (f"52:54:{nic & 0xFF:02x}:{(index >> 16) & 0xFF:02x}:"
            f"{(index >> 8) & 0xFF:02x}:{index & 0xFF:02x}")


class SimSystem:
    """One simulated server.

    ``behaviour`` is the effective behaviour (the endpoint's with this
    system's ``overrides`` applied), recomputed whenever either changes so
    the request path never merges anything.
    """

    __slots__ = ("uuid", "name", "index", "endpoint", "macs", "inventory",
                 "power_state", "boot_target", "boot_enabled", "boot_mode",
                 "overrides", "behaviour", "requests", "doc", "pending",
                 "bios", "sensors", "power_hook", "boot_order", "nmis",
                 "vmedia", "booted_image", "boot_mode_not_kept")

    def __init__(self, uuid: str, name: str, index: int, endpoint: int,
                 inventory: Inventory, power_state: str,
                 behaviour: Behaviour) -> None:
        self.uuid = uuid
        self.name = name
        self.index = index
        self.endpoint = endpoint
        self.inventory = inventory
        self.macs = [mac_address(index, n)
                     for n in range(inventory.nic_count)]
        self.power_state = power_state
        self.boot_target = "None"
        self.boot_enabled = "Disabled"
        self.boot_mode = "UEFI"
        # A BMC that accepts a new BootSourceOverrideMode and keeps the
        # old one (for the drift tests).
        self.boot_mode_not_kept = False
        self.overrides: dict[str, Any] = {}
        self.behaviour = behaviour
        self.requests = 0
        # Serialised ComputerSystem document, None when stale.
        self.doc: bytes | None = None
        # Timer of a delayed power transition, so a newer action (or an
        # out-of-band flip) can cancel it.
        self.pending: asyncio.TimerHandle | None = None
        self.bios = SimBios()
        self.sensors = SimSensors()
        self.boot_order = SimBootOrder(self.macs)
        #: NMIs received (ComputerSystem.Reset with ResetType Nmi).
        self.nmis = 0
        self.vmedia = SimVirtualMedia()
        #: The virtual media image the system last booted, None if its
        #: last boot was not from virtual media (or it never booted).
        self.booted_image: str | None = None
        # Told when the system boots (with what it boots) and when it is
        # switched off: the simulated installer. None: the simulator
        # models the BMC only, and a one-time boot override stays as it
        # was set.
        self.power_hook: PowerHook | None = None

    @property
    def path(self) -> str:
        """The Redfish resource path, ``/redfish/v1/Systems/<uuid>``."""
        return "/redfish/v1/Systems/" + self.uuid

    def set_power(self, state: str) -> None:
        """Set the power state now, cancelling any pending transition."""
        if state not in POWER_STATES:
            raise ValueError(f"power state must be one of {POWER_STATES}")
        self.cancel_pending()
        was = self.power_state
        self.power_state = state
        self.doc = None
        if self.power_hook is not None and state == POWER_OFF \
                and was != POWER_OFF:
            self.power_hook(self, False, None)

    def boot(self) -> None:
        """The system starts (powered on, or restarted): pending BIOS
        settings take effect, it boots the virtual media image the
        override points at (if one is inserted), and the power hook
        learns what it boots."""
        self.bios.boot()
        source = self._boot_source()
        self.booted_image = self.vmedia.image_for_boot(source)
        self.doc = None
        if self.power_hook is not None:
            self.power_hook(self, True, source)

    def _boot_source(self) -> str | None:
        """What a system coming on boots: the override target if one
        is set; None for the normal boot order. A one-time override is
        spent by the boot, as on a real BMC, when the installer hook
        watches or the boot is from an inserted virtual media image;
        otherwise (the simulator modelling the BMC only) it stays as it
        was set."""
        if self.boot_enabled == "Disabled":
            return None
        target = self.boot_target
        if self.boot_enabled == "Once" and (
                self.power_hook is not None
                or self.vmedia.image_for_boot(target) is not None):
            self.boot_enabled = "Disabled"
        return target

    def cancel_pending(self) -> None:
        """Forget a delayed power transition, if one is scheduled."""
        if self.pending is not None:
            self.pending.cancel()
            self.pending = None

    def set_boot(self, target: str | None = None, enabled: str | None = None,
                 mode: str | None = None) -> None:
        """Change the boot source override; None leaves a field as is."""
        if target is not None:
            if target not in BOOT_TARGETS:
                raise ValueError(f"boot target must be one of {BOOT_TARGETS}")
            self.boot_target = target
        if enabled is not None:
            if enabled not in BOOT_ENABLED:
                raise ValueError(f"boot enabled must be one of "
                                 f"{BOOT_ENABLED}")
            self.boot_enabled = enabled
        if mode is not None:
            if mode not in BOOT_MODES:
                raise ValueError(f"boot mode must be one of {BOOT_MODES}")
            self.boot_mode = mode
        self.doc = None

    def rebase(self, endpoint_behaviour: Behaviour) -> None:
        """Recompute the effective behaviour from the endpoint's."""
        self.behaviour = apply_overrides(endpoint_behaviour, self.overrides)

    def describe(self) -> dict[str, Any]:
        """State and behaviour as a JSON-friendly dict (control API)."""
        return {
            "uuid": self.uuid,
            "name": self.name,
            "system_id": self.path,
            "power_state": self.power_state,
            "boot": {"target": self.boot_target,
                     "enabled": self.boot_enabled,
                     "mode": self.boot_mode,
                     "mode_not_kept": self.boot_mode_not_kept},
            "bios": self.bios.describe(),
            "sensors": self.sensors.describe(),
            "boot_order": self.boot_order.describe(),
            "nmis": self.nmis,
            "vmedia": self.vmedia.describe(),
            "booted_image": self.booted_image,
            "behaviour": self.behaviour.to_dict(),
            "overrides": {k: (v.spec() if hasattr(v, "spec") else v)
                          for k, v in self.overrides.items()},
            "requests": self.requests,
        }


class EndpointCounters:
    """Request counters of one endpoint (one listening address)."""

    __slots__ = ("requests", "in_flight", "max_in_flight", "errors",
                 "refused", "hung", "connections", "connections_total",
                 "status_counts")

    def __init__(self) -> None:
        self.in_flight = 0
        self.connections = 0
        self.reset()

    def reset(self) -> None:
        """Zero the cumulative counters; live gauges are kept."""
        self.requests = 0
        self.max_in_flight = self.in_flight
        self.errors = 0
        self.refused = 0
        self.hung = 0
        self.connections_total = 0
        self.status_counts: dict[int, int] = {}

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly snapshot."""
        return {
            "requests": self.requests,
            "in_flight": self.in_flight,
            "max_in_flight": self.max_in_flight,
            "errors": self.errors,
            "refused": self.refused,
            "hung": self.hung,
            "connections": self.connections,
            "connections_total": self.connections_total,
            "status_counts": {str(k): v for k, v
                              in sorted(self.status_counts.items())},
        }
