"""Health records of the BMCs a conductor talks to, kept in memory.

One :class:`Record` per BMC endpoint (``host:port``, as the node's power
interface names it in :meth:`~podium.drivers.base.PowerInterface.
bmc_endpoint`): the latencies of its last ``[conductor]
bmc_health_window`` requests (answered or not), how many requests in a
row failed or timed out, when it last answered, and the requests in
flight to it now. Power sync reads it to schedule (healthy BMCs first,
suspects probed apart with a short timeout) and to keep within each
BMC's request budget; the API shows it (``GET /v1/podium/bmcs`` and the
node's ``bmc_health`` field) by asking each conductor over RPC.

Records are per conductor: a conductor knows the BMCs of the nodes the
hash ring gives it. Power sync drops the records of endpoints no node of
this conductor uses any more, so their number stays bounded by the
fleet this conductor serves.
"""

import collections
import contextlib
import datetime
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from podium.common import exceptions
from podium.conf import CONF


def _percentile(values: list[float], fraction: float) -> float:
    """The nearest-rank percentile of sorted ``values`` (not empty)."""
    rank = max(1, round(fraction * len(values) + 0.5 - 1e-9))
    return values[min(rank, len(values)) - 1]


class Record:
    """What a conductor knows of one BMC endpoint."""

    def __init__(self, endpoint: str, driver: str, window: int) -> None:
        self.endpoint = endpoint
        self.driver = driver
        self.latencies: collections.deque[float] = collections.deque(
            maxlen=window)
        #: Latencies of the requests the BMC answered: how long it
        #: takes when it works (timeouts would only measure Podium).
        self.answered: collections.deque[float] = collections.deque(
            maxlen=window)
        self.requests = 0
        self.failures = 0
        self.consecutive_failures = 0
        self.consecutive_timeouts = 0
        self.last_good: datetime.datetime | None = None
        self.last_failure: datetime.datetime | None = None
        #: Monotonic time of the last probe, to rotate among suspects.
        self.last_probe = 0.0
        self.in_flight = 0
        #: The driver's count of its open sessions at an endpoint.
        self.sessions: Callable[[str], int | None] | None = None

    def answered_percentile(self, fraction: float) -> float | None:
        """Latency percentile of the answered requests in the window;
        None before any answer."""
        if not self.answered:
            return None
        return _percentile(sorted(self.answered), fraction)

    def as_dict(self, open_sessions: int | None = None) -> dict[str, Any]:
        """The record as the API shows it (no node, no credential)."""
        ordered = sorted(self.latencies)

        def pct(fraction: float) -> float | None:
            return (round(_percentile(ordered, fraction), 4)
                    if ordered else None)

        return {
            'endpoint': self.endpoint,
            'driver': self.driver,
            'suspect': is_suspect(self),
            'latency_p50': pct(0.5),
            'latency_p95': pct(0.95),
            'latency_p99': pct(0.99),
            'window': len(ordered),
            'requests': self.requests,
            'failures': self.failures,
            'consecutive_failures': self.consecutive_failures,
            'consecutive_timeouts': self.consecutive_timeouts,
            'last_good_read': _iso(self.last_good),
            'last_failure': _iso(self.last_failure),
            'requests_in_flight': self.in_flight,
            'open_sessions': open_sessions,
        }


def _iso(when: datetime.datetime | None) -> str | None:
    return when.isoformat() if when is not None else None


def is_suspect(record: Record | None) -> bool:
    """Whether a BMC failed its last ``[conductor] bmc_suspect_failures``
    requests in a row (a hung or broken BMC until it answers again).

    A BMC that never answered this conductor and only timed out needs
    one failure more: a conductor logging in to thousands of BMCs at
    start-up keeps its own CPU busy past some logins' deadlines (at
    10,000 Redfish nodes on two cores, 3 to 10 % of healthy BMCs), and a
    suspect is only probed a few a cycle, so those nodes would stay
    unsynced for many cycles. Their second read comes in the next cycle,
    after the healthy nodes', when the storm is over; a BMC that is
    really hung costs that cycle one more timeout.
    """
    if record is None:
        return False
    needed = CONF.conductor.bmc_suspect_failures
    if record.last_good is None and \
            record.consecutive_timeouts == record.consecutive_failures:
        needed += 1
    return record.consecutive_failures >= needed


class BudgetExhausted(exceptions.BMCTimeout):
    """Every request slot of a BMC stayed taken until the deadline."""


