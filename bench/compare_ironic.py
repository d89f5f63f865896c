"""Podium and OpenStack Ironic side by side: one machine, one client, one run.

Both services run standalone (one all-in-one process, SQLite, no
authentication, loopback) and are driven through their REST API by the
same client (:mod:`bench.apiclient`, :mod:`bench.loadgen`) with the same
workloads, one service after the other:

- ``enroll``: ``POST /v1/nodes`` of N ``fake-hardware`` nodes from
  ``--concurrency`` client threads (nodes per second);
- ``list-detail``: every node with detail, following ``next`` links, from
  one client (median and maximum of ``--list-samples`` walks);
- ``show``: ``GET /v1/nodes/<name>`` over every node for ``--duration``
  seconds from ``--concurrency`` keep-alive clients (requests/s);
- ``manage``: the nodes moved to ``manageable`` (Ironic does not sync the
  power state of ``enroll`` nodes);
- ``sync-cpu-fake``: the server's CPU per node per power-sync cycle,
  ``[conductor] sync_power_state_interval`` = ``--sync-interval``: CPU
  over ``--sync-window`` seconds with the nodes, minus the CPU of the same
  window measured before any node existed, divided by nodes x cycles;
- ``bulk-power``: every node powered off, one ``PUT`` each from
  ``--bulk-concurrency`` clients, until a listing shows them all off;
- ``memory``: the server's memory at the end, as the proportional set
  size of the process and its children (Ironic forks its API worker);
- ``sync-cpu-redfish``: the same sync measurement on a fresh server with
  N ``redfish`` nodes behind Podium's Redfish simulator (one endpoint per
  BMC, its own processes, the same simulator for both services).

CPU and memory are those of the service's whole process family.
The ratio column says how many times better Podium did (higher
throughput, or lower time, CPU and memory). Ironic is installed from PyPI
into its own virtualenv (:mod:`bench.ironic_standalone`).

    python -m bench.compare_ironic --nodes 1000
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import json
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from bench import apiclient, cli, deploy, loadgen, procs, report, sim
from bench import ironic_standalone as ironic

#: Podium only, tiny: checks the harness still runs (no Ironic install).
SMOKE = ['--nodes', '12', '--only', 'podium', '--duration', '1',
         '--list-samples', '2', '--sync-interval', '1', '--sync-window',
         '2', '--tool', 'python']


class _Podium:
    """``podium serve`` on a fresh deployment, as an operator runs it."""

    def __init__(self, sync_interval: int, keep: bool) -> None:
        self.dep = deploy.Deployment(
            'compare', {'conductor': {
                'sync_power_state_interval': sync_interval}}, keep=keep)
        self.url = self.dep.api_url

    @contextlib.contextmanager
    def serve(self) -> Iterator[Any]:
        with self.dep.serve() as proc:
            yield proc

    def cleanup(self) -> None:
        self.dep.cleanup()


class _Ironic:
    """A standalone Ironic (see :mod:`bench.ironic_standalone`)."""

    def __init__(self, venv: str, sync_interval: int, keep: bool) -> None:
        self.server = ironic.IronicServer(venv, sync_interval, keep)
        self.url = self.server.url

    @contextlib.contextmanager
    def serve(self) -> Iterator[Any]:
        with self.server.serve() as proc:
            yield proc

    def cleanup(self) -> None:
        self.server.cleanup()


def _names(count: int) -> list[str]:
    return [f'node-{i:05d}' for i in range(count)]


def _insist(client: apiclient.ApiClient, method: str, path: str,
            body: dict[str, Any], attempts: int = 5) -> int:
    """One request, retried on a dropped connection or a 409/5xx answer.

    Under 32 concurrent clients a service may reset connections or answer
    "node locked"; the workload is the action done, so it is retried (with
    a short pause) and the retries are counted by the caller as errors.
    """
    for attempt in range(1, attempts + 1):
        try:
            status, _ = client.call(method, path, body)
        except OSError:
            status = 0
        if status in (200, 201, 202, 204) or attempt == attempts:
            return status if attempt == 1 else -status
        time.sleep(0.2 * attempt)
    return 0


def _parallel(func: Callable[[Any], Any], items: Sequence[Any],
              concurrency: int) -> list[Any]:
    with concurrent.futures.ThreadPoolExecutor(concurrency) as pool:
        return list(pool.map(func, items))


def enroll(client: apiclient.ApiClient, bodies: Sequence[dict[str, Any]],
           concurrency: int) -> dict[str, Any]:
    """POST every body; nodes per second and the failures."""
    start = time.perf_counter()
    statuses = _parallel(lambda b: _insist(client, 'POST', '/v1/nodes', b),
                         bodies, concurrency)
    elapsed = time.perf_counter() - start
    failed = sum(1 for s in statuses if s != 201)
    if failed == len(bodies):
        raise procs.BenchError('every enrollment failed')
    return {'value': len(bodies) / elapsed, 'unit': 'nodes/s',
            'errors': failed, 'better': 'higher'}


def _listing(client: apiclient.ApiClient, fields: str
             ) -> list[dict[str, Any]]:
    return client.nodes(fields)


def manage(client: apiclient.ApiClient, names: Sequence[str],
           concurrency: int, timeout: float) -> dict[str, Any]:
    """Move every node to ``manageable`` and wait; skipped (None) when
    the service has no provision state machine (it syncs ``enroll``)."""
    status, _ = client.call('PUT', f'/v1/nodes/{names[0]}/states/provision',
                            {'target': 'manage'})
    if status == 400:
        return {'value': None, 'unit': 's', 'better': 'lower',
                'note': 'no manage verb; enroll nodes are synced'}
    start = time.perf_counter()
    _parallel(lambda n: _insist(client, 'PUT',
                                f'/v1/nodes/{n}/states/provision',
                                {'target': 'manage'}),
              names[1:], concurrency)
    waited = apiclient.wait_for(
        lambda: all(n['provision_state'] == 'manageable'
                    for n in _listing(client, 'name,provision_state')),
        timeout, interval=0.5)
    if waited is None:
        raise procs.BenchError(f'nodes not manageable after {timeout:.0f} s')
    return {'value': time.perf_counter() - start, 'unit': 's',
            'better': 'lower'}


def list_detail(client: apiclient.ApiClient, samples: int
                ) -> dict[str, Any]:
    """Walk every page of ``/v1/nodes/detail``; median of the walks."""
    timings = []
    for _ in range(samples + 1):  # the first one warms caches
        start = time.perf_counter()
        path: str | None = '/v1/nodes/detail'
        while path:
            doc = client.ok('GET', path)
            nxt = doc.get('next')
            path = nxt[nxt.index('/v1/'):] if nxt else None
        timings.append(time.perf_counter() - start)
    walks = timings[1:]
    return {'value': report.median(walks) * 1000, 'unit': 'ms',
            'max': max(walks) * 1000, 'samples': len(walks),
            'better': 'lower'}


def show_load(url: str, names: Sequence[str], pid: int, args: Any
              ) -> dict[str, Any]:
    """``GET /v1/nodes/<name>`` under load; requests per second."""
    requests = [loadgen.Req('GET', f'/v1/nodes/{n}') for n in names]
    cpu = procs.family_cpu_seconds(pid)
    result = loadgen.run(url, requests, args.concurrency, args.duration,
                         args.tool)
    cpu = procs.family_cpu_seconds(pid) - cpu
    return {'value': result['rps'], 'unit': 'req/s',
            'errors': result.get('errors', 0), 'better': 'higher',
            'server_cpu_ms_per_req': (1000 * cpu / result['requests']
                                      if result['requests'] else None)}


def window_cpu(pid: int, seconds: float) -> float:
    """CPU seconds ``pid`` used over the next ``seconds``."""
    before = procs.family_cpu_seconds(pid)
    time.sleep(seconds)
    return procs.family_cpu_seconds(pid) - before


def sync_cpu(pid: int, idle_cpu: float, nodes: int, args: Any
             ) -> dict[str, Any]:
    """CPU per node per sync cycle, net of the idle process's CPU."""
    time.sleep(args.sync_interval)  # one cycle to open what it opens
    busy = window_cpu(pid, args.sync_window)
    cycles = args.sync_window / args.sync_interval
    return {'value': 1000 * max(busy - idle_cpu, 0.0) / (nodes * cycles),
            'unit': 'ms CPU/node/cycle', 'better': 'lower',
            'window_cpu_s': busy, 'idle_cpu_s': idle_cpu}


