"""The process-wide cache of Redfish connections.

Opening a sushy connection costs requests (service root, maybe a session
login) and a TCP/TLS handshake; a power-sync cycle over thousands of nodes
must not pay that per node. A :class:`Connection` is kept per
:class:`~podium.drivers.modules.redfish.utils.ConnectionKey` (address,
user, keyed password digest, CA verification, auth type), so nodes behind
one BMC share it and a changed password opens a new one. Entries unused
for ``[redfish] connection_cache_ttl`` seconds, or beyond
``connection_cache_size``, are closed (their session logged out).

An entry is the logged-in state, not a socket: the sockets its reads keep
count against :mod:`.socket_budget`, which may close them while the
entry stays, so a conductor stays logged in to more BMCs than its open
files limit would hold sockets for (the next read reconnects without
logging in again).
"""

import collections
import json
import threading
import time
from typing import Any

import requests
import sushy
from oslo_log import log
from sushy import auth as sushy_auth

from podium.common import exceptions
from podium.conf import CONF
from podium.drivers.modules import aio_loop, deadline
from podium.drivers.modules.redfish import aio_get, lean_get, transport, utils

LOG = log.getLogger(__name__)

#: Seconds between two warnings that the connection cache is too small.
EVICTION_WARNING_SECONDS = 600.0

# Seconds an evicted connection may spend logging its session out.
_CLOSE_TIMEOUT = 2.0


# What sushy still reads from the service root document after parsing
# it (Links.Sessions to log in again) and what systems_path needs.
_ROOT_KEYS_KEPT = ('Links', 'Systems')


class _SharedAdapter(requests.adapters.HTTPAdapter):
    """One requests transport for every cached connection.

    A requests session's own two adapters, their pool managers and retry
    objects cost about 4 KB per BMC, for a path only actions and
    fallbacks use since reads went lean. Shared, its pool manager keeps
    pools of the :data:`_POOLS` most recently used BMCs and closes older
    ones, so idle requests sockets stay bounded whatever the fleet size.
    Closing one connection must not close the others' pools, hence the
    no-op ``close``.
    """

    def close(self) -> None:
        """Keep the shared pools open (evicted pools close on their own)."""


#: BMCs whose requests pool stays open: enough that connections being set
#: up in parallel (service root, then login) rarely lose theirs between
#: two requests, few enough to bound idle sockets. Also the idle sockets
#: kept per pool, for the many BMCs that may share one proxy's pool.
_POOLS = 64
_SHARED_ADAPTER = _SharedAdapter(pool_connections=_POOLS,
                                 pool_maxsize=_POOLS)


def _share_adapters(session: requests.Session) -> None:
    """Swap the session's default adapters for :data:`_SHARED_ADAPTER`;
    a custom adapter (e.g. sushy's TLS one) is kept."""
    for prefix, adapter in list(session.adapters.items()):
        if type(adapter) is requests.adapters.HTTPAdapter:
            session.mount(prefix, _SHARED_ADAPTER)


def _auth(info: utils.RedfishInfo) -> sushy_auth.AuthBase:
    kinds = {'basic': sushy_auth.BasicAuth,
             'session': sushy_auth.SessionAuth,
             'auto': sushy_auth.SessionOrBasicAuth}
    return kinds[info.auth_type](username=info.username,
                                 password=info.password)


