"""One power-sync cycle: what its reads found, compared and written.

:class:`~podium.conductor.power_sync.PowerSync` plans a cycle's reads and
runs them; a :class:`Cycle` takes their outcomes, one at a time in the
cycle's thread: it compares each answer with the database, counts
failures (maintenance after ``power_state_sync_max_retries``, the BMC
recovery ladder when enabled), pushes recorded states back with
``force_power_state_during_sync``, and writes the changed nodes and
their history in batches (the :mod:`~podium.conductor.power_sync`
module doc has the whole cycle).
"""

from __future__ import annotations

import dataclasses
import time
from typing import TYPE_CHECKING, Any

from oslo_log import log

from podium.common import context as podium_context
from podium.common import exceptions, masking, metrics, states
from podium.conductor import (
    bmc_health,
    bmc_recovery,
    drift,
    sync_plan,
    task_manager,
)
from podium.conf import CONF
from podium.db import api as db_api
from podium.drivers import base

if TYPE_CHECKING:
    from podium.conductor.power_sync import PowerSync

LOG = log.getLogger(__name__)

#: ``event_type`` of the node history entries power sync writes.
EVENT_TYPE = 'power sync'

#: Pending changes written at once, at most.
FLUSH_BATCH = 500

#: Seconds a change may wait for its batch to fill.
FLUSH_INTERVAL = 1.0

#: How ``last_error`` starts when power sync failed to read a node; a
#: later good read clears such an error, whoever wrote it (this
#: conductor before a restart, or the conductor that owned the node).
READ_FAILURE_PREFIX = bmc_recovery.FAILURE_PREFIX

#: How ``last_error`` starts when pushing the recorded state back to the
#: hardware failed; cleared once the hardware is in the recorded state.
PUSH_FAILURE_PREFIX = 'Failed to push the power state back to '

_STABLE_STATES = (states.POWER_ON, states.POWER_OFF)

#: What fails in a failed read, as the log and history name it.
_READ = 'power state read'


@dataclasses.dataclass
class CycleStats:
    """What one cycle did, for its log line and for tests."""

    nodes: int = 0
    changed: int = 0
    failed: int = 0
    forced: int = 0
    push_failed: int = 0
    written: int = 0
    probed: int = 0
    #: Probes the suspect BMC answered.
    probes_answered: int = 0
    deferred: int = 0
    drift_put_back: int = 0


def _operation(unit: sync_plan.Unit) -> str:
    return 'get_power_state' if len(unit.rows) == 1 else 'get_power_states'


def _masked(error: BaseException, row: Any = None) -> str:
    """The text of ``error`` with every secret masked, ``row``'s
    credentials included when a BMC library quoted them."""
    return masking.mask_error(error, masking.secret_values(
        getattr(row, 'driver_info', None) or {}))