def bulk_power(client: apiclient.ApiClient, names: Sequence[str],
               args: Any) -> dict[str, Any]:
    """Power every node off; seconds until a listing shows all off."""
    retried = 0

    def everything(target: str) -> float:
        nonlocal retried
        start = time.perf_counter()
        statuses = _parallel(
            lambda n: _insist(client, 'PUT', f'/v1/nodes/{n}/states/power',
                              {'target': target}),
            names, args.bulk_concurrency)
        retried += sum(1 for s in statuses if s <= 0)
        waited = apiclient.wait_for(
            lambda: all(n['power_state'] == target
                        for n in _listing(client, 'name,power_state')),
            args.action_timeout, interval=0.2)
        if waited is None:
            raise procs.BenchError(f'{target}: not confirmed after '
                                   f'{args.action_timeout:.0f} s')
        return time.perf_counter() - start

    everything('power on')
    seconds = everything('power off')
    return {'value': len(names) / seconds, 'unit': 'nodes/s',
            'seconds': seconds, 'errors': retried, 'better': 'higher'}


def fake_side(service: Any, args: Any) -> dict[str, dict[str, Any]]:
    """Every fake-hardware workload against one service."""
    names = _names(args.nodes)
    results: dict[str, dict[str, Any]] = {}
    with service.serve() as proc:
        client = apiclient.ApiClient(service.url, timeout=300)
        idle = window_cpu(proc.pid, args.sync_window)
        results['enroll'] = enroll(
            client, [{'name': n, 'driver': 'fake-hardware'} for n in names],
            args.concurrency)
        results['list-detail'] = list_detail(client, args.list_samples)
        results['show'] = show_load(service.url, names, proc.pid, args)
        results['manage'] = manage(client, names, args.concurrency,
                                   args.action_timeout)
        results['sync-cpu-fake'] = sync_cpu(proc.pid, idle, args.nodes,
                                            args)
        results['bulk-power'] = bulk_power(client, names, args)
        results['memory'] = {'value': procs.family_pss_kb(proc.pid) / 1024,
                             'unit': 'MB PSS', 'better': 'lower',
                             'processes': len(procs.family(proc.pid))}
    return results


