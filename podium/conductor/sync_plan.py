"""What one power sync cycle reads, on which budget and in which order.

The nodes of a cycle are split by the health of their BMC
(:mod:`podium.conductor.bmc_health`):

* nodes of healthy BMCs (or of no known BMC) are read on
  ``sync_power_state_workers``, grouped into batch reads where the
  driver allows, nodes that failed before last;
* of each suspect BMC one node is probed, with the BMC's short probe
  timeout, on the separate ``bmc_probe_workers`` budget; at most as many
  suspects as that budget can probe within one sync interval, the least
  recently probed first, so any number of hung BMCs neither delays the
  healthy reads nor lengthens the cycle (with ``power_read_mode =
  async`` such a probe costs a socket, not a worker, but the same
  budget bounds the CPU the failed ones cost; there, each probe that
  answered in the last cycle adds :data:`PROBE_GROWTH` to the budget,
  see :func:`grown_probe_budget`);
* the other nodes of a suspect BMC are not read this cycle: they share
  the probe's outcome (:attr:`Plan.siblings`), and are read again with
  the healthy ones once their BMC answers.
"""

import dataclasses
import math
import random
from collections.abc import Callable, Hashable, Mapping
from typing import Any

from oslo_log import log

from podium.common import exceptions
from podium.conductor import bmc_health
from podium.conf import CONF
from podium.drivers import base, driver_factory

LOG = log.getLogger(__name__)


@dataclasses.dataclass
class Unit:
    """Nodes read in one driver call."""

    power: base.PowerInterface
    rows: list[Any]
    endpoint: str | None
    #: The read timeout the driver gets (``task.timeout``).
    timeout: float
    #: A probe of a suspect BMC.
    probe: bool = False


@dataclasses.dataclass
class ReadTask:
    """The ``drivers.base.Task`` of one read (power sync, the drift
    check, the BMC recovery ladder): a light row, read-only."""

    node: Any
    timeout: float
    shared: bool = True
    #: Settings the read saw, for nodes with intended settings
    #: (``drivers.base.observed_settings``); None for the others.
    observed: dict[str, Any] | None = None
    #: Called when a non-blocking read's request is on its way
    #: (``drivers.base.request_sent``).
    sent: Callable[[], None] | None = None


def remaining(timeout: float, waited: float) -> float:
    """What is left of a read's ``timeout`` after ``waited`` seconds for
    its BMC's budget, to the tenth of a second: a hung BMC's error names
    it ("did not answer within 2 seconds"), and a number that changed
    from cycle to cycle (1.99997) would rewrite the node's last_error,
    and its history, every cycle."""
    return max(0.1, round(timeout - waited, 1))


def read_tasks(rows: list[Any], timeout: float,
               observed: Mapping[int, dict[str, Any]]) -> list[ReadTask]:
    """The read tasks of ``rows``, each with its node's ``observed``
    dict where power sync wants the settings the read sees."""
    return [ReadTask(row, timeout, observed=observed.get(row.id))
            for row in rows]


@dataclasses.dataclass
class Plan:
    healthy: list[Unit] = dataclasses.field(default_factory=list)
    probes: list[Unit] = dataclasses.field(default_factory=list)
    #: Endpoint of a probe -> the nodes that share its outcome.
    siblings: dict[str, list[Any]] = dataclasses.field(
        default_factory=dict)
    #: Nodes of suspect BMCs left for a later cycle (over the budget).
    deferred: int = 0
    #: Every endpoint of the nodes planned (to keep their records).
    endpoints: set[str] = dataclasses.field(default_factory=set)


#: More suspects probed in the next non-blocking cycle per probe that
#: answered (:func:`grown_probe_budget`).
PROBE_GROWTH = 4


def max_probes() -> int:
    """Suspects one cycle probes at most: what ``bmc_probe_workers``
    can do in one ``sync_power_state_interval``."""
    opts = CONF.conductor
    rounds = math.floor(opts.sync_power_state_interval /
                        max(opts.bmc_probe_timeout, 0.1))
    return int(opts.bmc_probe_workers * max(1, rounds))