class Registry:
    """The health records of one conductor; thread-safe."""

    def __init__(self, clock: Callable[[], datetime.datetime] | None = None
                 ) -> None:
        self._records: dict[str, Record] = {}
        self._lock = threading.Condition()
        self._clock = clock or (
            lambda: datetime.datetime.now(datetime.UTC))

    def get(self, endpoint: str | None) -> Record | None:
        if endpoint is None:
            return None
        with self._lock:
            return self._records.get(endpoint)

    def _record(self, endpoint: str, driver: str) -> Record:
        record = self._records.get(endpoint)
        if record is None:
            record = self._records[endpoint] = Record(
                endpoint, driver, CONF.conductor.bmc_health_window)
        return record

    def observe(self, endpoint: str | None, driver: str, seconds: float,
                ok: bool, timed_out: bool = False,
                sessions: Callable[[str], int | None] | None = None
                ) -> None:
        """Record one request to ``endpoint`` that took ``seconds``;
        ``sessions`` counts the driver's open sessions there."""
        if endpoint is None:
            return
        now = self._clock()
        with self._lock:
            record = self._record(endpoint, driver)
            record.sessions = sessions
            record.latencies.append(seconds)
            record.requests += 1
            if ok:
                record.answered.append(seconds)
                record.consecutive_failures = 0
                record.consecutive_timeouts = 0
                record.last_good = now
            else:
                record.failures += 1
                record.consecutive_failures += 1
                record.consecutive_timeouts = (
                    record.consecutive_timeouts + 1 if timed_out else 0)
                record.last_failure = now

    def suspect(self, endpoint: str | None) -> bool:
        with self._lock:
            return is_suspect(self._records.get(endpoint or ''))

    def suspect_count(self) -> int:
        """How many BMCs are suspect now."""
        with self._lock:
            return sum(1 for record in self._records.values()
                       if is_suspect(record))

    def mark_probed(self, endpoint: str) -> None:
        with self._lock:
            record = self._records.get(endpoint)
            if record is not None:
                record.last_probe = time.monotonic()

    def last_probe(self, endpoint: str) -> float:
        with self._lock:
            record = self._records.get(endpoint)
            return record.last_probe if record is not None else 0.0

    def probe_timeout(self, endpoint: str | None) -> float:
        """A suspect's read timeout: ``[conductor] bmc_probe_timeout``,
        or twice the 95th percentile of the BMC's answers when it is
        slower than that (a slow BMC that answers is not starved by a
        short probe), never beyond ``power_state_read_timeout``."""
        opts = CONF.conductor
        with self._lock:
            record = self._records.get(endpoint or '')
            p95 = (record.answered_percentile(0.95)
                   if record is not None else None)
        timeout = max(opts.bmc_probe_timeout, 2 * (p95 or 0.0))
        return min(timeout, opts.power_state_read_timeout)

    @contextlib.contextmanager
    def budget(self, endpoint: str | None, driver: str,
               timeout: float) -> Iterator[None]:
        """Hold one of ``endpoint``'s request slots for the block.

        ``[conductor] bmc_max_concurrent_requests`` slots per BMC, one
        for a suspect BMC, so Podium never piles requests onto a BMC
        that is struggling.

        :raises BudgetExhausted: no slot freed up within ``timeout``.
        """
        if endpoint is None:
            yield
            return
        deadline = time.monotonic() + timeout
        with self._lock:
            record = self._record(endpoint, driver)
            while record.in_flight >= self._limit(record):
                left = deadline - time.monotonic()
                if left <= 0:
                    raise BudgetExhausted(
                        timeout=f'{timeout:g}',
                        reason=f'{record.in_flight} request(s) to the BMC '
                               f'were already in flight ([conductor] '
                               f'bmc_max_concurrent_requests)')
                self._lock.wait(left)
            record.in_flight += 1
        try:
            yield
        finally:
            with self._lock:
                record.in_flight -= 1
                self._lock.notify_all()

    def try_take(self, endpoint: str, driver: str) -> bool:
        """Take one of ``endpoint``'s request slots (see :meth:`budget`)
        if one is free, without waiting (the non-blocking reads)."""
        with self._lock:
            record = self._record(endpoint, driver)
            if record.in_flight >= self._limit(record):
                return False
            record.in_flight += 1
            return True

    def give(self, endpoint: str) -> None:
        """Give back a slot :meth:`try_take` took."""
        with self._lock:
            record = self._records.get(endpoint)
            if record is not None and record.in_flight > 0:
                record.in_flight -= 1
            self._lock.notify_all()

    @staticmethod
    def _limit(record: Record) -> int:
        if is_suspect(record):
            return 1
        return int(CONF.conductor.bmc_max_concurrent_requests)

    def forget(self, keep: Iterable[str]) -> None:
        """Drop the records of endpoints not in ``keep`` and idle."""
        kept = set(keep)
        with self._lock:
            for endpoint in [e for e, r in self._records.items()
                             if e not in kept and not r.in_flight]:
                del self._records[endpoint]

    def snapshot(self, endpoints: Iterable[str] | None = None,
                 sessions: bool = False) -> list[dict[str, Any]]:
        """The records (of ``endpoints`` only, when given) as dicts,
        worst first: suspects, then by 95th percentile latency; with
        ``sessions``, the drivers count their open sessions."""
        with self._lock:
            if endpoints is None:
                records = list(self._records.values())
            else:
                records = [self._records[e] for e in set(endpoints)
                           if e in self._records]
            shown = [record.as_dict() for record in records]
        if sessions:
            counters = {record.endpoint: record.sessions
                        for record in records}
            for entry in shown:
                counter = counters[entry['endpoint']]
                if counter is not None:
                    entry['open_sessions'] = counter(entry['endpoint'])
        shown.sort(key=lambda e: (not e['suspect'],
                                  -(e['latency_p95'] or 0.0),
                                  e['endpoint']))
        return shown
