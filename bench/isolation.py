"""Isolation: operator power actions while power sync grinds on hung BMCs.

``podium serve`` manages ``--nodes`` Redfish nodes on the simulator, a
share ``--hung`` of whose BMCs never answer. The same sequence of power
actions (PUT ``/v1/nodes/<n>/states/power``, then poll the node until
``power_state`` is the target and no transition is pending) runs on
healthy nodes twice in one run: with power sync disabled, then with power
sync running continuously. The claim under test: periodic work on hung
BMCs never delays an operator's action beyond noise, because actions
have workers of their own in the shared pool.

    python -m bench.isolation --nodes 1000 --hung 0.05
"""

from __future__ import annotations

import math
import random
import sys
import time
from typing import Any

from bench import apiclient, cli, deploy, procs, report, sim

SMOKE = ['--nodes', '20', '--actions', '6', '--workers', '8',
         '--latency', '0.01', '--read-timeout', '1']


def one_action(client: apiclient.ApiClient, node: str, target: str,
               timeout: float) -> tuple[float, float]:
    """Seconds until the PUT was accepted and until the node reached
    ``target``; the second is NaN if it did not within ``timeout``."""
    start = time.monotonic()
    status = client.set_power(node, target)
    accepted = time.monotonic() - start
    if status != 202:
        raise procs.BenchError(f'power {target} on {node}: HTTP {status}')

    def reached() -> bool:
        doc = client.node(node)
        return (doc['power_state'] == target
                and doc.get('target_power_state') is None)

    done = apiclient.wait_for(reached, timeout)
    return accepted, (float('nan') if done is None
                      else time.monotonic() - start)


def run_actions(client: apiclient.ApiClient, nodes: list[str], count: int,
                timeout: float) -> dict[str, Any]:
    """``count`` actions, each node switched on on its first visit and
    off on its second, so every phase starts from the same states."""
    accepted, completed, lost = [], [], 0
    visits: dict[str, int] = {}
    for i in range(count):
        node = nodes[i % len(nodes)]
        visits[node] = visits.get(node, 0) + 1
        target = 'power on' if visits[node] % 2 else 'power off'
        acc, done = one_action(client, node, target, timeout)
        accepted.append(acc)
        if math.isnan(done):
            lost += 1
        else:
            completed.append(done)
    accept = report.latency_summary(accepted)
    complete = report.latency_summary(completed)
    return {'actions': count, 'not_completed': lost,
            'accept_p50_ms': accept['p50_ms'],
            'accept_p99_ms': accept['p99_ms'],
            'p50_ms': complete['p50_ms'], 'p99_ms': complete['p99_ms'],
            'max_ms': complete['max_ms']}


def phase(dep: deploy.Deployment, fleet: sim.SimFleet, args: Any,
          nodes: list[str], sync: bool) -> dict[str, Any]:
    """Serve with sync on or off and time the actions."""
    dep.set_options(deploy.sync_options(args.workers, args.read_timeout,
                                        interval=1 if sync else 0))
    label = 'sync' if sync else 'no-sync'
    with dep.serve(f'serve-{label}'):
        client = apiclient.ApiClient(dep.api_url)
        fleet.reset_stats()
        if sync:
            # Start timing only once the sync is hammering the BMCs.
            procs.wait_until(
                lambda: fleet.stats()['requests'] >= len(nodes),
                60 + 2 * args.read_timeout, 'first power sync requests')
        started = time.monotonic()
        row = run_actions(client, nodes, args.actions,
                          args.action_timeout)
        elapsed = time.monotonic() - started
        stats = fleet.stats()
    row.update(phase=label,
               bmc_requests_per_s=stats['requests'] / elapsed,
               bmc_hung_now=stats.get('hung', 0))
    return row


def run(args: Any) -> None:
    with sim.simulator(args.nodes, latency=args.latency,
                       hung_fraction=args.hung) as fleet, \
            deploy.Deployment('isolation', keep=args.keep) as dep:
        dep.enroll([deploy.redfish_node(i, s)
                    for i, s in enumerate(fleet.systems)])
        names = [f'node-{i:05d}' for i, s in enumerate(fleet.systems)
                 if not s.hung]
        sample = random.Random(7).sample(names, min(len(names),
                                                    args.actions // 2 or 1))
        rows = [phase(dep, fleet, args, sample, sync=False),
                phase(dep, fleet, args, sample, sync=True)]
    base, loaded = rows
    verdict = {'p99_added_ms': loaded['p99_ms'] - base['p99_ms'],
               'target_p99_added_ms': 100.0,
               'met': loaded['p99_ms'] <= base['p99_ms'] + 100.0}
    report.emit('isolation', rows,
                ['phase', 'actions', 'not_completed', 'accept_p50_ms',
                 'accept_p99_ms', 'p50_ms', 'p99_ms', 'max_ms',
                 'bmc_requests_per_s'],
                vars(args), title='Power actions with and without power '
                'sync over hung BMCs', extra={'verdict': verdict},
                results_dir=args.results_dir)
    print(f'p99 added by sync: {verdict["p99_added_ms"]:.1f} ms '
          f'(target <= 100 ms): {"met" if verdict["met"] else "MISSED"}')


def main(argv: list[str] | None = None) -> int:
    parser = cli.base_parser(__doc__.split('\n\n')[0])
    parser.add_argument('--nodes', type=int, default=1000)
    parser.add_argument('--hung', type=float, default=0.05,
                        help='share of BMCs that never answer')
    parser.add_argument('--latency', type=float, default=0.1,
                        help='seconds every healthy BMC request takes')
    parser.add_argument('--workers', type=int, default=100,
                        help='sync_power_state_workers')
    parser.add_argument('--read-timeout', type=float, default=2.0,
                        help='power_state_read_timeout and the Redfish '
                             'request timeout')
    parser.add_argument('--actions', type=int, default=100,
                        help='power actions per phase')
    parser.add_argument('--action-timeout', type=float, default=30.0)
    args = parser.parse_args(argv)
    return cli.run_main(lambda: run(args))


if __name__ == '__main__':
    sys.exit(main())
