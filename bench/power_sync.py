"""Power sync at fleet scale: cycle time, CPU, memory, threads, requests.

For each node count N, BMC latency L, hung share h and sync parallelism
W, a conductor (:mod:`bench.sync_conductor`, its own process) runs
power-sync cycles back to back over N nodes:

- ``redfish``: Redfish nodes on the BMC simulator (separate processes,
  one endpoint per BMC, ``h`` of them never answering);
- ``ipmi``: IPMI nodes on the IPMI BMC simulator (pyghmi's BMC server,
  250 BMCs per process, ``h`` of them never answering), read through
  the driver's reactor thread;
- ``fake``: ``fake-hardware`` nodes sleeping L per read (hanging for the
  read timeout), i.e. the conductor's own overhead with no HTTP at all.

Each row gives the steady-state cycle (median of cycles 2..K; cycle 1
opens connections and first meets the hung BMCs) against the ideal for
the healthy nodes, the conductor's CPU per node read, its peak RSS and
threads, BMC requests per node per cycle and the simulator's CPU.

Each size runs once per ``--read-modes`` (``[conductor]
power_read_mode``), side by side: ``threads`` reads W at a time, ideal
ceil(N_healthy/W)*L; ``async`` reads every node at once on the
conductor's read loop, ``--async-window`` starting at once (Redfish
only: other variants run ``threads`` alone), with ``--async-workers``
sync workers for what still reads on threads (the first cycle's
log-ins), ideal L per request a BMC serves in a row (ceil(systems per
endpoint / per-endpoint limit) without ``$expand``, 1 with it), or per
window of reads when the fleet has more reads than the window.
``--systems-per-endpoint`` puts several systems behind one simulated
BMC (read with ``$expand``): at 25,000 nodes one endpoint each needs
more sockets than this machine's 20,000 file descriptors.

The same workload then runs with the sync forced onto one thread
(``sync_power_state_workers=1``, the old serial design) over a sample of
the nodes, extrapolated to N, for the speed-up in the same run.

    python -m bench.power_sync --nodes 100,1000,10000 --hung 0,0.05
    python -m bench.power_sync --variants redfish --read-modes threads,async
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import random
import shutil
import sys
from collections.abc import Sequence
from typing import Any

from bench import cli, deploy, procs, report, sim

SMOKE = ['--nodes', '12', '--hung', '0,0.2', '--workers', '4',
         '--latency', '0.01', '--read-timeout', '0.5', '--cycles', '2',
         '--serial-sample', '6', '--read-modes', 'threads,async']

_CHILD_TIMEOUT_FLOOR = 120.0


def _py_spy() -> str:
    """py-spy on the PATH or installed beside the interpreter."""
    found = shutil.which('py-spy') or shutil.which(
        'py-spy', path=os.path.dirname(procs.PYTHON))
    if found is None:
        raise procs.BenchError('--profile needs py-spy (pip install '
                               'py-spy)')
    return found


def run_conductor(dep: deploy.Deployment, cycles: int,
                  controls: Sequence[str], budget: float,
                  profile: str | None = None
                  ) -> tuple[list[dict[str, Any]], int]:
    """Run the conductor child; its cycles and its peak thread count.

    With ``profile`` (a file name), ``py-spy record`` samples the child
    from the end of its first cycle (which logs in to every BMC) to the
    end of its last, and its on-CPU stacks go there, folded (one line
    per stack, for flamegraph.pl or speedscope).
    """
    out = os.path.join(dep.workdir, 'cycles.json')
    argv = [procs.PYTHON, '-m', 'bench.sync_conductor',
            '--config-file', dep.config_file, '--cycles', str(cycles),
            '--out', out]
    if profile:
        argv += ['--profile', profile, '--py-spy', _py_spy()]
    for url in controls:
        argv += ['--control', url]
    log = dep.log_path('sync-conductor')
    with procs.child(argv, log) as proc, procs.Sampler(proc.pid) as sampler:
        try:
            code = proc.wait(max(_CHILD_TIMEOUT_FLOOR, budget))
        except Exception:
            raise procs.BenchError(
                f'power sync did not finish within {budget:.0f} s:\n'
                f'{procs.tail(log)}') from None
    if code:
        raise procs.BenchError(f'the conductor failed ({code}):\n'
                               f'{procs.tail(log)}\n'
                               f'{procs.tail(dep.log_file)}')
    with open(out, encoding='utf-8') as handle:
        return json.load(handle), sampler.peak_threads


def node_rows(variant: str, fleet: sim.SimFleet | sim.IpmiFleet | None,
              count: int, latency: float, hung: float, seed: int
              ) -> tuple[list[dict[str, Any]], int]:
    """Database rows of ``count`` nodes and how many of them hang."""
    if isinstance(fleet, sim.IpmiFleet):
        # The simulator spreads its hung BMCs; scale to the nodes used.
        return ([deploy.ipmi_node(i, bmc)
                 for i, bmc in enumerate(fleet.bmcs[:count])],
                round(fleet.hung * count / len(fleet.bmcs)))
    if fleet is not None:
        systems = fleet.systems[:count]
        return ([deploy.redfish_node(i, s) for i, s in enumerate(systems)],
                sum(s.hung for s in systems))
    hung_ids = set(_spread(count, round(hung * count), seed))
    return ([deploy.fake_node(i, delay=latency, hang=i in hung_ids)
             for i in range(count)], len(hung_ids))


def _cache_options(args: Any) -> dict[str, int]:
    """The ``[redfish]`` session cache and socket budget given."""
    given = {'connection_cache_size': args.connection_cache_size,
             'socket_budget': args.socket_budget}
    return {name: value for name, value in given.items()
            if value is not None}


def _spread(total: int, pick: int, seed: int) -> list[int]:
    return random.Random(seed).sample(range(total), pick)


def async_window(args: Any) -> int:
    """``[conductor] async_reads_in_flight`` of the async runs."""
    if args.async_window:
        return int(args.async_window)
    from podium.conf import CONF
    return int(CONF.conductor.async_reads_in_flight)


def ideal_seconds(mode: str, variant: str, healthy: int, workers: int,
                  args: Any) -> float:
    """The healthy nodes' cycle with no overhead at all (module doc)."""
    if not healthy:
        return 0.0
    if mode == 'async' and variant == 'redfish':
        per_bmc = args.systems_per_endpoint
        in_a_row = 1 if per_bmc > 1 else math.ceil(
            per_bmc / max(1, args.per_endpoint_limit))
        # At most the window's reads start per latency (the reads of
        # one endpoint share a batch or queue for its slots).
        reads = math.ceil(healthy / per_bmc) if per_bmc > 1 else healthy
        return max(in_a_row, math.ceil(reads / async_window(args))) \
            * args.latency
    return math.ceil(healthy / workers) * args.latency


