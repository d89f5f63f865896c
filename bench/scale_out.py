"""Power sync of one fleet by 1, 2 and 3 conductors (scale-out).

``python -m bench.scale_out --nodes 20000 --conductors 1,2,3`` runs the
Redfish simulator for ``--nodes`` systems, then for each conductor count
C a fresh PostgreSQL database with those nodes and C conductor processes
(:mod:`bench.sync_conductor`, distinct host names, RabbitMQ transport)
that split the nodes by the hash ring and run power-sync cycles side by
side. Per C it reports:

- ``cycle_s``: the cluster's cycle, the slowest conductor's cycle time
  (median of cycles 2..K; cycle 1 opens the connections);
- ``nodes_per_s``: nodes / ``cycle_s``, and ``speedup`` over one
  conductor beside the ``ideal`` (C);
- ``reads_per_node``: reads per node per cycle over all conductors,
  which must be 1.00 (each node read by its one owner);
- ``cpu_ms_per_read``: conductor CPU per node read, and the CPU cores
  the conductors and the simulator used while the cycles ran
  (``cond_cores``, ``sim_cores``; the machine has ``cores``), and the
  simulator's CPU per read it served (``sim_ms_per_read``).

When the conductors and the simulator together use every core, adding a
conductor adds no CPU to use: the speed-up is then bounded by the
machine, not by Podium; the cores columns show when that is the case.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import socket
import sys
import time
import uuid
from collections.abc import Iterator
from typing import Any

from bench import cli, deploy, procs, report, sim

COLUMNS = ('conductors', 'nodes', 'cycle_s', 'nodes_per_s', 'speedup',
           'ideal', 'reads_per_node', 'cpu_ms_per_read', 'cond_cores',
           'sim_ms_per_read', 'sim_cores', 'cores')

POSTGRES_ADMIN = 'postgresql+psycopg2://postgres@127.0.0.1:5432/postgres'
RABBIT_URL = 'rabbit://guest:guest@127.0.0.1:5672/'


@contextlib.contextmanager
def database(admin_url: str) -> Iterator[str]:
    """A fresh PostgreSQL database for the block; yields its URL."""
    import sqlalchemy as sa

    name = f'podium_bench_{uuid.uuid4().hex[:10]}'
    admin = sa.create_engine(admin_url, isolation_level='AUTOCOMMIT')
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE {name}')
        try:
            yield admin_url.rsplit('/', 1)[0] + '/' + name
        finally:
            with admin.connect() as conn:
                conn.exec_driver_sql(
                    f'DROP DATABASE IF EXISTS {name} WITH (FORCE)')
    finally:
        admin.dispose()


def run_cluster(fleet: sim.SimFleet, count: int, args: argparse.Namespace
                ) -> dict[str, Any]:
    """One measurement: ``count`` conductors over the whole fleet."""
    rows = [deploy.redfish_node(index, system)
            for index, system in enumerate(fleet.systems)]
    run_id = uuid.uuid4().hex[:8]
    with database(args.admin_url) as url, deploy.Deployment(
            f'scale-{count}', deploy.merge_options(
                deploy.sync_options(args.workers, args.read_timeout),
                {'DEFAULT': {'rpc_transport': 'oslo',
                             'transport_url': args.transport_url,
                             'control_exchange': f'podium_bench_{run_id}'},
                 'database': {'connection': url},
                 # Nobody dies here; a loaded machine must not make a
                 # conductor look dead and move its nodes mid-run.
                 'conductor': {'heartbeat_interval': 5,
                               'heartbeat_timeout': 300}}),
            keep=args.keep) as dep:
        dep.enroll(rows)
        with contextlib.ExitStack() as stack:
            children = []
            for index in range(count):
                host = f'bench-conductor-{index}'
                out = os.path.join(dep.workdir, f'{host}.json')
                proc = stack.enter_context(procs.child(
                    [procs.PYTHON, '-m', 'bench.sync_conductor',
                     '--config-file', dep.config_file, '--host', host,
                     '--wait-conductors', str(count),
                     '--cycles', str(args.cycles), '--out', out],
                    dep.log_path(host)))
                children.append((host, proc, out))
            sim_cpu = fleet.cpu_seconds()
            started = time.monotonic()
            budget = args.cycles * (len(rows) * 0.005 + 60) + 120
            for host, proc, _ in children:
                remaining = max(1.0, started + budget - time.monotonic())
                try:
                    code = proc.wait(remaining)
                except Exception:
                    raise procs.BenchError(
                        f'{host} did not finish within {budget:.0f} s:\n'
                        f'{procs.tail(dep.log_path(host))}') from None
                if code:
                    raise procs.BenchError(
                        f'{host} failed ({code}):\n'
                        f'{procs.tail(dep.log_path(host))}')
            wall = time.monotonic() - started
            sim_cpu = fleet.cpu_seconds() - sim_cpu
        results = []
        for _, _, out in children:
            with open(out, encoding='utf-8') as handle:
                results.append(json.load(handle))
    return summarise(count, len(rows), results, sim_cpu, wall)


def summarise(count: int, nodes: int, results: list[list[dict[str, Any]]],
              sim_cpu: float, wall: float) -> dict[str, Any]:
    """One row from every conductor's per-cycle results."""
    cycles = min(len(r) for r in results)
    steady = range(1, cycles) if cycles > 1 else range(cycles)
    cycle_s = report.median(max(r[i]['wall_s'] for r in results)
                            for i in steady)
    reads = report.median(sum(r[i]['read_ok'] + r[i]['read_failed']
                              for r in results) / nodes for i in steady)
    cpu = sum(r[i]['cpu_s'] for r in results for i in steady)
    read_count = sum(r[i]['read_ok'] + r[i]['read_failed']
                     for r in results for i in steady)
    busy = sum(sum(c['wall_s'] for c in r) for r in results) / count
    # The cluster's cycles, one after the other: what the simulator
    # served in (its CPU is read for the whole run, cycle 1 included).
    cluster_wall = sum(max(r[i]['wall_s'] for r in results)
                       for i in range(cycles))
    return {'conductors': count, 'nodes': nodes, 'cycle_s': cycle_s,
            'nodes_per_s': nodes / cycle_s, 'reads_per_node': reads,
            'cpu_ms_per_read': 1000 * cpu / max(read_count, 1),
            'cond_cores': sum(sum(c['cpu_s'] for c in r) for r in results)
            / busy if busy else math.nan,
            'sim_cores': sim_cpu / cluster_wall if cluster_wall
            else math.nan,
            'sim_ms_per_read': 1000 * sim_cpu / max(sum(
                c['read_ok'] + c['read_failed'] for r in results
                for c in r), 1),
            'run_s': wall,
            'cores': os.cpu_count(), 'ideal': float(count),
            'owned': [r[-1]['nodes'] for r in results]}


