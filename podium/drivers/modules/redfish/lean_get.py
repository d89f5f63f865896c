"""A lean keep-alive GET for the power-read hot path.

Power sync reads one small JSON document per node per cycle. Through
requests and urllib3 such a GET costs about 0.5 ms of CPU (their
request preparation, adapters and pool bookkeeping); through
``http.client`` on a kept-alive connection about 0.15 ms, measured by
``bench/power_sync.py`` with 100 concurrent readers. At tens of
thousands of nodes that difference is the conductor's CPU budget.

:class:`LeanGetter` keeps idle ``http.client`` connections to one BMC and
sends GETs with the authentication the connector's requests session
holds (sushy's session token header, or its basic-auth pair). It serves
only what it can serve exactly like requests would: anything else (an
auth object it does not know, a proxy from the environment, a
connection it cannot open) returns None
and the caller uses the requests path, which reports errors as before.
A timeout is raised as requests' own, so the connector maps it to
``BMCTimeout`` unchanged.

The sockets it keeps count against the process's
:mod:`.socket_budget`: a socket it opened is kept idle only if the budget
allows, and closing a kept one gives its place back.
"""

import functools
import http.client
import os
import ssl
import threading
import urllib.parse
from collections.abc import Mapping
from typing import Any

import requests

from podium.drivers.modules.redfish import socket_budget

#: Idle connections kept per BMC; more only under concurrent reads.
MAX_IDLE = 4

# A keep-alive connection the BMC closed meanwhile fails like this on
# reuse; the request is then sent once more on a fresh connection.
_STALE = (http.client.RemoteDisconnected, ConnectionResetError,
          BrokenPipeError)


def _ssl_context(verify: bool | str) -> ssl.SSLContext:
    """What requests would verify with: its CA bundle, a given CA file or
    directory, or nothing.

    One context per distinct setting, shared by every BMC using it: a
    context holds its loaded CA store in OpenSSL memory (hundreds of KB
    for the full bundle), which a context per BMC would multiply by the
    fleet size. A CA file or directory is keyed by its modification time
    too, so a rotated CA is picked up by connections opened afterwards.
    """
    stamp = os.stat(verify).st_mtime_ns if isinstance(verify, str) else 0
    return _shared_context(verify, stamp)


@functools.lru_cache(maxsize=16)
def _shared_context(verify: bool | str, _stamp: int) -> ssl.SSLContext:
    if verify is False:
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        return context
    if verify is True:
        return ssl.create_default_context(cafile=requests.certs.where())
    if os.path.isdir(verify):
        return ssl.create_default_context(capath=verify)
    return ssl.create_default_context(cafile=verify)


def auth_headers(session: requests.Session) -> dict[str, str] | None:
    """The session's headers plus its basic auth as a header; None when
    its auth is something this module cannot reproduce."""
    store = getattr(session.headers, '_store', None)
    # requests' CaseInsensitiveDict keeps {lower: (name, value)}: one
    # C-level dict() of its values instead of a Python-level walk of
    # its keys (5 % of an async power read's CPU).
    headers = (dict(store.values()) if isinstance(store, dict)
               else dict(session.headers))
    auth: Any = session.auth
    if auth is None:
        return headers
    if isinstance(auth, tuple) and len(auth) == 2 and all(
            isinstance(v, str | bytes) for v in auth):
        try:
            # requests' own encoder: it sends str credentials as latin-1,
            # which a BMC may compare byte for byte.
            headers['Authorization'] = requests.auth._basic_auth_str(*auth)
        except UnicodeEncodeError:
            return None  # requests fails the same way; let it report
        return headers
    return None


