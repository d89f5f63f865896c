"""Which conductor manages which node: a consistent hash ring.

Every conductor hostname is hashed onto a ring at ``[conductor]
hash_ring_partitions`` points; a node belongs to the first point at or
after the hash of its UUID. When a conductor joins or leaves only the
nodes on its arcs move, so a fleet rebalances without reshuffling
everything. Rings are built per conductor group: a node of group ``g``
is managed only by the conductors of group ``g`` (the empty group
included), compared case-insensitively as Ironic does.
"""

import bisect
import hashlib
import threading
import time
from collections.abc import Iterable, Sequence
from typing import Any

from podium.common import exceptions
from podium.conf import CONF
from podium.db import api as db_api

#: Seconds a ring built from the conductors table is used before the
#: table is read again (at most one ``heartbeat_interval``).
RING_REFRESH_SECONDS = 5.0


def _hash(key: str) -> int:
    digest = hashlib.md5(key.encode('utf-8'), usedforsecurity=False)
    return int.from_bytes(digest.digest()[:8], 'big')


class HashRing:
    """Maps keys onto a fixed set of hosts."""

    def __init__(self, hosts: Iterable[str], partitions: int) -> None:
        if partitions < 1:
            raise ValueError('partitions must be at least 1')
        self.hosts = frozenset(hosts)
        points = sorted((_hash(f'{host}-{index}'), host)
                        for host in self.hosts
                        for index in range(partitions))
        self._keys = [point for point, _ in points]
        self._hosts = [host for _, host in points]
        # A ring never changes: each key is hashed once per ring (a
        # detailed list asks for every node of the page; rings are
        # rebuilt every few seconds, so this holds the keys of a fleet
        # at most).
        self._found: dict[str, str] = {}

    def get_host(self, key: str) -> str:
        """The host ``key`` belongs to.

        :raises NoValidHost: the ring has no host.
        """
        host = self._found.get(key)
        if host is None:
            if not self._keys:
                raise exceptions.NoValidHost(what=key)
            index = bisect.bisect_left(self._keys, _hash(key))
            host = self._found[key] = self._hosts[index % len(self._hosts)]
        return host


def _group_key(group: str | None) -> str:
    return (group or '').lower()


class HashRingManager:
    """Rings of the alive conductors, rebuilt every few seconds.

    The cache is shared by every instance of the process, so the API and
    the conductor of one process agree and read the table once.
    """

    _lock = threading.Lock()
    _rings: dict[str, HashRing] = {}
    _built_at: float | None = None
    #: (until, rings): the rings and when they must be rebuilt, replaced
    #: in one assignment, so that a lookup reads both without the lock.
    _fresh: tuple[float, dict[str, HashRing]] | None = None

    def _current_rings(self) -> dict[str, HashRing]:
        cls = type(self)
        # Without the lock or a configuration lookup while the rings are
        # fresh: a detailed list asks once per node.
        fresh = cls._fresh
        if fresh is not None and time.monotonic() < fresh[0]:
            return fresh[1]
        with cls._lock:
            now = time.monotonic()
            # Never older than a heartbeat: a dead conductor's nodes
            # then move as soon as it is seen dead.
            refresh = min(RING_REFRESH_SECONDS,
                          CONF.conductor.heartbeat_interval)
            if cls._built_at is None or now - cls._built_at >= refresh:
                cls._rings = self._build()
                cls._built_at = now
            cls._fresh = (cls._built_at + refresh, cls._rings)
            return cls._rings

    @staticmethod
    def _build() -> dict[str, HashRing]:
        members: dict[str, list[str]] = {}
        conductors = db_api.get_alive_conductors(
            CONF.conductor.heartbeat_timeout)
        for conductor in conductors:
            members.setdefault(_group_key(conductor.conductor_group),
                               []).append(conductor.hostname)
        partitions = CONF.conductor.hash_ring_partitions
        return {group: HashRing(hosts, partitions)
                for group, hosts in members.items()}

    @classmethod
    def fresh_for(cls, seconds: float) -> bool:
        """Whether the rings will be fresh for ``seconds`` more: a
        lookup until then reads no table (the event loop's check)."""
        fresh = cls._fresh
        return fresh is not None and time.monotonic() + seconds < fresh[0]

    @classmethod
    def reset(cls) -> None:
        """Forget the rings; the next lookup reads the table again."""
        with cls._lock:
            cls._fresh = None
            cls._rings = {}
            cls._built_at = None

    def get_ring(self, conductor_group: str | None = '') -> HashRing:
        """The ring of ``conductor_group`` (possibly without hosts)."""
        ring = self._current_rings().get(_group_key(conductor_group))
        return ring if ring is not None else HashRing((), 1)

    def get_conductor(self, node_uuid: str,
                      conductor_group: str | None = '') -> str:
        """The hostname of the conductor managing a node.

        :raises NoValidHost: no alive conductor serves the node's group.
        """
        ring = self.get_ring(conductor_group)
        if not ring.hosts:
            group = _group_key(conductor_group)
            raise exceptions.NoValidHost(
                what=f'node {node_uuid} (conductor group "{group}")')
        return ring.get_host(node_uuid)

    def find_conductor(self, node_uuid: str,
                       conductor_group: str | None = '') -> str | None:
        """Like :meth:`get_conductor`, but None when no conductor
        serves the node's group (for display, where that is no error)."""
        ring = self.get_ring(conductor_group)
        return ring.get_host(node_uuid) if ring.hosts else None

    def owns(self, hostname: str, node_uuid: str,
             conductor_group: str | None = '') -> bool:
        """Whether ``hostname`` manages the node."""
        ring = self.get_ring(conductor_group)
        return hostname in ring.hosts and \
            ring.get_host(node_uuid) == hostname

    def owned(self, hostname: str, rows: Sequence[Any]) -> list[Any]:
        """The ``rows`` (anything with ``uuid`` and ``conductor_group``)
        of nodes ``hostname`` manages, in their order."""
        rings = self._current_rings()
        result = []
        for row in rows:
            ring = rings.get(_group_key(row.conductor_group))
            if (ring is not None and hostname in ring.hosts
                    and ring.get_host(row.uuid) == hostname):
                result.append(row)
        return result

    def node_counts(self, rows: Iterable[Any]) -> dict[str, int]:
        """How many of ``rows`` (with ``uuid`` and ``conductor_group``)
        each alive conductor manages; conductors managing none are
        absent."""
        rings = self._current_rings()
        counts: dict[str, int] = {}
        for row in rows:
            ring = rings.get(_group_key(row.conductor_group))
            if ring is not None and ring.hosts:
                host = ring.get_host(row.uuid)
                counts[host] = counts.get(host, 0) + 1
        return counts

    def unserved_groups(self, groups: Iterable[str]) -> list[str]:
        """Those of ``groups`` no alive conductor serves, sorted and
        lower-cased: their nodes are managed by nobody."""
        rings = self._current_rings()
        return sorted({_group_key(group) for group in groups}
                      - {group for group, ring in rings.items()
                         if ring.hosts})
