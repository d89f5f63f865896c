"""Running a batch: one action over many nodes, under a rollout policy.

A batch (``POST /v1/podium/batches``) is run by one conductor, whose
:class:`BatchRunner` holds one pool worker for the batch's life. It
starts each node's action through the conductor RPC API, so the
conductor that owns the node (hash ring) does the work under the node's
lock, exactly as for a single API call, and it records every node's
result in ``batch_nodes`` as it learns it. An action that starts many
nodes per call (``BatchAction.bulk``: power) is sent as one call per
conductor per tick with the nodes that may start then (at most
:data:`BULK_CHUNK`), not one per node; see
:mod:`podium.conductor.bulk_power`. The policy:

* ``concurrency``: nodes whose action is in flight at once, per
  conductor group. A node counts from the moment its action is started
  until its outcome is seen with its lock released, so the batch never
  holds more node locks than this in any group;
* ``canary``: on a batch's first run, that many nodes go first, alone;
  if any of them fails the batch stops before touching another node;
* ``max_failure_percentage``: the batch stops (``stopped``) once more
  than this share of the nodes of the current run failed. Nodes in
  flight still end and are recorded; the others stay ``pending`` for
  a resume.

A busy node (``NodeLocked``) or a full pool (``NoFreeConductorWorker``)
is tried again for :data:`BUSY_RETRY_SECONDS` before the node fails.

Nothing holds a batch for ever: :class:`BatchKeeper`, a periodic task of
every conductor, starts the batches assigned to its own host that no
runner of this process runs (after a restart, or when the start call
was lost) and adopts the batches of conductors that stopped
heartbeating. A runner that takes a batch over reads the nodes left in
flight from their rows, so an action that the dead conductor's lock
cleanup reported interrupted fails that node with that message.
"""

import collections
import dataclasses
import datetime
import queue
import threading
import time
from typing import Any

from oslo_log import log

from podium.common import context as podium_context
from podium.common import exceptions
from podium.conductor import batch_actions
from podium.conductor import pool as pool_mod
from podium.conductor import rpcapi as rpcapi_mod
from podium.conf import CONF
from podium.db import api as db_api
from podium.db import batches as db_batches
from podium.db import models

LOG = log.getLogger(__name__)

#: How long a node that is busy, or meets a full pool, is tried again.
BUSY_RETRY_SECONDS = 60.0
#: Pause between two tries of a busy node.
BUSY_RETRY_INTERVAL = 0.5
#: Nodes started by one conductor call at most, for the actions that
#: start many per call (``BatchAction.bulk``); fewer when the policy's
#: concurrency leaves fewer free.
BULK_CHUNK = 100


def policy_defaults() -> dict[str, Any]:
    """The rollout policy a batch gets for what its request leaves out."""
    return {'concurrency': CONF.conductor.batch_concurrency,
            'canary': 0, 'max_failure_percentage': 100}


@dataclasses.dataclass
class _Node:
    """A node of the running batch."""

    id: int
    node_id: int
    uuid: str
    group: str
    first_try: float = 0.0
    not_before: float = 0.0
    #: Monotonic time after which an outcome is no longer waited for.
    deadline: float = 0.0
    #: The action was started; its outcome is read from the node row.
    started: bool = False