class LeanGetter:
    """Kept-alive ``http.client`` GETs to one BMC (thread-safe)."""

    def __init__(self, address: str, verify: bool | str,
                 budget: socket_budget.SocketBudget | None = None) -> None:
        parts = urllib.parse.urlsplit(address)
        self._https = parts.scheme == 'https'
        self._host = parts.hostname or ''
        self._port = parts.port
        self._prefix = parts.path.rstrip('/')
        self._context = _ssl_context(verify) if self._https else None
        # requests would send through a proxy from the environment.
        self.proxied = bool(requests.utils.get_environ_proxies(address))
        self._idle: list[http.client.HTTPConnection] = []
        self._lock = threading.Lock()
        self._closed = False
        self._budget = budget or socket_budget.BUDGET

    def _new(self, timeout: float) -> http.client.HTTPConnection:
        if self._https:
            return http.client.HTTPSConnection(
                self._host, self._port, timeout=timeout,
                context=self._context)
        return http.client.HTTPConnection(self._host, self._port,
                                          timeout=timeout)

    def _take(self) -> http.client.HTTPConnection | None:
        with self._lock:
            return self._idle.pop() if self._idle else None

    def _give(self, conn: http.client.HTTPConnection,
              counted: bool) -> None:
        """Keep ``conn`` idle if there is room here and in the budget
        (``counted``: the budget counts it already, it was kept before).
        """
        if counted:
            self._budget.used(self)
        elif not self._room() or not self._budget.keep(self):
            conn.close()
            return
        with self._lock:
            if not self._closed and len(self._idle) < MAX_IDLE:
                self._idle.append(conn)
                return
        self._discard(conn, True)

    def _room(self) -> bool:
        with self._lock:
            return not self._closed and len(self._idle) < MAX_IDLE

    def _discard(self, conn: http.client.HTTPConnection,
                 counted: bool) -> None:
        conn.close()
        if counted:
            self._budget.released(self)

    def get(self, path: str, session: requests.Session,
            headers: Mapping[str, str], timeout: float
            ) -> tuple[int, bytes] | None:
        """GET ``path``: ``(status, body)``, or None when the requests
        path must serve it.

        :raises requests.exceptions.ReadTimeout: the BMC did not answer
            within ``timeout`` seconds.
        """
        sent = auth_headers(session)
        if sent is None or (self.proxied and session.trust_env):
            return None
        sent.update(headers)
        conn = self._take()
        # A reused connection was kept idle: the budget counts it.
        reused = conn is not None
        for _attempt in (1, 2):
            if conn is None:
                conn = self._new(timeout)
            elif conn.sock is not None:
                conn.sock.settimeout(timeout)
            try:
                conn.request('GET', self._prefix + path, headers=sent)
                response = conn.getresponse()
                body = response.read()
            except TimeoutError:
                self._discard(conn, reused)
                raise requests.exceptions.ReadTimeout(
                    f'GET {path} timed out') from None
            except _STALE:
                self._discard(conn, reused)
                if not reused:
                    return None
                conn, reused = None, False
                continue
            except (OSError, http.client.HTTPException):
                self._discard(conn, reused)
                return None
            encoding = response.getheader('Content-Encoding', 'identity')
            if response.will_close:
                self._discard(conn, reused)
            else:
                # An idle connection keeps its last response until the
                # next request; its parsed headers alone are about 1 KB
                # per BMC, and nothing reads them again.
                response.msg = response.headers = None  # type: ignore[assignment]
                self._give(conn, reused)
            if encoding.lower() != 'identity':
                # Compressed despite our Accept-Encoding: requests knows
                # how to decode it, this path does not.
                return None
            return response.status, body
        return None

    def shed(self) -> None:
        """Close the idle connections; later GETs keep theirs again
        (:class:`.socket_budget.Holder`)."""
        with self._lock:
            idle, self._idle = self._idle, []
        self._close_all(idle)

    def close(self) -> None:
        """Close every idle connection; later GETs open none to keep."""
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, []
        self._close_all(idle)

    def _close_all(self, idle: list[http.client.HTTPConnection]) -> None:
        for conn in idle:
            conn.close()
        self._budget.released(self, len(idle))
