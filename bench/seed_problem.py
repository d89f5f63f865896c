"""The founders' seed problem: hung BMCs must not blind the power sync.

``podium serve`` with Podium's default timeouts syncs ``--nodes`` Redfish
nodes every ``--interval`` seconds. Once a first cycle has read every
node, at once:

1. a quarter of the BMCs (``--hung``) stop answering;
2. ``--flips`` healthy nodes, spread over the fleet, are powered on
   behind the conductor's back.

Measured through the API (polling every ``--poll`` seconds): the time
until every flipped node shows ``power on`` (the promise: within one
interval) and until every hung node carries a ``last_error`` (within
two), and until the hung nodes are in maintenance with fault ``power
failure``.

    python -m bench.seed_problem --nodes 1000 --interval 10
"""

from __future__ import annotations

import sys
import time
from typing import Any

from bench import apiclient, cli, deploy, procs, report, sim

SMOKE = ['--nodes', '16', '--interval', '2', '--read-timeout', '1',
         '--flips', '2']



def _spread(items: list[Any], count: int) -> list[Any]:
    """``count`` items evenly spaced through ``items``."""
    if count >= len(items):
        return list(items)
    step = len(items) / count
    return [items[int(i * step)] for i in range(count)]


def wait_for_first_cycle(fleet: sim.SimFleet, nodes: int,
                         timeout: float, quiet: float = 1.0) -> None:
    """Return once a first sync cycle read every node and then the BMCs
    saw no request for ``quiet`` seconds (the cycle is over)."""
    fleet.reset_stats()
    procs.wait_until(lambda: fleet.stats()['requests'] >= nodes, timeout,
                     'the first sync cycle')
    last = [fleet.stats()['requests'], time.monotonic()]

    def settled() -> bool:
        now = fleet.stats()['requests']
        if now != last[0]:
            last[:] = [now, time.monotonic()]
        return time.monotonic() - last[1] >= quiet

    procs.wait_until(settled, timeout, 'the end of the first sync cycle')


class Watch:
    """Polls the node list and notes when each condition first held."""

    def __init__(self, client: apiclient.ApiClient, fleet: sim.SimFleet,
                 flipped: set[str], hung: set[str]) -> None:
        self.client = client
        self.fleet = fleet
        self.flipped = flipped
        self.hung = hung
        self.seen: dict[str, float] = {}
        #: ``(seconds, BMC requests so far, flips noticed, hung nodes
        #: with an error)`` per poll: shows when sync cycles ran.
        self.timeline: list[tuple[float, int, int, int]] = []

    def poll(self, elapsed: float) -> None:
        nodes = self.client.nodes(
            'name,power_state,last_error,maintenance,fault')
        by_name = {n['name']: n for n in nodes}
        self.timeline.append((
            round(elapsed, 2), self.fleet.stats()['requests'],
            sum(by_name[n]['power_state'] == 'power on'
                for n in self.flipped),
            sum(bool(by_name[n]['last_error']) for n in self.hung)))
        checks = {
            'noticed': all(by_name[n]['power_state'] == 'power on'
                           for n in self.flipped),
            'hung_error': all(by_name[n]['last_error']
                              for n in self.hung),
            'hung_maintenance': all(
                by_name[n]['maintenance']
                and by_name[n]['fault'] == 'power failure'
                for n in self.hung),
            'healthy_clean': not any(
                n['last_error'] or n['maintenance'] for n in nodes
                if n['name'] not in self.hung),
        }
        for name, held in checks.items():
            if held and name != 'healthy_clean':
                self.seen.setdefault(name, elapsed)
        if not checks['healthy_clean']:
            self.seen.setdefault('healthy_disturbed', elapsed)

    def done(self) -> bool:
        return {'noticed', 'hung_error', 'hung_maintenance'} <= set(
            self.seen)


