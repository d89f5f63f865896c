"""Bounds on concurrent deploys and cleanings.

``[conductor] max_concurrent_deploy`` and ``max_concurrent_clean``
(Ironic's names and meaning) bound how many nodes may be deploying
(``deploying`` or ``wait call-back``) or cleaning (``cleaning`` or
``clean wait``) at once, across all conductors, so that a shared
installer or image backend never sees more than it can take; ``[conductor]
max_concurrent_deploy_by_group`` adds a bound per conductor group (a
rack or site with its own installer). A request beyond a bound is
refused with ``ConcurrentActionLimit`` (HTTP 503, as in Ironic), and the
node stays where it was: a client retries it later.

A node waiting for its installer counts until it leaves ``wait
call-back``, whatever ends it. Within one conductor process, the count
and the transition that starts an action are one step (a lock), so
concurrent requests never overshoot a bound; across conductors the
count is read from the database, and two conductors starting their
last permitted action at the same instant may overshoot by one each,
as in Ironic.
"""

import collections.abc
import contextlib
import threading

from podium.common import exceptions
from podium.common import states as s
from podium.conf import CONF
from podium.db import api as db_api

#: States that count against each bound.
DEPLOY_STATES = (s.DEPLOYING, s.DEPLOYWAIT)
CLEAN_STATES = (s.CLEANING, s.CLEANWAIT)

_lock = threading.Lock()


def _count(states: tuple[str, ...], group: str | None = None) -> int:
    return sum(db_api.count_nodes({'provision_state': state,
                                   'conductor_group': group})
               for state in states)


def _check(kind: str, group: str) -> None:
    if kind == 'deploy':
        states, limit = DEPLOY_STATES, CONF.conductor.max_concurrent_deploy
        task_type = 'provisioning'
    else:
        states, limit = CLEAN_STATES, CONF.conductor.max_concurrent_clean
        task_type = 'cleaning'
    if _count(states) >= limit:
        raise exceptions.ConcurrentActionLimit(task_type=task_type)
    if kind != 'deploy':
        return
    by_group = {name.lower(): limit for name, limit in
                (CONF.conductor.max_concurrent_deploy_by_group or {}).items()}
    group_limit = by_group.get(group.lower()) if group else None
    if group_limit is not None and _count(states, group) >= group_limit:
        raise exceptions.ConcurrentActionLimit(
            task_type=f'provisioning in conductor group "{group}"')


def kind_of(current: str, new: str) -> str | None:
    """The bound a transition from ``current`` to ``new`` counts against:
    ``'deploy'``, ``'clean'`` or None. Only starting an action counts;
    moving between its states (``wait call-back`` back to
    ``deploying``) does not, nor does the cleaning that follows a
    tear-down (refusing it would strand the node in ``deleting``)."""
    if new == s.DEPLOYING and current not in DEPLOY_STATES:
        return 'deploy'
    if new == s.CLEANING and current == s.MANAGEABLE:
        return 'clean'
    return None


@contextlib.contextmanager
def slot(current: str, new: str,
         group: str | None) -> collections.abc.Iterator[None]:
    """Hold the bound of a transition while it is written.

    :raises ConcurrentActionLimit: the bound is reached; nothing is
        written then.
    """
    kind = kind_of(current, new)
    if kind is None:
        yield
        return
    with _lock:
        _check(kind, group or '')
        yield