class Connection:
    """One BMC connection: the sushy root and what was learnt about it.

    Thread-safe to share: the sushy root is only read after creation, and
    the lean power read uses the connector's requests session, which
    requests documents as safe for concurrent use with its pool.
    """

    def __init__(self, info: utils.RedfishInfo) -> None:
        self.address = info.address
        self.connector = transport.BoundedConnector(info.address,
                                                    info.verify)
        _share_adapters(self.connector.http)
        try:
            self.root = sushy.Sushy(info.address, auth=_auth(info),
                                    verify=info.verify,
                                    root_prefix=utils.ROOT_PREFIX,
                                    connector=self.connector)
        except BaseException:
            self.connector.close()
            raise
        # The parsed root stays (its fields and auth are used); the raw
        # document, several KB on a real BMC, is cut to what is read.
        root_json = self.root.json or {}
        self.root._json = {key: root_json[key] for key in _ROOT_KEYS_KEPT
                           if key in root_json}
        # Reads go through the lean getter from now on; the socket
        # sushy's set-up used stays in the shared requests pools only
        # until _POOLS other BMCs have been used (see _SharedAdapter).
        self._lean = lean_get.LeanGetter(info.address, info.verify)
        self._verify = info.verify
        #: The non-blocking getter, opened by the first such read.
        self._aio: aio_get.AioGetter | None = None
        self._lock = threading.Lock()
        self._default_system: str | None = None
        #: Set when the BMC advertised $expand but refused it.
        self.expand_refused = False
        self.last_used = time.monotonic()

    @property
    def systems_path(self) -> str:
        """The ComputerSystemCollection path the service root names."""
        link = (self.root.json or {}).get('Systems') or {}
        return str(link.get('@odata.id') or
                   utils.SYSTEMS_PREFIX).rstrip('/')

    def expand_supported(self) -> bool:
        """Whether the BMC advertises ``$expand`` (ProtocolFeatures)."""
        features = self.root.protocol_features_supported
        expand = getattr(features, 'expand_query', None) if features else None
        return isinstance(expand, dict) and bool(
            expand.get('ExpandAll') or expand.get('Levels'))

    def expand_usable(self) -> bool:
        """Whether power sync should read this BMC's systems in one
        ``$expand`` request: enabled, advertised and not refused."""
        return (CONF.redfish.use_expand and not self.expand_refused
                and self.expand_supported())

    def system_path(self, info: utils.RedfishInfo) -> str:
        """The node's system path; the BMC's only system if none given.

        :raises DriverError: (via sushy) when the BMC has not exactly one.
        """
        if info.system_path is not None:
            return info.system_path
        if self._default_system is None:
            members = self.root.get_system_collection().members_identities
            if len(members) != 1:
                raise exceptions.DriverError(
                    reason=f'the BMC at {self.address} has '
                           f'{len(members)} systems; set '
                           f'redfish_system_id to choose one')
            with self._lock:
                self._default_system = str(members[0]).rstrip('/')
        return self._default_system

    def known_system_path(self, info: utils.RedfishInfo) -> str | None:
        """The node's system path if known without a request."""
        return (info.system_path if info.system_path is not None
                else self._default_system)

    def aio_getter(self) -> aio_get.AioGetter:
        """The non-blocking getter of this BMC (:mod:`.aio_get`).

        Opening it closes the lean getter's idle connections: reads go
        through the new one from now on, and one idle socket per BMC
        rather than two keeps a large fleet within the process's file
        descriptors (a fallback read keeps one again).
        """
        with self._lock:
            if self._aio is None:
                self._aio = aio_get.AioGetter(
                    self.address, self._verify, proxied=self._lean.proxied)
                self._lean.shed()
            return self._aio

    def get_json(self, path: str) -> dict[str, Any]:
        """GET ``path`` with one request and return its JSON body.

        The hot read path: the connector's authenticated requests session
        directly, skipping sushy's resource parsing (about a third of the
        CPU a sushy read costs). A rejected session token falls back to
        sushy, which logs in again.
        """
        url = self.address + path
        http = self.connector.http
        with self.connector.bounded_request('GET', url) as timeout:
            # http.client first (lean_get explains why); requests when
            # it cannot serve the request the same way.
            reply = self._lean.get(path, http, JSON_HEADERS, timeout)
            if reply is None:
                response = http.get(url, timeout=(timeout, timeout),
                                    verify=self.connector.verify,
                                    headers=JSON_HEADERS)
                reply = (response.status_code, response.content)
        if reply[0] == 200:
            return json.loads(reply[1])
        # Let sushy map the status (and re-authenticate on 401).
        return self.connector.get(path).json()

    def close(self) -> None:
        """Log the session out (bounded) and close the lean read's
        connections; an idle requests socket is left to the shared pools'
        eviction (see :class:`_SharedAdapter`)."""
        auth, self.root._auth = self.root._auth, None
        try:
            if auth is not None:
                with deadline.bounded(_CLOSE_TIMEOUT):
                    auth.close()
        except Exception as exc:
            # The BMC will expire the session on its own.
            LOG.debug('Ignoring a failure to close the Redfish session at '
                      '%s: %s', self.address, type(exc).__name__)
        finally:
            self._lean.close()
            getter = self._aio
            if getter is not None:
                # Its connections belong to the loop thread.
                aio_loop.LOOP.call_soon(getter.close)
            self.connector.close()