def grown_probe_budget(answered: int) -> int:
    """The probe budget of a non-blocking cycle after one whose probes
    ``answered``: :func:`max_probes` plus :data:`PROBE_GROWTH` for each
    answer. Suspects that answer are mostly BMCs that were slow for a
    while (a conductor logging in to thousands of BMCs at start on a
    busy machine fails some reads), so while probes find answers the
    next cycle probes more, and a few hundred such nodes are read again
    within a few cycles rather than at the base rate; probes of BMCs
    that really hang find none, so the budget stays at the base and
    their failures cost no more CPU. Threaded cycles keep the base:
    their probes hold the few ``bmc_probe_workers``, and more of them
    would lengthen the cycle."""
    return max_probes() + PROBE_GROWTH * answered


def plan(rows: list[Any], health: bmc_health.Registry,
         failure_count: Callable[[int], int],
         probe_budget: int | None = None) -> Plan:
    """Split ``rows`` into healthy reads and probes (module doc);
    ``probe_budget`` suspects probed at most (default
    :func:`max_probes`)."""
    registry = driver_factory.get_registry()
    result = Plan()
    read_timeout = CONF.conductor.power_state_read_timeout
    healthy: list[tuple[base.PowerInterface, Any, str | None]] = []
    suspects: dict[str, list[tuple[base.PowerInterface, Any]]] = {}
    for row in rows:
        try:
            power = registry.for_node(row).power
        except exceptions.PodiumException as exc:
            LOG.debug('Node %s not synced: %s', base.node_label(row), exc)
            continue
        endpoint = power.bmc_endpoint(row)
        if endpoint is not None:
            result.endpoints.add(endpoint)
        if health.suspect(endpoint):
            assert endpoint is not None
            suspects.setdefault(endpoint, []).append((power, row))
        else:
            healthy.append((power, row, endpoint))
    # Nodes that failed before last: the healthy majority goes first.
    healthy.sort(key=lambda entry: failure_count(entry[1].id) > 0)
    result.healthy = _units(healthy, read_timeout)
    # Least recently probed first; among equals (every suspect a cycle
    # finds new) in random order, not node order: hung BMCs and BMCs
    # that were only slow for a while are then probed in proportion, so
    # the answers grow the next budget (grown_probe_budget) rather than
    # waiting behind every hung BMC of lower node ids.
    tie = random.random
    order = sorted(suspects, key=lambda e: (health.last_probe(e), tie()))
    # In both read modes: a non-blocking probe holds no worker, but a
    # failed one still costs CPU (a new connection, the timeout, the
    # error recorded), and probing 1,000 hung BMCs every cycle made a
    # 10,000-node async cycle 45 % longer.
    budget = max_probes() if probe_budget is None else probe_budget
    for endpoint in order[:budget]:
        members = sorted(suspects[endpoint],
                         key=lambda entry: entry[1].id)
        power, row = members[0]
        result.probes.append(Unit(power, [row], endpoint,
                                  health.probe_timeout(endpoint),
                                  probe=True))
        result.siblings[endpoint] = [member for _, member in members[1:]]
    result.deferred = sum(len(suspects[e]) for e in order[budget:])
    return result


def _units(entries: list[tuple[base.PowerInterface, Any, str | None]],
           timeout: float) -> list[Unit]:
    """Rows grouped by what can be read in one call, in row order."""
    units: list[Unit] = []
    batches: dict[tuple[int, Hashable], Unit] = {}
    for power, row, endpoint in entries:
        key = power.batch_key(row)
        if key is None:
            units.append(Unit(power, [row], endpoint, timeout))
            continue
        unit = batches.get((id(power), key))
        if unit is None:
            unit = batches[(id(power), key)] = Unit(power, [], endpoint,
                                                    timeout)
            units.append(unit)
        unit.rows.append(row)
    return units