def measure(variant: str, fleet: sim.SimFleet | sim.IpmiFleet | None,
            count: int,
            workers: int, hung_share: float, args: Any, cycles: int,
            mode: str = 'threads') -> dict[str, Any]:
    """One conductor run over ``count`` nodes with ``workers`` readers,
    reading with ``mode`` (``power_read_mode``)."""
    rows, hung = node_rows(variant, fleet, count, args.latency, hung_share,
                           args.seed)
    options = deploy.merge_options(
        deploy.sync_options(workers, args.read_timeout),
        {'conductor': {'power_read_mode': mode,
                       **({'async_reads_in_flight': args.async_window}
                          if args.async_window else {})},
         'redfish': {'max_concurrent_requests_per_endpoint':
                     args.per_endpoint_limit,
                     **_cache_options(args)}})
    with deploy.Deployment(f'sync-{variant}-{count}-{mode}', options,
                           keep=args.keep) as dep:
        dep.enroll(rows)
        healthy = count - hung
        budget = cycles * (3 * math.ceil(count / workers)
                           * max(args.latency, 0.01)
                           + 3 * math.ceil(hung / workers)
                           * args.read_timeout + 30)
        controls = ([c.url for c in fleet.controls]
                    if isinstance(fleet, sim.SimFleet) else [])
        profile = (os.path.join(args.profile, f'power_sync-{variant}-'
                                f'{count}n-{hung}h-{workers}w-{mode}.folded')
                   if args.profile else None)
        results, peak_threads = run_conductor(dep, cycles, controls,
                                              budget, profile)
    steady = results[1:] or results
    wall = report.median(r['wall_s'] for r in steady)
    healthy_s = report.median(r['healthy_s'] for r in steady)
    cpu = report.median(r['cpu_s'] for r in steady)
    requests = report.median(r.get('bmc_requests', math.nan)
                             for r in steady)
    sim_cpu = report.median(r.get('sim_cpu_s', math.nan) for r in steady)
    ideal = ideal_seconds(mode, variant, healthy, workers, args)
    return {
        'variant': variant, 'read_mode': mode, 'nodes': count, 'hung': hung,
        'workers': workers, 'latency_s': args.latency,
        'async_window': async_window(args) if mode == 'async' else None,
        'cycle_s': wall, 'healthy_s': healthy_s, 'ideal_s': ideal,
        'ratio': healthy_s / ideal if ideal else math.nan,
        # Async: every hung read waits at once, one timeout in all.
        'hung_ideal_s': (0.0 if not hung else args.read_timeout
                         if mode == 'async' and variant == 'redfish'
                         else math.ceil(hung / workers) * args.read_timeout),
        'cpu_ms_per_node': 1000 * cpu / count,
        'cpu_ms_per_read': 1000 * cpu / max(1, count - hung),
        'sim_cpu_ms_per_node': 1000 * sim_cpu / count,
        'req_per_node': requests / count,
        'peak_rss_mb': results[-1]['peak_rss_kb'] / 1024,
        'peak_threads': peak_threads,
        'pool_size': deploy.pool_size_for(workers),
        'read_failed': steady[-1]['read_failed'],
        'cycles': results,
    }


