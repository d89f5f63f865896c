"""Back-off of a failing periodic task, and how its failures are logged.

A periodic task that fails every run, typically because the database or
a service it needs is unreachable, must neither flood the log (a
traceback every second per task) nor hammer what is down. A
:class:`Backoff` follows one task's consecutive failures:

* after the n-th failure in a row the task's next run waits
  ``spacing * 2**n`` seconds, at most ``[conductor]
  periodic_backoff_max`` (never less than the spacing); a task declared
  without back-off (the heartbeat, whose silence would make the
  conductor look dead) keeps its spacing;
* the first failure is logged as an error, with a traceback unless the
  error is a lost database connection (its one-line reason says it all);
  later failures of the streak are logged only at the 2nd, 4th, 8th, ...
  one, as one warning line with the count and the next delay;
* the first success after a streak logs that the task works again and
  ends the back-off.
"""

import time
from collections.abc import Callable

from oslo_log import log

from podium.conf import CONF
from podium.db import engine as db_engine

LOG = log.getLogger(__name__)


class Backoff:
    """The failure streak of one periodic task.

    :param name: the task's name, for the log.
    :param spacing: seconds between two runs when all is well.
    :param enabled: False keeps the spacing while failing (only the log
        is thinned out).
    :param clock: monotonic seconds (tests pass their own).
    """

    def __init__(self, name: str, spacing: float, enabled: bool = True,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.name = name
        self.spacing = spacing
        self.enabled = enabled
        self._clock = clock
        self.failures = 0
        self._since = 0.0
        self._next_attempt = 0.0

    def ready(self) -> bool:
        """Whether the task may run now (False while it backs off)."""
        return self._clock() >= self._next_attempt

    def delay(self) -> float:
        """Seconds from the last failure to the next attempt."""
        if not self.enabled or not self.failures:
            return self.spacing
        ceiling = max(self.spacing, float(CONF.conductor.periodic_backoff_max))
        return min(ceiling, self.spacing * 2 ** min(self.failures, 32))

    def failed(self, error: BaseException) -> None:
        """Count a failed run, schedule the next attempt and log it if
        it is a first or a power-of-two failure."""
        now = self._clock()
        if not self.failures:
            self._since = now
        self.failures += 1
        delay = self.delay()
        # The periodic worker still calls every ``spacing`` seconds;
        # the calls before this point are skipped.
        self._next_attempt = now + delay
        if self.failures == 1:
            outage = db_engine.is_outage(error)
            LOG.error('Periodic task %s failed%s: %s; next try in %gs',
                      self.name,
                      ' (database unreachable)' if outage else '',
                      db_engine.error_reason(error), delay,
                      exc_info=None if outage else
                      (type(error), error, error.__traceback__))
        elif self.failures & (self.failures - 1) == 0:
            LOG.warning('Periodic task %s still failing: %d failures in a '
                        'row over %.0fs; next try in %gs: %s', self.name,
                        self.failures, now - self._since, delay,
                        db_engine.error_reason(error))

    def succeeded(self) -> None:
        """End a failure streak, saying so in the log."""
        if self.failures:
            LOG.info('Periodic task %s works again after %d failure(s) '
                     'over %.0fs', self.name, self.failures,
                     self._clock() - self._since)
        self.failures = 0
        self._next_attempt = 0.0
