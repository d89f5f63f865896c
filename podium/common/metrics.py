"""Prometheus metrics: every metric Podium exports, defined in one place.

The metrics live in prometheus_client's default registry, so a process
running both halves (``podium serve``) shows conductor and API metrics on
one ``/metrics``. Labels are bounded by code or configuration: periodic
task names, driver names, API route templates, RPC method names, state
names and conductor hosts. No metric carries a node's name, UUID, BMC
address or anything from ``driver_info``.

Values that already exist elsewhere (pool accounting, node counts) are
not copied into gauges on every change: collectors read them when
Prometheus scrapes (see :class:`PoolCollector` and
``podium.api.metrics``).
"""

import dataclasses
import threading
import time
import weakref
from collections.abc import Callable, Iterator
from typing import Any, Protocol

import prometheus_client
from prometheus_client import core as prometheus_core
from prometheus_client import registry as prometheus_registry

REGISTRY = prometheus_client.REGISTRY

#: Buckets for BMC requests and RPC calls: milliseconds to a hung BMC's
#: read timeout.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
                   5.0, 10.0, 30.0, 60.0)

#: Buckets for periodic tasks and sync cycles: seconds to many minutes.
DURATION_BUCKETS = (0.1, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0, 30.0, 45.0,
                    60.0, 90.0, 120.0, 300.0, 600.0)

# Conductor pool -----------------------------------------------------------

POOL_REFUSED = prometheus_client.Counter(
    'podium_conductor_pool_refused', 'Submissions the worker pool refused '
    'because no worker was free (kind: action or periodic).',
    ['kind'])

# Periodic tasks -----------------------------------------------------------

PERIODIC_RUNS = prometheus_client.Counter(
    'podium_periodic_task_runs', 'Runs of each periodic task.', ['task'])
PERIODIC_FAILURES = prometheus_client.Counter(
    'podium_periodic_task_failures',
    'Runs of each periodic task that raised an exception.', ['task'])
PERIODIC_DURATION = prometheus_client.Histogram(
    'podium_periodic_task_duration_seconds',
    'How long each run of a periodic task took.', ['task'],
    buckets=DURATION_BUCKETS)
PERIODIC_LATENESS = prometheus_client.Gauge(
    'podium_periodic_task_lateness_seconds',
    'How much later than its spacing the last run of a periodic task '
    'started (0: on time).', ['task'])

# Power sync ---------------------------------------------------------------

SYNC_CYCLE_DURATION = prometheus_client.Histogram(
    'podium_power_sync_cycle_duration_seconds',
    'Wall time of one power sync cycle over the nodes of a conductor.',
    buckets=DURATION_BUCKETS)
SYNC_LAST_CYCLE = prometheus_client.Gauge(
    'podium_power_sync_last_cycle_seconds',
    'Wall time of the last power sync cycle.')
SYNC_NODES = prometheus_client.Counter(
    'podium_power_sync_nodes',
    'Nodes handled by power sync, by outcome: read (answered), failed '
    '(error or bad answer), timed_out (no answer in time), changed '
    '(power state changed out of band), push_failed (pushing the recorded '
    'state back failed), deferred (behind a suspect BMC that the cycle '
    'had no probe left for).', ['outcome'])

# BMCs ---------------------------------------------------------------------

BMC_REQUEST_DURATION = prometheus_client.Histogram(
    'podium_bmc_request_duration_seconds',
    'Latency of BMC requests by driver and operation, failures '
    'included.', ['driver', 'operation'], buckets=LATENCY_BUCKETS)
BMC_REQUEST_FAILURES = prometheus_client.Counter(
    'podium_bmc_request_failures',
    'BMC requests that failed or timed out, by driver and operation.',
    ['driver', 'operation'])
BMC_SUSPECT = prometheus_client.Gauge(
    'podium_bmc_suspect_endpoints',
    'BMC endpoints power sync holds suspect after the last cycle (they '
    'failed their last requests in a row and are probed apart).')

# Sensors ------------------------------------------------------------------