def serial_row(variant: str, fleet: sim.SimFleet | sim.IpmiFleet | None,
               sample: int,
               hung_share: float, args: Any) -> dict[str, Any]:
    """The one-thread sync over a sample; per-node figures scale to N."""
    row = measure(variant, fleet, sample, 1, hung_share, args, cycles=2)
    row['per_node_s'] = row['cycle_s'] / sample
    return row


COLUMNS = ['variant', 'read_mode', 'nodes', 'hung', 'workers',
           'latency_s', 'cycle_s', 'healthy_s', 'ideal_s', 'ratio',
           'hung_ideal_s', 'cpu_ms_per_node', 'cpu_ms_per_read',
           'sim_cpu_ms_per_node', 'req_per_node', 'peak_rss_mb',
           'peak_threads', 'pool_size', 'serial_s', 'speedup']


def run(args: Any) -> None:
    rows: list[dict[str, Any]] = []
    for variant in args.variants:
        for hung in args.hung:
            biggest = max(args.nodes)
            fleet_cm: Any = contextlib.nullcontext()
            if variant == 'redfish':
                fleet_cm = sim.simulator(
                    biggest, latency=args.latency, hung_fraction=hung,
                    seed=args.seed,
                    systems_per_endpoint=args.systems_per_endpoint)
            elif variant == 'ipmi':
                fleet_cm = sim.ipmi_simulator(
                    biggest, latency=args.latency, hung_fraction=hung,
                    seed=args.seed)
            with fleet_cm as fleet:
                sample = min(args.serial_sample, biggest)
                serial = (serial_row(variant, fleet, sample, hung, args)
                          if args.serial_sample else None)
                for count in args.nodes:
                    # Other drivers read on threads in either mode.
                    modes = (args.read_modes if variant == 'redfish'
                             else ['threads'])
                    for mode in modes:
                        workers = (args.async_workers if mode == 'async'
                                   else args.workers)
                        row = measure(variant, fleet, count, workers,
                                      hung, args, cycles=args.cycles,
                                      mode=mode)
                        if serial is not None:
                            row['serial_s'] = serial['per_node_s'] * count
                            row['serial_measured_on'] = sample
                            row['speedup'] = row['serial_s'] / row['cycle_s']
                        rows.append(row)
                        print(f'{variant} {mode} {count} nodes, '
                              f'{row["hung"]} hung: healthy '
                              f'{row["healthy_s"]:.2f} s (ideal '
                              f'{row["ideal_s"]:.2f} s), cycle '
                              f'{row["cycle_s"]:.2f} s, '
                              f'{row["cpu_ms_per_read"]:.3f} ms CPU/read, '
                              f'{row["peak_threads"]} threads',
                              flush=True)
    report.emit('power_sync', rows, COLUMNS, vars(args),
                title='Power sync cycles (steady state)',
                results_dir=args.results_dir)