def run(args: Any) -> None:
    options = {'conductor': {'sync_power_state_interval': args.interval}}
    if args.workers:
        options['conductor'].update(
            sync_power_state_workers=args.workers,
            workers_pool_size=deploy.pool_size_for(args.workers))
    if args.read_timeout:
        options['conductor']['power_state_read_timeout'] = args.read_timeout
        options['redfish'] = {'request_timeout': args.read_timeout}
    with sim.simulator(args.nodes, latency=args.latency) as fleet, \
            deploy.Deployment('seed', options, keep=args.keep) as dep:
        names = [f'node-{i:05d}' for i in range(args.nodes)]
        dep.enroll([deploy.redfish_node(i, s)
                    for i, s in enumerate(fleet.systems)])
        pairs = list(zip(names, fleet.systems, strict=True))
        # Every 4th node hangs (for --hung 0.25): hung BMCs are spread
        # over the whole fleet, as they would be in a real one.
        hung = pairs[::max(1, round(1 / args.hung))] if args.hung else []
        hung_names = {name for name, _ in hung}
        healthy = [p for p in pairs if p[0] not in hung_names]
        flips = _spread(healthy, args.flips)
        with dep.serve():
            client = apiclient.ApiClient(dep.api_url)
            wait_for_first_cycle(fleet, args.nodes, args.interval * 3 + 60)
            start = time.monotonic()
            for _, system in hung:
                fleet.control(system.uuid).set_behaviour(system.uuid,
                                                         hang=True)
            for _, system in flips:
                fleet.control(system.uuid).set_power(system.uuid, 'On')
            injected = time.monotonic() - start
            fleet.reset_stats()
            watch = Watch(client, fleet, {n for n, _ in flips}, hung_names)
            deadline = start + args.max_wait
            while not watch.done() and time.monotonic() < deadline:
                watch.poll(time.monotonic() - start)
                time.sleep(args.poll)
    row = {'nodes': args.nodes, 'hung': len(hung), 'flipped': len(flips),
           'interval_s': args.interval, 'injection_s': injected,
           'noticed_s': watch.seen.get('noticed'),
           'hung_error_s': watch.seen.get('hung_error'),
           'hung_maintenance_s': watch.seen.get('hung_maintenance'),
           'healthy_disturbed_s': watch.seen.get('healthy_disturbed')}
    noticed, errored = row['noticed_s'], row['hung_error_s']
    verdict = {
        'noticed_within_one_interval': (noticed is not None
                                        and noticed <= args.interval),
        'errors_within_two_intervals': (errored is not None
                                        and errored <= 2 * args.interval)}
    report.emit('seed_problem', [row],
                ['nodes', 'hung', 'flipped', 'interval_s', 'noticed_s',
                 'hung_error_s', 'hung_maintenance_s',
                 'healthy_disturbed_s'],
                vars(args), title='Seed problem: a quarter of the BMCs '
                'hung', extra={'verdict': verdict,
                               'timeline': watch.timeline},
                results_dir=args.results_dir)
    for name, met in verdict.items():
        print(f'{name}: {"met" if met else "MISSED"}')


def main(argv: list[str] | None = None) -> int:
    parser = cli.base_parser(__doc__.split('\n\n')[0])
    parser.add_argument('--nodes', type=int, default=1000)
    parser.add_argument('--hung', type=float, default=0.25)
    parser.add_argument('--flips', type=int, default=10,
                        help='healthy nodes powered on out of band')
    parser.add_argument('--interval', type=int, default=10,
                        help='sync_power_state_interval')
    parser.add_argument('--latency', type=float, default=0.05,
                        help='seconds every healthy BMC request takes')
    parser.add_argument('--workers', type=int, default=0,
                        help='sync_power_state_workers, the pool sized '
                             'to match (0: Podium\'s defaults)')
    parser.add_argument('--read-timeout', type=float, default=0,
                        help='power_state_read_timeout and the Redfish '
                             'request timeout (0: Podium\'s defaults)')
    parser.add_argument('--poll', type=float, default=0.5)
    parser.add_argument('--max-wait', type=float, default=120.0,
                        help='give up watching after this long')
    args = parser.parse_args(argv)
    return cli.run_main(lambda: run(args))


if __name__ == '__main__':
    sys.exit(main())