def redfish_side(service: Any, fleet: sim.SimFleet, args: Any
                 ) -> dict[str, dict[str, Any]]:
    """Power-sync CPU with Redfish nodes behind the simulator."""
    names = _names(args.nodes)
    bodies = [{'name': name, 'driver': 'redfish',
               'driver_info': {'redfish_address': s.address,
                               'redfish_system_id': s.system_id,
                               'redfish_username': s.username,
                               'redfish_password': s.password,
                               'redfish_verify_ca': False}}
              for name, s in zip(names, fleet.systems, strict=True)]
    with service.serve() as proc:
        client = apiclient.ApiClient(service.url, timeout=300)
        idle = window_cpu(proc.pid, args.sync_window)
        enroll(client, bodies, args.concurrency)
        manage(client, names, args.concurrency, args.action_timeout)
        fleet.reset_stats()
        sim_cpu = fleet.cpu_seconds()
        result = sync_cpu(proc.pid, idle, args.nodes, args)
        result['sim_cpu_s'] = fleet.cpu_seconds() - sim_cpu
        result['bmc_requests'] = fleet.stats().get('requests')
    return {'sync-cpu-redfish': result}


def measure(name: str, make: Callable[[], Any], fleet: sim.SimFleet,
            args: Any) -> dict[str, dict[str, Any]]:
    """Both sides' workloads, each on a fresh server from ``make``."""
    results: dict[str, dict[str, Any]] = {}
    sides: list[tuple[str, Callable[[Any], dict[str, Any]]]] = [
        ('fake-hardware', lambda s: fake_side(s, args)),
        ('redfish', lambda s: redfish_side(s, fleet, args))]
    for label, side in sides:
        print(f'{name}: {label} workloads', flush=True)
        service = make()
        try:
            measured = side(service)
        finally:
            service.cleanup()
        results.update(measured)
        # Printed as soon as known: a long run stopped later still shows
        # what it measured.
        print(f'{name}: {label} results {json.dumps(measured)}', flush=True)
    return results


