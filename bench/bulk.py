"""Bulk power through the CLI: ``podium node power on --wait`` at scale.

``podium serve`` manages ``--nodes`` Redfish nodes on the simulator
(every BMC request takes ``--latency`` seconds; power sync off, so only
the bulk action is measured). The operator's command runs over a host
list of every node, ``--wait`` included, first ``on`` then ``off``; each
run is timed from the command's start to its exit and checked: every
node must end SUCCESSFUL.

The ideal is what the BMCs force: every node needs R requests of L
seconds (R read from the simulator's counters), and the conductor can
act on P nodes at once (its pool), so ideal = ceil(N/P) * R * L.

    python -m bench.bulk --nodes 1000
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import time
from typing import Any

from bench import cli, deploy, procs, report, sim

SMOKE = ['--nodes', '10', '--latency', '0.01', '--workers', '8']


def run_cli(dep: deploy.Deployment, action: str, host_list: str,
            concurrency: int, timeout: float) -> dict[str, Any]:
    """Run the bulk command; wall time, CLI CPU and the summary."""
    argv = [procs.PODIUM, 'node', 'power', action, '--wait',
            '--host-list', host_list, '--url', dep.api_url,
            '--concurrency', str(concurrency), '--timeout', str(timeout),
            '-f', 'json']
    out_path = dep.log_path(f'cli-{action}')
    start = time.monotonic()
    with open(out_path, 'wb') as out:
        proc = subprocess.Popen(argv, stdout=out,
                                stderr=subprocess.STDOUT)
        # wait4: the CLI's own CPU, so a slow client would show.
        _, status, usage = os.wait4(proc.pid, 0)
    wall = time.monotonic() - start
    with open(out_path, encoding='utf-8', errors='replace') as handle:
        text = handle.read()
    try:
        summary = json.loads(text[text.index('['):])
    except ValueError:
        raise procs.BenchError(f'power {action}: no JSON summary '
                               f'(exit {status}):\n{text[-2000:]}') from None
    results = [str(r.get('Result', r.get('result', ''))) for r in summary]
    return {'wall_s': wall, 'cli_cpu_s': usage.ru_utime + usage.ru_stime,
            'succeeded': results.count('SUCCESSFUL'),
            'failed': len(results) - results.count('SUCCESSFUL'),
            'exit_status': os.waitstatus_to_exitcode(status)}


def run(args: Any) -> None:
    rows = []
    options = deploy.sync_options(args.workers, args.read_timeout)
    with sim.simulator(args.nodes, latency=args.latency) as fleet, \
            deploy.Deployment('bulk', options, keep=args.keep) as dep:
        dep.enroll([deploy.redfish_node(i, s)
                    for i, s in enumerate(fleet.systems)])
        host_list = os.path.join(dep.workdir, 'hosts.txt')
        with open(host_list, 'w', encoding='utf-8') as handle:
            handle.write('# every node of the benchmark\n')
            handle.writelines(f'node-{i:05d}\n'
                              for i in range(args.nodes))
        pool = deploy.pool_size_for(args.workers)
        with dep.serve() as server:
            for concurrency in args.concurrency:
                for action in ('on', 'off'):
                    fleet.reset_stats()
                    cpu = procs.cpu_seconds(server.pid)
                    row = run_cli(dep, action, host_list, concurrency,
                                  args.action_timeout)
                    stats = fleet.stats()
                    per_node = stats['requests'] / args.nodes
                    ideal = (math.ceil(args.nodes / pool) * per_node
                             * args.latency)
                    row.update(
                        action=f'power {action}', nodes=args.nodes,
                        cli_concurrency=concurrency, pool_size=pool,
                        latency_s=args.latency, req_per_node=per_node,
                        ideal_s=ideal,
                        ratio=row['wall_s'] / ideal if ideal else None,
                        server_cpu_ms_per_node=1000 * (
                            procs.cpu_seconds(server.pid) - cpu)
                        / args.nodes)
                    if row['failed']:
                        raise procs.BenchError(
                            f'power {action}: {row["failed"]} node(s) '
                            f'failed; see {dep.log_path("cli-" + action)}')
                    rows.append(row)
    report.emit('bulk', rows,
                ['action', 'nodes', 'cli_concurrency', 'pool_size',
                 'latency_s', 'req_per_node', 'wall_s', 'ideal_s', 'ratio',
                 'succeeded', 'failed', 'cli_cpu_s',
                 'server_cpu_ms_per_node'],
                vars(args), title='podium node power on|off --wait over a '
                'host list', results_dir=args.results_dir)


def main(argv: list[str] | None = None) -> int:
    parser = cli.base_parser(__doc__.split('\n\n')[0])
    parser.add_argument('--nodes', type=int, default=1000)
    parser.add_argument('--latency', type=float, default=0.1,
                        help='seconds every BMC request takes')
    parser.add_argument('--workers', type=int, default=100,
                        help='sync_power_state_workers; the pool is sized '
                             'from it as in the power-sync benchmark')
    parser.add_argument('--read-timeout', type=float, default=10.0)
    parser.add_argument('--concurrency', type=cli.int_list, default=[32],
                        help='CLI --concurrency values, comma separated')
    parser.add_argument('--action-timeout', type=float, default=300.0)
    args = parser.parse_args(argv)
    return cli.run_main(lambda: run(args))


if __name__ == '__main__':
    sys.exit(main())
