"""Simulated IPMI BMCs built on pyghmi's BMC server.

:class:`IpmiSimulator` runs ``count`` BMCs on loopback UDP ports in this
process: power get/set, boot device get/set, out-of-band power flips,
sensors with an SDR repository (:mod:`podium.simulator.ipmi_sdr`), and
the same :class:`~podium.simulator.behaviour.Behaviour` knobs as the
Redfish simulator (latency, hang, injected failures, power delay).

pyghmi's server shares one IO thread and one ``select()`` with every pyghmi
client in the process, so keep to a few hundred BMCs per process (a socket
with fd >= 1024 kills that thread) and run bigger fleets as several
processes (``python -m podium.simulator ipmi``).

The workarounds for pyghmi defects live in
:mod:`podium.simulator.pyghmi_fixes`.
"""

from __future__ import annotations

import dataclasses
import heapq
import itertools
import logging
import os
import random
import threading
import time
import uuid as uuidlib
from collections.abc import Callable
from typing import Any

import pyghmi.ipmi.bmc as pyghmi_bmc
import pyghmi.ipmi.command as ipmi_command
import pyghmi.ipmi.private.session as ipmi_session

from podium.common import pyghmi_io
from podium.simulator import ipmi_sdr
from podium.simulator.behaviour import (
    NO_LATENCY,
    Behaviour,
    apply_overrides,
    clean_overrides,
)
from podium.simulator.pyghmi_fixes import (
    ServerSession,
    apply_pyghmi_fixes,
)
from podium.simulator.util import process_cpu_seconds, require_loopback

LOG = logging.getLogger(__name__)

_FD_LIMIT = 1024    # FD_SETSIZE of select()

DEFAULT_USERNAME = "admin"
# A well-known test credential of a loopback-only simulator, not a secret.
DEFAULT_PASSWORD = "password"  # noqa: S105

_BOOT_NAMES = {0: "default", 1: "network", 2: "hd", 3: "safe",
               5: "optical", 6: "setup", 15: "floppy"}
# IPMI completion codes used for injected failures.
_FAULT_CODES = {500: 0xFF, 503: 0xC0}   # unspecified error, node busy

class _Scheduler:
    """One thread running delayed callbacks, so BMC latency never blocks
    pyghmi's packet processing and needs no thread per request."""

    def __init__(self) -> None:
        self._heap: list[tuple[float, int, Callable[[], None]]] = []
        self._seq = itertools.count()
        self._cond = threading.Condition()
        self._running = True
        self._thread = threading.Thread(target=self._run, daemon=True,
                                        name="podium-ipmi-scheduler")

    def start(self) -> None:
        self._thread.start()

    def call_later(self, delay: float, fn: Callable[[], None]) -> None:
        with self._cond:
            heapq.heappush(self._heap,
                           (time.monotonic() + delay, next(self._seq), fn))
            self._cond.notify()

    def stop(self) -> None:
        with self._cond:
            self._running = False
            self._heap.clear()
            self._cond.notify()
        self._thread.join(5)

    def _run(self) -> None:
        while True:
            with self._cond:
                while self._running and (
                        not self._heap
                        or self._heap[0][0] > time.monotonic()):
                    wait = (self._heap[0][0] - time.monotonic()
                            if self._heap else None)
                    self._cond.wait(wait)
                if not self._running:
                    return
                _, _, fn = heapq.heappop(self._heap)
            try:
                fn()
            except Exception:
                LOG.exception("IPMI simulator callback failed")


