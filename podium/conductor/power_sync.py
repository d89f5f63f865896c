"""Power-state sync: keeping the recorded power state true to the BMCs.

Every ``[conductor] sync_power_state_interval`` seconds a cycle:

1. lists, in one query and as light rows, the nodes this conductor owns
   (hash ring), skipping nodes locked by an action (not waited for),
   nodes with a power action in flight, nodes in maintenance (except
   those put there by this sync, so they can recover) and nodes in a
   provision state of :data:`~podium.common.states.SYNC_EXCLUDED_STATES`
   (``enroll``: credentials never verified; transient states: the
   conductor working on the node owns its power);
2. plans the reads by BMC health (:mod:`podium.conductor.sync_plan`):
   nodes of healthy BMCs are grouped into batch reads where their power
   interface gives them a common ``batch_key`` and read on the worker
   pool, ``sync_power_state_workers`` at a time; at the same time one
   node of each suspect BMC is probed with a short timeout on the
   separate ``bmc_probe_workers`` budget, and a healthy read that
   outlives ``bmc_probe_timeout`` moves to that budget while it has
   room, so BMCs that hang hold up no healthy read. Nodes a batch read
   left unanswered are then read one by one, in parallel, each with its
   own timeout. Each read is bounded by ``power_state_read_timeout``
   (drivers get it as ``task.timeout``); a read that ignores it is no
   longer waited for shortly after. Every request is recorded in the
   BMC's health record and kept within its request budget
   (:mod:`podium.conductor.bmc_health`);
3. compares each answer with the database. A different state is an
   out-of-band change: recorded in the node and its history or, with
   ``force_power_state_during_sync``, pushed back to the hardware under
   an exclusive lock, with the budget of an operator action
   (``action_timeout``, not the read timeout); a failed push-back is
   reported as such in ``last_error`` and the node's history.
   ``power_state_sync_max_retries`` consecutive failures (reads, or
   push-backs of a node still in the wrong state) put the node in
   maintenance with fault ``power failure``; the first good answer
   afterwards clears both;
4. compares, for nodes with intended settings, what the read saw on
   the way (the Redfish boot mode) with what is intended, at no extra
   request (:mod:`podium.conductor.drift`): nodes without intended
   settings get nothing more than a test of a NULL column; a drift is
   written with the node's changes and, with
   ``enforce_intended_settings``, put back after the writes;
5. writes only the nodes that changed, in batches (every
   :data:`~.sync_cycle.FLUSH_BATCH` changes or
   :data:`~.sync_cycle.FLUSH_INTERVAL` seconds, so a
   cycle slowed down by hung BMCs still records the others promptly).
   Writes are compare-and-set on what was read and on the node being
   unlocked: an action that changed the node meanwhile wins. A database
   error during the cycle keeps the batch pending and the reads going;
   the next flush retries it, and only the cycle's last flush raises.

Failure counts live in the memory of this conductor; a node taken over by
another conductor starts counting afresh there.
"""

import dataclasses
import threading
import time
from collections.abc import Callable
from typing import Any

from oslo_log import log

from podium.common import context as podium_context
from podium.common import hash_ring, metrics, states
from podium.conductor import (
    async_reads,
    bmc_health,
    bmc_recovery,
    drift,
    sync_cycle,
    sync_plan,
)
from podium.conductor import pool as pool_mod
from podium.conf import CONF
from podium.db import api as db_api
from podium.drivers import base
from podium.drivers.modules import aio_loop

LOG = log.getLogger(__name__)

#: Columns a cycle reads: what drivers need, plus what the sync compares.
COLUMNS = db_api.SYNC_COLUMNS + ('last_error', 'intended_settings', 'drift')

#: Seconds past the read timeout after which a read that ignores its
#: timeout is no longer waited for.
TIMEOUT_GRACE = 1.0

