"""The bulk runner: one action on many nodes, concurrently, bounded.

Each node's action is a step generator (:mod:`podium.cli.steps`). The
runner keeps at most ``concurrency`` steps in flight on a thread pool of
that size; a generator that yields a delay (back-off, poll interval)
goes into a timer heap and holds no thread while it waits. So a hung
BMC costs one slot only while a request to the API is actually open,
and ``--wait`` on a thousand nodes does not need a thousand threads.

Every target ends as one :class:`Result`; nothing a single node does
(an unknown name, an API error, even a bug in an action) stops the
others.
"""

import concurrent.futures
import dataclasses
import heapq
import time
from collections.abc import Callable, Sequence
from typing import Any

from podium.cli.errors import CliError
from podium.cli.output import Column, columns
from podium.cli.progress import Reporter
from podium.cli.steps import Steps
from podium.cli.targets import Target

DEFAULT_CONCURRENCY = 32

SUCCESSFUL = 'SUCCESSFUL'
FAILED = 'FAILED'

SUMMARY_COLUMNS = columns(('Host', 'host'), ('Action', 'action'),
                          ('Result', 'result'), ('Reason', 'reason'),
                          ('Duration', 'duration'))


@dataclasses.dataclass
class Outcome:
    """What an action returns: success, a reason, optional extra data.

    ``data`` holds extra summary columns (``power_state`` for a status
    query, the node itself for ``show``).
    """

    ok: bool
    reason: str = ''
    data: dict[str, Any] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass(frozen=True)
class Result:
    """One row of the summary."""

    host: str
    action: str
    ok: bool
    reason: str
    duration: float
    data: dict[str, Any]

    def row(self) -> dict[str, Any]:
        """The summary row, action data first so fixed columns win."""
        return {**self.data, 'host': self.host, 'action': self.action,
                'result': SUCCESSFUL if self.ok else FAILED,
                'reason': self.reason, 'duration': f'{self.duration:.1f}s'}


#: An action: given the node identifier and a way to report progress
#: notes, the steps that perform it.
Action = Callable[[str, Callable[[str], None]], Steps[Outcome]]


class _Job:
    """One target's generator and timing; ``step`` never raises."""

    def __init__(self, target: Target, action: Action,
                 reporter: Reporter) -> None:
        self.target = target
        self.started: float | None = None
        self._action = action
        self._reporter = reporter
        self._steps: Steps[Outcome] | None = None

    def note(self, message: str) -> None:
        self._reporter.note(self.target.label, message)

    def elapsed(self) -> float:
        return 0.0 if self.started is None else \
            time.monotonic() - self.started

    def step(self) -> tuple[float | None, Outcome | None]:
        """Advance once: ``(delay, None)`` to wait, ``(None, outcome)``."""
        if self.started is None:
            self.started = time.monotonic()
        try:
            if self._steps is None:
                assert self.target.ident is not None
                self._steps = self._action(self.target.ident, self.note)
                return next(self._steps), None
            return self._steps.send(None), None
        except StopIteration as stop:
            return None, stop.value
        except CliError as exc:
            return None, Outcome(False, str(exc))
        except Exception as exc:
            # One node's surprise must not cost the others their results.
            return None, Outcome(False, f'unexpected error: {exc!r}')


class BulkRunner:
    """Runs one action over many targets; see the module docstring."""

    def __init__(self, action_name: str, action: Action,
                 reporter: Reporter,
                 concurrency: int = DEFAULT_CONCURRENCY) -> None:
        if concurrency < 1:
            raise CliError('--concurrency must be at least 1')
        self.action_name = action_name
        self._action = action
        self._reporter = reporter
        self._concurrency = concurrency
        self._results: dict[int, Result] = {}

    def run(self, targets: Sequence[Target]) -> list[Result]:
        """Run the action on every target; results in target order."""
        self._results = {}
        self._reporter.start(len(targets))
        timers: list[tuple[float, int, _Job]] = []
        for index, target in enumerate(targets):
            job = _Job(target, self._action, self._reporter)
            if target.ident is None:
                self._finish(index, job, Outcome(False, target.error or ''))
            else:
                timers.append((0.0, index, job))
        heapq.heapify(timers)
        pool = concurrent.futures.ThreadPoolExecutor(
            max_workers=max(1, min(self._concurrency, len(timers))),
            thread_name_prefix='podium-bulk')
        in_flight: dict[concurrent.futures.Future[Any],
                        tuple[int, _Job]] = {}
        try:
            self._loop(pool, timers, in_flight)
        except KeyboardInterrupt:
            pool.shutdown(wait=False, cancel_futures=True)
            for index, job in list(in_flight.values()) + [
                    (i, j) for _, i, j in timers]:
                self._finish(index, job, Outcome(False, 'interrupted'))
        else:
            pool.shutdown()
        finally:
            self._reporter.close()
        return [self._results[i] for i in sorted(self._results)]

    def _loop(self, pool: concurrent.futures.Executor,
              timers: list[tuple[float, int, _Job]],
              in_flight: dict[concurrent.futures.Future[Any],
                              tuple[int, _Job]]) -> None:
        while timers or in_flight:
            now = time.monotonic()
            while (timers and timers[0][0] <= now
                   and len(in_flight) < self._concurrency):
                _, index, job = heapq.heappop(timers)
                in_flight[pool.submit(job.step)] = (index, job)
            timeout = None
            if timers and len(in_flight) < self._concurrency:
                timeout = max(0.0, timers[0][0] - now)
            if not in_flight:
                time.sleep(timeout or 0.0)
                continue
            done, _ = concurrent.futures.wait(
                in_flight, timeout=timeout,
                return_when=concurrent.futures.FIRST_COMPLETED)
            for future in done:
                index, job = in_flight.pop(future)
                delay, outcome = future.result()
                if outcome is None:
                    heapq.heappush(timers, (time.monotonic() + (delay or 0),
                                            index, job))
                else:
                    self._finish(index, job, outcome)

    def _finish(self, index: int, job: _Job, outcome: Outcome) -> None:
        duration = job.elapsed()
        self._results[index] = Result(job.target.label, self.action_name,
                                      outcome.ok, outcome.reason, duration,
                                      outcome.data)
        self._reporter.finished(job.target.label, outcome.ok,
                                outcome.reason, duration)


def summary_columns(extra: Sequence[Column] = ()) -> tuple[Column, ...]:
    """The summary columns with an action's own columns before Result."""
    return SUMMARY_COLUMNS[:2] + tuple(extra) + SUMMARY_COLUMNS[2:]


def any_failed(results: Sequence[Result]) -> bool:
    return any(not r.ok for r in results)