class _Run:
    """The bookkeeping of one runner: what is pending, in flight, done."""

    #: The columns of the per-node results it reads.
    COLUMNS = ('id', 'node_id', 'node_uuid', 'conductor_group', 'state',
               'run')

    def __init__(self, batch: models.Batch, rows: list[Any]) -> None:
        self.pending: collections.deque[_Node] = collections.deque()
        self.in_flight: dict[int, _Node] = {}
        self.by_group: collections.Counter[str] = collections.Counter()
        self.total = 0
        self.finished = 0
        self.failed = 0
        #: Conductor groups of the batch's nodes.
        self.groups = {row.conductor_group for row in rows}
        for row in rows:
            node = _Node(row.id, row.node_id, row.node_uuid,
                         row.conductor_group)
            if row.state == db_batches.NODE_PENDING:
                self.pending.append(node)
            elif row.state == db_batches.NODE_RUNNING:
                self.in_flight[node.id] = node
                self.by_group[node.group] += 1
            elif row.run == batch.run:
                self.finished += 1
                self.failed += row.state == db_batches.NODE_FAILED
            else:
                continue  # a result of an earlier run
            self.total += 1

    def take(self, node: _Node) -> None:
        self.in_flight[node.id] = node
        self.by_group[node.group] += 1

    def untake(self, node: _Node) -> None:
        """``node`` was not started after all: it holds nothing."""
        del self.in_flight[node.id]
        self.by_group[node.group] -= 1

    def done(self, node: _Node, ok: bool) -> None:
        del self.in_flight[node.id]
        self.by_group[node.group] -= 1
        self.finished += 1
        self.failed += not ok


