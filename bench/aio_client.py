"""Client CPU per non-blocking GET: Podium's asyncio client vs others.

The non-blocking power read (``podium.drivers.modules.redfish.aio_get``)
is a small HTTP/1.1 client on asyncio streams. This measures what a
maintained client would cost instead, on the same workload: GETs of one
system document each from E simulated BMCs (one system each, the
simulator in its own process), at most ``--per-endpoint`` in flight per
BMC and all BMCs at once, every GET on one event loop in this process,
kept-alive connections, basic auth. It reports this process's CPU per
GET (the client's cost: request building, parsing, connection pool) and
GETs per second, for each client that is importable:

- ``lean``: ``aio_get.AioGetter`` (what Podium uses);
- ``httpx``: ``httpx.AsyncClient``;
- ``aiohttp``: ``aiohttp.ClientSession`` (not a Podium dependency:
  install it into a directory on ``PYTHONPATH`` to compare).

``--loop uvloop`` runs each on uvloop (likewise, if importable).

httpx's connection pool looks through every pooled connection per
request, so its cost grows with the number of BMCs (about 0.5-0.8 ms per
GET at 4 BMCs, 2 ms at 20, 14 ms at 100 on the shared 2-core machine);
a client that fails a run (httpx has raised ReadError at 100 BMCs and
5,000 GETs) is reported with its error and the others go on.

    python -m bench.aio_client --endpoints 20 --requests 4000
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import importlib.util
import math
import sys
import time
from collections.abc import Awaitable, Callable
from typing import Any

from bench import cli, report, sim

SMOKE = ['--endpoints', '4', '--requests', '200', '--rounds', '1']

CLIENTS = ('lean', 'httpx', 'aiohttp')

#: Makes one GET of (address, path, headers): the body's length.
Getter = Callable[[str, str, dict[str, str]], Awaitable[int]]


async def _lean(addresses: list[str], per_endpoint: int
                ) -> tuple[Getter, Callable[[], Awaitable[None]]]:
    from podium.conf import CONF
    from podium.drivers.modules.redfish import aio_get
    CONF.set_override('max_concurrent_requests_per_endpoint', per_endpoint,
                      group='redfish')
    getters = {a: aio_get.AioGetter(a, True) for a in addresses}

    async def get(address: str, path: str, headers: dict[str, str]) -> int:
        reply = await getters[address].get(path, headers)
        if reply is None or reply[0] != 200:
            raise RuntimeError(f'lean GET {address}{path}: {reply}')
        return len(reply[1])

    async def close() -> None:
        for getter in getters.values():
            getter.close()

    return get, close


async def _httpx(addresses: list[str], per_endpoint: int
                 ) -> tuple[Getter, Callable[[], Awaitable[None]]]:
    import httpx
    client = httpx.AsyncClient(limits=httpx.Limits(
        max_connections=None, max_keepalive_connections=len(addresses) *
        per_endpoint), trust_env=False)

    async def get(address: str, path: str, headers: dict[str, str]) -> int:
        response = await client.get(address + path, headers=headers)
        response.raise_for_status()
        return len(response.content)

    return get, client.aclose


async def _aiohttp(addresses: list[str], per_endpoint: int
                   ) -> tuple[Getter, Callable[[], Awaitable[None]]]:
    import aiohttp
    session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(
        limit=0, limit_per_host=per_endpoint), trust_env=False)

    async def get(address: str, path: str, headers: dict[str, str]) -> int:
        async with session.get(address + path, headers=headers) as response:
            response.raise_for_status()
            return len(await response.read())

    return get, session.close


_FACTORIES = {'lean': _lean, 'httpx': _httpx, 'aiohttp': _aiohttp}


async def _run(client: str, systems: list[sim.SimSystem], requests: int,
               per_endpoint: int) -> dict[str, Any]:
    addresses = sorted({s.address for s in systems})
    get, close = await _FACTORIES[client](addresses, per_endpoint)
    first = systems[0]
    token = base64.b64encode(
        f'{first.username}:{first.password}'.encode()).decode()
    headers = {'Accept': 'application/json', 'OData-Version': '4.0',
               'Accept-Encoding': 'identity',
               'Authorization': f'Basic {token}'}
    slots = {a: asyncio.Semaphore(per_endpoint) for a in addresses}

    async def one(index: int) -> None:
        system = systems[index % len(systems)]
        async with slots[system.address]:
            await get(system.address, system.system_id, headers)

    # Warm: every connection open before measuring.
    await asyncio.gather(*(one(i) for i in range(len(systems))))
    cpu, wall = time.process_time(), time.perf_counter()
    await asyncio.gather(*(one(i) for i in range(requests)))
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    await close()
    return {'client': client, 'requests': requests,
            'cpu_ms_per_get': 1000 * cpu / requests,
            'gets_per_s': requests / wall}


def run(args: argparse.Namespace) -> None:
    clients = [c for c in args.clients
               if c == 'lean' or importlib.util.find_spec(c) is not None]
    if args.loop == 'uvloop':
        import uvloop
        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    rows = []
    with sim.simulator(args.endpoints) as fleet:
        for _round in range(args.rounds):
            for client in clients:
                try:
                    row = asyncio.run(_run(client, fleet.systems,
                                           args.requests, args.per_endpoint))
                except Exception as exc:  # one client failing the run
                    row = {'client': client, 'requests': args.requests,
                           'cpu_ms_per_get': math.nan,
                           'gets_per_s': math.nan,
                           'error': f'{type(exc).__name__}: {exc}'}
                row.update(loop=args.loop, endpoints=args.endpoints,
                           per_endpoint=args.per_endpoint)
                rows.append(row)
                print(f'{client}: {row["cpu_ms_per_get"]:.3f} ms CPU/GET, '
                      f'{row["gets_per_s"]:.0f} GET/s '
                      f'{row.get("error", "")}', flush=True)
    best = {}
    for client in clients:
        mine = [r['cpu_ms_per_get'] for r in rows if r['client'] == client
                and not math.isnan(r['cpu_ms_per_get'])]
        best[client] = min(mine) if mine else math.nan
    report.emit('aio_client', rows,
                ['client', 'loop', 'endpoints', 'per_endpoint', 'requests',
                 'cpu_ms_per_get', 'gets_per_s', 'error'], vars(args),
                title='Client CPU per non-blocking GET',
                extra={'best_cpu_ms_per_get': best},
                results_dir=args.results_dir)


def main(argv: list[str] | None = None) -> int:
    parser = cli.base_parser(__doc__.split('\n\n')[0])
    parser.add_argument('--endpoints', type=int, default=20,
                        help='simulated BMCs (one system each)')
    parser.add_argument('--requests', type=int, default=4000,
                        help='GETs measured per client and round')
    parser.add_argument('--per-endpoint', type=int, default=4,
                        help='GETs in flight per BMC at most')
    parser.add_argument('--rounds', type=int, default=3,
                        help='rounds over the clients (the best counts)')
    parser.add_argument('--clients', type=lambda s: s.split(','),
                        default=list(CLIENTS),
                        help=f'any of {", ".join(CLIENTS)}; those not '
                             f'importable are skipped')
    parser.add_argument('--loop', choices=('asyncio', 'uvloop'),
                        default='asyncio')
    args = parser.parse_args(argv)
    return cli.run_main(lambda: run(args))


if __name__ == '__main__':
    sys.exit(main())
