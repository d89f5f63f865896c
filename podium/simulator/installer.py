"""A simulated network installer for the Redfish simulator.

With an installer configured, a simulated system that powers on with a
one-time boot override to ``Pxe`` or ``Cd`` "boots the installer": the
override is spent (as on a real BMC) and, after a boot time and an
install time drawn from their latency specs (jitter), the installer
does what a kickstart ``%pre``/``%post`` pointed at Podium does: it
looks its node up by the system's MAC addresses (``GET /v1/lookup``),
then posts Ironic's ramdisk heartbeat (``POST /v1/heartbeat/{node}``)
with ``agent_status`` ``start``, then ``end``, or ``error`` for the
share of installs ``failure_rate`` picks. Powering the system off stops
its installer, as pulling the plug would.

It is bounded in every way the simulator is: the call-back URL must be
on loopback, every HTTP call has a timeout, lookups are retried a fixed
number of times, and at most ``max_requests`` calls are in flight (they
run in a small thread pool, off the event loop). What happened is
counted, and the latest outcome of each system is kept, for tests and
benchmarks.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import dataclasses
import logging
import random
import urllib.parse
from typing import Any

import requests

from podium.simulator.behaviour import Fixed, Latency
from podium.simulator.state import SimSystem
from podium.simulator.util import require_loopback

LOG = logging.getLogger(__name__)

#: Boot override targets that boot an installer.
INSTALLER_BOOT_TARGETS = ("Pxe", "Cd")

#: The microversion the installer sends (``agent_status`` needs 1.72).
API_VERSION = "1.72"


@dataclasses.dataclass(frozen=True)
class InstallerConfig:
    """How the simulated installer behaves.

    :param callback_url: the Podium API the installer calls back, e.g.
        ``http://127.0.0.1:6385``; must be on loopback.
    :param boot_time: seconds from power-on to the installer's lookup.
    :param install_time: seconds from ``start`` to ``end``/``error``.
    :param failure_rate: share of installs that report ``error``.
    :param request_timeout: seconds each HTTP call may take.
    :param lookup_attempts: lookups tried (one a ``lookup_interval``)
        before the installer gives up: a node may still be on its way
        into ``wait call-back`` when its installer boots.
    :param max_requests: HTTP calls in flight at most.
    """

    callback_url: str
    boot_time: Latency = Fixed(0.0)
    install_time: Latency = Fixed(0.0)
    failure_rate: float = 0.0
    request_timeout: float = 10.0
    lookup_attempts: int = 20
    lookup_interval: float = 0.5
    max_requests: int = 8

    def __post_init__(self) -> None:
        parsed = urllib.parse.urlsplit(self.callback_url)
        if parsed.scheme not in ("http", "https") or not parsed.hostname:
            raise ValueError(f"callback_url must be an http(s) URL, got "
                             f"{self.callback_url!r}")
        require_loopback(parsed.hostname)
        if not 0.0 <= self.failure_rate <= 1.0:
            raise ValueError("failure_rate must be within [0, 1]")
        if self.request_timeout <= 0 or self.lookup_attempts < 1 \
                or self.max_requests < 1 or self.lookup_interval < 0:
            raise ValueError("request_timeout, lookup_attempts and "
                             "max_requests must be positive")


class InstallerFailed(Exception):
    """The installer could not reach or satisfy Podium."""


class SimulatedInstaller:
    """Runs one simulated install per booting system, on the loop."""

    def __init__(self, config: InstallerConfig, rng: random.Random) -> None:
        self.config = config
        self._rng = rng
        self._base = config.callback_url.rstrip("/")
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._pool = concurrent.futures.ThreadPoolExecutor(
            config.max_requests, thread_name_prefix="sim-installer")
        #: Outcome forced per system UUID: "end", "error" or "silent"
        #: (the installer never calls back: a hung install).
        self.plan: dict[str, str] = {}
        #: Counters: started, succeeded, failed (reported error), gave_up
        #: (could not call back), stopped (powered off meanwhile).
        self.counters = {"started": 0, "succeeded": 0, "failed": 0,
                         "gave_up": 0, "stopped": 0, "silent": 0}
        #: The latest outcome per system UUID.
        self.outcomes: dict[str, str] = {}

    # Called on the loop by SimSystem ----------------------------------------

    def on_power(self, system: SimSystem, on: bool,
                 boot_target: str | None) -> None:
        """A system was switched on (booting ``boot_target``) or off."""
        running = self._tasks.pop(system.uuid, None)
        if running is not None and not running.done():
            running.cancel()
            self.counters["stopped"] += 1
            self.outcomes[system.uuid] = "stopped"
        if on and boot_target in INSTALLER_BOOT_TARGETS:
            self.counters["started"] += 1
            self.outcomes[system.uuid] = "installing"
            self._tasks[system.uuid] = asyncio.get_running_loop(
            ).create_task(self._install(system))

    async def close(self) -> None:
        """Stop every install and the HTTP threads."""
        tasks = list(self._tasks.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._tasks.clear()
        self._pool.shutdown(wait=False, cancel_futures=True)

    def describe(self) -> dict[str, Any]:
        return {"counters": dict(self.counters),
                "installing": sum(1 for t in self._tasks.values()
                                  if not t.done())}

    # The install ---------------------------------------------------------

    async def _install(self, system: SimSystem) -> None:
        config = self.config
        planned = self.plan.get(system.uuid)
        if planned is None:
            planned = ("error" if self._rng.random() < config.failure_rate
                       else "end")
        try:
            await asyncio.sleep(config.boot_time.sample(self._rng))
            node, token = await self._lookup(system)
            await self._heartbeat(node, token, "start",
                                  "Simulated installation started")
            await asyncio.sleep(config.install_time.sample(self._rng))
            # The install is over; only its report is left. A conductor
            # may power the node off as soon as it reads the report (a
            # failed deploy is powered off) while the call still waits
            # for its answer: that must not count as stopped.
            if self._tasks.get(system.uuid) is asyncio.current_task():
                del self._tasks[system.uuid]
            if planned == "silent":
                outcome = "silent"
            elif planned == "error":
                await self._heartbeat(node, token, "error",
                                      "Simulated installation failed")
                outcome = "failed"
            else:
                await self._heartbeat(node, token, "end",
                                      "Simulated installation finished")
                outcome = "succeeded"
        except InstallerFailed as exc:
            LOG.warning("Installer of %s gave up: %s", system.name, exc)
            outcome = "gave_up"
        self.counters[outcome] += 1
        self.outcomes[system.uuid] = outcome

    async def _lookup(self, system: SimSystem) -> tuple[str, str]:
        url = f"{self._base}/v1/lookup"
        params = {"addresses": ",".join(system.macs)}
        last = "no lookup made"
        for attempt in range(self.config.lookup_attempts):
            if attempt:
                await asyncio.sleep(self.config.lookup_interval)
            status, body = await self._call("GET", url, params=params)
            if status == 200 and not isinstance(body, dict):
                status = 0
            if status == 200:
                node = body["node"]["uuid"]
                return str(node), str(body["config"]["agent_token"])
            last = f"lookup answered {status}"
        raise InstallerFailed(last)

    async def _heartbeat(self, node: str, token: str, status: str,
                         message: str) -> None:
        status_code, body = await self._call(
            "POST", f"{self._base}/v1/heartbeat/{node}",
            json={"callback_url": "", "agent_token": token,
                  "agent_status": status, "agent_status_message": message})
        if status_code != 202:
            raise InstallerFailed(
                f"heartbeat {status} answered {status_code}: {body}")

    async def _call(self, method: str, url: str,
                    **kwargs: Any) -> tuple[int, Any]:
        def send() -> tuple[int, Any]:
            try:
                response = requests.request(
                    method, url, timeout=self.config.request_timeout,
                    headers={"X-OpenStack-Ironic-API-Version":
                             API_VERSION}, **kwargs)
            except requests.RequestException as exc:
                return 0, str(exc)
            try:
                return response.status_code, response.json()
            except ValueError:
                return response.status_code, response.text

        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool, send)