SENSOR_REQUESTS = prometheus_client.Counter(
    'podium_sensor_requests',
    'Requests for a node\'s sensor readings served by this conductor, by '
    'source (bmc: read from the BMC, cache: served from the cache or '
    'from a read in flight) and outcome (ok, failed).',
    ['source', 'outcome'])

# API and RPC --------------------------------------------------------------

API_REQUESTS = prometheus_client.Counter(
    'podium_api_requests',
    'API requests by method, route template and status code.',
    ['method', 'route', 'status'])
API_REQUEST_DURATION = prometheus_client.Histogram(
    'podium_api_request_duration_seconds',
    'API request latency by method and route template.',
    ['method', 'route'], buckets=LATENCY_BUCKETS)
RPC_CALLS = prometheus_client.Counter(
    'podium_rpc_calls',
    'Conductor RPC calls made by the API, by method and outcome (ok, '
    'error: the conductor refused or failed the call, unreachable).',
    ['method', 'outcome'])
RPC_CALL_DURATION = prometheus_client.Histogram(
    'podium_rpc_call_duration_seconds',
    'Latency of conductor RPC calls made by the API.', ['method'],
    buckets=LATENCY_BUCKETS)


def observe_bmc_request(driver: str, operation: str, seconds: float,
                        failed: bool) -> None:
    """Record one BMC request of ``driver`` (a hardware type name)."""
    BMC_REQUEST_DURATION.labels(driver, operation).observe(seconds)
    if failed:
        BMC_REQUEST_FAILURES.labels(driver, operation).inc()


class Timer:
    """``with Timer() as timer: ...``; ``timer.seconds`` afterwards."""

    def __init__(self) -> None:
        self._start = 0.0
        self.seconds = 0.0

    def __enter__(self) -> 'Timer':
        self._start = time.monotonic()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.seconds = time.monotonic() - self._start


def timed_periodic(name: str, spacing: float,
                   run: Callable[[], Any]) -> Callable[[], Any]:
    """``run`` counting its runs, failures, duration and lateness under
    task label ``name``.

    Lateness is measured against the spacing after the previous start,
    the way the periodic worker schedules (``last_started``).
    """
    previous: list[float] = []

    def timed() -> Any:
        now = time.monotonic()
        if previous:
            PERIODIC_LATENESS.labels(name).set(
                max(0.0, now - previous[0] - spacing))
            previous[0] = now
        else:
            previous.append(now)
            PERIODIC_LATENESS.labels(name).set(0.0)
        PERIODIC_RUNS.labels(name).inc()
        try:
            return run()
        except BaseException:
            PERIODIC_FAILURES.labels(name).inc()
            raise
        finally:
            PERIODIC_DURATION.labels(name).observe(time.monotonic() - now)

    return timed


# Pool collector -----------------------------------------------------------

class PoolStats(Protocol):
    """What :class:`PoolCollector` reads of a conductor's worker pool."""

    size: int
    reserved: int
    periodic_slots: int

    def busy_by_kind(self) -> dict[str, int]: ...


