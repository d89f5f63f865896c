"""The BMC recovery ladder (opt-in, ``[conductor] bmc_recovery``).

Without it, ``power_state_sync_max_retries`` failed power-state reads in
a row put a node in maintenance with fault ``power failure`` (power
sync's ``_count_failure``). With it, power sync first hands the node to
this ladder, which climbs, one step after the other, each written to
the node's history (event type ``bmc recovery``):

1. drop the session or connection to the BMC cached in this process and
   read again over a fresh one;
2. reset the BMC (the management interface's ``reset_bmc``: Redfish
   ``Manager.Reset``, IPMI ``mc reset cold``), under the node's
   exclusive lock and only when no action is in flight on it, and at
   most once every ``bmc_reset_interval`` seconds per conductor group,
   whichever of the group's conductors resets (the group's last reset
   is a row of the database, taken atomically: ``db.bmc_resets``);
3. wait up to ``bmc_recovery_wait`` seconds for the BMC to answer;
4. only then maintenance with fault ``power failure``, as without the
   ladder.

A step that gets an answer ends the ladder: the node's failures are
forgotten and the next sync records its state. A node with an action in
flight is left alone (nothing reset, no maintenance); the ladder starts
again after its next failed reads. A reset the rate limit refuses, or
that fails, goes straight to step 4. The ladder runs on a worker of the
pool (at most ``bmc_recovery_workers`` at once), not in the sync cycle,
and every step is bounded, so it never delays the cycle; power sync
skips the node while its ladder runs.
"""

import threading
import time
from typing import Any

from oslo_log import log

from podium.common import context as podium_context
from podium.common import exceptions, masking, states
from podium.conductor import pool as pool_mod
from podium.conductor import sync_plan, task_manager
from podium.conf import CONF
from podium.db import api as db_api
from podium.db import bmc_resets as db_bmc_resets
from podium.drivers import base, driver_factory

LOG = log.getLogger(__name__)

#: ``event_type`` of the node history entries the ladder writes.
EVENT_TYPE = 'bmc recovery'

#: Seconds between two reads while waiting for a reset BMC.
POLL_INTERVAL = 2.0

#: How ``last_error`` starts when the ladder ends in maintenance; power
#: sync clears it at the first good read, as its own read failures.
FAILURE_PREFIX = 'Failed to read the power state: '


def enabled() -> bool:
    return bool(CONF.conductor.bmc_recovery)


