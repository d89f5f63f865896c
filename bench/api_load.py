"""REST API throughput and latency under a fixed number of clients.

``podium serve`` with N ``fake-hardware`` nodes (power sync off, so only
the API is measured) is loaded by ``--concurrency`` keep-alive clients
for ``--duration`` seconds per operation:

- ``show``: ``GET /v1/nodes/<name>`` over every node in turn;
- ``list-detail``: ``GET /v1/nodes/detail`` (one full page: ``[api]
  max_limit`` nodes), and the same from one client, one at a time, for
  the latency of listing with detail, plus the walk through every page;
- ``power``: ``PUT /v1/nodes/<name>/states/power``, each node switched
  on then off;
- ``enroll``: ``POST /v1/nodes`` (run last: it grows the fleet).

The server's CPU per request and the load generator's own CPU are
reported beside each figure.

    python -m bench.api_load --sizes 1000,10000
"""

from __future__ import annotations

import sys
import time
from typing import Any

from bench import apiclient, cli, deploy, loadgen, procs, report

#: The smoke run uses the Python client: it is there on every machine,
#: wrk only where someone installed it.
SMOKE = ['--sizes', '20', '--duration', '1', '--latency-samples', '3',
         '--tool', 'python']

def _names(count: int) -> list[str]:
    return [f'node-{i:05d}' for i in range(count)]


def load_ops(size: int) -> dict[str, list[loadgen.Req]]:
    names = _names(size)
    return {
        'show': [loadgen.Req('GET', f'/v1/nodes/{n}') for n in names],
        'list-detail': [loadgen.Req('GET', '/v1/nodes/detail')],
        'power': [loadgen.Req('PUT', f'/v1/nodes/{n}/states/power',
                              {'target': target})
                  for target in ('power on', 'power off') for n in names],
        'enroll': [loadgen.Req('POST', '/v1/nodes',
                               {'driver': 'fake-hardware'})],
    }


def sequential_latency(client: apiclient.ApiClient, path: str,
                       samples: int, server_pid: int) -> dict[str, Any]:
    """One client, one request at a time: the latency a user sees, and
    the server's CPU per request without other requests competing."""
    client.ok('GET', path)  # warm caches and the connection
    timings, count = [], 0
    cpu = procs.cpu_seconds(server_pid)
    for _ in range(samples):
        start = time.perf_counter()
        doc = client.ok('GET', path)
        timings.append(time.perf_counter() - start)
        count = len(doc['nodes'])
    cpu = procs.cpu_seconds(server_pid) - cpu
    summary = report.latency_summary(timings)
    return {'op': 'list-detail-1', 'concurrency': 1, 'requests': samples,
            'p50_ms': summary['p50_ms'], 'p99_ms': summary['p99_ms'],
            'nodes_per_page': count,
            'server_cpu_ms_per_req': 1000 * cpu / samples}


def walk_all(client: apiclient.ApiClient, size: int) -> dict[str, Any]:
    """Time to list every node with detail, page after page."""
    start = time.perf_counter()
    found = 0
    path: str | None = '/v1/nodes/detail'
    pages = 0
    while path:
        doc = client.ok('GET', path)
        found += len(doc['nodes'])
        pages += 1
        nxt = doc.get('next')
        path = nxt[nxt.index('/v1/'):] if nxt else None
    if found != size:
        raise procs.BenchError(f'listed {found} nodes of {size}')
    elapsed = time.perf_counter() - start
    return {'op': 'list-detail-all', 'concurrency': 1, 'requests': pages,
            'p50_ms': elapsed * 1000, 'nodes_per_page': size // pages}


def measure_size(size: int, args: Any) -> list[dict[str, Any]]:
    rows = []
    nodes = [deploy.fake_node(i) for i in range(size)]
    with deploy.Deployment(f'api-{size}', keep=args.keep) as dep:
        dep.enroll(nodes)
        with dep.serve() as server:
            client = apiclient.ApiClient(dep.api_url)
            rows.append(sequential_latency(
                client, '/v1/nodes/detail', args.latency_samples,
                server.pid))
            rows.append(walk_all(client, size))
            for op, requests in load_ops(size).items():
                if op not in args.ops:
                    continue
                cpu = procs.cpu_seconds(server.pid)
                result = loadgen.run(dep.api_url, requests,
                                     args.concurrency, args.duration,
                                     args.tool)
                cpu = procs.cpu_seconds(server.pid) - cpu
                result.update(
                    op=op, concurrency=args.concurrency,
                    server_cpu_ms_per_req=(1000 * cpu / result['requests']
                                           if result['requests'] else None))
                rows.append(result)
    for row in rows:
        row['nodes'] = size
    return rows


COLUMNS = ['nodes', 'op', 'concurrency', 'requests', 'rps', 'p50_ms',
           'p99_ms', 'errors', 'server_cpu_ms_per_req', 'client_cpu_pct',
           'tool']


def run(args: Any) -> None:
    rows = []
    for size in args.sizes:
        rows.extend(measure_size(size, args))
    report.emit('api', rows, COLUMNS, vars(args),
                title=f'REST API, {args.concurrency} clients, '
                      f'{args.duration:g} s per operation',
                results_dir=args.results_dir)


def main(argv: list[str] | None = None) -> int:
    parser = cli.base_parser(__doc__.split('\n\n')[0])
    parser.add_argument('--sizes', type=cli.int_list, default=[1000, 10000],
                        help='fleet sizes, comma separated')
    parser.add_argument('--concurrency', type=int, default=8)
    parser.add_argument('--duration', type=float, default=10.0,
                        help='seconds of load per operation')
    parser.add_argument('--latency-samples', type=int, default=30,
                        help='one-client list requests timed')
    parser.add_argument('--ops', type=lambda s: s.split(','),
                        default=['show', 'list-detail', 'power', 'enroll'])
    parser.add_argument('--tool', choices=('auto', 'wrk', 'python'),
                        default='auto')
    args = parser.parse_args(argv)
    return cli.run_main(lambda: run(args))


if __name__ == '__main__':
    sys.exit(main())
