"""Bulk commands through the server's batch extension, when it has one.

A Podium server that serves ``/v1/podium/batches`` runs one action on
many nodes in one request; the CLI then sends one ``POST`` per batch
(up to :data:`CHUNK` nodes each) and polls one ``GET`` per batch, not
one request per node. What the operator sees does not change: the same
``host: message`` progress lines (or bar), the same summary rows with
SUCCESSFUL or FAILED and the same reasons, and exit status 1 when any
node failed. A server without the extension gets the per-node requests
of :mod:`podium.cli.bulk`.

Targets the CLI could not resolve fail before anything is sent, as on
the per-node path; names typed on the command line are looked up in one
node listing first, so an unknown name fails alone instead of failing
the whole batch with a 400.
"""

import dataclasses
import re
import time
from collections.abc import Callable, Sequence
from typing import Any

from podium.cli.bulk import Outcome, Result
from podium.cli.client import ApiClient
from podium.cli.errors import ApiError, CliError
from podium.cli.progress import Reporter
from podium.cli.steps import backoff
from podium.cli.targets import Target

PATH = '/v1/podium/batches'
#: Nodes per batch: well within the server's body size and node limits.
CHUNK = 2000
#: How long commands without ``--wait`` follow a batch at most.
DEFAULT_TIMEOUT = 300.0
_UUID = re.compile(r'^[0-9a-f]{8}-?([0-9a-f]{4}-?){3}[0-9a-f]{12}$', re.I)


def server_offers_batches(client: ApiClient) -> bool:
    """Whether the server serves the batch extension (probed once)."""
    try:
        client.request('GET', PATH, params={'limit': 1})
    except ApiError as exc:
        if exc.status in (404, 405):
            return False
        raise
    return True


@dataclasses.dataclass(frozen=True)
class BatchSpec:
    """One bulk command as a batch, and how its node results read.

    ``wait``: a node is over when its action ended (otherwise when it
    was started, like the 202 of a per-node request). ``success`` is
    the reason of a node that ended well, ``started`` the one of a node
    started without waiting; ``column`` and ``value`` fill the summary's
    extra column (the state reached) from the node listing.
    """

    action: str
    args: dict[str, Any]
    wait: bool
    success: str
    started: str = ''
    column: str | None = None
    expected: str | None = None


class _Chunk:
    """One batch of the run and the targets it serves."""

    def __init__(self, targets: list[Target]) -> None:
        self.targets = targets
        self.uuid: str | None = None
        self.noted: set[str] = set()


