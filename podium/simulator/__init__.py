"""Simulated BMCs for tests, benchmarks and ``podium demo``.

- :mod:`podium.simulator.redfish` -- :class:`Simulator`, thousands of
  Redfish BMCs on one asyncio loop, with latency, hang, error and
  concurrency-cap injection.
- :mod:`podium.simulator.ipmi` -- ``IpmiSimulator``, tens to hundreds of
  IPMI BMCs built on pyghmi (import it explicitly: importing it starts
  nothing, but pulls in pyghmi).

Both run as a standalone process: ``python -m podium.simulator redfish|ipmi``.
"""

from podium.simulator.behaviour import (
    NO_LATENCY,
    Behaviour,
    Fixed,
    Latency,
    LogNormal,
    Tail,
    Uniform,
    parse_latency,
)
from podium.simulator.reach import EndpointInfo, SystemInfo
from podium.simulator.redfish import Simulator
from podium.simulator.state import Inventory

__all__ = [
    "NO_LATENCY", "Behaviour", "EndpointInfo", "Fixed", "Inventory",
    "Latency", "LogNormal", "Simulator", "SystemInfo", "Tail", "Uniform",
    "parse_latency",
]
