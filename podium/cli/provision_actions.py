"""Per-node provision actions of the bulk commands (manage, provide,
inspect, clean, deploy, undeploy, rebuild, abort, adopt).

One ``PUT states/provision`` per node (retried on 409/503 like every
bulk action); with ``--wait`` the node is polled until it reached the
state the target ends in, or stopped elsewhere: a failure state, or
back in a stable state with ``last_error`` (a failed verification
returns a node to ``enroll``).
"""

import time
from collections.abc import Callable
from typing import Any

from podium.cli.bulk import Action, Outcome
from podium.cli.client import ApiClient, json_pointer, node_path
from podium.cli.steps import Steps, backoff, busy_retries

Note = Callable[[str], None]

#: API target -> the stable state a successful run ends in; None: the
#: request itself is the whole action (abort).
TARGET_RESULT: dict[str, str | None] = {
    'manage': 'manageable',
    'provide': 'available',
    'inspect': 'manageable',
    'clean': 'manageable',
    'active': 'active',
    'rebuild': 'active',
    'deleted': 'available',
    'adopt': 'active',
    'abort': None,
}

_FAILED = ('deploy failed', 'clean failed', 'inspect failed',
           'adopt failed', 'error')
_WAIT_FIELDS = ('provision_state,target_provision_state,last_error,'
                'reservation')


def provision(client: ApiClient, target: str, wait: bool, timeout: float,
              clean_steps: list[dict[str, Any]] | None = None,
              instance_info: dict[str, Any] | None = None) -> Action:
    """``PUT states/provision``; with ``wait`` also wait for the end.

    :param instance_info: keys set in the node's ``instance_info`` (one
        JSON patch) before the request.
    """
    body: dict[str, Any] = {'target': target}
    if clean_steps is not None:
        body['clean_steps'] = clean_steps
    expected = TARGET_RESULT[target]
    patch = [{'op': 'add', 'path': json_pointer('instance_info', key),
              'value': value}
             for key, value in (instance_info or {}).items()]

    def action(ident: str, note: Note) -> Steps[Outcome]:
        if patch:
            yield from busy_retries(lambda: client.request(
                'PATCH', node_path(ident), body=patch))
        yield from busy_retries(lambda: client.request(
            'PUT', node_path(ident, 'states', 'provision'), body=body))
        if not wait or expected is None:
            return Outcome(True, f'{target} requested')
        note(f'{target} requested')
        return (yield from wait_for_provision(client, ident, expected,
                                              timeout))
    return action


def wait_for_provision(client: ApiClient, ident: str, expected: str,
                       timeout: float) -> Steps[Outcome]:
    """Poll until the node is in ``expected`` with no target and no
    lock, or stopped in another state, or time ran out."""
    deadline = time.monotonic() + timeout
    attempt = 0
    while True:
        node = yield from busy_retries(lambda: client.request(
            'GET', node_path(ident), params={'fields': _WAIT_FIELDS}))
        state = node.get('provision_state')
        data = {'provision_state': state}
        settled = not node.get('target_provision_state') \
            and not node.get('reservation')
        if settled and state == expected:
            return Outcome(True, f'reached {expected}', data)
        if state in _FAILED or (settled and state != expected):
            return Outcome(False, node.get('last_error') or
                           f'provision state is {state}, not {expected}',
                           data)
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return Outcome(False, f'timed out after {timeout:g}s waiting '
                                  f'for {expected} (provision state: '
                                  f'{state})', data)
        yield min(backoff(attempt, base=0.25, cap=2.0), remaining)
        attempt += 1


def enroll(client: ApiClient, create: Action, targets: list[str],
           timeout: float) -> Action:
    """``create`` a node, then move it through ``targets`` (``manage``,
    then ``provide``), waiting for each: enrollment that ends with nodes
    power sync reads, since it leaves nodes in ``enroll`` alone.

    The outcome fails at the first step that fails and says which; the
    node it created stays, in the state that step left it in.
    """
    def action(ident: str, note: Note) -> Steps[Outcome]:
        outcome = yield from create(ident, note)
        node = outcome.data.get('uuid')
        if not outcome.ok or not node:
            return outcome
        reasons = [outcome.reason]
        data = dict(outcome.data)
        note(outcome.reason)
        for target in targets:
            step = yield from provision(client, target, True,
                                        timeout)(node, note)
            data.update(step.data)
            if not step.ok:
                return Outcome(False, f'{", ".join(reasons)}; {target} '
                                      f'failed: {step.reason}', data)
            reasons.append(step.reason)
        return Outcome(True, ', '.join(reasons), data)
    return action
