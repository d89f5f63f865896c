"""The process-wide budget of kept-alive sockets to Redfish BMCs.

A cached Redfish connection (:mod:`.connection`) holds two things with
different costs. Its logged-in state (session token, service root,
system paths, ``$expand`` support) costs memory, and a login of several
requests to rebuild; it is kept for ``[redfish] connection_cache_size``
BMCs. Its kept-alive sockets cost file descriptors, and only a TCP (or
TLS) handshake to rebuild; the process's open files limit bounds them,
whatever the number of BMCs. This module keeps the second within a
budget, so a conductor can stay logged in to more BMCs than it has file
descriptors: a BMC whose socket was closed opens a new one on its next
read, with the session it has.

The budget counts the sockets the power-read getters (:mod:`.lean_get`,
:mod:`.aio_get`) keep, idle or taken for a read: ``[redfish]
socket_budget``, or by default the soft ``RLIMIT_NOFILE`` minus
``[redfish] reserved_file_descriptors`` for everything else the process
opens (the database, RPC, logs, IPMI, the requests pools of
:mod:`.connection`, and the sockets of reads in flight that have none
kept). A getter asks :meth:`SocketBudget.keep` before keeping a newly
opened socket idle; sockets it kept are counted until it closes them.

Power sync reads every BMC once a cycle, in the same order. Least
recently used eviction would then close every socket before its next
use: with one BMC more than the budget, no read would ever reuse one.
So a full budget does not let a new socket push out an old one, except
for one in :data:`ADMIT_EVERY` (bimodal insertion, after Qureshi et al.,
"Adaptive Insertion Policies for High Performance Caching", ISCA 2007):
the BMCs that hold sockets keep them cycle after cycle, the others
reconnect on each read, and BMCs no longer read (moved to another
conductor) still give their sockets up to the newcomers over time.
"""

import collections
import resource
import threading
import time
from collections.abc import Callable
from typing import Protocol

from oslo_log import log

from podium.common import open_files
from podium.conf import CONF

LOG = log.getLogger(__name__)

#: With the budget full, one newly opened socket in this many is kept in
#: place of the least recently used BMC's; the others are closed after
#: their read. A cyclic walk over E BMCs more than the budget then
#: reconnects about E * ADMIT_EVERY / (ADMIT_EVERY - 1) a cycle (LRU:
#: all of them), and after the set of BMCs read changes, the sockets of
#: those no longer read go to the new ones at about 1/ADMIT_EVERY of
#: the reconnects a cycle, least recently used first (or at their
#: connection's ``connection_cache_ttl``).
ADMIT_EVERY = 8

#: Seconds between two warnings that the budget is full.
WARNING_SECONDS = 600.0


class Holder(Protocol):
    """What keeps sockets within the budget: one BMC's getter."""

    def shed(self) -> None:
        """Close the idle sockets soon (called from any thread); each
        one closed is reported with :meth:`SocketBudget.released`."""


def limit() -> int:
    """Sockets the getters may keep: ``[redfish] socket_budget``, or the
    soft open files limit minus ``reserved_file_descriptors`` (at most
    half of it)."""
    configured: int = CONF.redfish.socket_budget
    if configured:
        return configured
    soft, _hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        soft = open_files.UNLIMITED_TARGET
    reserve = min(CONF.redfish.reserved_file_descriptors, soft // 2)
    return int(soft - reserve)


class SocketBudget:
    """Counts kept sockets per holder, in order of last use (thread-safe;
    the policy is in the module doc)."""

    def __init__(self, budget: Callable[[], int] = limit,
                 admit_every: int = ADMIT_EVERY) -> None:
        self._budget = budget
        self._admit_every = admit_every
        # Holder -> its kept sockets, least recently used first.
        self._kept: collections.OrderedDict[Holder, int] = (
            collections.OrderedDict())
        self._total = 0
        self._refused = 0
        self._lock = threading.Lock()
        self._warn_after = 0.0

    @property
    def kept(self) -> int:
        """Sockets counted now."""
        return self._total

    def holders(self) -> int:
        """Holders with at least one socket counted."""
        with self._lock:
            return len(self._kept)

    def keep(self, holder: Holder) -> bool:
        """Whether ``holder`` may keep a socket it opened; counted if so.

        With the budget full, it may one time in ``admit_every``, and the
        least recently used other holder's idle sockets are closed.
        """
        victim: Holder | None = None
        with self._lock:
            budget = self._budget()
            if self._total >= budget:
                self._refused += 1
                victim = next((other for other in self._kept
                               if other is not holder), None)
                if self._refused % self._admit_every or victim is None:
                    self._warn(budget)
                    return False
            self._total += 1
            self._kept[holder] = self._kept.get(holder, 0) + 1
            self._kept.move_to_end(holder)
        if victim is not None:
            victim.shed()
        return True

    def used(self, holder: Holder) -> None:
        """A counted socket of ``holder`` served a read (recency)."""
        with self._lock:
            if holder in self._kept:
                self._kept.move_to_end(holder)

    def released(self, holder: Holder, count: int = 1) -> None:
        """``count`` counted sockets of ``holder`` were closed."""
        if count <= 0:
            return
        with self._lock:
            left = self._kept.get(holder, 0) - count
            self._total -= count + min(left, 0)
            if left > 0:
                self._kept[holder] = left
            else:
                self._kept.pop(holder, None)

    def _warn(self, budget: int) -> None:
        now = time.monotonic()
        if now < self._warn_after:
            return
        self._warn_after = now + WARNING_SECONDS
        LOG.warning(
            'The Redfish socket budget is full (%d kept-alive sockets, '
            '[redfish] socket_budget, or the open files limit minus '
            'reserved_file_descriptors): reads of BMCs beyond it open a '
            'new TCP (or TLS) connection each time, without logging in '
            'again. Raise the open files limit (LimitNOFILE) to keep '
            'one socket per BMC.', budget)


#: The budget every Redfish getter of the process counts against.
BUDGET = SocketBudget()