class SimulatedBmc(pyghmi_bmc.Bmc):
    """One IPMI BMC with in-memory power and boot state."""

    def __init__(self, owner: IpmiSimulator, index: int, name: str,
                 host: str, port: int, bmc_uuid: uuidlib.UUID,
                 power_state: str, behaviour: Behaviour) -> None:
        super().__init__({owner.username: owner.password}, port=port,
                         bmcuuid=bmc_uuid, address=host)
        if port == 0:
            self.port = self.serversocket.getsockname()[1]
        self.owner = owner
        self.index = index
        self.name = name
        self.host = host
        self.power_state = power_state
        self.boot_device = "default"
        self.boot_persistent = False
        self.boot_uefi = False
        self.boot_valid = False
        self.overrides: dict[str, Any] = {}
        self.behaviour = behaviour
        self.sdr = ipmi_sdr.SimSdr()
        self.requests = 0
        self.errors = 0
        self.hung = 0
        #: Diagnostic interrupts (NMIs) and cold resets received.
        self.nmis = 0
        self.cold_resets = 0

    # request path

    def sessionless_data(self, data: bytes, sockaddr: Any) -> None:
        if self.behaviour.hang:
            self.hung += 1
            return
        if (len(data) >= 22 and data[0] == 6 and data[2:4] == b"\xff\x07"
                and data[4] == 6 and data[5] == 16):
            # An RMCP+ open session request: use our session class.
            ServerSession(self.authdata, self.kg, sockaddr,
                           self.serversocket, bytearray(data)[16:],
                           self.uuid, bmc=self)
            return
        super().sessionless_data(data, sockaddr)

    def handle_raw_request(self, request: dict[str, Any],
                           session: Any) -> None:
        self.requests += 1
        behaviour = self.behaviour
        if behaviour.hang:
            self.hung += 1
            return
        if behaviour.latency is not NO_LATENCY:
            delay = behaviour.latency.sample(self.owner.rng)
            if delay > 0:
                self.owner.scheduler.call_later(
                    delay, lambda: self._serve(request, session, behaviour))
                return
        self._serve(request, session, behaviour)

    def _serve(self, request: dict[str, Any], session: Any,
               behaviour: Behaviour) -> None:
        if (behaviour.error_fraction
                and self.owner.rng.random() < behaviour.error_fraction):
            self.errors += 1
            session.send_ipmi_response(
                code=_FAULT_CODES[behaviour.error_status])
            return
        sensors = self.sdr.answer(request, self.power_state == "on",
                                  self.index)
        if sensors is not None:
            code, data = sensors
            session.send_ipmi_response(code=code, data=list(data))
            return
        super().handle_raw_request(request, session)

    # pyghmi Bmc hooks

    def get_system_guid(self) -> uuidlib.UUID:
        return self.uuid

    def cold_reset(self) -> int:
        self.cold_resets += 1
        return 0

    def get_power_state(self) -> str:
        return self.power_state

    def power_on(self) -> None:
        self._transition("on")

    def power_off(self) -> None:
        self._transition("off")

    def power_shutdown(self) -> None:
        self._transition("off")

    def power_cycle(self) -> None:
        self._transition("on", reboot=True)

    def power_reset(self) -> None:
        self._transition("on", reboot=True)

    def pulse_diag(self) -> None:
        """Chassis control "pulse diagnostic interrupt": counted."""
        self.nmis += 1

    def get_system_boot_options(self, request: dict[str, Any],
                                session: Any) -> None:
        if request["data"][0] != 5:
            session.send_ipmi_response(code=0x80)   # parameter unsupported
            return
        devnum = ipmi_command.boot_devices[self.boot_device]
        flags = 0
        if self.boot_device != "default" or self.boot_valid:
            flags = (0x80 | (0x40 if self.boot_persistent else 0)
                     | (0x20 if self.boot_uefi else 0))
        session.send_ipmi_response(data=[1, 5, flags, devnum, 0, 0, 0])

    def set_system_boot_options(self, request: dict[str, Any],
                                session: Any) -> None:
        data = request["data"]
        if data[0] != 5:
            # Set-in-progress and timer bits: acknowledged, not modelled.
            session.send_ipmi_response()
            return
        if len(data) < 3:
            session.send_ipmi_response(code=0xC7)   # request too short
            return
        name = _BOOT_NAMES.get((data[2] >> 2) & 0xF)
        if name is None:
            session.send_ipmi_response(code=0xCC)   # invalid data field
            return
        flags = data[1]
        self.boot_device = name if flags & 0x80 or name == "default" \
            else "default"
        self.boot_persistent = bool(flags & 0x40)
        self.boot_uefi = bool(flags & 0x20)
        # Valid flags without a device ("no override") still carry the
        # boot type: the boot mode alone.
        self.boot_valid = bool(flags & 0x80)
        session.send_ipmi_response()

    def _transition(self, target: str, reboot: bool = False) -> None:
        delay = self.behaviour.power_delay
        if delay <= 0:
            self.power_state = target
            return
        if reboot:
            self.power_state = "off"

        def finish() -> None:
            self.power_state = target
        self.owner.scheduler.call_later(delay, finish)

    def describe(self) -> dict[str, Any]:
        """State, behaviour and counters as a JSON-friendly dict."""
        return {
            "name": self.name, "uuid": str(self.uuid),
            "address": self.host, "port": self.port,
            "power_state": self.power_state.capitalize(),
            "boot_device": self.boot_device,
            "boot_persistent": self.boot_persistent,
            "boot_uefi": self.boot_uefi,
            "behaviour": self.behaviour.to_dict(),
            "requests": self.requests, "errors": self.errors,
            "hung": self.hung, "nmis": self.nmis,
            "cold_resets": self.cold_resets,
        }


