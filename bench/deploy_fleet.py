"""Deploying a fleet: network-boot deploys with an installer call-back.

``podium serve`` deploys ``--nodes`` Redfish nodes on the simulator with
the ``anaconda`` deploy over ``pxe``; the simulator's installer boots for
``--boot-time`` and installs for ``--install-time`` seconds (each drawn
uniformly within ``--jitter`` of the value), reports ``--failure-rate``
of the installs as failed, and ``--hung`` of the BMCs never answer. The
driver keeps ``--concurrency`` C deploys in flight, as a fleet tool does
behind its semaphore (``[conductor] max_concurrent_deploy`` = C too): it
starts a node's deploy when another one ended, and watches the states
with one list query every ``--poll`` seconds.

Reported: wall time against the ideal ``ceil(N/C) * (B + I)``; the
conductor's CPU per deployed node; its threads and RSS before the wave
and at the moment most nodes waited for their installers (waiting costs
no thread); the API's p50/p99 for ``GET /v1/nodes/{node}`` during the
wave; how many nodes ended active, deploy failed, and why.

    python -m bench.deploy_fleet --nodes 1000 --concurrency 250
"""

from __future__ import annotations

import collections
import math
import sys
import threading
import time
from typing import Any

import requests

from bench import cli, deploy, procs, report, sim

SMOKE = ['--nodes', '6', '--concurrency', '3', '--boot-time', '0.2',
         '--install-time', '0.3', '--failure-rate', '0.2']

LATEST = {'X-OpenStack-Ironic-API-Version': 'latest'}


def _options(args: Any) -> dict[str, dict[str, Any]]:
    budget = args.boot_time + args.install_time
    return {
        'DEFAULT': {'enabled_hardware_types': ['redfish'],
                    'enabled_power_interfaces': ['redfish'],
                    'enabled_management_interfaces': ['redfish'],
                    'enabled_inspect_interfaces': ['no-inspect'],
                    'enabled_boot_interfaces': ['pxe'],
                    'enabled_deploy_interfaces': ['anaconda']},
        'conductor': {'max_concurrent_deploy': args.concurrency,
                      'deploy_callback_timeout':
                          math.ceil(3 * budget * (1 + args.jitter)) + 30,
                      'check_provision_state_interval': 1,
                      'action_timeout': args.bmc_timeout * 4},
        'redfish': {'request_timeout': args.bmc_timeout,
                    'power_state_poll_interval': 0.2},
    }


def _installer(args: Any, url: str) -> list[str]:
    def spread(value: float) -> str:
        low, high = value * (1 - args.jitter), value * (1 + args.jitter)
        return f'uniform:{low:g},{high:g}' if high > low else f'{value:g}'
    return ['--installer-url', url,
            '--installer-boot-time', spread(args.boot_time),
            '--installer-install-time', spread(args.install_time),
            '--installer-failure-rate', str(args.failure_rate)]


class _ShowLatency(threading.Thread):
    """``GET /v1/nodes/{node}`` in a loop, timed, until stopped."""

    def __init__(self, url: str, node: str) -> None:
        super().__init__(daemon=True, name='show-latency')
        self.url = f'{url}/v1/nodes/{node}'
        self.seconds: list[float] = []
        self.stop = threading.Event()

    def run(self) -> None:
        with requests.Session() as http:
            while not self.stop.is_set():
                start = time.monotonic()
                http.get(self.url, headers=LATEST, timeout=30)
                self.seconds.append(time.monotonic() - start)
                self.stop.wait(0.05)


def _states(http: requests.Session, url: str) -> dict[str, dict[str, Any]]:
    nodes = http.get(f'{url}/v1/nodes', headers=LATEST, timeout=60, params={
        'fields': 'name,provision_state,target_provision_state,'
                  'reservation,last_error'}).json()['nodes']
    return {node['name']: node for node in nodes}


def _start(http: requests.Session, url: str, name: str) -> bool:
    """Ask for the deploy; False on 503 (the bound: retried later)."""
    response = http.put(f'{url}/v1/nodes/{name}/states/provision',
                        json={'target': 'active'}, headers=LATEST,
                        timeout=60)
    if response.status_code == 503:
        return False
    if response.status_code != 202:
        raise procs.BenchError(f'deploy of {name}: {response.status_code} '
                               f'{response.text}')
    return True