def _modes(text: str) -> list[str]:
    modes = [m for m in text.split(',') if m]
    unknown = set(modes) - {'threads', 'async'}
    if unknown or not modes:
        raise argparse.ArgumentTypeError(
            f'read modes are threads and async, not {text!r}')
    return modes


def main(argv: list[str] | None = None) -> int:
    parser = cli.base_parser(__doc__.split('\n\n')[0])
    parser.add_argument('--nodes', type=cli.int_list, default=[100, 1000],
                        help='node counts, comma separated')
    parser.add_argument('--hung', type=cli.float_list, default=[0.0, 0.05],
                        help='shares of hung BMCs, comma separated')
    parser.add_argument('--latency', type=float, default=0.1,
                        help='seconds every healthy BMC read takes')
    parser.add_argument('--workers', type=int, default=100,
                        help='sync_power_state_workers (W)')
    parser.add_argument('--read-timeout', type=float, default=2.0,
                        help='power_state_read_timeout, also the Redfish '
                             'request timeout: what a hung BMC costs')
    parser.add_argument('--cycles', type=int, default=4)
    parser.add_argument('--read-modes', type=_modes,
                        default=['threads', 'async'],
                        help='power_read_mode values to run each Redfish '
                             'size with, side by side: threads, async '
                             '(other variants: threads only)')
    parser.add_argument('--async-workers', type=int, default=40,
                        help='sync_power_state_workers with async reads: '
                             'only the first cycle (logging in) and '
                             'fallbacks read on threads, so a small pool '
                             'does (40: a pool of 56, so that the '
                             'conductor stays within 64 threads)')
    parser.add_argument('--async-window', type=int, default=0,
                        help='[conductor] async_reads_in_flight with async '
                             'reads (0: its default)')
    parser.add_argument('--systems-per-endpoint', type=int, default=1,
                        help='Redfish systems behind one simulated BMC '
                             '(read with $expand when more than one)')
    parser.add_argument('--per-endpoint-limit', type=int, default=4,
                        help='[redfish] max_concurrent_requests_per_'
                             'endpoint')
    parser.add_argument('--connection-cache-size', type=int, default=None,
                        help='[redfish] connection_cache_size: logged-in '
                             'BMCs kept (default: the option\'s)')
    parser.add_argument('--socket-budget', type=int, default=None,
                        help='[redfish] socket_budget: kept-alive sockets '
                             'across all BMCs (default: the option\'s, '
                             'from the open files limit)')
    parser.add_argument('--serial-sample', type=int, default=100,
                        help='nodes the one-thread comparison reads '
                             '(0: skip it)')
    parser.add_argument('--variants', type=lambda s: s.split(','),
                        default=['redfish', 'fake'],
                        help='redfish, ipmi, fake (comma separated)')
    parser.add_argument('--seed', type=int, default=42)
    parser.add_argument('--profile', metavar='DIR', default=None,
                        help='run each conductor under py-spy and write '
                             'its folded stacks into DIR (slows it down: '
                             'for finding hot spots, not for figures)')
    args: argparse.Namespace = parser.parse_args(argv)
    return cli.run_main(lambda: run(args))


if __name__ == '__main__':
    sys.exit(main())