JSON_HEADERS = {'Accept': 'application/json', 'OData-Version': '4.0',
                 'Accept-Encoding': 'identity'}


def _has_session(conn: Connection) -> bool:
    # SessionOrBasicAuth is a SessionAuth: a key once logged in.
    auth = getattr(conn.root, '_auth', None)
    getter = getattr(auth, 'get_session_key', None)
    return bool(getter()) if callable(getter) else False


class ConnectionCache:
    """LRU + idle-TTL cache of :class:`Connection` by connection key."""

    def __init__(self) -> None:
        self._entries: collections.OrderedDict[
            utils.ConnectionKey, Connection] = collections.OrderedDict()
        self._lock = threading.Lock()
        self._warn_after = 0.0

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, info: utils.RedfishInfo) -> Connection:
        """The cached connection for ``info``, opened if needed."""
        key = info.connection_key()
        now = time.monotonic()
        with self._lock:
            stale = self._pop_stale(now)
            conn = self._entries.get(key)
            if conn is not None:
                self._entries.move_to_end(key)
                conn.last_used = now
        self._close_all(stale)
        if conn is not None:
            return conn
        new = Connection(info)
        with self._lock:
            conn = self._entries.get(key)
            if conn is None:
                self._entries[key] = conn = new
            evicted = self._pop_oversize()
        if conn is not new:
            evicted.append(new)  # another thread won the race
        self._close_all(evicted)
        return conn

    def sessions_at(self, endpoint: str) -> int:
        """Cached connections to ``endpoint`` (``host:port``) holding a
        Redfish session (a token sushy logs out when closing)."""
        with self._lock:
            conns = [conn for conn in self._entries.values()
                     if conn.address.split('://', 1)[-1] == endpoint]
        return sum(1 for conn in conns if _has_session(conn))

    def peek(self, info: utils.RedfishInfo,
             touch: bool = False) -> Connection | None:
        """The cached connection for ``info``, if any; opens nothing.
        With ``touch``, it counts as used now (kept by the idle TTL)."""
        key = info.connection_key()
        with self._lock:
            conn = self._entries.get(key)
            if conn is not None and touch:
                self._entries.move_to_end(key)
                conn.last_used = time.monotonic()
            return conn

    def forget(self, info: utils.RedfishInfo,
               conn: Connection | None = None) -> None:
        """Drop (and close) the entry of ``info``, e.g. after a 401.

        With ``conn``, only if the entry is still that connection.
        """
        key = info.connection_key()
        with self._lock:
            current = self._entries.get(key)
            if current is None or (conn is not None and current is not conn):
                return
            del self._entries[key]
        self._close_all([current])

    def clear(self) -> None:
        with self._lock:
            entries = list(self._entries.values())
            self._entries.clear()
        self._close_all(entries)

    def _pop_stale(self, now: float) -> list[Connection]:
        ttl = CONF.redfish.connection_cache_ttl
        stale: list[Connection] = []
        if not ttl:
            return stale
        # Least recently used first: stop at the first fresh entry.
        while self._entries:
            key, conn = next(iter(self._entries.items()))
            if now - conn.last_used < ttl:
                break
            del self._entries[key]
            stale.append(conn)
        return stale

    def _pop_oversize(self) -> list[Connection]:
        evicted = []
        while len(self._entries) > CONF.redfish.connection_cache_size:
            _key, conn = self._entries.popitem(last=False)
            evicted.append(conn)
        if evicted and time.monotonic() >= self._warn_after:
            # Power sync visits every BMC once a cycle, in the same order:
            # with more BMCs than the cache holds, every connection is
            # evicted before its next use and every read logs in again.
            self._warn_after = time.monotonic() + EVICTION_WARNING_SECONDS
            LOG.warning(
                'The Redfish connection cache is full (%d connections): '
                'the least recently used, to %s, was closed. If this '
                'conductor reads more BMCs than that, raise [redfish] '
                'connection_cache_size above their number (it costs '
                'memory, not file descriptors), or every power sync '
                'cycle logs in to every BMC again.',
                CONF.redfish.connection_cache_size, evicted[0].address)
        return evicted

    @staticmethod
    def _close_all(conns: list[Connection]) -> None:
        for conn in conns:
            LOG.debug('Closing the cached Redfish connection to %s',
                      conn.address)
            conn.close()


#: The process-wide cache every Redfish interface uses.
CACHE = ConnectionCache()
