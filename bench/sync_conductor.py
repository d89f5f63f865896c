"""The conductor under measurement in the power-sync benchmark.

``python -m bench.sync_conductor --config-file F --cycles K --out R.json``
starts a real conductor service from ``F`` (periodic power sync disabled
there, so nothing runs behind the benchmark's back), then runs ``K``
power-sync cycles one after the other through the very code the periodic
task calls, and writes per-cycle measurements to ``R.json``:

- ``wall_s``: the whole cycle, hung BMCs' timeouts included;
- ``healthy_s``: until the last successful read reached the sync (the
  sync learns results in its own thread; the moment it does is what
  counts), from a probe on the cycle's result callback;
- ``cpu_s``: CPU of this whole process during the cycle;
- with ``--control URL`` (a simulator's control API, once per
  process): BMC requests and simulator CPU during the cycle, counters
  reset before each.

Running in its own process keeps the simulator's and the benchmark
driver's CPU out of the conductor's figures.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

from bench import sim
from podium.common import context as podium_context
from podium.common import hash_ring
from podium.common import service as podium_service
from podium.conductor import service as conductor_service
from podium.conductor import sync_cycle
from podium.conf import CONF
from podium.db import api as db_api


def _process_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


class ReadProbe:
    """Notes when the sync learnt each node's outcome.

    Wraps ``sync_cycle.Cycle.on_read`` (benchmark instrumentation only;
    one ``time.monotonic()`` per unit of nodes read).
    """

    def __init__(self) -> None:
        self.ok_at: list[float] = []
        self.failed = 0
        original: Callable[..., None] = sync_cycle.Cycle.on_read

        def on_read(cycle: Any, unit: Any, result: Any,
                    error: BaseException | None) -> None:
            now = time.monotonic()
            for row in unit.rows:
                outcome = error if error is not None else (
                    result or {}).get(row.id)
                if outcome is None or isinstance(outcome, BaseException):
                    self.failed += 1
                else:
                    self.ok_at.append(now)
            original(cycle, unit, result, error)

        sync_cycle.Cycle.on_read = on_read  # type: ignore[method-assign,assignment]

    def reset(self) -> None:
        self.ok_at = []
        self.failed = 0


def _status() -> dict[str, int]:
    wanted = {'VmRSS': 'rss_kb', 'VmHWM': 'peak_rss_kb',
              'Threads': 'threads'}
    found = {}
    with open('/proc/self/status', encoding='ascii') as handle:
        for line in handle:
            key, _, value = line.partition(':')
            if key in wanted:
                found[wanted[key]] = int(value.split()[0])
    return found


def _sim_stats(controls: list[sim.SimControl]) -> dict[str, Any]:
    return sim.sum_stats([control.stats() for control in controls])


def _wait_conductors(count: int, timeout: float = 300) -> None:
    """Wait until ``count`` conductors are alive, so that the ring this
    conductor syncs by is the whole cluster's (scale-out runs)."""
    deadline = time.monotonic() + timeout
    while len(db_api.get_alive_conductors(
            CONF.conductor.heartbeat_timeout)) < count:
        if time.monotonic() > deadline:
            raise RuntimeError(f'fewer than {count} conductors alive '
                               f'after {timeout:.0f} s')
        time.sleep(0.2)
    hash_ring.HashRingManager.reset()


class SteadyProfile:
    """``py-spy record`` of this process, started once the first cycle
    (every BMC logged in to) is over, so that the folded stacks are the
    steady cycles' only."""

    def __init__(self, py_spy: str, output: str) -> None:
        self._argv = [py_spy, 'record', '--pid', str(os.getpid()),
                      '--format', 'raw', '--gil', '--rate', '250',
                      '--output', output]
        self._proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        if self._proc is None:
            self._proc = subprocess.Popen(self._argv,
                                          stdout=subprocess.DEVNULL)
            time.sleep(1.0)  # attached before the next cycle starts

    def stop(self) -> None:
        if self._proc is not None:
            self._proc.send_signal(signal.SIGINT)  # it writes, then exits
            self._proc.wait(60)
            self._proc = None


def run_cycles(cycles: int, controls: list[sim.SimControl],
               wait_conductors: int = 1,
               profile: SteadyProfile | None = None
               ) -> list[dict[str, Any]]:
    probe = ReadProbe()
    service = conductor_service.ConductorService(CONF.host)
    service.start()
    manager = service.manager
    assert manager is not None  # set by start()
    results = []
    try:
        _wait_conductors(wait_conductors)
        context = podium_context.get_admin_context()
        for index in range(cycles):
            if index == 1 and profile is not None:
                profile.start()
            probe.reset()
            for control in controls:
                control.reset_stats()
            sim_before = _sim_stats(controls)['process_cpu_seconds']
            cpu = _process_cpu()
            start = time.monotonic()
            stats = manager.power_sync.run(context)
            wall = time.monotonic() - start
            cpu = _process_cpu() - cpu
            row: dict[str, Any] = {
                'cycle': index + 1, 'wall_s': wall, 'cpu_s': cpu,
                'nodes': stats.nodes, 'read_ok': len(probe.ok_at),
                'read_failed': probe.failed, 'changed': stats.changed,
                'written': stats.written,
                'healthy_s': (max(probe.ok_at) - start) if probe.ok_at
                else float('nan'),
                **_status()}
            if controls:
                after = _sim_stats(controls)
                row['bmc_requests'] = after['requests']
                row['sim_cpu_s'] = after['process_cpu_seconds'] - sim_before
            results.append(row)
            print(json.dumps(row), flush=True)
    finally:
        if profile is not None:
            profile.stop()
        service.stop()
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('--config-file', required=True)
    parser.add_argument('--cycles', type=int, default=3)
    parser.add_argument('--control', action='append', default=[],
                        help='address of a simulator process, for its '
                             'counters (repeat for each process)')
    parser.add_argument('--out', required=True)
    parser.add_argument('--host', default=None,
                        help='conductor host name (default: [DEFAULT] '
                             'host of the file)')
    parser.add_argument('--wait-conductors', type=int, default=1,
                        help='start the cycles once this many conductors '
                             '(this one included) are alive')
    parser.add_argument('--profile', default=None, metavar='FILE',
                        help='write py-spy folded stacks of the cycles '
                             'after the first here')
    parser.add_argument('--py-spy', default='py-spy',
                        help='the py-spy executable (with --profile)')
    args = parser.parse_args(argv)
    podium_service.prepare_service(['--config-file', args.config_file])
    if args.host:
        CONF.set_override('host', args.host)
    results = run_cycles(args.cycles,
                         [sim.SimControl(url) for url in args.control],
                         args.wait_conductors,
                         SteadyProfile(args.py_spy, args.profile)
                         if args.profile else None)
    with open(args.out, 'w', encoding='utf-8') as handle:
        json.dump(results, handle)
    return 0


if __name__ == '__main__':
    sys.exit(main())
