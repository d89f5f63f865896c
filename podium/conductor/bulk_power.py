"""Power actions on a chunk of nodes in one conductor call.

A batch's power action (``POST /v1/podium/batches`` with ``"action":
"power"``) reaches each conductor as one RPC per chunk of that
conductor's nodes (``change_nodes_power_state``) rather than one per
node, and the chunk is locked, checked, started and recorded with one
database transaction per step instead of one per node:

1. the chunk's free nodes are locked by one conditional UPDATE
   (:func:`podium.db.node_locks.reserve_nodes`); a node someone holds
   gets a ``NodeLocked`` result at once (the batch tries it again
   later, as it does a busy node on the single-node path), and a
   missing one ``NodeNotFound``;
2. each locked node's driver is loaded and its power interface
   validated and asked for the target, as the single-node call does
   (:mod:`podium.conductor.power_action`); a node that fails this gets
   the error as its result and its lock back (one statement for all);
3. ``target_power_state`` is written for the rest in one statement;
4. each node's BMC call runs on its own pool worker, with the task's
   deadline and the driver's own per-BMC limits, so a slow BMC delays
   only its own node; a node whose worker cannot be had gets
   ``NoFreeConductorWorker`` (its target cleared, its lock released);
5. the outcomes (power state, or the error in ``last_error``; target
   cleared, lock dropped) are written by :class:`_OutcomeWriter`:
   whichever worker finishes while no write is under way writes every
   outcome that is ready, in one transaction, and keeps writing what
   arrived meanwhile, so fast BMCs are recorded together and nobody
   waits for a slow one.

The call returns once every node of the chunk is started or refused,
as the single-node call returns once the node is locked; the batch
reads the outcomes from the node rows. The success line the
single-node call logs per node is logged once per outcome write, naming
its nodes. Power actions write no node history (only an interrupted
one does, see ``clear_node_reservations_for_conductor``), here as on
the single-node path; the BMC request metrics are counted per node
alike.
"""

import threading
import time
from typing import Any

from oslo_log import log

from podium.common import context as podium_context
from podium.common import exceptions
from podium.conductor import pool as pool_mod
from podium.conductor import power_action, task_manager
from podium.db import node_locks

LOG = log.getLogger(__name__)

#: One node's result: None when its action started, else the exception's
#: class name and message (plain data, for the RPC answer).
NodeResult = list[str] | None

PURPOSE = 'changing node power state'

#: Seconds an outcome write waits for the BMC calls still running to
#: join it (see :class:`_OutcomeWriter`).
OUTCOME_LINGER = 0.002


def error_result(error: BaseException) -> list[str]:
    """A node's result for ``error``."""
    return [type(error).__name__, str(error) or type(error).__name__]


def result_error(result: list[str]) -> exceptions.PodiumException:
    """The exception an error result stands for: the Podium exception
    of that name (so ``NodeLocked`` is still ``NodeLocked``), else a
    generic one with the message."""
    name, message = result
    cls = getattr(exceptions, name, None)
    if isinstance(cls, type) and issubclass(cls, exceptions.PodiumException):
        return cls(message)
    return exceptions.PodiumException(message)


class _OutcomeWriter:
    """Writes the outcomes of finished nodes, many per transaction (see
    the module docstring, step 5).

    Before a write, the writing worker lingers up to
    :data:`OUTCOME_LINGER` while other BMC calls of this conductor's
    chunks still run, so that calls ending within a few milliseconds of
    each other share one transaction rather than queueing one each
    behind SQLite's write lock; a slow BMC holds no outcome back longer
    than that.
    """

    def __init__(self, host: str) -> None:
        self.host = host
        self._cond = threading.Condition()
        self._ready: list[tuple[task_manager.TaskManager, dict[str, Any],
                                str]] = []
        self._writing = False
        #: BMC calls started and not yet handed to :meth:`add`.
        self._running = 0

    def started(self) -> None:
        """A BMC call whose outcome :meth:`add` will get was started."""
        with self._cond:
            self._running += 1

    def add(self, task: task_manager.TaskManager | None,
            values: dict[str, Any], new_state: str) -> None:
        """Record ``task``'s outcome, now or with the write under way
        (None: a call that ended with nothing to record)."""
        with self._cond:
            self._running -= 1
            if task is not None:
                self._ready.append((task, values, new_state))
            self._cond.notify_all()
            if self._writing or task is None:
                return  # the writing worker takes it on its next round
            self._writing = True
        while True:
            with self._cond:
                deadline = time.monotonic() + OUTCOME_LINGER
                while self._running > 0:
                    left = deadline - time.monotonic()
                    if left <= 0:
                        break
                    self._cond.wait(left)
                ready, self._ready = self._ready, []
                if not ready:
                    self._writing = False
                    return
            try:
                task_manager.finish_many(
                    self.host, [(task, values) for task, values, _ in ready])
            except Exception:
                LOG.exception('Failed to record the outcome of %d power '
                              'action(s); releasing their locks',
                              len(ready))
                task_manager.release_many(self.host,
                                          [task for task, _, _ in ready])
                continue
            self._log(ready)

    @staticmethod
    def _log(written: list[tuple[task_manager.TaskManager,
                                 dict[str, Any], str]]) -> None:
        """The single-node call's success line, one per outcome and
        target for the nodes written together (failures were logged
        one by one as they happened)."""
        done: dict[tuple[str, str], list[str]] = {}
        for task, values, new_state in written:
            if 'power_state' in values:
                done.setdefault((values['power_state'], new_state),
                                []).append(task.node.ident)
        for (result, new_state), idents in done.items():
            LOG.info('Node%s %s: power state is now %s (%s requested)',
                     's' if len(idents) > 1 else '', ', '.join(idents),
                     result, new_state)


