"""What the simulator reports of its endpoints: one endpoint's settings
and counters, and the counters of all of them summed.

Loop-side functions: they read the endpoints' state, which only the
simulator's event loop touches (see :mod:`podium.simulator.redfish`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from podium.simulator.endpoint import Endpoint
from podium.simulator.state import EndpointCounters, SimSystem

#: Counters that add up over endpoints (the others: a maximum, a map).
_SUMMED = ("requests", "in_flight", "errors", "refused", "hung",
           "connections", "connections_total")


def describe_endpoint(endpoint: Endpoint) -> dict[str, Any]:
    """One endpoint's settings, systems and counters (control API)."""
    return {
        "index": endpoint.index,
        "address": endpoint.address,
        "max_concurrency": endpoint.max_concurrency,
        "bmc_reset_seconds": endpoint.reset_seconds,
        "bmc_resets": endpoint.resets,
        "restarting": endpoint.restarting(),
        "behaviour": endpoint.behaviour.to_dict(),
        "systems": [s.uuid for s in endpoint.systems],
        **endpoint.counters.to_dict(),
    }


def summed(endpoints: Sequence[Endpoint]
           ) -> tuple[EndpointCounters, list[dict[str, Any]]]:
    """The endpoints' counters summed, and each endpoint's own."""
    per_endpoint = []
    total = EndpointCounters()
    for e in endpoints:
        c = e.counters
        for name in _SUMMED:
            setattr(total, name, getattr(total, name) + getattr(c, name))
        total.max_in_flight = max(total.max_in_flight, c.max_in_flight)
        for code, count in c.status_counts.items():
            total.status_counts[code] = (
                total.status_counts.get(code, 0) + count)
        per_endpoint.append({"index": e.index, "address": e.address,
                             "max_concurrency": e.max_concurrency,
                             "bmc_resets": e.resets,
                             **c.to_dict()})
    return total, per_endpoint


def reset(endpoints: Sequence[Endpoint],
          systems: Sequence[SimSystem]) -> None:
    """Zero every counter (between benchmark phases)."""
    for endpoint in endpoints:
        endpoint.counters.reset()
    for system in systems:
        system.requests = 0
