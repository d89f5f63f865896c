"""The conductor's per-node cache of sensor readings.

``GET /v1/nodes/{node}/sensors`` reaches the conductor that owns the
node; a dashboard refreshing every few seconds and a scraper or two
would otherwise each cost a BMC read. :class:`SensorCache` serves a
node's last read while it is younger than ``[conductor]
sensor_cache_seconds``, failures included (a broken BMC is not retried
on every request), and lets one read per node be in flight: requests
arriving meanwhile wait for it, for a bounded time, instead of reading
again.

The cache is also what the fleet sensor metrics aggregate
(:class:`podium.common.metrics.SensorCollector`): the readings of every
node read within ``[conductor] sensor_metrics_window`` seconds. Older
entries are dropped, so the cache holds at most the nodes read in that
window.
"""

import concurrent.futures
import dataclasses
import threading
import time
from collections.abc import Callable, Sequence

from podium.common import exceptions, metrics
from podium.conf import CONF
from podium.drivers import sensor_readings as sr

#: Seconds between two sweeps of expired entries.
_PRUNE_SPACING = 30.0

#: Failures that say nothing of the BMC (the conductor's pool was full):
#: the next request tries again rather than getting them from the cache.
_NOT_CACHED = (exceptions.NoFreeConductorWorker,)


@dataclasses.dataclass(frozen=True)
class Snapshot:
    """One read of a node's sensors: the readings, or the error."""

    readings: tuple[sr.SensorReading, ...]
    error: Exception | None
    #: Wall-clock time of the read (shown to users) and monotonic time
    #: (for ages).
    read_at: float
    taken: float

    def age(self, now: float | None = None) -> float:
        return max(0.0, (time.monotonic() if now is None else now)
                   - self.taken)


class SensorCache:
    """Readings per node UUID, with one read in flight per node."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: dict[str, Snapshot] = {}
        self._inflight: dict[str, concurrent.futures.Future[Snapshot]] = {}
        self._pruned = time.monotonic()

    def get(self, node_uuid: str,
            read: Callable[[], Sequence[sr.SensorReading]],
            wait: float) -> tuple[Snapshot, bool]:
        """The node's snapshot and whether it came from the cache.

        ``read`` runs in this thread when there is no fresh snapshot and
        no read in flight; otherwise this waits up to ``wait`` seconds
        for the read in flight.

        :raises: the read's error (the cached one, when fresh).
        :raises BMCTimeout: the read in flight did not end in ``wait``.
        """
        ttl = CONF.conductor.sensor_cache_seconds
        with self._lock:
            entry = self._entries.get(node_uuid)
            if entry is not None and entry.age() < ttl:
                return self._served(entry, True)
            future = self._inflight.get(node_uuid)
            leader = future is None
            if future is None:
                future = concurrent.futures.Future()
                self._inflight[node_uuid] = future
        if not leader:
            try:
                return self._served(future.result(timeout=wait), True)
            except concurrent.futures.TimeoutError:
                raise exceptions.BMCTimeout(
                    timeout=wait,
                    reason='the sensor read in flight for this node has '
                           'not ended') from None
        try:
            snapshot = self._read(read)
        except BaseException as exc:
            with self._lock:
                del self._inflight[node_uuid]
            future.set_exception(exc)
            raise
        with self._lock:
            if not isinstance(snapshot.error, _NOT_CACHED):
                self._entries[node_uuid] = snapshot
            del self._inflight[node_uuid]
            self._prune()
        future.set_result(snapshot)
        return self._served(snapshot, False)

    @staticmethod
    def _read(read: Callable[[], Sequence[sr.SensorReading]]) -> Snapshot:
        error: Exception | None = None
        readings: tuple[sr.SensorReading, ...] = ()
        try:
            readings = tuple(read())
        except Exception as exc:
            error = exc
        return Snapshot(readings, error, time.time(), time.monotonic())

    @staticmethod
    def _served(snapshot: Snapshot, cached: bool) -> tuple[Snapshot, bool]:
        metrics.SENSOR_REQUESTS.labels(
            'cache' if cached else 'bmc',
            'failed' if snapshot.error is not None else 'ok').inc()
        if snapshot.error is not None:
            raise snapshot.error
        return snapshot, cached

    def _prune(self) -> None:
        """Drop entries older than the metrics window and the TTL
        (lock held); at most every :data:`_PRUNE_SPACING` seconds."""
        now = time.monotonic()
        if now - self._pruned < _PRUNE_SPACING:
            return
        self._pruned = now
        keep = max(CONF.conductor.sensor_metrics_window,
                   CONF.conductor.sensor_cache_seconds)
        for key in [k for k, v in self._entries.items()
                    if v.age(now) > keep]:
            del self._entries[key]

    def aggregates(self) -> metrics.SensorAggregates:
        """Fleet figures over the snapshots within the metrics window."""
        window = CONF.conductor.sensor_metrics_window
        now = time.monotonic()
        with self._lock:
            recent = [v for v in self._entries.values()
                      if v.error is None and v.age(now) <= window]
        critical = {kind: 0 for kind in sr.KINDS}
        draw, drawing = 0.0, 0
        for snapshot in recent:
            for kind in {r.kind for r in snapshot.readings
                         if r.over_critical()}:
                critical[kind] += 1
            watts = sr.power_draw(snapshot.readings)
            if watts is not None:
                draw += watts
                drawing += 1
        return metrics.SensorAggregates(
            nodes=len(recent), nodes_with_power=drawing, power_watts=draw,
            critical_by_kind=critical)
