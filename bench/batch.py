"""Fleet power-off in one request: ``POST /v1/podium/batches`` at scale.

``podium serve`` manages ``--nodes`` fake-hardware nodes (power sync
off, so only the batch is measured), all powered on. Each run powers
them all off and back on, timed end to end: from the request to the
moment every node is confirmed in the target state with no action left
(``target_power_state`` empty, lock released) by a node listing. Two
clients are measured:

* ``api``: one ``POST`` with the node list, then one ``GET`` of the
  batch every ``--poll`` seconds until it ended;
* ``cli``: ``podium node power off --wait --host-list`` (which uses
  the batch when the server offers it).

Server CPU is the ``podium serve`` process's user + system time over
the run, divided by the nodes acted on.

    python -m bench.batch --nodes 1000
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from typing import Any

from bench import apiclient, cli, deploy, procs, report

SMOKE = ['--nodes', '20', '--repeat', '1']

_TARGETS = {'off': 'power off', 'on': 'power on'}


def confirm(api: apiclient.ApiClient, state: str, nodes: int) -> None:
    """Every node in ``state`` with nothing in flight, or BenchError."""
    rows = api.nodes('uuid,power_state,target_power_state,reservation')
    wrong = [r['uuid'] for r in rows
             if r['power_state'] != state or r['target_power_state']
             or r['reservation']]
    if len(rows) != nodes or wrong:
        raise procs.BenchError(f'{len(wrong)} of {len(rows)} nodes not '
                               f'confirmed in {state}')


def run_api(api: apiclient.ApiClient, uuids: list[str], target: str,
            concurrency: int, poll: float) -> dict[str, Any]:
    """One batch through the API; its wall time and polls."""
    start = time.monotonic()
    batch = api.ok('POST', '/v1/podium/batches', {
        'action': 'power', 'args': {'target': target}, 'nodes': uuids,
        'policy': {'concurrency': concurrency}})
    polls = 0
    while batch['state'] in ('running', 'cancelling'):
        time.sleep(poll)
        batch = api.ok('GET', f'/v1/podium/batches/{batch["uuid"]}')
        polls += 1
    confirm(api, target, len(uuids))
    wall = time.monotonic() - start
    if batch['state'] != 'succeeded':
        raise procs.BenchError(f'batch {batch["uuid"]} ended '
                               f'{batch["state"]}: {batch["counts"]}')
    # The POST, the polls and the confirming listing (one page).
    return {'wall_s': wall, 'requests': polls + 2,
            'succeeded': batch['counts']['succeeded']}


def run_cli(dep: deploy.Deployment, api: apiclient.ApiClient,
            action: str, host_list: str, nodes: int,
            concurrency: int) -> dict[str, Any]:
    """``podium node power <action> --wait``; wall time and CLI CPU."""
    argv = [procs.PODIUM, 'node', 'power', action, '--wait',
            '--host-list', host_list, '--url', dep.api_url,
            '--concurrency', str(concurrency), '-f', 'json']
    out_path = dep.log_path(f'cli-{action}')
    start = time.monotonic()
    with open(out_path, 'wb') as out:
        proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.DEVNULL)
        _, status, usage = os.wait4(proc.pid, 0)
    confirm(api, _TARGETS[action], nodes)
    wall = time.monotonic() - start
    with open(out_path, encoding='utf-8', errors='replace') as handle:
        text = handle.read()
    try:
        summary = json.loads(text[text.index('['):])
    except ValueError:
        raise procs.BenchError(f'power {action}: no JSON summary (exit '
                               f'{status}):\n{text[-2000:]}') from None
    succeeded = sum(r.get('Result') == 'SUCCESSFUL' for r in summary)
    if succeeded != nodes:
        raise procs.BenchError(f'power {action}: {nodes - succeeded} '
                               f'node(s) failed; see {out_path}')
    return {'wall_s': wall, 'succeeded': succeeded,
            'cli_cpu_s': usage.ru_utime + usage.ru_stime}


def run(args: Any) -> None:
    rows = []
    with deploy.Deployment('batch', deploy.sync_options(
            args.workers, 10.0), keep=args.keep) as dep:
        dep.enroll([deploy.fake_node(i, power_state='power on')
                    for i in range(args.nodes)])
        host_list = os.path.join(dep.workdir, 'hosts.txt')
        with open(host_list, 'w', encoding='utf-8') as handle:
            handle.writelines(f'node-{i:05d}\n' for i in range(args.nodes))
        with dep.serve() as server:
            api = apiclient.ApiClient(dep.api_url)
            uuids = [n['uuid'] for n in api.nodes('uuid')]
            for attempt in range(1, args.repeat + 1):
                for client in ('api', 'cli'):
                    for action in ('off', 'on'):
                        cpu = procs.cpu_seconds(server.pid)
                        if client == 'api':
                            row = run_api(api, uuids, _TARGETS[action],
                                          args.concurrency, args.poll)
                        else:
                            row = run_cli(dep, api, action, host_list,
                                          args.nodes, args.concurrency)
                        used = procs.cpu_seconds(server.pid) - cpu
                        row.update(
                            client=client, action=f'power {action}',
                            attempt=attempt, nodes=args.nodes,
                            concurrency=args.concurrency,
                            server_cpu_s=used,
                            server_cpu_ms_per_node=1000 * used / args.nodes)
                        rows.append(row)
    report.emit('batch', rows,
                ['client', 'action', 'attempt', 'nodes', 'concurrency',
                 'wall_s', 'server_cpu_s', 'server_cpu_ms_per_node',
                 'requests', 'cli_cpu_s', 'succeeded'],
                vars(args), title='fleet power through one batch '
                '(fake hardware, confirmed by a listing)',
                results_dir=args.results_dir)


def main(argv: list[str] | None = None) -> int:
    parser = cli.base_parser(__doc__.split('\n\n')[0])
    parser.add_argument('--nodes', type=int, default=1000)
    parser.add_argument('--concurrency', type=int, default=50,
                        help='the batch policy\'s concurrency (and the '
                             'CLI\'s --concurrency)')
    parser.add_argument('--poll', type=float, default=0.2,
                        help='seconds between two GETs of the batch '
                             '(api client)')
    parser.add_argument('--workers', type=int, default=100,
                        help='sync_power_state_workers; sizes the pool as '
                             'in the other benchmarks (sync is off)')
    parser.add_argument('--repeat', type=int, default=3)
    args = parser.parse_args(argv)
    return cli.run_main(lambda: run(args))


if __name__ == '__main__':
    sys.exit(main())