class BatchRunner:
    """Runs one batch to its end on this conductor; see the module
    docstring."""

    def __init__(self, host: str, pool: pool_mod.WorkerPool,
                 rpcapi: rpcapi_mod.ConductorAPI, batch: models.Batch
                 ) -> None:
        self.host = host
        self.pool = pool
        self.rpcapi = rpcapi
        self.batch = batch
        self.action = batch_actions.load(batch.action, dict(batch.args))
        self.policy = dict(policy_defaults(), **(batch.policy or {}))
        self.context = podium_context.RequestContext(user_id=batch.user)
        self._results: queue.SimpleQueue[
            tuple[int, BaseException | None]] = queue.SimpleQueue()
        self._changes: list[dict[str, Any]] = []
        self._stop_reason: str | None = None
        self._cancelled = False
        self._lost = False
        self._run: _Run | None = None

    # The loop ----------------------------------------------------------

    def run(self) -> None:
        """Run the batch until every node ended or the policy, a cancel
        or a takeover stopped it; records the batch's end."""
        try:
            self._run = _Run(self.batch, db_batches.list_batch_node_rows(
                self.batch.id, columns=_Run.COLUMNS))
            self._adopt_in_flight()
            self._loop()
        except Exception as exc:
            LOG.exception('Batch %s failed on %s', self.batch.uuid,
                          self.host)
            self._fail(f'the batch runner on {self.host} failed: {exc}')
            return
        self._finish()

    def _loop(self) -> None:
        run = self._run
        assert run is not None
        interval = CONF.conductor.batch_poll_interval
        while run.in_flight or (run.pending and not self._stopping()):
            if self.pool.closed:
                # Shutting down: the batch stays ours and running; this
                # host's next start, or a survivor, takes it up again.
                self._lost = True
                break
            self._dispatch(run)
            self._flush()
            self._collect(run, timeout=interval)
            self._poll(run)
            self._flush()
            self._check_batch()
            if self._lost:
                break

    def _stopping(self) -> bool:
        return self._cancelled or self._stop_reason is not None \
            or self._lost

    # Starting nodes ----------------------------------------------------

    def _gate(self, run: _Run) -> int | None:
        """How many more nodes may start overall now (None: no limit
        beyond concurrency): the canary holds the rest back."""
        canary = int(self.policy['canary'])
        if self.batch.run != 1 or not canary:
            return None
        if run.finished >= canary:
            return None
        return max(0, canary - run.finished - len(run.in_flight))

    def _dispatch(self, run: _Run) -> None:
        if self._stopping():
            return
        allowed = self._gate(run)
        concurrency = int(self.policy['concurrency'])
        now = time.monotonic()
        skipped: list[_Node] = []
        chunks: dict[str, list[_Node]] = {}
        while run.pending and (allowed is None or allowed > 0):
            node = run.pending.popleft()
            if run.by_group[node.group] >= concurrency:
                skipped.append(node)
                if len(run.groups) == 1:
                    break  # the only group is full
                continue
            if node.not_before > now:
                skipped.append(node)
                continue
            if self.action.bulk:
                topic = self._topic(run, node)
                if topic is not None:
                    chunks.setdefault(topic, []).append(node)
                run.take(node)  # started below, or failed by _topic
            elif self.pool.try_spawn_step(self._start, node) is None:
                skipped.append(node)
                break  # no free worker now; the next tick tries again
            else:
                self._begin(run, node, now)
            if allowed is not None:
                allowed -= 1
        for topic, nodes in chunks.items():
            for first in range(0, len(nodes), BULK_CHUNK):
                chunk = nodes[first:first + BULK_CHUNK]
                if self.pool.try_spawn_step(self._start_many, topic,
                                            chunk) is None:
                    # No free worker now: back in line, holding nothing.
                    for node in chunk:
                        run.untake(node)
                    skipped.extend(chunk)
                    continue
                for node in chunk:
                    self._begin(run, node, now, taken=True)
        run.pending.extendleft(reversed(skipped))

    def _begin(self, run: _Run, node: _Node, now: float,
               taken: bool = False) -> None:
        """Count ``node`` as in flight from ``now``; its first start
        marks its result running."""
        if not node.first_try:
            node.first_try = now
            self._changes.append({
                'id': node.id, 'state': db_batches.NODE_RUNNING,
                'run': self.batch.run, 'error': None,
                'started_at': models.utcnow(), 'finished_at': None})
        node.deadline = now + self.action.deadline()
        if not taken:
            run.take(node)

    def _topic(self, run: _Run, node: _Node) -> str | None:
        """The conductor of ``node``; None when there is none, and the
        node's start then fails with that error."""
        try:
            return self.rpcapi.get_topic_for(NodeRef(node.uuid, node.group))
        except Exception as exc:
            self._begin(run, node, time.monotonic(), taken=True)
            self._results.put((node.id, exc))
            return None

    def _start(self, node: _Node) -> None:
        """On a pool worker: start the node's action over RPC."""
        try:
            topic = self.rpcapi.get_topic_for(NodeRef(node.uuid,
                                                       node.group))
            self.action.dispatch(self.rpcapi, self.context, node.uuid,
                                 topic)
        except BaseException as exc:  # reported to the loop
            self._results.put((node.id, exc))
        else:
            self._results.put((node.id, None))

    def _start_many(self, topic: str, nodes: list[_Node]) -> None:
        """On a pool worker: start a chunk of conductor ``topic``'s nodes
        in one RPC (:meth:`BatchAction.dispatch_many`)."""
        try:
            errors = self.action.dispatch_many(
                self.rpcapi, self.context, [node.uuid for node in nodes],
                topic)
        except BaseException as exc:  # the whole call failed
            for node in nodes:
                self._results.put((node.id, exc))
            return
        for node in nodes:
            self._results.put((node.id, errors.get(node.uuid)))

    # Learning outcomes -------------------------------------------------

    def _collect(self, run: _Run, timeout: float) -> None:
        """Take the answers of started nodes, waiting up to ``timeout``
        for the first one."""
        block = True
        while True:
            try:
                node_id, error = (self._results.get(timeout=timeout)
                                  if block else self._results.get_nowait())
            except queue.Empty:
                return
            block = False
            node = run.in_flight.get(node_id)
            if node is None:
                continue
            if error is None:
                if self.action.asynchronous:
                    node.started = True
                else:
                    self._end(run, node, True, None)
            elif isinstance(error, (exceptions.NodeLocked,
                                    exceptions.NoFreeConductorWorker)) \
                    and time.monotonic() - node.first_try < \
                    BUSY_RETRY_SECONDS and not self._stopping():
                # Busy: back in line, later; it holds no lock meanwhile.
                run.untake(node)
                node.not_before = time.monotonic() + BUSY_RETRY_INTERVAL
                run.pending.append(node)
            else:
                self._end(run, node, False, str(error) or
                          type(error).__name__)

    def _poll(self, run: _Run) -> None:
        """Read the rows of the nodes whose action runs: one query."""
        started = {node.node_id: node for node in run.in_flight.values()
                   if node.started}
        if not started:
            return
        rows = {row.id: row for row in db_api.list_node_rows(
            ('id',) + self.action.COLUMNS,
            filters={'id_in': sorted(started)})}
        now = time.monotonic()
        for node_id, node in started.items():
            row = rows.get(node_id)
            if row is None:
                self._end(run, node, False, 'the node was deleted')
                continue
            outcome = self.action.outcome(row)
            if outcome is not None:
                self._end(run, node, *outcome)
            elif now > node.deadline:
                self._end(run, node, False,
                          f'no outcome within {self.action.deadline():g}'
                          f' seconds')

    def _end(self, run: _Run, node: _Node, ok: bool,
             error: str | None) -> None:
        run.done(node, ok)
        self._changes.append({
            'id': node.id, 'error': error, 'finished_at': models.utcnow(),
            'state': (db_batches.NODE_SUCCEEDED if ok
                      else db_batches.NODE_FAILED)})
        if ok:
            return
        canary = int(self.policy['canary'])
        if self.batch.run == 1 and canary and run.finished <= canary:
            self._stop(f'canary failed: node {node.uuid}: {error}')
        elif run.failed * 100 > \
                int(self.policy['max_failure_percentage']) * run.total:
            self._stop(f'{run.failed} of {run.total} nodes failed, more '
                       f'than max_failure_percentage '
                       f'{self.policy["max_failure_percentage"]}')

    def _stop(self, reason: str) -> None:
        if self._stop_reason is None:
            self._stop_reason = reason
            LOG.warning('Batch %s stops: %s', self.batch.uuid, reason)

    def _adopt_in_flight(self) -> None:
        """Nodes a previous runner left in flight: an asynchronous
        action's outcome is still in the node's row; a synchronous one's
        answer was lost with that runner, so it runs again (setting a
        boot device or maintenance twice does no harm)."""
        run = self._run
        assert run is not None
        if not run.in_flight:
            return
        now = time.monotonic()
        for node in list(run.in_flight.values()):
            node.first_try = now
            if self.action.asynchronous:
                node.started = True
                node.deadline = now + self.action.deadline()
            else:
                run.untake(node)
                run.pending.appendleft(node)
        LOG.info('Batch %s: %d node(s) were in flight when %s took it '
                 'up', self.batch.uuid, len(run.in_flight) or
                 len(run.pending), self.host)

    # Writing -----------------------------------------------------------

    def _flush(self) -> None:
        changes, self._changes = self._changes, []
        db_batches.record_nodes(changes)

    def _check_batch(self) -> None:
        status = db_batches.get_batch_status(self.batch.id)
        if status is None or status[1] != self.host:
            # Deleted, or taken over by a conductor that found this one
            # dead: it is that runner's now.
            LOG.warning('Batch %s is no longer run by %s', self.batch.uuid,
                        self.host)
            self._lost = True
        elif status[0] == db_batches.CANCELLING and not self._cancelled:
            LOG.info('Batch %s: cancel requested; waiting for %d node(s) '
                     'in flight', self.batch.uuid,
                     len(self._run.in_flight) if self._run else 0)
            self._cancelled = True

    def _finish(self) -> None:
        if self._lost:
            return
        run = self._run
        assert run is not None
        node_states = None
        if self._cancelled:
            state, error = db_batches.CANCELLED, None
            node_states = {db_batches.NODE_PENDING:
                           db_batches.NODE_CANCELLED}
        elif self._stop_reason is not None:
            state, error = db_batches.STOPPED, self._stop_reason
        else:
            counts = db_batches.count_nodes([self.batch.id])[self.batch.id]
            failed = counts[db_batches.NODE_FAILED]
            state = db_batches.FAILED if failed else db_batches.SUCCEEDED
            error = f'{failed} node(s) failed' if failed else None
        self._end_batch(state, error, node_states)
        LOG.info('Batch %s %s: run %d, %d node(s), %d failed',
                 self.batch.uuid, state, self.batch.run, run.total,
                 run.failed)

    def _fail(self, reason: str) -> None:
        """End the batch as failed after an error of the runner itself:
        nodes in flight fail (their outcome is unknown), pending ones
        are cancelled."""
        try:
            run = self._run
            if run is not None:
                self._changes.extend(
                    {'id': node.id, 'state': db_batches.NODE_FAILED,
                     'error': f'outcome unknown: {reason}',
                     'finished_at': models.utcnow()}
                    for node in run.in_flight.values())
                self._flush()
            self._end_batch(db_batches.FAILED, reason,
                            {db_batches.NODE_PENDING:
                             db_batches.NODE_CANCELLED})
        except Exception:
            LOG.exception('Batch %s: could not record its failure; a '
                          'conductor takes it up again', self.batch.uuid)

    def _end_batch(self, state: str, error: str | None,
                   node_states: dict[str, str] | None) -> None:
        db_batches.finish_batch(self.batch.id, self.host, state, error,
                                node_states or {})