class Cycle:
    """The state of one sync cycle; its callbacks run in the cycle's
    thread, one at a time, except :meth:`read` and :meth:`push_back`."""

    def __init__(self, sync: PowerSync,
                 context: podium_context.RequestContext,
                 siblings: dict[str, list[Any]] | None = None,
                 observed: dict[int, dict[str, Any]] | None = None
                 ) -> None:
        self.sync = sync
        self.context = context
        #: What reads saw of the settings of nodes with intended ones,
        #: by node id; each dict is filled by one read, on a worker,
        #: and read here after that read ended.
        self.observed = observed or {}
        #: Nodes whose drift is to be put back after the writes.
        self.to_enforce: list[int] = []
        #: Nodes sharing the outcome of their BMC's probe.
        self.siblings = siblings or {}
        self.stats = CycleStats()
        self.force = CONF.conductor.force_power_state_during_sync
        self.max_retries = CONF.conductor.power_state_sync_max_retries
        self.timeout = CONF.conductor.power_state_read_timeout
        # A push-back is a power action: it gets an action's budget.
        self.push_timeout = CONF.conductor.action_timeout
        self.to_force: list[tuple[Any, str]] = []
        #: Nodes handed to the BMC recovery ladder this cycle.
        self.to_recover: list[Any] = []
        self._unanswered: list[sync_plan.Unit] = []
        self._changes: list[tuple[int, dict[str, Any], dict[str, Any]]] = []
        self._history: list[tuple[int, str, str, str]] = []
        # History entries whose node changes are written (or that have
        # none); only their own write is still to do.
        self._ready: list[tuple[int, str, str, str]] = []
        self._oldest: float | None = None

    # On workers ----------------------------------------------------------

    def read(self, unit: sync_plan.Unit) -> dict[int, str | Exception]:
        """Read a unit within its BMC's request budget, recording the
        request in the BMC's health record."""
        started = time.monotonic()
        with self.sync.health.budget(unit.endpoint, unit.rows[0].driver,
                                     unit.timeout):
            timeout = sync_plan.remaining(unit.timeout,
                                          time.monotonic() - started)
            began = time.monotonic()
            try:
                result = self._call(unit, timeout)
            except Exception as exc:
                self.observe(unit, None, exc, time.monotonic() - began)
                raise
        self.observe(unit, result, None, time.monotonic() - began)
        return result

    def observe(self, unit: sync_plan.Unit,
                result: dict[int, str | Exception] | None,
                error: BaseException | None, seconds: float) -> None:
        """Record one read that took ``seconds`` in the metrics and the
        BMC's health record (any thread)."""
        driver = unit.rows[0].driver
        health = self.sync.health
        if error is not None:
            metrics.observe_bmc_request(driver, _operation(unit),
                                        seconds, failed=True)
            health.observe(unit.endpoint, driver, seconds, ok=False,
                           timed_out=isinstance(
                               error, exceptions.BMCTimeout),
                           sessions=unit.power.open_sessions)
            return
        assert result is not None
        errors = [value for value in result.values()
                  if isinstance(value, Exception)]
        metrics.observe_bmc_request(driver, _operation(unit), seconds,
                                    failed=bool(errors))
        # A batch is one request: the BMC answered unless all failed.
        answered = len(errors) < len(result) or not result
        health.observe(unit.endpoint, driver, seconds, ok=answered,
                       timed_out=not answered and all(
                           isinstance(e, exceptions.BMCTimeout)
                           for e in errors),
                       sessions=unit.power.open_sessions)

    def _call(self, unit: sync_plan.Unit,
              timeout: float) -> dict[int, str | Exception]:
        observed = self.observed
        if len(unit.rows) == 1:
            row = unit.rows[0]
            return {row.id: unit.power.get_power_state(
                sync_plan.ReadTask(row, timeout,
                                   observed=observed.get(row.id)))}
        return unit.power.get_power_states(
            sync_plan.read_tasks(unit.rows, timeout, observed))

    def push_back(self, item: tuple[Any, str]) -> str | None:
        """Drive a node back to its recorded state; the state pushed, or
        None when the node changed meanwhile."""
        row, _actual = item
        with task_manager.acquire(self.context, row.id,
                                  purpose='power state sync',
                                  timeout=self.push_timeout,
                                  host=self.sync.host) as task:
            recorded = task.node.power_state
            if (recorded != row.power_state or recorded not in _STABLE_STATES
                    or task.node.target_power_state or task.node.maintenance):
                return None
            timer = metrics.Timer()
            try:
                with timer:
                    task.driver.power.set_power_state(task, recorded)
            except Exception:
                metrics.observe_bmc_request(row.driver, 'set_power_state',
                                            timer.seconds, failed=True)
                raise
            metrics.observe_bmc_request(row.driver, 'set_power_state',
                                        timer.seconds, failed=False)
            return recorded

    # In the cycle's thread -----------------------------------------------

    def take_unanswered(self) -> list[sync_plan.Unit]:
        """Single-node units for the nodes batch reads left out so far."""
        units, self._unanswered = self._unanswered, []
        return units

    def on_async_read(self, unit: sync_plan.Unit,
                      result: dict[int, str | Exception] | None,
                      error: BaseException | None, seconds: float) -> None:
        """A non-blocking read ended (:mod:`.async_reads`): recorded as
        a threaded read is, unless it never reached its BMC (no free
        request slot), then reported the same way."""
        if not isinstance(error, bmc_health.BudgetExhausted):
            self.observe(unit, result, error, seconds)
        self.on_read(unit, result, error)

    def on_read(self, unit: sync_plan.Unit,
                result: dict[int, str | Exception] | None,
                error: BaseException | None) -> None:
        rows = unit.rows
        if unit.probe and unit.endpoint is not None:
            self._probed(unit, rows[0],
                         error if error is not None else
                         (result or {}).get(rows[0].id))
        for row in rows:
            outcome: Any = error
            if error is None:
                assert result is not None
                if row.id not in result and len(rows) > 1:
                    self._unanswered.append(sync_plan.Unit(
                        unit.power, [row], unit.endpoint, unit.timeout))
                    continue
                outcome = result.get(row.id, exceptions.DriverError(
                    reason='the driver returned no power state'))
            if isinstance(outcome, BaseException):
                self._failed(row, outcome)
            elif outcome not in _STABLE_STATES:
                self._failed(row, exceptions.DriverError(
                    reason=f'the BMC reported power state {outcome!r}'))
            else:
                self._answered(row, outcome)

    def _probed(self, unit: sync_plan.Unit, row: Any,
                outcome: Any) -> None:
        """A suspect BMC's probe ended: the other nodes behind it share a
        failure; after an answer they are read from the next cycle on."""
        assert unit.endpoint is not None
        siblings = self.siblings.get(unit.endpoint, [])
        if isinstance(outcome, BaseException):
            for sibling in siblings:
                self._failed(sibling, exceptions.DriverError(
                    reason=f'the BMC of node {base.node_label(row)}, '
                           f'which serves this node too, failed its '
                           f'probe: {_masked(outcome, row)}'))
            return
        self.stats.probes_answered += 1
        if siblings:
            LOG.info('BMC %s answers again; its %d other node(s) are read '
                     'from the next cycle on', unit.endpoint, len(siblings))

    def on_pushed(self, item: tuple[Any, str], pushed: str | None,
                  error: BaseException | None) -> None:
        row, actual = item
        label = base.node_label(row)
        if isinstance(error, exceptions.NodeLocked | exceptions.NodeNotFound):
            LOG.debug('Node %s: not pushed back to %s: %s', label,
                      row.power_state, error)
        elif error is not None:
            self._push_failed(row, actual, error)
        elif pushed is not None:
            self.stats.forced += 1
            self.sync.reset_failures(row.id)
            LOG.warning('Node %s: power state changed out-of-band to %s; '
                        'pushed back to %s', label, actual, pushed)
            expected: dict[str, Any] = {}
            values: dict[str, Any] = {}
            if row.last_error and row.last_error.startswith(
                    PUSH_FAILURE_PREFIX):
                expected['last_error'] = row.last_error
                values['last_error'] = None
            self._queue(row, expected, values, [(
                f'Power state changed out-of-band to {actual}; pushed '
                f'back to {pushed}.', states.WARNING)])

    def _answered(self, row: Any, power_state: str) -> None:
        metrics.SYNC_NODES.labels('read').inc()
        recovering = row.maintenance and row.fault == states.POWER_FAILURE
        push = (power_state != row.power_state and self.force
                and row.power_state in _STABLE_STATES and not recovering)
        had_failures = self.sync.failure_count(row.id) > 0
        if not push:
            # A node to push back counts its failed push-backs on until
            # one succeeds, as Ironic does.
            self.sync.reset_failures(row.id)
        label = base.node_label(row)
        expected: dict[str, Any] = {}
        values: dict[str, Any] = {}
        history: list[tuple[str, str]] = []
        if recovering:
            expected.update(maintenance=True, fault=states.POWER_FAILURE)
            values.update(maintenance=False, maintenance_reason=None,
                          fault=None)
            LOG.info('Node %s: BMC answers again; fault "%s" cleared and '
                     'maintenance ended', label, states.POWER_FAILURE)
            history.append((f'BMC answers again (power state '
                            f'{power_state}); fault "{states.POWER_FAILURE}" '
                            f'cleared.', states.INFO))
        if row.last_error and (
                row.last_error.startswith(READ_FAILURE_PREFIX) or (
                    not push and (recovering or had_failures or
                                  row.last_error.startswith(
                                      PUSH_FAILURE_PREFIX)))):
            expected['last_error'] = row.last_error
            values['last_error'] = None
        if power_state != row.power_state:
            if push:
                self.to_force.append((row, power_state))
            else:
                self.stats.changed += 1
                metrics.SYNC_NODES.labels('changed').inc()
                expected['power_state'] = row.power_state
                values['power_state'] = power_state
                if row.power_state is not None:
                    LOG.warning('Node %s: power state changed out-of-band '
                                'from %s to %s', label, row.power_state,
                                power_state)
                    history.append((
                        f'Power state changed out-of-band from '
                        f'{row.power_state} to {power_state}.',
                        states.WARNING))
        self._queue(row, expected, values, history)
        observed = self.observed.get(row.id)
        if observed:
            self._compare_settings(row, observed)

    def _compare_settings(self, row: Any, observed: dict[str, Any]) -> None:
        """Record the drift of a node whose read saw intended settings."""
        record = drift.compare(row, observed)
        self._queue(row, {}, record.values, record.events,
                    event_type=drift.EVENT_TYPE)
        if record.enforce:
            self.to_enforce.append(row.id)

    def _failed(self, row: Any, error: BaseException) -> None:
        """A read failed: count it, and record it in ``last_error``."""
        self.stats.failed += 1
        metrics.SYNC_NODES.labels(
            'timed_out' if isinstance(error, exceptions.BMCTimeout)
            else 'failed').inc()
        self._count_failure(row, READ_FAILURE_PREFIX + _masked(error, row),
                            _READ, [])

    def _push_failed(self, row: Any, actual: str,
                     error: BaseException) -> None:
        """A push-back failed: a failed power action, not a failed read."""
        self.stats.push_failed += 1
        metrics.SYNC_NODES.labels('push_failed').inc()
        message = (f'{PUSH_FAILURE_PREFIX}{row.power_state} (the BMC '
                   f'reported {actual}): {_masked(error, row)}')
        history = ([] if row.last_error == message else
                   [(message, states.ERROR_SEVERITY)])
        self._count_failure(row, message, 'power state push-back', history)

    def _count_failure(self, row: Any, message: str, what: str,
                       history: list[tuple[str, str]]) -> None:
        """One more failure of ``row`` (``what`` failed with
        ``message``): maintenance after ``power_state_sync_max_retries``
        in a row."""
        count = self.sync.count_failure(row.id)
        label = base.node_label(row)
        expected: dict[str, Any] = {}
        values: dict[str, Any] = {}
        LOG.warning('Node %s: %s failed (%d consecutive, maintenance '
                    'after %d): %s', label, what, count, self.max_retries,
                    message)
        if (count >= self.max_retries and not row.maintenance
                and what == _READ and bmc_recovery.enabled()):
            # The ladder decides on maintenance (bmc_recovery module).
            self.to_recover.append(row)
        elif count >= self.max_retries and not row.maintenance:
            expected['maintenance'] = False
            values.update(maintenance=True, fault=states.POWER_FAILURE,
                          maintenance_reason=message)
            LOG.error('Node %s: %d consecutive %s failures; entering '
                      'maintenance with fault "%s"', label, count, what,
                      states.POWER_FAILURE)
            history.append((f'{count} consecutive {what} failures; '
                            f'maintenance with fault '
                            f'"{states.POWER_FAILURE}": {message}',
                            states.ERROR_SEVERITY))
        if row.last_error != message:
            expected['last_error'] = row.last_error
            values['last_error'] = message
        self._queue(row, expected, values, history)

    def _queue(self, row: Any, expected: dict[str, Any],
               values: dict[str, Any],
               history: list[tuple[str, str]],
               event_type: str = EVENT_TYPE) -> None:
        if not values and not history:
            return
        if values:
            expected['reservation'] = None
            self._changes.append((row.id, expected, values))
        self._history.extend((row.id, event, event_type, severity)
                             for event, severity in history)
        if self._oldest is None:
            self._oldest = time.monotonic()
        if len(self._changes) >= FLUSH_BATCH:
            self._try_flush()

    def flush_if_due(self) -> None:
        """Flush when the oldest pending change has waited long enough;
        a database error leaves the changes pending for the next try."""
        if (self._oldest is not None
                and time.monotonic() - self._oldest >= FLUSH_INTERVAL):
            self._try_flush()

    def _try_flush(self) -> None:
        """Flush in the middle of a cycle: a database error is logged and
        the changes stay pending (the next flush, at the latest the one
        ending the cycle, writes them), so reads in flight go on."""
        try:
            self.flush()
        except Exception as exc:
            LOG.warning('Power sync: writing %d change(s) failed, kept for '
                        'the next try: %s', len(self._changes) +
                        len(self._ready), _masked(exc))

    def flush(self) -> None:
        """Write the pending changes, then history only for those written.

        :raises: the database's error; what was not written then stays
            pending, and is retried by the next flush.
        """
        changes, history = self._changes, self._history
        self._changes, self._history = [], []
        if changes:
            try:
                written = db_api.update_nodes_if(changes)
            except Exception:
                self._changes, self._history = changes, history
                self._oldest = time.monotonic()
                raise
            self.stats.written += len(written)
            changed_ids = {node_id for node_id, _, _ in changes}
            history = [entry for entry in history
                       if entry[0] in written or entry[0] not in changed_ids]
        # Decided: written whatever the nodes' next changes are.
        ready, self._ready = self._ready + history, []
        if ready:
            try:
                db_api.add_node_history_bulk(ready,
                                             conductor=self.sync.host)
            except Exception:
                self._ready = ready
                self._oldest = time.monotonic()
                raise
        self._oldest = None