class BatchRun:
    """Runs a bulk command as batches; see the module docstring."""

    def __init__(self, client: ApiClient, label: str, spec: BatchSpec,
                 reporter: Reporter, concurrency: int,
                 timeout: float | None) -> None:
        self._client = client
        self._label = label
        self._spec = spec
        self._reporter = reporter
        self._concurrency = concurrency
        self._timeout = timeout or DEFAULT_TIMEOUT
        self._results: dict[str, Result] = {}
        self._started = time.monotonic()

    def run(self, targets: Sequence[Target],
            list_names: Callable[[], list[dict[str, Any]]]) -> list[Result]:
        """Every target's result, in target order."""
        self._reporter.start(len(targets))
        chunk: _Chunk | None = None
        try:
            runnable = self._resolve(targets, list_names)
            for start in range(0, len(runnable), CHUNK):
                chunk = _Chunk(runnable[start:start + CHUNK])
                self._run_chunk(chunk)
                chunk = None
        except KeyboardInterrupt:
            self._interrupted(chunk, targets)
        finally:
            self._reporter.close()
        self._fill_column()
        return [self._results[t.label] for t in targets]

    # Targets -----------------------------------------------------------

    def _resolve(self, targets: Sequence[Target],
                 list_names: Callable[[], list[dict[str, Any]]]
                 ) -> list[Target]:
        """The targets to send, each with a node UUID; the others end
        here with their reason."""
        names: dict[str, str] | None = None
        runnable = []
        for target in targets:
            ident = target.ident
            if ident is None:
                self._finish(target, Outcome(False, target.error or ''))
                continue
            if not _UUID.match(ident):
                if names is None:
                    names = {node['name']: node['uuid']
                             for node in list_names() if node.get('name')}
                if ident not in names:
                    self._finish(target, Outcome(
                        False, f'Node {ident} could not be found.'))
                    continue
                ident = names[ident]
            runnable.append(Target(target.label, ident))
        return runnable

    # One batch ---------------------------------------------------------

    def _run_chunk(self, chunk: _Chunk) -> None:
        by_uuid: dict[str, list[Target]] = {}
        for target in chunk.targets:
            assert target.ident is not None
            by_uuid.setdefault(target.ident, []).append(target)
        body = {'action': self._spec.action, 'args': self._spec.args,
                'nodes': list(by_uuid),
                'policy': {'concurrency': self._concurrency}}
        try:
            batch = self._client.request('POST', PATH, body=body)
        except ApiError as exc:
            for target in chunk.targets:
                self._finish(target, Outcome(False, str(exc)))
            return
        chunk.uuid = batch['uuid']
        deadline = time.monotonic() + self._timeout
        attempt = 0
        while True:
            if self._read(batch, by_uuid, chunk):
                return
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                self._time_out(by_uuid)
                return
            time.sleep(min(backoff(attempt, base=0.1, cap=1.0), remaining))
            attempt += 1
            batch = self._client.request('GET', f'{PATH}/{chunk.uuid}')

    def _read(self, batch: dict[str, Any],
              by_uuid: dict[str, list[Target]], chunk: _Chunk) -> bool:
        """Report what the batch document says; whether every node of
        the chunk has its result."""
        over = batch['state'] not in ('running', 'cancelling')
        for node in batch.get('nodes', []):
            targets = by_uuid.get(node['uuid'])
            if not targets or targets[0].label in self._results:
                continue
            outcome = self._outcome(node, batch, over)
            if self._spec.wait and node.get('started_at') and \
                    node['uuid'] not in chunk.noted and self._spec.started:
                # As the per-node path notes its accepted request.
                chunk.noted.add(node['uuid'])
                for target in targets:
                    self._reporter.note(target.label, self._spec.started)
            if outcome is not None:
                for target in targets:
                    self._finish(target, outcome)
        return all(targets[0].label in self._results
                   for targets in by_uuid.values())

    def _outcome(self, node: dict[str, Any], batch: dict[str, Any],
                 over: bool) -> Outcome | None:
        state = node['state']
        if state in ('running', 'succeeded') and not self._spec.wait:
            return Outcome(True, self._spec.started)
        if state == 'succeeded':
            return Outcome(True, self._spec.success)
        if state == 'failed':
            return Outcome(False, node.get('error') or 'failed')
        if state == 'cancelled':
            return Outcome(False, 'cancelled with its batch')
        if state == 'pending' and over:
            return Outcome(False, f'not run: the batch stopped: '
                                  f'{batch.get("last_error")}')
        return None

    def _time_out(self, by_uuid: dict[str, list[Target]]) -> None:
        what = self._spec.expected or self._label
        for targets in by_uuid.values():
            for target in targets:
                if target.label not in self._results:
                    self._finish(target, Outcome(
                        False, f'timed out after {self._timeout:g}s '
                               f'waiting for {what}'))

    def _interrupted(self, chunk: _Chunk | None,
                     targets: Sequence[Target]) -> None:
        """Ctrl-C: cancel the batch in flight; every node without a
        result says it was interrupted."""
        if chunk is not None and chunk.uuid is not None:
            try:
                self._client.request('DELETE', f'{PATH}/{chunk.uuid}')
            except CliError:
                pass  # it ran on; nothing more to do about it here
        for target in targets:
            if target.label not in self._results:
                self._finish(target, Outcome(False, 'interrupted'))

    # Results -----------------------------------------------------------

    def _finish(self, target: Target, outcome: Outcome) -> None:
        duration = time.monotonic() - self._started
        self._results[target.label] = Result(
            target.label, self._label, outcome.ok, outcome.reason, duration,
            outcome.data)
        self._reporter.finished(target.label, outcome.ok, outcome.reason,
                                duration)

    def _fill_column(self) -> None:
        """The summary's state column: the state reached, or, for the
        nodes that did not reach it, their state now (one listing)."""
        column = self._spec.column
        if column is None:
            return
        missing = [r for r in self._results.values() if not r.ok]
        states: dict[str, Any] = {}
        if missing:
            try:
                for node in self._client.paginate(
                        '/v1/nodes', 'nodes',
                        {'fields': f'uuid,name,{column}'}):
                    states[node['uuid']] = node.get(column)
                    if node.get('name'):
                        states[node['name']] = node.get(column)
            except CliError:
                pass  # the column stays empty; the results stand
        for label, result in self._results.items():
            value = self._spec.expected if result.ok else states.get(label)
            self._results[label] = dataclasses.replace(
                result, data=dict(result.data, **{column: value}))
