"""The Redfish BMC simulator as a benchmark's separate process.

The simulator runs in its own process (``python -m podium.simulator
redfish``) so its CPU never counts as the conductor's; benchmarks talk to
it only over its HTTP control API (``/simulator/...`` on any endpoint) to
read counters, reset them, flip power behind the conductor's back and
change a system's behaviour.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import http.client
import json
import math
import os
import random
import tempfile
import urllib.parse
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from bench import procs


@dataclasses.dataclass(frozen=True)
class SimSystem:
    """What a node needs to reach one simulated system."""

    address: str
    system_id: str
    uuid: str
    name: str
    username: str
    password: str
    hung: bool = False
    macs: tuple[str, ...] = ()


class SimControl:
    """Client of the simulator's control API on one endpoint."""

    def __init__(self, address: str, timeout: float = 30.0) -> None:
        self.url = address
        parts = urllib.parse.urlsplit(address)
        self.host = parts.hostname or '127.0.0.1'
        self.port = parts.port or 80
        self.timeout = timeout

    def request(self, method: str, path: str,
                body: Mapping[str, Any] | None = None) -> Any:
        """One control call; returns the decoded JSON answer."""
        conn = http.client.HTTPConnection(self.host, self.port,
                                          timeout=self.timeout)
        try:
            payload = json.dumps(body).encode() if body is not None else None
            headers = {'Content-Type': 'application/json'} if payload else {}
            conn.request(method, '/simulator/' + path.lstrip('/'),
                         body=payload, headers=headers)
            resp = conn.getresponse()
            data = resp.read()
        finally:
            conn.close()
        if resp.status >= 300:
            raise procs.BenchError(f'simulator control {method} {path}: '
                                   f'{resp.status} {data[:200]!r}')
        return json.loads(data) if data else None

    def stats(self) -> dict[str, Any]:
        """Totals over every endpoint, and the simulator's own CPU."""
        return dict(self.request('GET', 'stats'))

    def reset_stats(self) -> None:
        self.request('POST', 'stats/reset')

    def set_power(self, uuid: str, state: str) -> None:
        """Flip a system's power out of band (``On``/``Off``)."""
        self.request('PATCH', f'systems/{uuid}', {'power_state': state})

    def set_behaviour(self, uuid: str, **behaviour: Any) -> None:
        """Change a system's behaviour (``hang``, ``latency``, ...)."""
        self.request('PATCH', f'systems/{uuid}', {'behaviour': behaviour})


class SimFleet:
    """Running simulator processes and the systems they serve.

    Large fleets are sharded over several processes (a process can hold
    only so many sockets); :meth:`stats` and :meth:`reset_stats` cover
    all of them and :meth:`control` finds the one serving a system.
    """

    def __init__(self, shards: list[tuple[Any, SimControl]],
                 systems: list[SimSystem], log_paths: list[str]) -> None:
        self.shards = shards
        self.systems = systems
        self.log_paths = log_paths
        self._by_uuid: dict[str, SimControl] = {}

    def own(self, uuid: str, control: SimControl) -> None:
        self._by_uuid[uuid] = control

    @property
    def pids(self) -> list[int]:
        return [int(proc.pid) for proc, _ in self.shards]

    @property
    def controls(self) -> list[SimControl]:
        return [control for _, control in self.shards]

    def control(self, uuid: str) -> SimControl:
        """The control API of the process serving system ``uuid``."""
        return self._by_uuid[uuid]

    def cpu_seconds(self) -> float:
        """CPU every simulator process used so far (from ``/proc``)."""
        return sum(procs.cpu_seconds(pid) for pid in self.pids)

    def stats(self) -> dict[str, Any]:
        """Counters summed over every process."""
        return sum_stats([c.stats() for c in self.controls])

    def reset_stats(self) -> None:
        for control in self.controls:
            control.reset_stats()

    @property
    def healthy(self) -> list[SimSystem]:
        return [s for s in self.systems if not s.hung]

    @property
    def hung(self) -> list[SimSystem]:
        return [s for s in self.systems if s.hung]


#: Counters that add up across simulator processes.
_SUMMED = ('requests', 'errors', 'hung', 'refused', 'connections',
           'connections_total', 'process_cpu_seconds', 'loop_cpu_seconds')


def sum_stats(docs: list[dict[str, Any]]) -> dict[str, Any]:
    """Totals of several simulators' ``/simulator/stats`` answers."""
    return {key: sum(doc.get(key, 0) or 0 for doc in docs)
            for key in _SUMMED}


def _read_inventory(path: str) -> list[dict[str, Any]] | None:
    try:
        with open(path, encoding='utf-8') as handle:
            doc = json.load(handle)
    except (OSError, ValueError):
        return None  # not written (completely) yet
    return doc if isinstance(doc, list) else doc.get('systems')


#: Systems one simulator process serves at most: each holds a listening
#: socket and a client connection, and the open-file limit is shared.
SYSTEMS_PER_PROCESS = 5000