class BulkPower:
    """Starts power actions on chunks of one conductor's nodes."""

    def __init__(self, host: str, pool: pool_mod.WorkerPool) -> None:
        self.host = host
        self.pool = pool
        self._writer = _OutcomeWriter(host)

    def start(self, context: podium_context.RequestContext,
              node_ids: list[str], new_state: str,
              timeout: float | None) -> dict[str, NodeResult]:
        """Start ``new_state`` on the nodes of ``node_ids`` (UUIDs); each
        node's result (see :data:`NodeResult`).

        :raises InvalidParameterValue: an unknown target or timeout
            (nothing is locked then).
        """
        budget = power_action.check_request(new_state, timeout)
        results: dict[str, NodeResult] = {}
        reserved = node_locks.reserve_nodes(self.host, node_ids)
        for uuid in reserved.missing:
            results[uuid] = error_result(exceptions.NodeNotFound(node=uuid))
        for uuid, holder in reserved.locked.items():
            results[uuid] = error_result(
                exceptions.NodeLocked(node=uuid, host=holder))
        held: list[task_manager.TaskManager] = []
        try:
            checked = self._check(context, reserved.taken, new_state,
                                  budget, results, held)
            for task in task_manager.save_many(
                    self.host, checked, {'target_power_state': new_state}):
                results[task.node.uuid] = error_result(
                    exceptions.NodeLocked(node=task.node.uuid,
                                          host='another holder'))
                checked.remove(task)
                task_manager.release_many(self.host, [task])
            self._spawn(checked, new_state, timeout, results, held)
        except BaseException:
            task_manager.release_many(self.host, held)
            raise
        return results

    def _check(self, context: podium_context.RequestContext,
               nodes: list[Any], new_state: str, budget: float,
               results: dict[str, NodeResult],
               held: list[task_manager.TaskManager]
               ) -> list[task_manager.TaskManager]:
        """Tasks over the reserved ``nodes`` that pass the checks; the
        others get their error as result and their lock back."""
        checked, rejected = [], []
        for node in nodes:
            try:
                task = task_manager.adopt(context, node, PURPOSE, budget,
                                          self.host)
            except Exception as exc:  # its lock is released already
                results[node.uuid] = error_result(exc)
                continue
            held.append(task)
            try:
                power_action.check_node(task, new_state)
            except Exception as exc:
                results[node.uuid] = error_result(exc)
                rejected.append(task)
            else:
                checked.append(task)
        task_manager.release_many(self.host, rejected)
        return checked

    def _spawn(self, tasks: list[task_manager.TaskManager], new_state: str,
               timeout: float | None, results: dict[str, NodeResult],
               held: list[task_manager.TaskManager]) -> None:
        """Each task's BMC call on its own worker; the tasks that get
        none have their target cleared and their lock released."""
        refused = []
        for task in tasks:
            self._writer.started()
            try:
                self.pool.spawn(self._drive, task, new_state, timeout)
            except Exception as exc:
                self._writer.add(None, {}, new_state)
                results[task.node.uuid] = error_result(exc)
                refused.append((task, {'target_power_state': None}))
            else:
                held.remove(task)  # the worker owns the lock now
                results[task.node.uuid] = None
        task_manager.finish_many(self.host, refused)

    def _drive(self, task: task_manager.TaskManager, new_state: str,
               timeout: float | None) -> None:
        """On a pool worker: one node's BMC call, then its outcome."""
        try:
            values = power_action.drive(task, new_state, timeout)
        except Exception:
            LOG.exception('Node %s: %s failed', task.node.ident,
                          task.purpose)
            task.release()
            self._writer.add(None, {}, new_state)
            return
        self._writer.add(task, values, new_state)