def _reachable(port: int) -> bool:
    try:
        socket.create_connection(('127.0.0.1', port), timeout=2).close()
    except OSError:
        return False
    return True


def run(args: argparse.Namespace) -> None:
    for port, what in ((5432, 'PostgreSQL'), (5672, 'RabbitMQ')):
        if not _reachable(port):
            raise procs.BenchError(f'{what} is not reachable on '
                                   f'127.0.0.1:{port}')
    rows = []
    # Thousands of endpoints take minutes to bind on a loaded machine.
    with sim.simulator(args.nodes, latency=args.latency,
                       power_state='Off', start_timeout=900) as fleet:
        for count in args.conductors:
            row = run_cluster(fleet, count, args)
            rows.append(row)
            base = rows[0]['nodes_per_s'] if rows[0]['conductors'] == 1 \
                else math.nan
            row['speedup'] = row['nodes_per_s'] / base
            print(f'{count} conductor(s): cycle {row["cycle_s"]:.2f} s, '
                  f'{row["nodes_per_s"]:.0f} nodes/s, reads/node '
                  f'{row["reads_per_node"]:.2f}, conductors '
                  f'{row["cond_cores"]:.2f} cores, simulator '
                  f'{row["sim_cores"]:.2f} cores', flush=True)
    report.emit('scale_out', rows, COLUMNS, vars(args),
                title='Power sync by several conductors (steady state)',
                results_dir=args.results_dir)


def main(argv: list[str] | None = None) -> int:
    parser = cli.base_parser(__doc__.split('\n\n')[0])
    parser.add_argument('--nodes', type=int, default=20000)
    parser.add_argument('--conductors', type=cli.int_list, default=[1, 2, 3],
                        help='conductor counts, comma separated; start '
                             'with 1 for the speed-up')
    parser.add_argument('--workers', type=int, default=250,
                        help='sync_power_state_workers of each conductor')
    parser.add_argument('--latency', type=float, default=0.0,
                        help='seconds every BMC read takes (0: CPU bound)')
    parser.add_argument('--read-timeout', type=float, default=10.0)
    parser.add_argument('--cycles', type=int, default=4)
    parser.add_argument('--admin-url', default=POSTGRES_ADMIN,
                        help='PostgreSQL URL allowed to create databases')
    parser.add_argument('--transport-url', default=RABBIT_URL)
    args: argparse.Namespace = parser.parse_args(argv)
    return cli.run_main(lambda: run(args))


if __name__ == '__main__':
    sys.exit(main())