def _check_select_limit() -> None:
    # pyghmi select()s on every socket: one with fd >= 1024 kills its IO
    # thread (and every BMC and client session in the process). The next
    # socket takes the lowest free fd, so probe it before creating one.
    probe = os.open(os.devnull, os.O_RDONLY)
    os.close(probe)
    if probe >= _FD_LIMIT:
        raise RuntimeError(
            f"next IPMI socket would get fd {probe}; pyghmi's select() "
            f"breaks at {_FD_LIMIT}. Run fewer BMCs per process.")


@dataclasses.dataclass(frozen=True)
class IpmiBmcInfo:
    """How a client reaches one simulated IPMI BMC."""

    address: str
    port: int
    username: str
    password: str
    name: str
    uuid: str

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly form (the inventory listing)."""
        return dataclasses.asdict(self)


class IpmiSimulator:
    """``count`` IPMI BMCs on ``host``, ports ``base_port + i`` (0:
    ephemeral), served by pyghmi's IO thread and one listen thread.

    Power states are ``"On"``/``"Off"`` in this API, boot devices pyghmi's
    names (``network``, ``hd``, ``optical``, ``setup``, ``default``, ...).
    """

    def __init__(self, count: int = 1, *, host: str = "127.0.0.1",
                 base_port: int = 0, username: str = DEFAULT_USERNAME,
                 password: str = DEFAULT_PASSWORD,
                 behaviour: Behaviour | None = None,
                 hung_fraction: float = 0.0, power_state: str = "Off",
                 seed: int | None = None,
                 name_prefix: str = "ipmi") -> None:
        if count < 1:
            raise ValueError("count must be at least 1")
        if base_port and not 1024 < base_port <= 65535 - count + 1:
            raise ValueError("base_port must be above 1024 and leave room "
                             "for count ports")
        if power_state not in ("On", "Off"):
            raise ValueError("power_state must be 'On' or 'Off'")
        require_loopback(host)
        self.count = count
        self.host = host
        self.base_port = base_port
        self.username = username
        self.password = password
        self.behaviour = behaviour or Behaviour()
        self.hung_fraction = hung_fraction
        self.power_state = power_state.lower()
        self.name_prefix = name_prefix
        self.rng = random.Random(seed)
        self.scheduler = _Scheduler()
        self._bmcs: list[SimulatedBmc] = []
        self._listener: threading.Thread | None = None
        self._running = False
        self._started_at = 0.0

    def start(self) -> IpmiSimulator:
        """Bind every BMC and start serving."""
        if self._running:
            raise RuntimeError("IPMI simulator already started")
        apply_pyghmi_fixes(self.host)
        self.scheduler = _Scheduler()
        self.scheduler.start()
        self._running = True
        try:
            for i in range(self.count):
                _check_select_limit()
                port = self.base_port + i if self.base_port else 0
                self._bmcs.append(SimulatedBmc(
                    self, i, f"{self.name_prefix}-{i:04d}", self.host, port,
                    uuidlib.UUID(int=self.rng.getrandbits(128), version=4),
                    self.power_state, self.behaviour))
        except BaseException:
            self.stop()
            raise
        for bmc in self.rng.sample(self._bmcs,
                                   round(self.hung_fraction * self.count)):
            bmc.overrides["hang"] = True
            bmc.behaviour = apply_overrides(self.behaviour, bmc.overrides)
        self._listener = threading.Thread(target=self._listen, daemon=True,
                                          name="podium-ipmi-listener")
        self._listener.start()
        self._started_at = time.monotonic()
        return self

    def stop(self) -> None:
        """Stop serving and close every BMC socket."""
        self._running = False
        if self._listener is not None:
            self._listener.join(5)
            self._listener = None
        self.scheduler.stop()
        handlers = ipmi_session.Session.bmc_handlers
        for bmc in self._bmcs:
            handlers.pop(bmc.serversocket, None)
            for client in list(handlers):
                ports = handlers.get(client)
                if isinstance(ports, dict) and isinstance(
                        ports.get(bmc.port), ServerSession) and \
                        ports[bmc.port].bmc is bmc:
                    del ports[bmc.port]
            try:
                ipmi_session.iosockets.remove(bmc.serversocket)
            except ValueError:
                pass
        if ipmi_session.iosockets:
            # Let the IO thread drop the sockets from its select() first.
            pyghmi_io.sendto(ipmi_session.iosockets[0], b"\x01",
                             (ipmi_session.myself,
                              ipmi_session.iosockets[0].getsockname()[1]))
            time.sleep(0.05)
        for bmc in self._bmcs:
            bmc.serversocket.close()
        self._bmcs = []

    def __enter__(self) -> IpmiSimulator:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def bmcs(self) -> list[IpmiBmcInfo]:
        """Every BMC's address, port and credentials."""
        return [IpmiBmcInfo(b.host, b.port, self.username, self.password,
                            b.name, str(b.uuid)) for b in self._bmcs]

    def inventory(self) -> list[dict[str, Any]]:
        """The listing the command line prints: one dict per BMC."""
        return [info.to_dict() for info in self.bmcs]

    def get_power(self, bmc: int | str | IpmiBmcInfo) -> str:
        """``"On"`` or ``"Off"``."""
        return self._bmc(bmc).power_state.capitalize()

    def set_power(self, bmc: int | str | IpmiBmcInfo, state: str) -> None:
        """Flip power out of band."""
        if state not in ("On", "Off"):
            raise ValueError("state must be 'On' or 'Off'")
        self._bmc(bmc).power_state = state.lower()

    def get_boot(self, bmc: int | str | IpmiBmcInfo) -> str:
        """The boot device override (``default`` when none)."""
        return self._bmc(bmc).boot_device

    def set_boot(self, bmc: int | str | IpmiBmcInfo, device: str,
                 persistent: bool = False) -> None:
        """Set the boot device out of band (any pyghmi device name)."""
        num = ipmi_command.boot_devices.get(device)
        if not isinstance(num, int):
            raise ValueError(f"unknown boot device {device!r}")
        target = self._bmc(bmc)
        target.boot_device = _BOOT_NAMES[num >> 2]
        target.boot_persistent = persistent

    def set_sensors(self, bmc: int | str | IpmiBmcInfo,
                    readings: dict[str, float | None]) -> None:
        """Set sensor readings by name (None: follow the power state
        again); see :mod:`podium.simulator.ipmi_sdr`."""
        self._bmc(bmc).sdr.set_readings(readings)

    def set_behaviour(self, bmc: int | str | IpmiBmcInfo | None = None,
                      **changes: Any) -> None:
        """Override behaviour fields of one BMC (None: of all); a field
        set to None falls back to the simulator-wide behaviour."""
        cleaned = clean_overrides(changes)
        targets = self._bmcs if bmc is None else [self._bmc(bmc)]
        for target in targets:
            for name, value in cleaned.items():
                if value is None:
                    target.overrides.pop(name, None)
                else:
                    target.overrides[name] = value
            target.behaviour = apply_overrides(self.behaviour,
                                               target.overrides)

    def stats(self) -> dict[str, Any]:
        """Counters per BMC and in total, plus process CPU seconds."""
        bmcs = [b.describe() for b in self._bmcs]
        return {
            "process_cpu_seconds": process_cpu_seconds(),
            "uptime_seconds": time.monotonic() - self._started_at,
            "bmc_count": len(bmcs),
            "requests": sum(b["requests"] for b in bmcs),
            "errors": sum(b["errors"] for b in bmcs),
            "hung": sum(b["hung"] for b in bmcs),
            "bmcs": bmcs,
        }

    def _bmc(self, ref: int | str | IpmiBmcInfo) -> SimulatedBmc:
        if isinstance(ref, int):
            return self._bmcs[ref]
        for bmc in self._bmcs:
            if isinstance(ref, IpmiBmcInfo):
                if bmc.port == ref.port:
                    return bmc
            elif ref in (bmc.name, str(bmc.uuid), f"{bmc.host}:{bmc.port}"):
                return bmc
        raise KeyError(f"no simulated IPMI BMC {ref!r}")

    def _listen(self) -> None:
        # pyghmi's Bmc.listen() loops forever and dies on the first
        # exception; this loop can stop and survives one.
        while self._running:
            try:
                ipmi_session.Session.wait_for_rsp(timeout=0.5)
            except Exception:
                LOG.exception("pyghmi raised in the IPMI listen loop")