class PowerSync:
    """Power-state sync of the nodes one conductor owns."""

    def __init__(self, host: str, pool: pool_mod.WorkerPool,
                 ring: hash_ring.HashRingManager) -> None:
        self.host = host
        self.pool = pool
        self.ring = ring
        self._failures: dict[int, int] = {}
        self._lock = threading.Lock()
        #: This conductor's BMC health records.
        self.health = bmc_health.Registry()
        #: Recovery ladders of nodes whose reads keep failing.
        self.recovery = bmc_recovery.Ladder(host, pool)
        #: Probes answered in the last cycle (the next non-blocking
        #: cycle probes more: sync_plan.grown_probe_budget).
        self._probes_answered = 0

    def failure_count(self, node_id: int) -> int:
        """Consecutive failed reads of a node so far."""
        with self._lock:
            return self._failures.get(node_id, 0)

    def reset_failures(self, node_id: int) -> None:
        """Forget a node's failures (an operator took it out of
        maintenance)."""
        with self._lock:
            self._failures.pop(node_id, None)

    def count_failure(self, node_id: int) -> int:
        """Count one more failed read; returns the streak's length."""
        with self._lock:
            count = self._failures.get(node_id, 0) + 1
            self._failures[node_id] = count
            return count

    def _forget(self, keep: set[int]) -> None:
        with self._lock:
            for node_id in set(self._failures) - keep:
                del self._failures[node_id]

    def run(self, context: podium_context.RequestContext
            ) -> sync_cycle.CycleStats:
        """One sync cycle over every node this conductor owns."""
        started = time.monotonic()
        rows = db_api.list_node_rows(COLUMNS)
        self._forget({row.id for row in rows})
        rows = [row for row in self.ring.owned(self.host, rows)
                if self._wanted(row) and not self.recovery.running(row.id)]
        async_mode = CONF.conductor.power_read_mode == 'async'
        planned = sync_plan.plan(
            rows, self.health, self.failure_count,
            sync_plan.grown_probe_budget(self._probes_answered)
            if async_mode else None)
        self.health.forget(planned.endpoints)
        cycle = sync_cycle.Cycle(self, context, planned.siblings, observed={
            row.id: {} for row in rows if row.intended_settings})
        cycle.stats.nodes = len(rows)
        cycle.stats.probed = len(planned.probes)
        cycle.stats.deferred = planned.deferred
        if planned.deferred:
            metrics.SYNC_NODES.labels('deferred').inc(planned.deferred)
        for unit in planned.probes:
            assert unit.endpoint is not None
            self.health.mark_probed(unit.endpoint)
        if async_mode:
            self._read_async(cycle, planned.healthy, planned.probes)
        else:
            self._read(cycle, planned.healthy, planned.probes)
            self._read(cycle, cycle.take_unanswered(), [])
        self._probes_answered = cycle.stats.probes_answered
        metrics.BMC_SUSPECT.set(self.health.suspect_count())
        cycle.flush()
        for row in cycle.to_recover:
            self.recovery.start(context, row, self.reset_failures)
        if cycle.to_force:
            self.pool.fan_out(
                cycle.push_back, cycle.to_force,
                CONF.conductor.sync_power_state_workers, cycle.on_pushed,
                timeout=cycle.push_timeout + TIMEOUT_GRACE)
            cycle.flush()
        if cycle.to_enforce:
            cycle.stats.drift_put_back = drift.put_back(
                context, self.host, self.pool, cycle.to_enforce)
        elapsed = time.monotonic() - started
        metrics.SYNC_CYCLE_DURATION.observe(elapsed)
        metrics.SYNC_LAST_CYCLE.set(elapsed)
        LOG.debug('Power sync: %(nodes)d node(s) read, %(changed)d '
                  'changed, %(forced)d pushed back, %(push_failed)d '
                  'push-back(s) failed, %(failed)d failed, %(probed)d '
                  'suspect BMC(s) probed, %(deferred)d node(s) of '
                  'suspect BMCs deferred, %(written)d written, '
                  '%(drift_put_back)d drifted setting(s) put back in '
                  '%(secs).2fs',
                  dict(dataclasses.asdict(cycle.stats), secs=elapsed))
        return cycle.stats

    def _read(self, cycle: sync_cycle.Cycle,
              healthy: list[sync_plan.Unit],
              probes: list[sync_plan.Unit],
              on_idle: Callable[[], None] | None = None) -> None:
        """Read ``healthy`` on the sync workers and ``probes`` on the
        probe budget, at the same time; a healthy read slower than a
        probe moves to the probe budget while it has room."""
        if not healthy and not probes:
            return
        opts = CONF.conductor
        timeout = opts.power_state_read_timeout + TIMEOUT_GRACE
        self.pool.fan_out_lanes(cycle.read, [
            pool_mod.Lane(healthy, opts.sync_power_state_workers, timeout,
                          demote_after=opts.bmc_probe_timeout, overflow=1),
            pool_mod.Lane(probes, opts.bmc_probe_workers, timeout),
        ], cycle.on_read, on_idle=on_idle or cycle.flush_if_due,
            idle_interval=sync_cycle.FLUSH_INTERVAL)

    def _read_async(self, cycle: sync_cycle.Cycle,
                    healthy: list[sync_plan.Unit],
                    probes: list[sync_plan.Unit]) -> None:
        """Read on the drivers' read loop what they offer to read there
        (:mod:`.async_reads`), the rest on threads at the same time, then
        on threads what the fast path left out."""
        reads = async_reads.Dispatcher(
            self.health, TIMEOUT_GRACE, cycle.observed,
            window=CONF.conductor.async_reads_in_flight,
            lag=aio_loop.LOOP.lag)
        threaded: tuple[list[sync_plan.Unit], list[sync_plan.Unit]] = (
            [], [])
        # Probes first: few, and the longest to wait for.
        for lane, units in ((1, probes), (0, healthy)):
            for unit in units:
                if base.offers_power_read_start(unit.power):
                    reads.add(unit)
                else:
                    threaded[lane].append(unit)

        def report_and_flush() -> None:
            reads.run(cycle.on_async_read, block=False)
            cycle.flush_if_due()

        self._read(cycle, *threaded, on_idle=report_and_flush)
        reads.run(cycle.on_async_read, on_idle=cycle.flush_if_due,
                  idle_interval=sync_cycle.FLUSH_INTERVAL)
        left = cycle.take_unanswered() + reads.declined
        self._read(cycle, [unit for unit in left if not unit.probe],
                   [unit for unit in left if unit.probe])
        self._read(cycle, cycle.take_unanswered(), [])

    @staticmethod
    def _wanted(row: Any) -> bool:
        if row.reservation is not None or row.target_power_state:
            return False  # an action owns the node now
        if row.provision_state in states.SYNC_EXCLUDED_STATES:
            # Never verified (enroll), or mid-transition: as in Ironic.
            return False
        return not row.maintenance or row.fault == states.POWER_FAILURE