class Ladder:
    """The recovery ladders of one conductor's nodes."""

    def __init__(self, host: str, pool: pool_mod.WorkerPool) -> None:
        self.host = host
        self.pool = pool
        self._lock = threading.Lock()
        self._running: set[int] = set()

    def running(self, node_id: int) -> bool:
        with self._lock:
            return node_id in self._running

    def start(self, context: podium_context.RequestContext, row: Any,
              on_recovered: Any) -> bool:
        """Start ``row``'s ladder on a free worker; False when it runs
        already, ``bmc_recovery_workers`` ladders run, or no worker is
        free (power sync tries again after the next failed read).
        ``on_recovered(node_id)`` is called when the BMC answers."""
        with self._lock:
            if (row.id in self._running or len(self._running)
                    >= CONF.conductor.bmc_recovery_workers):
                return False
            self._running.add(row.id)
        future = self.pool.try_spawn_step(self._run, context, row,
                                          on_recovered)
        if future is None:
            with self._lock:
                self._running.discard(row.id)
            return False
        return True

    def _run(self, context: podium_context.RequestContext, row: Any,
             on_recovered: Any) -> None:
        try:
            if self.climb(context, row):
                on_recovered(row.id)
        except Exception:
            LOG.exception('BMC recovery of node %s failed',
                          base.node_label(row))
        finally:
            with self._lock:
                self._running.discard(row.id)

    # The ladder -----------------------------------------------------------

    def climb(self, context: podium_context.RequestContext,
              row: Any) -> bool:
        """Climb ``row``'s ladder; True when its BMC answered again."""
        power = driver_factory.get_registry().for_node(row).power
        self._note(row, 'Step 1 of 4: dropping the cached BMC session '
                        'and reconnecting.')
        power.drop_session(row)
        state, error = self._read(power, row,
                                  CONF.conductor.power_state_read_timeout)
        if state is not None:
            self._note(row, f'The BMC answers after reconnecting (power '
                            f'state {state}); recovered.')
            return True
        self._note(row, f'Reconnecting did not help: {error}',
                   states.WARNING)
        outcome = self._reset(context, row)
        if outcome == 'busy':
            return False
        if outcome == 'done':
            # What the reset changed in the node (driver_internal_info).
            state, error = self._wait(power, db_api.get_node(row.id))
            if state is not None:
                return True
        self._maintenance(row, error)
        return False

    def _reset(self, context: podium_context.RequestContext,
               row: Any) -> str:
        """Step 2: 'done', 'busy' (an action in flight: leave the node
        alone) or 'skipped' (rate limit, failure: go to maintenance)."""
        group = row.conductor_group or ''
        interval = CONF.conductor.bmc_reset_interval
        try:
            with task_manager.acquire(context, row.id,
                                      purpose='BMC recovery',
                                      host=self.host) as task:
                node = task.node
                if node.maintenance:
                    self._note(row, 'BMC reset not attempted: the node '
                                    'is in maintenance now.',
                               states.WARNING)
                    return 'busy'
                if (node.target_power_state or node.provision_state
                        in states.SYNC_EXCLUDED_STATES):
                    self._note(row, 'BMC reset not attempted: an action '
                                    'is in flight on the node; recovery '
                                    'starts again after its next failed '
                                    'reads.', states.WARNING)
                    return 'busy'
                limited = db_bmc_resets.claim_reset(group, interval)
                if limited is not None:
                    self._note(row, f'BMC reset not attempted: a BMC of '
                                    f'conductor group "{group}" was reset '
                                    f'{limited:.0f} s ago ([conductor] '
                                    f'bmc_reset_interval = {interval}).',
                               states.WARNING)
                    return 'skipped'
                self._note(row, 'Step 2 of 4: resetting the BMC.')
                try:
                    task.driver.management.reset_bmc(task)
                except exceptions.BMCTimeout as exc:
                    # A restarting BMC may not answer its reset.
                    self._note(row, f'The BMC did not answer the reset '
                                    f'(it may be restarting): '
                                    f'{self._masked(exc, row)}',
                               states.WARNING)
                except Exception as exc:
                    self._note(row, f'Resetting the BMC failed: '
                                    f'{self._masked(exc, row)}',
                               states.ERROR_SEVERITY)
                    return 'skipped'
                return 'done'
        except exceptions.NodeLocked:
            self._note(row, 'BMC reset not attempted: an action holds '
                            'the node\'s lock; recovery starts again after '
                            'its next failed reads.', states.WARNING)
            return 'busy'

    def _wait(self, power: base.PowerInterface,
              row: Any) -> tuple[str | None, str]:
        """Step 3: read until the BMC answers or the wait is over."""
        wait = CONF.conductor.bmc_recovery_wait
        self._note(row, f'Step 3 of 4: waiting up to {wait:g} s for the '
                        f'BMC to answer.')
        started = time.monotonic()
        deadline = started + wait
        while True:
            left = deadline - time.monotonic()
            timeout = max(0.1, min(CONF.conductor.power_state_read_timeout,
                                   left))
            state, error = self._read(power, row, timeout)
            if state is not None:
                self._note(row, f'The BMC answers again '
                                f'{time.monotonic() - started:.0f} s after '
                                f'the reset (power state {state}); '
                                f'recovered without maintenance.')
                return state, ''
            left = deadline - time.monotonic()
            if left <= 0:
                return None, error
            time.sleep(min(POLL_INTERVAL, left))

    def _maintenance(self, row: Any, error: str) -> None:
        """Step 4: what power sync does without the ladder."""
        message = FAILURE_PREFIX + (error or 'the BMC did not recover')
        self._note(row, f'Step 4 of 4: the BMC did not recover; '
                        f'maintenance with fault "{states.POWER_FAILURE}": '
                        f'{message}', states.ERROR_SEVERITY)
        LOG.error('Node %s: BMC recovery failed; entering maintenance '
                  'with fault "%s"', base.node_label(row),
                  states.POWER_FAILURE)
        db_api.update_nodes_if([(
            row.id, {'maintenance': False, 'reservation': None},
            {'maintenance': True, 'fault': states.POWER_FAILURE,
             'maintenance_reason': message, 'last_error': message})])

    # Helpers --------------------------------------------------------------

    def _read(self, power: base.PowerInterface, row: Any,
              timeout: float) -> tuple[str | None, str]:
        try:
            state = power.get_power_state(sync_plan.ReadTask(row, timeout))
        except Exception as exc:
            return None, self._masked(exc, row)
        if state not in (states.POWER_ON, states.POWER_OFF):
            return None, f'the BMC reported power state {state!r}'
        return state, ''

    @staticmethod
    def _masked(error: BaseException, row: Any) -> str:
        return masking.mask_error(error, masking.secret_values(
            getattr(row, 'driver_info', None) or {}))

    def _note(self, row: Any, event: str,
              severity: str = states.INFO) -> None:
        LOG.info('Node %s: BMC recovery: %s', base.node_label(row), event)
        db_api.add_node_history(row.id, event, EVENT_TYPE, severity,
                                conductor=self.host)
