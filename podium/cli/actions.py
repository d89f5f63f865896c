"""Per-node actions of the bulk commands, as step generators.

Each factory takes the API client and the command's options and returns
an :data:`~podium.cli.bulk.Action`: given a node identifier it performs
one API call (retried on 409/503, which the server answers while a node
is locked or no conductor worker is free) and, for ``--wait``, polls
the node with back-off until the target state is reached, the action
failed, or the deadline passed.
"""

import time
from collections.abc import Callable, Mapping
from typing import Any

from podium.cli.bulk import Action, Outcome
from podium.cli.client import ApiClient, node_path
from podium.cli.steps import Steps, backoff, busy_retries

Note = Callable[[str], None]

#: Power target -> the stable state it ends in (Ironic's rule).
POWER_RESULT = {
    'power on': 'power on',
    'power off': 'power off',
    'rebooting': 'power on',
    'soft power off': 'power off',
    'soft rebooting': 'power on',
}
_WAIT_FIELDS = 'power_state,target_power_state,last_error'


def _call(client: ApiClient, method: str, path: str,
          **kwargs: Any) -> Steps[Any]:
    return busy_retries(lambda: client.request(method, path, **kwargs))


def power(client: ApiClient, target: str, wait: bool,
          timeout: float) -> Action:
    """``PUT states/power``; with ``wait`` also wait for the result."""
    expected = POWER_RESULT[target]

    def action(ident: str, note: Note) -> Steps[Outcome]:
        yield from _call(client, 'PUT', node_path(ident, 'states', 'power'),
                         body={'target': target})
        if not wait:
            return Outcome(True, f'{target} requested')
        note(f'{target} requested')
        return (yield from wait_for_power(client, ident, expected, timeout))
    return action


def wait_for_power(client: ApiClient, ident: str, expected: str,
                   timeout: float) -> Steps[Outcome]:
    """Poll the node until its power action finished or time ran out.

    Finished means ``target_power_state`` is cleared; then the power
    state tells success, and ``last_error`` says why it failed.
    """
    deadline = time.monotonic() + timeout
    attempt = 0
    while True:
        node = yield from _call(client, 'GET', node_path(ident),
                                params={'fields': _WAIT_FIELDS})
        state = node.get('power_state')
        data = {'power_state': state}
        if not node.get('target_power_state'):
            if state == expected:
                return Outcome(True, f'reached {expected}', data)
            return Outcome(False, node.get('last_error') or
                           f'power state is {state}, not {expected}', data)
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return Outcome(False, f'timed out after {timeout:g}s waiting '
                                  f'for {expected} (power state: {state})',
                           data)
        yield min(backoff(attempt, base=0.25, cap=2.0), remaining)
        attempt += 1


def power_status(client: ApiClient) -> Action:
    def action(ident: str, note: Note) -> Steps[Outcome]:
        node = yield from _call(
            client, 'GET', node_path(ident),
            params={'fields': 'power_state,target_power_state'})
        return Outcome(True, '', {
            'power_state': node.get('power_state'),
            'target_power_state': node.get('target_power_state')})
    return action


def boot_device_set(client: ApiClient, device: str,
                    persistent: bool) -> Action:
    kind = 'persistent' if persistent else 'next boot only'

    def action(ident: str, note: Note) -> Steps[Outcome]:
        yield from _call(client, 'PUT',
                         node_path(ident, 'management', 'boot_device'),
                         body={'boot_device': device,
                               'persistent': persistent})
        return Outcome(True, f'boot device set to {device} ({kind})')
    return action


def boot_device_show(client: ApiClient) -> Action:
    def action(ident: str, note: Note) -> Steps[Outcome]:
        doc = yield from _call(client, 'GET',
                               node_path(ident, 'management', 'boot_device'))
        doc = doc or {}
        return Outcome(True, '', {'boot_device': doc.get('boot_device'),
                                  'persistent': doc.get('persistent')})
    return action


def maintenance(client: ApiClient, enable: bool,
                reason: str | None = None) -> Action:
    def action(ident: str, note: Note) -> Steps[Outcome]:
        path = node_path(ident, 'maintenance')
        if enable:
            yield from _call(client, 'PUT', path, body={'reason': reason})
            return Outcome(True, 'maintenance set')
        yield from _call(client, 'DELETE', path)
        return Outcome(True, 'maintenance unset')
    return action


def validate(client: ApiClient) -> Action:
    """``GET validate``: fails when any interface reports a problem.

    Interfaces answering ``result: null`` are not in use for the node
    (Ironic's convention) and do not fail it.
    """
    def action(ident: str, note: Note) -> Steps[Outcome]:
        doc = yield from _call(client, 'GET', node_path(ident, 'validate'))
        return validation_outcome(doc or {})
    return action


def validation_outcome(doc: Mapping[str, Any]) -> Outcome:
    """Turn Ironic's per-interface validation document into an outcome."""
    data: dict[str, Any] = {}
    problems = []
    for iface in sorted(doc):
        entry = doc[iface]
        if not isinstance(entry, dict):
            continue
        result, reason = entry.get('result'), entry.get('reason')
        if result is False:
            problems.append(f'{iface}: {reason}')
        if result is None:
            data[iface] = 'not used'
        else:
            data[iface] = 'valid' if result else 'invalid'
    if problems:
        return Outcome(False, '; '.join(problems), data)
    return Outcome(True, 'valid', data)


def delete(client: ApiClient) -> Action:
    def action(ident: str, note: Note) -> Steps[Outcome]:
        yield from _call(client, 'DELETE', node_path(ident))
        return Outcome(True, 'deleted')
    return action


def show(client: ApiClient, fields: str | None = None) -> Action:
    def action(ident: str, note: Note) -> Steps[Outcome]:
        params = {'fields': fields} if fields else None
        node = yield from _call(client, 'GET', node_path(ident),
                                params=params)
        node = dict(node or {})
        node.pop('links', None)
        return Outcome(True, '', node)
    return action


def create(client: ApiClient, bodies: list[dict[str, Any]]) -> Action:
    """``POST /v1/nodes`` for the enrollment row the identifier indexes.

    A 409 on create means a duplicate name or UUID, never a busy node,
    so only 503 (no free worker) is retried.
    """
    def action(ident: str, note: Note) -> Steps[Outcome]:
        node = yield from busy_retries(
            lambda: client.request('POST', '/v1/nodes',
                                   body=bodies[int(ident)]),
            statuses=(503,))
        return Outcome(True, 'created', {'uuid': (node or {}).get('uuid')})
    return action