@contextlib.contextmanager
def simulator(systems: int, latency: float = 0.0, hung_fraction: float = 0.0,
              systems_per_endpoint: int = 1, seed: int = 42,
              power_state: str = 'Off', start_timeout: float = 180,
              workdir: str | None = None,
              installer: Sequence[str] = ()) -> Iterator[SimFleet]:
    """Run simulators serving ``systems`` systems for the block.

    Each system gets an endpoint of its own (as real BMCs do) unless
    ``systems_per_endpoint`` says otherwise. ``hung_fraction`` of the
    systems, picked with ``seed``, are told through the control API to
    never answer, so the benchmark knows exactly which nodes are the
    healthy ones. ``installer`` is passed on to every simulator process
    (``--installer-url`` and friends: the simulated installer).
    """
    shares = _split(systems, math.ceil(systems / SYSTEMS_PER_PROCESS))
    with contextlib.ExitStack() as stack:
        if workdir is None:
            workdir = stack.enter_context(tempfile.TemporaryDirectory(
                prefix='podium-bench-sim-'))
        started = []
        for index, share in enumerate(shares):
            inventory = os.path.join(workdir, f'inventory-{index}.json')
            log = os.path.join(workdir, f'simulator-{index}.out')
            argv = [procs.PYTHON, '-m', 'podium.simulator', 'redfish',
                    '--endpoints',
                    str(math.ceil(share / systems_per_endpoint)),
                    '--systems-per-endpoint', str(systems_per_endpoint),
                    '--latency', f'fixed:{latency:g}',
                    '--power-state', power_state,
                    '--name-prefix', f'sim{index}',
                    '--seed', str(seed + index), '--inventory', inventory,
                    *installer]
            proc = stack.enter_context(procs.child(argv, log))
            started.append((proc, inventory, log, share))
        shards, docs, owners = [], [], []
        for proc, inventory, _, share in started:
            found = procs.wait_until(
                functools.partial(_read_inventory, inventory),
                start_timeout, 'simulator start-up', proc=proc,
                interval=0.1)[:share]
            control = SimControl(found[0]['address'])
            shards.append((proc, control))
            docs.extend(found)
            owners.extend([control] * len(found))
        hung = {d['uuid'] for d in random.Random(seed).sample(
            docs, round(hung_fraction * len(docs)))}
        fleet = SimFleet(shards, [
            SimSystem(d['address'], d['system_id'], d['uuid'], d['name'],
                      d['username'], d['password'], d['uuid'] in hung,
                      tuple(d.get('macs', ())))
            for d in docs], [entry[2] for entry in started])
        for doc, control in zip(docs, owners, strict=True):
            fleet.own(doc['uuid'], control)
            if doc['uuid'] in hung:
                control.set_behaviour(doc['uuid'], hang=True)
        yield fleet


def _split(total: int, parts: int) -> list[int]:
    """``total`` as ``parts`` nearly equal shares."""
    base, extra = divmod(total, parts)
    return [base + (1 if i < extra else 0) for i in range(parts)]


#: IPMI BMCs per simulator process: pyghmi's server shares one IO thread
#: and its sockets must stay below fd 1024 (see podium.simulator.ipmi).
IPMI_PER_PROCESS = 250


@dataclasses.dataclass
class IpmiFleet:
    """Running IPMI simulator processes and their BMCs (inventory docs)."""

    pids: list[int]
    bmcs: list[dict[str, Any]]
    hung: int
    controls: tuple[()] = ()

    def cpu_seconds(self) -> float:
        return sum(procs.cpu_seconds(pid) for pid in self.pids)


@contextlib.contextmanager
def ipmi_simulator(bmcs: int, latency: float = 0.0,
                   hung_fraction: float = 0.0, seed: int = 42,
                   start_timeout: float = 180) -> Iterator[IpmiFleet]:
    """Run IPMI simulators serving ``bmcs`` BMCs for the block.

    ``hung_fraction`` of each process's BMCs never answer (the simulator
    picks which); the nodes of a benchmark cannot tell them apart, so
    only their number is known.
    """
    shares = _split(bmcs, math.ceil(bmcs / IPMI_PER_PROCESS))
    with contextlib.ExitStack() as stack:
        workdir = stack.enter_context(tempfile.TemporaryDirectory(
            prefix='podium-bench-ipmi-'))
        started = []
        for index, share in enumerate(shares):
            inventory = os.path.join(workdir, f'inventory-{index}.json')
            argv = [procs.PYTHON, '-m', 'podium.simulator', 'ipmi',
                    '--count', str(share), '--latency', f'fixed:{latency:g}',
                    '--hung-fraction', str(hung_fraction),
                    '--name-prefix', f'ipmi{index}',
                    '--seed', str(seed + index), '--inventory', inventory]
            log = os.path.join(workdir, f'simulator-{index}.out')
            proc = stack.enter_context(procs.child(argv, log))
            started.append((proc, inventory))
        docs: list[dict[str, Any]] = []
        for proc, inventory in started:
            docs.extend(procs.wait_until(
                functools.partial(_read_inventory, inventory),
                start_timeout, 'IPMI simulator start-up', proc=proc,
                interval=0.1))
        yield IpmiFleet([int(proc.pid) for proc, _ in started], docs,
                        sum(round(hung_fraction * share)
                            for share in shares))
