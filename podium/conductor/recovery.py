"""Nodes nothing will finish: interrupted and timed-out transitions.

A node in a transient provision state (``cleaning``, ``deploying``,
``verifying`` ...) is being worked on by the conductor holding its lock,
or waits for a call-back. Two things can leave it there forever, and
both end here, as in Ironic, with the node in the failure state of its
transition and a ``last_error`` saying what happened:

* the conductor doing the work died or restarted: whoever clears its
  locks (itself on start-up, a live conductor on takeover) first notes
  which nodes it held mid-transition and fails them
  (:func:`fail_interrupted`);
* the work or the wait outlived its timeout (``[conductor]
  deploy_callback_timeout``, ``clean_callback_timeout``,
  ``inspect_wait_timeout``, ``verify_timeout``): a periodic task fails
  it (:func:`fail_timed_out`).
"""

import datetime
from collections.abc import Iterable
from typing import Any

from oslo_log import log

from podium.common import context as podium_context
from podium.common import exceptions, hash_ring
from podium.common import states as s
from podium.conductor import provisioning, task_manager
from podium.conf import CONF
from podium.db import api as db_api
from podium.db import models

LOG = log.getLogger(__name__)

#: The ``[conductor]`` option bounding each transient state.
TIMEOUT_OPTIONS = {
    s.VERIFYING: 'verify_timeout',
    s.INSPECTING: 'inspect_wait_timeout',
    s.INSPECTWAIT: 'inspect_wait_timeout',
    s.CLEANING: 'clean_callback_timeout',
    s.CLEANWAIT: 'clean_callback_timeout',
    s.DEPLOYING: 'deploy_callback_timeout',
    s.DEPLOYWAIT: 'deploy_callback_timeout',
    s.DELETING: 'deploy_callback_timeout',
    s.ADOPTING: 'deploy_callback_timeout',
}

_COLUMNS = ('id', 'uuid', 'name', 'conductor_group', 'provision_state',
            'provision_updated_at', 'reservation')


def _transient_rows(filters: dict[str, Any]) -> list[Any]:
    # One indexed query per state: no scan of every node each period.
    return [row for state in s.TRANSIENT_STATES
            for row in db_api.list_node_rows(
                _COLUMNS, filters=dict(filters, provision_state=state))]


def interrupted(holder: str) -> list[tuple[int, str]]:
    """``(node id, state)`` of the nodes ``holder`` has locked
    mid-transition; call before its locks are cleared."""
    return [(row.id, row.provision_state)
            for row in _transient_rows({'reserved': True})
            if row.reservation == holder]


def _fail(context: podium_context.RequestContext, host: str,
          node_id: int, state: str, message: str) -> bool:
    """Fail one node if it is still unlocked in ``state``."""
    try:
        with task_manager.acquire(context, node_id, purpose='recovery',
                                  host=host) as task:
            if task.node.provision_state != state:
                return False  # someone moved it on meanwhile
            provisioning.transition(task, 'fail', None, error=message,
                                    clean_step=None, deploy_step=None)
            return True
    except (exceptions.NodeNotFound, exceptions.NodeLocked):
        return False


def fail_interrupted(context: podium_context.RequestContext, host: str,
                     nodes: Iterable[tuple[int, str]], reason: str) -> int:
    """Fail nodes :func:`interrupted` found, once their locks are gone;
    returns how many were failed."""
    failed = 0
    for node_id, state in nodes:
        message = f'{state.capitalize()} was interrupted: {reason}.'
        if _fail(context, host, node_id, state, message):
            LOG.warning('Node %s: %s', node_id, message)
            failed += 1
    return failed


def fail_timed_out(context: podium_context.RequestContext, host: str,
                   ring: hash_ring.HashRingManager) -> int:
    """Fail the nodes this conductor owns that stayed unlocked in a
    transient state past its timeout; returns how many."""
    now = models.utcnow()
    failed = 0
    rows = ring.owned(host, _transient_rows({'reserved': False}))
    for row in rows:
        timeout = getattr(CONF.conductor,
                          TIMEOUT_OPTIONS[row.provision_state])
        since = row.provision_updated_at
        if not timeout or since is None:
            continue
        if now - since < datetime.timedelta(seconds=timeout):
            continue
        message = (f'Timeout reached while {row.provision_state} '
                   f'(after {timeout} seconds, [conductor] '
                   f'{TIMEOUT_OPTIONS[row.provision_state]}).')
        if _fail(context, host, row.id, row.provision_state, message):
            LOG.warning('Node %s: %s', row.name or row.uuid, message)
            failed += 1
    return failed
