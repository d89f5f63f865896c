"""BMC health (a Podium extension): ``GET /v1/podium/bmcs`` and the
node's ``bmc_health`` field.

Each conductor keeps the health records of the BMCs of its nodes in
memory (:mod:`podium.conductor.bmc_health`); the API asks every alive
conductor for them over RPC (1.2), as it relays metrics, and lists them
worst first. A conductor that does not answer is named in
``unreachable_conductors`` rather than failing the whole list.

A single node's ``GET /v1/nodes/{node}`` (without ``fields``) carries
``bmc_health``: the record of its BMC, as the conductor that owns the
node kept it, or null when there is none (no request yet, a driver
without a BMC endpoint, a conductor that does not answer). Stock clients
ignore fields they do not know. Node show is the call clients poll
(``--wait``), so it never costs an RPC of its own: each API process asks
a conductor for all its records at most once per :data:`CACHE_SECONDS`
(records change once per sync cycle anyway) and serves shows from that.
"""

import threading
import time
from typing import Any

from fastapi import APIRouter, Query, Request
from oslo_log import log
from starlette.responses import Response

from podium.api import params, responses
from podium.common import context as podium_context
from podium.common import exceptions
from podium.conf import CONF
from podium.db import api as db_api
from podium.db import node_reads
from podium.drivers import driver_factory

LOG = log.getLogger(__name__)

router = APIRouter(tags=['bmcs'])

#: The node field, added by :func:`node_bmc_health`.
NODE_FIELD = 'bmc_health'

#: The largest ``limit`` of the BMC list (a fleet view shows the worst
#: few; a script wanting all of them omits ``limit``).
MAX_LIMIT = 1000


def _context(request: Request) -> podium_context.RequestContext:
    return podium_context.RequestContext(
        user_id=getattr(request.state, 'user', None))


@router.get('/v1/podium/bmcs',
            summary='Health of the BMCs (Podium extension)',
            description='Per BMC endpoint (host:port): latency '
                        'percentiles over the last requests, consecutive '
                        'failures and timeouts, the last good read, '
                        'requests in flight and open sessions, as each '
                        'alive conductor keeps them for the nodes it '
                        'owns. Suspect BMCs first, then the slowest. '
                        '"suspect=true" lists suspects only; "limit=N" '
                        'the N worst ("total" counts them all).')
def list_bmcs(request: Request,
              suspect: str | None = Query(None),
              limit: str | None = Query(None)) -> Response:
    only_suspects = params.parse_bool('suspect', suspect)
    # Checked before any RPC: a bad limit costs no conductor a call.
    most = params.parse_limit(limit, MAX_LIMIT) if limit is not None \
        else None
    rpcapi = request.app.state.rpcapi
    entries: list[dict[str, Any]] = []
    unreachable: list[str] = []
    for conductor in db_api.list_conductors():
        if not db_api.is_alive(conductor, CONF.conductor.heartbeat_timeout):
            continue
        try:
            records = rpcapi.get_bmc_health(_context(request),
                                            conductor.hostname)
        except exceptions.PodiumException as exc:
            # Unreachable, or too old to know RPC 1.2.
            LOG.warning('BMC health of conductor %s: %s',
                        conductor.hostname, exc)
            unreachable.append(conductor.hostname)
            continue
        entries.extend(dict(record, conductor=conductor.hostname)
                       for record in records)
    if only_suspects is not None:
        entries = [entry for entry in entries
                   if entry['suspect'] == only_suspects]
    entries.sort(key=lambda e: (not e['suspect'],
                                -(e['latency_p95'] or 0.0),
                                e['endpoint'], e['conductor']))
    return responses.JSONResponse({'bmcs': entries[:most],
                                   'total': len(entries),
                                   'unreachable_conductors': unreachable})


#: How long an API process serves a conductor's records before asking
#: again (also how long it waits before asking one that did not answer).
CACHE_SECONDS = 5.0


class _ConductorRecords:
    """The BMC health records one conductor gave this API process."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.by_endpoint: dict[str, dict[str, Any]] = {}
        self.fetched_at: float | None = None

    def fresh(self) -> bool:
        """Fetched less than :data:`CACHE_SECONDS` ago."""
        fetched_at = self.fetched_at
        return fetched_at is not None and \
            time.monotonic() - fetched_at < CACHE_SECONDS


class HealthCache:
    """Per-conductor BMC health records, fetched at most once per
    :data:`CACHE_SECONDS` each; a fetch in progress never makes another
    request wait while older records exist."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._hosts: dict[str, _ConductorRecords] = {}

    def record(self, request: Request, host: str,
               endpoint: str) -> dict[str, Any] | None:
        with self._lock:
            entry = self._hosts.setdefault(host, _ConductorRecords())
        if not entry.fresh() and entry.lock.acquire(
                blocking=entry.fetched_at is None):
            try:
                if not entry.fresh():
                    entry.by_endpoint = self._fetch(request, host)
                    entry.fetched_at = time.monotonic()
            finally:
                entry.lock.release()
        return entry.by_endpoint.get(endpoint)

    def peek(self, host: str,
             endpoint: str) -> tuple[bool, dict[str, Any] | None]:
        """``(True, record)`` when ``host``'s records are fresh, without
        a lock or a fetch; ``(False, None)`` when they must be fetched."""
        entry = self._hosts.get(host)
        if entry is None or not entry.fresh():
            return False, None
        return True, entry.by_endpoint.get(endpoint)

    @staticmethod
    def _fetch(request: Request, host: str) -> dict[str, dict[str, Any]]:
        try:
            if not db_api.is_alive(db_api.get_conductor(host),
                                   CONF.conductor.heartbeat_timeout):
                return {}  # not worth an RPC timeout
            records = request.app.state.rpcapi.get_bmc_health(
                _context(request), host)
        except exceptions.PodiumException as exc:
            LOG.debug('No BMC health from conductor %s: %s', host, exc)
            return {}
        return {record['endpoint']: dict(record, conductor=host)
                for record in records}


_cache = HealthCache()


def _record_key(request: Request, node: Any) -> tuple[str, str] | None:
    """The conductor host and BMC endpoint of ``node``'s health record;
    None when it has none."""
    try:
        endpoint = driver_factory.get_registry().for_node(
            node).power.bmc_endpoint(node)
        if endpoint is None:
            return None
        host = request.app.state.rpcapi.get_topic_for(node)
    except exceptions.PodiumException as exc:
        LOG.debug('No BMC health for node %s: %s', node.uuid, exc)
        return None
    return host, endpoint


def node_bmc_health(request: Request, node: Any) -> dict[str, Any] | None:
    """The health record of ``node``'s BMC, as the conductor owning the
    node kept it at most :data:`CACHE_SECONDS` ago; None when there is
    none or it cannot be had now."""
    key = _record_key(request, node)
    return None if key is None else _cache.record(request, *key)


def node_bmc_health_nowait(request: Request,
                           node: Any) -> dict[str, Any] | None:
    """:func:`node_bmc_health` for the event loop thread.

    :raises WouldWait: the conductor's records must be fetched first.
    """
    key = _record_key(request, node)
    if key is None:
        return None
    fresh, record = _cache.peek(*key)
    if not fresh:
        raise node_reads.WouldWait('BMC health records to fetch')
    return record


def reset_cache() -> None:
    """Forget every conductor's records (for tests)."""
    global _cache
    _cache = HealthCache()
