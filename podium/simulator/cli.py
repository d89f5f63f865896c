"""Command line: run a simulator fleet as its own process.

``python -m podium.simulator redfish --endpoints 100 --systems-per-endpoint
10 --base-port 20000 --latency uniform:0.05,0.2 --hung-fraction 0.05``

Once every address listens, one JSON line goes to stdout: the listing of
every system (``{"systems": [...], "endpoints": [...], ...}``), or, with
``--inventory FILE``, the listing is written to FILE (atomically) and the
line only says ``{"ready": true, "inventory": FILE, ...}``. SIGTERM or
SIGINT stops the process cleanly; with ``--report-cpu`` a last JSON line
``{"exit": true, "cpu_seconds": ..., "requests": ...}`` is printed. The
Redfish simulator also serves live counters and CPU at
``GET <any endpoint>/simulator/stats``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import signal
import sys
import tempfile
import threading
from collections.abc import Callable, Sequence
from typing import Any

from podium.simulator.behaviour import Behaviour, parse_latency
from podium.simulator.util import process_cpu_seconds, raise_nofile_limit


def _add_common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1",
                        help="loopback address to bind (default %(default)s)")
    parser.add_argument("--base-port", type=int, default=0,
                        help="first port; 0 picks ephemeral ports")
    parser.add_argument("--username", default="admin")
    parser.add_argument("--password", default="password")
    parser.add_argument("--latency", type=parse_latency, default="0",
                        help="fixed seconds or a spec: fixed:S, "
                             "uniform:A,B, lognormal:MEDIAN,SIGMA[,CAP], "
                             "tail:BASE,FRACTION,SLOW")
    parser.add_argument("--hung-fraction", type=float, default=0.0,
                        help="share of systems that never answer")
    parser.add_argument("--error-fraction", type=float, default=0.0,
                        help="share of requests answered with an error")
    parser.add_argument("--error-status", type=int, default=500,
                        choices=(500, 503))
    parser.add_argument("--power-delay", type=float, default=0.0,
                        help="seconds before a power action takes effect")
    parser.add_argument("--power-state", default="Off",
                        choices=("On", "Off"))
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--inventory", metavar="FILE",
                        help="write the listing here instead of stdout")
    parser.add_argument("--report-cpu", action="store_true",
                        help="print CPU seconds used on exit")
    parser.add_argument("--log-level", default="WARNING")


def build_parser() -> argparse.ArgumentParser:
    """The ``python -m podium.simulator`` argument parser."""
    parser = argparse.ArgumentParser(
        prog="python -m podium.simulator",
        description="Simulated BMC fleets on loopback.")
    sub = parser.add_subparsers(dest="kind", required=True)
    redfish = sub.add_parser("redfish", help="asyncio Redfish BMCs")
    redfish.add_argument("--endpoints", type=int, default=1)
    redfish.add_argument("--systems-per-endpoint", type=int, default=1)
    redfish.add_argument("--max-concurrency", type=int, default=None,
                         help="in-flight requests per endpoint before 503")
    redfish.add_argument("--name-prefix", default="sim")
    redfish.add_argument("--loop", choices=("auto", "asyncio", "uvloop"),
                         default="auto",
                         help="event loop; auto uses uvloop when installed "
                              "(it halves the cost of new connections)")
    installer = redfish.add_argument_group(
        "simulated installer", "a system powered on with a one-time PXE "
        "or CD boot runs an installer that calls Podium back (lookup, "
        "then heartbeat start and end or error), like a kickstart "
        "pointed at Podium")
    installer.add_argument("--installer-url", metavar="URL",
                           help="the Podium API the installer calls back "
                                "(loopback only); no installer without it")
    installer.add_argument("--installer-boot-time", type=parse_latency,
                           default="0", metavar="SPEC",
                           help="seconds from power-on to the lookup "
                                "(a latency spec, as --latency)")
    installer.add_argument("--installer-install-time", type=parse_latency,
                           default="0", metavar="SPEC",
                           help="seconds from start to end or error")
    installer.add_argument("--installer-failure-rate", type=float,
                           default=0.0, metavar="FRACTION",
                           help="share of installs that report an error")
    _add_common(redfish)
    ipmi = sub.add_parser("ipmi", help="pyghmi IPMI BMCs")
    ipmi.add_argument("--count", type=int, default=1)
    ipmi.add_argument("--name-prefix", default="ipmi")
    _add_common(ipmi)
    return parser


def _behaviour(args: argparse.Namespace) -> Behaviour:
    return Behaviour(latency=args.latency, error_fraction=args.error_fraction,
                     error_status=args.error_status,
                     power_delay=args.power_delay)


def _emit(doc: dict[str, Any]) -> None:
    try:
        sys.stdout.write(json.dumps(doc) + "\n")
        sys.stdout.flush()
    except BrokenPipeError:
        # The parent stopped reading; that is its business, not an error.
        pass


def _announce(args: argparse.Namespace, listing: dict[str, Any]) -> None:
    summary = {"ready": True, "pid": os.getpid(), "kind": args.kind,
               "count": len(listing["systems"])}
    if args.inventory:
        directory = os.path.dirname(os.path.abspath(args.inventory))
        with tempfile.NamedTemporaryFile(
                "w", dir=directory, delete=False, suffix=".tmp") as tmp:
            json.dump(listing, tmp)
        os.replace(tmp.name, args.inventory)
        _emit({**summary, "inventory": args.inventory})
    else:
        _emit({**summary, **listing})


def _installer(args: argparse.Namespace) -> Any:
    if not args.installer_url:
        return None
    from podium.simulator.installer import InstallerConfig

    return InstallerConfig(
        args.installer_url, boot_time=args.installer_boot_time,
        install_time=args.installer_install_time,
        failure_rate=args.installer_failure_rate)


async def _run_redfish(args: argparse.Namespace) -> dict[str, Any]:
    from podium.simulator.redfish import Simulator

    sim = Simulator(
        args.endpoints, args.systems_per_endpoint, host=args.host,
        base_port=args.base_port, username=args.username,
        password=args.password, behaviour=_behaviour(args),
        max_concurrency=args.max_concurrency,
        hung_fraction=args.hung_fraction, power_state=args.power_state,
        seed=args.seed, name_prefix=args.name_prefix,
        installer=_installer(args))
    await sim.start_async()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    endpoints = sim.endpoints
    _announce(args, {
        "systems": sim.inventory(),
        "endpoints": [{"index": e.index, "address": e.address,
                       "systems": list(e.system_uuids)} for e in endpoints],
        "control": endpoints[0].address + "/simulator/",
    })
    await stop.wait()
    stats = sim.stats()
    await sim.stop_async()
    return stats


def _run_ipmi(args: argparse.Namespace) -> dict[str, Any]:
    from podium.simulator.ipmi import IpmiSimulator

    sim = IpmiSimulator(
        args.count, host=args.host, base_port=args.base_port,
        username=args.username, password=args.password,
        behaviour=_behaviour(args), hung_fraction=args.hung_fraction,
        power_state=args.power_state, seed=args.seed,
        name_prefix=args.name_prefix)
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    sim.start()
    _announce(args, {"systems": sim.inventory()})
    while not stop.wait(1.0):
        pass
    stats = sim.stats()
    sim.stop()
    return stats


def _run_async(main: Callable[[], Any], loop: str) -> Any:
    if loop == "auto":
        try:
            import uvloop  # noqa: F401
            loop = "uvloop"
        except ImportError:
            loop = "asyncio"
    if loop == "uvloop":
        import uvloop

        with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
            return runner.run(main())
    return asyncio.run(main())


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the process exit status."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(), stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s "
                               "%(message)s")
    raise_nofile_limit()
    try:
        if args.kind == "redfish":
            stats = _run_async(lambda: _run_redfish(args), args.loop)
        else:
            stats = _run_ipmi(args)
    except (OSError, RuntimeError, ValueError) as exc:
        sys.stderr.write(f"podium simulator: {exc}\n")
        return 1
    if args.report_cpu:
        _emit({"exit": True, "cpu_seconds": process_cpu_seconds(),
               "loop_cpu_seconds": stats.get("loop_cpu_seconds"),
               "requests": stats.get("requests"),
               "uptime_seconds": stats.get("uptime_seconds")})
    return 0