def ratio(metric: dict[str, Any] | None, other: dict[str, Any] | None
          ) -> float | None:
    """How many times better Podium (``metric``) did than ``other``."""
    if not metric or not other:
        return None
    ours, theirs = metric.get('value'), other.get('value')
    if not ours or not theirs:
        return None
    return (ours / theirs if metric['better'] == 'higher'
            else theirs / ours)


def rows_of(podium: dict[str, dict[str, Any]],
            ironic_results: dict[str, dict[str, Any]]) -> list[report.Row]:
    rows = []
    for metric in dict.fromkeys([*podium, *ironic_results]):
        ours, theirs = podium.get(metric), ironic_results.get(metric)
        unit = (ours or theirs or {}).get('unit', '')
        gain = ratio(ours, theirs)
        rows.append({'metric': metric, 'unit': unit,
                     'ironic': (theirs or {}).get('value'),
                     'podium': (ours or {}).get('value'),
                     'podium_better_x': gain})
    return rows


def run(args: Any) -> None:
    ironic_version = None
    if args.only in ('both', 'ironic'):
        ironic_version = ironic.ensure_venv(args.ironic_venv,
                                            args.ironic_version)
    results: dict[str, dict[str, dict[str, Any]]] = {}
    with sim.simulator(args.nodes) as fleet:
        if args.only in ('both', 'podium'):
            results['podium'] = measure(
                'podium', lambda: _Podium(args.sync_interval, args.keep),
                fleet, args)
        if args.only in ('both', 'ironic'):
            results['ironic'] = measure(
                'ironic', lambda: _Ironic(args.ironic_venv,
                                          args.sync_interval, args.keep),
                fleet, args)
    rows = rows_of(results.get('podium', {}), results.get('ironic', {}))
    report.emit('compare_ironic', rows,
                ['metric', 'unit', 'ironic', 'podium', 'podium_better_x'],
                vars(args),
                title=f'Podium vs Ironic {ironic_version or "(not run)"}, '
                      f'{args.nodes} nodes',
                extra={'ironic_version': ironic_version,
                       'details': results},
                results_dir=args.results_dir)


def main(argv: list[str] | None = None) -> int:
    parser = cli.base_parser(__doc__.split('\n\n')[0])
    parser.add_argument('--nodes', type=int, default=1000)
    parser.add_argument('--only', choices=('both', 'podium', 'ironic'),
                        default='both')
    parser.add_argument('--ironic-venv', default=ironic.DEFAULT_VENV,
                        help='virtualenv for Ironic (made when missing)')
    parser.add_argument('--ironic-version', default=None,
                        help='Ironic release to install (default: newest '
                             'on the package index)')
    parser.add_argument('--concurrency', type=int, default=8,
                        help='clients for enroll and show')
    parser.add_argument('--bulk-concurrency', type=int, default=32,
                        help='clients for the bulk power action')
    parser.add_argument('--duration', type=float, default=10.0,
                        help='seconds of show load')
    parser.add_argument('--list-samples', type=int, default=10)
    parser.add_argument('--sync-interval', type=int, default=10,
                        help='sync_power_state_interval on both sides')
    parser.add_argument('--sync-window', type=float, default=40.0,
                        help='seconds of sync CPU measured')
    parser.add_argument('--action-timeout', type=float, default=600.0)
    parser.add_argument('--tool', choices=('auto', 'wrk', 'python'),
                        default='auto')
    args = parser.parse_args(argv)
    return cli.run_main(lambda: run(args))


if __name__ == '__main__':
    sys.exit(main())