class PoolCollector(prometheus_registry.Collector):
    """Reports the worker pools of the conductors in this process.

    Pools are held weakly: a conductor that stopped without
    unregistering does not keep its pool alive.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pools: weakref.WeakValueDictionary[str, Any] = \
            weakref.WeakValueDictionary()

    def register(self, host: str, pool: PoolStats) -> None:
        with self._lock:
            self._pools[host] = pool

    def unregister(self, host: str) -> None:
        with self._lock:
            self._pools.pop(host, None)

    def collect(self) -> Iterator[prometheus_core.Metric]:
        size = prometheus_core.GaugeMetricFamily(
            'podium_conductor_pool_size',
            'Workers of the conductor pool by slot kind (reserved for '
            'actions, periodic runs, shared).', labels=['host', 'slots'])
        busy = prometheus_core.GaugeMetricFamily(
            'podium_conductor_pool_busy',
            'Workers busy now by kind of work (actions, steps of '
            'periodic tasks, periodic runs).', labels=['host', 'kind'])
        idle = prometheus_core.GaugeMetricFamily(
            'podium_conductor_pool_idle', 'Workers idle now.',
            labels=['host'])
        with self._lock:
            pools = sorted(self._pools.items())
        for host, pool in pools:
            by_kind = pool.busy_by_kind()
            size.add_metric([host, 'reserved'], pool.reserved)
            size.add_metric([host, 'periodic'], pool.periodic_slots)
            size.add_metric([host, 'shared'], pool.size - pool.reserved
                            - pool.periodic_slots)
            for kind, count in sorted(by_kind.items()):
                busy.add_metric([host, kind], count)
            idle.add_metric([host], pool.size - sum(by_kind.values()))
        yield from (size, busy, idle)


POOLS = PoolCollector()
REGISTRY.register(POOLS)


# Sensor collector ---------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class SensorAggregates:
    """Fleet sensor figures of one conductor's cached readings."""

    #: Nodes with readings in the window.
    nodes: int
    #: Those of them that report a power draw, and its sum in watts.
    nodes_with_power: int
    power_watts: float
    #: Nodes with a reading past a critical threshold, by sensor kind.
    critical_by_kind: dict[str, int]


class SensorStats(Protocol):
    """What :class:`SensorCollector` reads of a conductor's cache."""

    def aggregates(self) -> SensorAggregates: ...


class SensorCollector(prometheus_registry.Collector):
    """Fleet sensor figures of the conductors in this process, computed
    from their sensor caches when Prometheus scrapes. Labels: the
    conductor host and the sensor kind (four values); no node appears.
    Per-node readings are served by the sensors endpoint instead
    (``?format=prometheus``).
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._caches: weakref.WeakValueDictionary[str, Any] = \
            weakref.WeakValueDictionary()

    def register(self, host: str, cache: SensorStats) -> None:
        with self._lock:
            self._caches[host] = cache

    def unregister(self, host: str) -> None:
        with self._lock:
            self._caches.pop(host, None)

    def collect(self) -> Iterator[prometheus_core.Metric]:
        nodes = prometheus_core.GaugeMetricFamily(
            'podium_sensor_nodes',
            'Nodes whose sensor readings this conductor read within '
            '[conductor] sensor_metrics_window.', labels=['host'])
        drawing = prometheus_core.GaugeMetricFamily(
            'podium_sensor_power_nodes',
            'Of those, the nodes that report a power draw.',
            labels=['host'])
        watts = prometheus_core.GaugeMetricFamily(
            'podium_sensor_power_draw_watts',
            'Sum of the last power draw of those nodes, in watts.',
            labels=['host'])
        critical = prometheus_core.GaugeMetricFamily(
            'podium_sensor_nodes_critical',
            'Of those, the nodes with a reading of this kind at or past '
            'a critical threshold (or that the BMC calls critical).',
            labels=['host', 'kind'])
        with self._lock:
            caches = sorted(self._caches.items())
        for host, cache in caches:
            figures = cache.aggregates()
            nodes.add_metric([host], figures.nodes)
            drawing.add_metric([host], figures.nodes_with_power)
            watts.add_metric([host], figures.power_watts)
            for kind, count in sorted(figures.critical_by_kind.items()):
                critical.add_metric([host, kind], count)
        yield from (nodes, drawing, watts, critical)


SENSORS = SensorCollector()
REGISTRY.register(SENSORS)


def exposition() -> tuple[bytes, str]:
    """The body and content type of a scrape of this process."""
    return (prometheus_client.generate_latest(REGISTRY),
            prometheus_client.CONTENT_TYPE_LATEST)


def start_http_server(host: str, port: int) -> Callable[[], None]:
    """Serve ``/metrics`` on ``host:port`` from a thread of its own;
    returns the function that stops it."""
    server, thread = prometheus_client.start_http_server(
        port, addr=host, registry=REGISTRY)

    def stop() -> None:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5.0)

    return stop