def drive(url: str, names: list[str], concurrency: int, poll: float,
          timeout: float, pid: int) -> dict[str, Any]:
    """Deploy every node, ``concurrency`` at a time; the outcome."""
    pending = collections.deque(names)
    in_flight: set[str] = set()
    ended: dict[str, dict[str, Any]] = {}
    most_waiting = -1
    at_peak: dict[str, int] = {}
    refused = 0
    deadline = time.monotonic() + timeout
    with requests.Session() as http:
        while pending or in_flight:
            while pending and len(in_flight) < concurrency:
                name = pending[0]
                if not _start(http, url, name):
                    refused += 1
                    break
                pending.popleft()
                in_flight.add(name)
            time.sleep(poll)
            states = _states(http, url)
            waiting = sum(1 for node in states.values()
                          if node['provision_state'] == 'wait call-back')
            if waiting > most_waiting:
                most_waiting = waiting
                at_peak = procs.status(pid)
            for name in list(in_flight):
                node = states[name]
                # A failed deploy keeps "active" as its target.
                if node['reservation'] is None and (
                        node['provision_state'] == 'deploy failed' or (
                            node['provision_state'] == 'active'
                            and not node['target_provision_state'])):
                    ended[name] = node
                    in_flight.discard(name)
            if time.monotonic() > deadline:
                raise procs.BenchError(
                    f'{len(in_flight) + len(pending)} node(s) not deployed '
                    f'after {timeout:.0f} s')
    reasons = collections.Counter(
        (node['last_error'] or '').split(':')[0]
        for node in ended.values() if node['provision_state'] != 'active')
    return {'active': sum(1 for node in ended.values()
                          if node['provision_state'] == 'active'),
            'failed': sum(1 for node in ended.values()
                          if node['provision_state'] != 'active'),
            'most_waiting': most_waiting, 'status_at_peak': at_peak,
            'refused_503': refused, 'failure_reasons': dict(reasons)}


def run(args: Any) -> None:
    with deploy.Deployment('deploy-fleet', _options(args),
                           keep=args.keep) as dep, \
            sim.simulator(args.nodes, hung_fraction=args.hung,
                          installer=_installer(args, dep.api_url)) as fleet:
        rows = []
        for index, system in enumerate(fleet.systems):
            row = deploy.redfish_node(index, system)
            row.update(provision_state='available', boot_interface='pxe',
                       deploy_interface='anaconda', macs=system.macs[:1])
            rows.append(row)
        dep.enroll(rows)
        names = [row['name'] for row in rows]
        with dep.serve() as server:
            before = procs.status(server.pid)
            cpu = procs.family_cpu_seconds(server.pid)
            shows = _ShowLatency(dep.api_url, names[0])
            shows.start()
            start = time.monotonic()
            try:
                outcome = drive(dep.api_url, names, args.concurrency,
                                args.poll, args.timeout, server.pid)
            finally:
                shows.stop.set()
                shows.join(30)
            wall = time.monotonic() - start
            cpu = procs.family_cpu_seconds(server.pid) - cpu
    ideal = math.ceil(args.nodes / args.concurrency) * (
        args.boot_time + args.install_time)
    latency = report.latency_summary(shows.seconds)
    peak = outcome.pop('status_at_peak')
    row = {'nodes': args.nodes, 'concurrency': args.concurrency,
           'boot_s': args.boot_time, 'install_s': args.install_time,
           'hung': args.hung, 'failure_rate': args.failure_rate,
           'wall_s': wall, 'ideal_s': ideal,
           'ratio': wall / ideal if ideal else None,
           'cpu_ms_per_node': 1000 * cpu / args.nodes,
           'threads_before': before['threads'],
           'threads_at_peak_wait': peak.get('threads'),
           'rss_mb_at_peak_wait': peak.get('rss_kb', 0) / 1024,
           'show_p50_ms': latency['p50_ms'],
           'show_p99_ms': latency['p99_ms'],
           **{k: v for k, v in outcome.items()
              if k != 'failure_reasons'}}
    report.emit('deploy_fleet', [row],
                ['nodes', 'concurrency', 'boot_s', 'install_s', 'hung',
                 'failure_rate', 'wall_s', 'ideal_s', 'ratio',
                 'cpu_ms_per_node', 'threads_before',
                 'threads_at_peak_wait', 'rss_mb_at_peak_wait',
                 'most_waiting', 'show_p50_ms', 'show_p99_ms', 'active',
                 'failed', 'refused_503'],
                vars(args), title='network-boot deploys with installer '
                'call-backs', extra={'failure_reasons':
                                     outcome['failure_reasons']},
                results_dir=args.results_dir)


def main(argv: list[str] | None = None) -> int:
    parser = cli.base_parser(__doc__.split('\n\n')[0])
    parser.add_argument('--nodes', type=int, default=100)
    parser.add_argument('--concurrency', type=int, default=50,
                        help='deploys in flight (and max_concurrent_deploy)')
    parser.add_argument('--boot-time', type=float, default=5.0)
    parser.add_argument('--install-time', type=float, default=20.0)
    parser.add_argument('--jitter', type=float, default=0.2,
                        help='fraction either side of the boot and install '
                             'times')
    parser.add_argument('--failure-rate', type=float, default=0.0)
    parser.add_argument('--hung', type=float, default=0.0,
                        help='fraction of BMCs that never answer')
    parser.add_argument('--bmc-timeout', type=float, default=5.0,
                        help='[redfish] request_timeout')
    parser.add_argument('--poll', type=float, default=0.25)
    parser.add_argument('--timeout', type=float, default=3600.0)
    args = parser.parse_args(argv)
    return cli.run_main(lambda: run(args))


if __name__ == '__main__':
    sys.exit(main())
