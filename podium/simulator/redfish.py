"""A fleet-scale Redfish BMC simulator on asyncio.

:class:`Simulator` presents ``endpoints`` listening addresses on loopback,
each fronting ``systems_per_endpoint`` computer systems, with per-endpoint
and per-system behaviour (latency, hang, injected errors, power delay) and
an optional concurrency cap per endpoint. One event loop serves all of it,
so a fleet of thousands of BMCs fits in one process and costs well under a
millisecond of CPU per request.

Use it in-process from tests (``start()`` runs the loop in a background
thread) or inside a running loop (``await start_async()``), or as a
standalone process with ``python -m podium.simulator redfish``.

Every public method is safe to call from any thread: when the loop runs in
another thread the call is marshalled onto it, so state is only ever
touched by the loop.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import random
import threading
import time
import uuid as uuidlib
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

from podium.simulator import fleet_stats
from podium.simulator.behaviour import (
    Behaviour,
    apply_overrides,
    clean_overrides,
)
from podium.simulator.control import ControlApi
from podium.simulator.endpoint import Endpoint
from podium.simulator.installer import InstallerConfig, SimulatedInstaller
from podium.simulator.reach import EndpointInfo, SystemInfo
from podium.simulator.state import (
    POWER_OFF,
    POWER_STATES,
    Inventory,
    SimSystem,
)
from podium.simulator.util import (
    process_cpu_seconds,
    raise_nofile_limit,
    require_loopback,
)

T = TypeVar("T")

DEFAULT_USERNAME = "admin"
# A well-known test credential of a loopback-only simulator, not a secret.
DEFAULT_PASSWORD = "password"  # noqa: S105


class Simulator:
    """Many simulated Redfish BMCs served by one event loop.

    :param endpoints: number of listening addresses.
    :param systems_per_endpoint: systems behind each endpoint.
    :param host: loopback address the endpoints bind.
    :param base_port: endpoint ``i`` listens on ``base_port + i``; 0 gives
        every endpoint an ephemeral port (tests).
    :param addresses: explicit ``(host, port)`` per endpoint; overrides
        ``endpoints``, ``host`` and ``base_port``.
    :param username: basic-auth and session user of every endpoint.
    :param password: its password (compared in plain text).
    :param behaviour: initial behaviour of every endpoint.
    :param max_concurrency: in-flight requests per endpoint past which the
        endpoint answers 503 (None: no cap).
    :param hung_fraction: share of systems (chosen with ``seed``) that hang
        from the start.
    :param power_state: initial power state of every system.
    :param inventory: hardware every system reports.
    :param seed: makes uuids, hung systems, latencies and errors
        reproducible.
    :param name_prefix: systems are named ``<prefix>-<index>``.
    :param installer: run a simulated network installer that calls the
        Podium API back when a system boots from PXE or CD (see
        :mod:`podium.simulator.installer`); None: no installer, and a
        system coming on leaves its boot override as it was.
    """

    def __init__(self, endpoints: int = 1, systems_per_endpoint: int = 1, *,
                 host: str = "127.0.0.1", base_port: int = 0,
                 addresses: Sequence[tuple[str, int]] | None = None,
                 username: str = DEFAULT_USERNAME,
                 password: str = DEFAULT_PASSWORD,
                 behaviour: Behaviour | None = None,
                 max_concurrency: int | None = None,
                 hung_fraction: float = 0.0, power_state: str = POWER_OFF,
                 inventory: Inventory | None = None,
                 seed: int | None = None,
                 name_prefix: str = "sim",
                 installer: InstallerConfig | None = None) -> None:
        if addresses is None:
            if endpoints < 1:
                raise ValueError("endpoints must be at least 1")
            if base_port and base_port + endpoints - 1 > 65535:
                raise ValueError("base_port + endpoints exceeds 65535")
            addresses = [(host, base_port + i if base_port else 0)
                         for i in range(endpoints)]
        if not addresses:
            raise ValueError("need at least one endpoint address")
        if systems_per_endpoint < 1:
            raise ValueError("systems_per_endpoint must be at least 1")
        if not 0.0 <= hung_fraction <= 1.0:
            raise ValueError("hung_fraction must be within [0, 1]")
        if power_state not in POWER_STATES:
            raise ValueError(f"power_state must be one of {POWER_STATES}")
        if max_concurrency is not None and max_concurrency < 1:
            raise ValueError("max_concurrency must be at least 1")
        for bind_host in {h for h, _ in addresses}:
            require_loopback(bind_host)
        self.username = username
        self.password = password
        self._rng = random.Random(seed)
        behaviour = behaviour or Behaviour()
        inventory = inventory or Inventory()
        self._control = ControlApi(self)
        self._systems: list[SimSystem] = []
        self._endpoints: list[Endpoint] = []
        width = max(5, len(str(len(addresses) * systems_per_endpoint)))
        for e, (bind_host, port) in enumerate(addresses):
            members = []
            for _ in range(systems_per_endpoint):
                index = len(self._systems)
                uuid = str(uuidlib.UUID(int=self._rng.getrandbits(128),
                                        version=4))
                system = SimSystem(uuid, f"{name_prefix}-{index:0{width}d}",
                                   index, e, inventory, power_state,
                                   behaviour)
                self._systems.append(system)
                members.append(system)
            self._endpoints.append(Endpoint(
                e, bind_host, port, members, username, password, behaviour,
                max_concurrency, self._rng, self._control))
        self._by_key: dict[str, SimSystem] = {}
        for system in self._systems:
            self._by_key[system.uuid] = system
            self._by_key[system.name] = system
        hung = round(hung_fraction * len(self._systems))
        for system in self._rng.sample(self._systems, hung):
            system.overrides["hang"] = True
            system.rebase(behaviour)
        self._installer: SimulatedInstaller | None = None
        if installer is not None:
            self._installer = SimulatedInstaller(
                installer, random.Random(self._rng.getrandbits(64)))
            for system in self._systems:
                system.power_hook = self._installer.on_power
        self._loop: asyncio.AbstractEventLoop | None = None
        self._loop_thread: int | None = None
        self._thread: threading.Thread | None = None
        self._started_at: float | None = None
        self._cpu_at_start = 0.0

    # lifecycle

    async def start_async(self) -> None:
        """Bind every endpoint on the running loop."""
        raise_nofile_limit()
        self._loop = asyncio.get_running_loop()
        self._loop_thread = threading.get_ident()
        try:
            for endpoint in self._endpoints:
                try:
                    await endpoint.start(self._loop)
                except OSError as exc:
                    raise OSError(exc.errno, f"cannot listen on "
                                  f"{endpoint.address}: {exc.strerror}"
                                  ) from exc
        except BaseException:
            await self.stop_async()
            raise
        self._started_at = time.monotonic()
        self._cpu_at_start = time.thread_time()

    async def stop_async(self) -> None:
        """Stop listening, drop connections and pending power changes."""
        for system in self._systems:
            system.cancel_pending()
        if self._installer is not None:
            await self._installer.close()
        await asyncio.gather(*(e.stop() for e in self._endpoints))

    def start(self, use_uvloop: bool = False,
              timeout: float = 60.0) -> Simulator:
        """Run the simulator on its own event loop in a daemon thread."""
        if self._thread is not None:
            raise RuntimeError("simulator already started")
        ready = threading.Event()
        failure: list[BaseException] = []

        def run() -> None:
            loop = _new_loop(use_uvloop)
            asyncio.set_event_loop(loop)
            try:
                loop.run_until_complete(self.start_async())
            except BaseException as exc:
                failure.append(exc)
                ready.set()
                loop.close()
                return
            ready.set()
            try:
                loop.run_forever()
            finally:
                loop.run_until_complete(self.stop_async())
                loop.close()

        self._thread = threading.Thread(target=run, daemon=True,
                                        name="podium-redfish-simulator")
        self._thread.start()
        if not ready.wait(timeout):
            raise TimeoutError("simulator did not start in time")
        if failure:
            self._thread.join()
            self._thread = None
            self._loop = None
            raise failure[0]
        return self

    def stop(self, timeout: float = 30.0) -> None:
        """Stop a simulator started with :meth:`start`."""
        thread, loop = self._thread, self._loop
        if thread is None or loop is None:
            return
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout)
        self._thread = None
        self._loop = None

    def __enter__(self) -> Simulator:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # discovery

    @property
    def systems(self) -> list[SystemInfo]:
        """Every system with its address and credentials."""
        return [self._info(s) for s in self._systems]

    @property
    def endpoints(self) -> list[EndpointInfo]:
        """Every endpoint with its bound address."""
        return [EndpointInfo(e.index, self._bound(e).address, e.host,
                             e.port, tuple(s.uuid for s in e.systems))
                for e in self._endpoints]

    def inventory(self) -> list[dict[str, Any]]:
        """The listing the command line prints: one dict per system."""
        return [info.to_dict() for info in self.systems]

    # out-of-band control

    def get_power(self, system: str | int | SystemInfo) -> str:
        """Current power state, ``"On"`` or ``"Off"``."""
        return self._call(lambda: self._system(system).power_state)

    def set_power(self, system: str | int | SystemInfo, state: str) -> None:
        """Flip power behind the client's back (cancels a pending
        transition)."""
        self._call(lambda: self._system(system).set_power(state))

    def get_boot(self, system: str | int | SystemInfo) -> dict[str, str]:
        """Boot override as ``{"target", "enabled", "mode"}``."""
        def read() -> dict[str, str]:
            s = self._system(system)
            return {"target": s.boot_target, "enabled": s.boot_enabled,
                    "mode": s.boot_mode}
        return self._call(read)

    def describe_system(self, system: str | int | SystemInfo
                        ) -> dict[str, Any]:
        """State of one system as the control API shows it (boot order
        and NMIs received included)."""
        return self._call(lambda: self._system(system).describe())

    def set_boot(self, system: str | int | SystemInfo,
                 target: str | None = None, enabled: str | None = None,
                 mode: str | None = None) -> None:
        """Change the boot override out of band (someone in the BIOS
        setup, another tool); None leaves a field as it is."""
        self._call(lambda: self._system(system).set_boot(target, enabled,
                                                         mode))

    def set_boot_mode_not_kept(self, system: str | int | SystemInfo,
                               not_kept: bool = True) -> None:
        """Make the BMC accept a new BootSourceOverrideMode and keep the
        old one (a BMC that does not keep a setting)."""
        def apply() -> None:
            self._system(system).boot_mode_not_kept = not_kept
        self._call(apply)

    def set_bios_attributes(self, system: str | int | SystemInfo,
                            attributes: dict[str, Any]) -> None:
        """Change current BIOS values out of band, at once (someone in
        the BIOS setup); unknown names are refused with ValueError."""
        self._call(lambda: self._system(system).bios.set_current(
            dict(attributes)))

    def get_boot_order(self, system: str | int | SystemInfo) -> list[str]:
        """The persistent boot order, option references first first."""
        return self._call(lambda: list(self._system(system).boot_order.order))

    def set_boot_order(self, system: str | int | SystemInfo,
                       order: list[str]) -> None:
        """Change the persistent boot order out of band (someone in the
        boot manager); a bad order is refused with ValueError."""
        def apply() -> None:
            target = self._system(system)
            refused = target.boot_order.set_order(order)
            if refused:
                raise ValueError(refused)
            target.doc = None  # the cached document shows the order
        self._call(apply)

    def get_bios(self, system: str | int | SystemInfo) -> dict[str, Any]:
        """BIOS ``{"attributes", "pending", "not_kept"}``."""
        return self._call(lambda: self._system(system).bios.describe())

    def get_vmedia(self, system: str | int | SystemInfo) -> dict[str, Any]:
        """Virtual media ``{"images": {device: url}, "booted_image"}``:
        what is inserted, and the image the system last booted."""
        def read() -> dict[str, Any]:
            s = self._system(system)
            return {"images": s.vmedia.describe(),
                    "booted_image": s.booted_image}
        return self._call(read)

    def set_bios_not_kept(self, system: str | int | SystemInfo,
                          names: Sequence[str]) -> None:
        """Make the BIOS drop, at boot, the pending values of ``names``
        (a BMC that accepts a setting and does not keep it)."""
        def apply() -> None:
            self._system(system).bios.not_kept = set(names)
        self._call(apply)

    def set_sensors(self, system: str | int | SystemInfo,
                    readings: Mapping[str, float | None] | None = None,
                    style: str | None = None) -> dict[str, Any]:
        """Set sensor readings by name (None: follow the power state
        again) and/or the style (``legacy``: Power and Thermal;
        ``sensors``: the Sensors collection); returns the sensors' state.

        :raises ValueError: an unknown sensor or style.
        """
        changes: dict[str, Any] = {"readings": dict(readings or {})}
        if style is not None:
            changes["style"] = style

        def apply() -> dict[str, Any]:
            sensors = self._system(system).sensors
            sensors.configure(changes)
            return sensors.describe()
        return self._call(apply)

    def get_system_behaviour(self, system: str | int | SystemInfo
                             ) -> Behaviour:
        """The effective behaviour of one system."""
        return self._call(lambda: self._system(system).behaviour)

    def set_system_behaviour(self, system: str | int | SystemInfo,
                             **changes: Any) -> Behaviour:
        """Override behaviour fields of one system; a field set to None
        inherits the endpoint's again. Returns the effective behaviour."""
        cleaned = clean_overrides(changes)
        return self._call(lambda: self._set_system_behaviour_in_loop(
            self._system(system), cleaned))

    def clear_system_behaviour(self, system: str | int | SystemInfo
                               ) -> None:
        """Drop every override of one system."""
        def clear() -> None:
            s = self._system(system)
            s.overrides.clear()
            s.rebase(self._endpoints[s.endpoint].behaviour)
        self._call(clear)

    def set_endpoint_behaviour(self, endpoint: int | str | None = None,
                               **changes: Any) -> None:
        """Change behaviour fields of one endpoint (index or address), or
        of every endpoint when ``endpoint`` is None. Systems keep their own
        overrides."""
        cleaned = clean_overrides(changes)
        if any(v is None for v in cleaned.values()):
            raise ValueError("endpoint behaviour fields cannot be None")

        def apply() -> None:
            targets = (self._endpoints if endpoint is None
                       else [self._endpoint(endpoint)])
            for target in targets:
                self._set_endpoint_behaviour_in_loop(target, cleaned)
        self._call(apply)

    def set_bmc_reset_seconds(self, endpoint: int | str | None,
                              seconds: float) -> None:
        """Seconds an endpoint (index or address; every endpoint when
        None) answers nothing after a ``Manager.Reset``."""
        if seconds < 0:
            raise ValueError("reset seconds must not be negative")

        def apply() -> None:
            targets = (self._endpoints if endpoint is None
                       else [self._endpoint(endpoint)])
            for target in targets:
                target.reset_seconds = float(seconds)
        self._call(apply)

    def set_max_concurrency(self, endpoint: int | str | None,
                            limit: int | None) -> None:
        """Cap in-flight requests of one endpoint (None: every endpoint);
        ``limit=None`` removes the cap."""
        def apply() -> None:
            targets = (self._endpoints if endpoint is None
                       else [self._endpoint(endpoint)])
            for target in targets:
                self._set_max_concurrency_in_loop(target, limit)
        self._call(apply)

    def set_installer_outcome(self, system: str | int | SystemInfo,
                              outcome: str | None) -> None:
        """Force what the installer of ``system`` reports: ``"end"``,
        ``"error"`` or ``"silent"`` (never calls back after ``start``);
        None: drawn with the failure rate again."""
        if outcome not in (None, "end", "error", "silent"):
            raise ValueError(f"unknown installer outcome {outcome!r}")
        installer = self._require_installer()

        def apply() -> None:
            uuid = self._system(system).uuid
            if outcome is None:
                installer.plan.pop(uuid, None)
            else:
                installer.plan[uuid] = outcome
        self._call(apply)

    def installer_stats(self) -> dict[str, Any]:
        """The installer's counters (started, succeeded, failed,
        gave_up, stopped, silent), how many install now, and the latest
        outcome of each system by UUID."""
        installer = self._require_installer()
        return self._call(lambda: {**installer.describe(),
                                   "outcomes": dict(installer.outcomes)})

    def _require_installer(self) -> SimulatedInstaller:
        if self._installer is None:
            raise RuntimeError("the simulator runs no installer")
        return self._installer

    def stats(self, systems: bool = False) -> dict[str, Any]:
        """Counters of every endpoint and their totals, plus CPU used.

        ``loop_cpu_seconds`` is the CPU of the simulator's loop thread since
        start (what the simulator itself costs, even in-process);
        ``process_cpu_seconds`` is the whole process. ``systems=True`` adds
        requests per system uuid.
        """
        return self._call(lambda: self._stats_in_loop(systems))

    def reset_stats(self) -> None:
        """Zero every counter (between benchmark phases)."""
        self._call(self._reset_stats_in_loop)

    # loop-side implementation (also used by the control API)

    def _call(self, fn: Callable[[], T], timeout: float = 30.0) -> T:
        loop = self._loop
        if (loop is None or self._loop_thread == threading.get_ident()
                or loop.is_closed()):
            return fn()
        future: concurrent.futures.Future[T] = concurrent.futures.Future()

        def run() -> None:
            try:
                future.set_result(fn())
            except BaseException as exc:
                future.set_exception(exc)
        loop.call_soon_threadsafe(run)
        return future.result(timeout)

    def _system(self, ref: str | int | SystemInfo | SimSystem) -> SimSystem:
        if isinstance(ref, SimSystem):
            return ref
        if isinstance(ref, SystemInfo):
            ref = ref.uuid
        if isinstance(ref, int):
            return self._systems[ref]
        key = ref.rstrip("/").rsplit("/", 1)[-1]
        try:
            return self._by_key[key]
        except KeyError:
            raise KeyError(f"no simulated system {ref!r}") from None

    def _endpoint(self, ref: int | str) -> Endpoint:
        if isinstance(ref, int):
            return self._endpoints[ref]
        for endpoint in self._endpoints:
            if ref in (endpoint.address, f"{endpoint.host}:{endpoint.port}"):
                return endpoint
        raise KeyError(f"no simulated endpoint {ref!r}")

    def _set_system_behaviour_in_loop(self, system: SimSystem,
                                      changes: dict[str, Any]) -> Behaviour:
        cleaned = clean_overrides(changes)
        for name, value in cleaned.items():
            if value is None:
                system.overrides.pop(name, None)
            else:
                system.overrides[name] = value
        system.rebase(self._endpoints[system.endpoint].behaviour)
        return system.behaviour

    def _set_endpoint_behaviour_in_loop(self, endpoint: Endpoint,
                                        changes: dict[str, Any]) -> None:
        cleaned = clean_overrides(changes)
        endpoint.set_behaviour(apply_overrides(endpoint.behaviour, cleaned))

    @staticmethod
    def _set_max_concurrency_in_loop(endpoint: Endpoint,
                                     limit: int | None) -> None:
        if limit is not None and (isinstance(limit, bool)
                                  or int(limit) < 1):
            raise ValueError("max_concurrency must be at least 1 or null")
        endpoint.max_concurrency = None if limit is None else int(limit)

    def _stats_in_loop(self, systems: bool = False) -> dict[str, Any]:
        total, per_endpoint = fleet_stats.summed(self._endpoints)
        started = self._started_at
        doc: dict[str, Any] = {
            "process_cpu_seconds": process_cpu_seconds(),
            "loop_cpu_seconds": (time.thread_time() - self._cpu_at_start
                                 if started is not None else 0.0),
            "uptime_seconds": (time.monotonic() - started
                               if started is not None else 0.0),
            "endpoint_count": len(self._endpoints),
            "system_count": len(self._systems),
            **total.to_dict(),
            "endpoints": per_endpoint,
        }
        if systems:
            doc["systems"] = {s.uuid: s.requests for s in self._systems}
        return doc

    def _reset_stats_in_loop(self) -> None:
        fleet_stats.reset(self._endpoints, self._systems)

    def _bound(self, endpoint: Endpoint) -> Endpoint:
        if endpoint.port == 0:
            raise RuntimeError("ephemeral ports are known only after "
                               "start()")
        return endpoint

    def _info(self, system: SimSystem) -> SystemInfo:
        endpoint = self._bound(self._endpoints[system.endpoint])
        return SystemInfo(endpoint.address, system.path, system.uuid,
                          system.name, self.username, self.password,
                          endpoint.index, tuple(system.macs))


def _new_loop(use_uvloop: bool) -> asyncio.AbstractEventLoop:
    if use_uvloop:
        import uvloop

        return uvloop.new_event_loop()
    return asyncio.new_event_loop()