class NodeRef:
    """What the hash ring needs of a node to find its conductor."""

    def __init__(self, uuid: str, conductor_group: str) -> None:
        self.uuid = uuid
        self.conductor_group = conductor_group


class BatchKeeper:
    """The batches of one conductor: starts runners, adopts orphans."""

    def __init__(self, host: str, pool: pool_mod.WorkerPool) -> None:
        self.host = host
        self.pool = pool
        self._rpcapi: rpcapi_mod.ConductorAPI | None = None
        self._lock = threading.Lock()
        self._running: set[str] = set()

    @property
    def rpcapi(self) -> rpcapi_mod.ConductorAPI:
        if self._rpcapi is None:
            self._rpcapi = rpcapi_mod.ConductorAPI()
        return self._rpcapi

    def start(self, batch_uuid: str) -> bool:
        """Run a batch assigned to this host on the pool, unless a
        runner of this process runs it already; whether one started.

        :raises NoFreeConductorWorker: the pool is full (the keeper's
            next check tries again).
        """
        batch = db_batches.get_batch(batch_uuid)
        if batch.conductor != self.host or \
                batch.state not in db_batches.ACTIVE_STATES:
            return False
        with self._lock:
            if batch.uuid in self._running:
                return False
            self._running.add(batch.uuid)
        try:
            self.pool.spawn(self._run, batch)
        except BaseException:
            with self._lock:
                self._running.discard(batch.uuid)
            raise
        return True

    def _run(self, batch: models.Batch) -> None:
        try:
            BatchRunner(self.host, self.pool, self.rpcapi, batch).run()
        finally:
            with self._lock:
                self._running.discard(batch.uuid)

    def check(self) -> int:
        """Start this host's batches no runner runs and adopt those of
        dead conductors; returns how many runners started."""
        active = db_batches.list_active_batches()
        if not active:
            return 0
        alive = {c.hostname for c in db_api.get_alive_conductors(
            CONF.conductor.heartbeat_timeout)}
        started = 0
        for row in active:
            if row.conductor != self.host:
                if row.conductor in alive:
                    continue
                if not db_batches.update_batch(
                        row.id, {'conductor': self.host},
                        expected_states=db_batches.ACTIVE_STATES,
                        expected_conductor=row.conductor):
                    continue  # another conductor adopted it first
                LOG.warning('Batch %s: its conductor %s is dead; %s '
                            'resumes it', row.uuid, row.conductor,
                            self.host)
            try:
                started += self.start(row.uuid)
            except exceptions.NoFreeConductorWorker:
                LOG.warning('Batch %s waits for a free worker on %s',
                            row.uuid, self.host)
                break
        return started

    def purge(self) -> int:
        """Delete finished batches older than ``[conductor]
        batch_retention_days``."""
        days = CONF.conductor.batch_retention_days
        if not days:
            return 0
        return db_batches.purge_before(
            models.utcnow() - datetime.timedelta(days=days))
