"""A tiny keep-alive client of Podium's Ironic-compatible REST API.

Benchmarks drive the API the way a client does, over HTTP, but need
precise timings and no client-side surprises (retries, pooling policies,
import cost), so this is plain ``http.client`` with one connection per
thread.
"""

from __future__ import annotations

import http.client
import json
import threading
import time
import urllib.parse
from collections.abc import Callable, Mapping
from typing import Any

from bench import procs

HEADERS = {'Content-Type': 'application/json',
           'Accept': 'application/json',
           'X-OpenStack-Ironic-API-Version': 'latest'}


class ApiClient:
    """JSON over one keep-alive connection per calling thread."""

    def __init__(self, base_url: str, timeout: float = 60.0) -> None:
        parts = urllib.parse.urlsplit(base_url)
        self.host = parts.hostname or '127.0.0.1'
        self.port = parts.port or 80
        self.timeout = timeout
        self._local = threading.local()

    def _conn(self) -> http.client.HTTPConnection:
        conn = getattr(self._local, 'conn', None)
        if conn is None:
            conn = http.client.HTTPConnection(self.host, self.port,
                                              timeout=self.timeout)
            self._local.conn = conn
        return conn

    def call(self, method: str, path: str,
             body: Mapping[str, Any] | None = None) -> tuple[int, Any]:
        """One request; returns ``(status, decoded JSON or None)``."""
        payload = json.dumps(body).encode() if body is not None else None
        for attempt in (1, 2):
            conn = self._conn()
            try:
                conn.request(method, path, body=payload, headers=HEADERS)
                resp = conn.getresponse()
                data = resp.read()
                break
            except (ConnectionError, http.client.HTTPException):
                # A keep-alive connection the server closed: retry once
                # on a fresh one.
                conn.close()
                self._local.conn = None
                if attempt == 2:
                    raise
        return resp.status, (json.loads(data) if data else None)

    def ok(self, method: str, path: str,
           body: Mapping[str, Any] | None = None) -> Any:
        """Like :meth:`call`, but a non-2xx answer is a BenchError."""
        status, doc = self.call(method, path, body)
        if not 200 <= status < 300:
            raise procs.BenchError(f'{method} {path}: {status} {doc}')
        return doc

    def node(self, ident: str) -> dict[str, Any]:
        return dict(self.ok('GET', f'/v1/nodes/{ident}'))

    def nodes(self, fields: str) -> list[dict[str, Any]]:
        """Every node (following ``next`` links) with only ``fields``."""
        found: list[dict[str, Any]] = []
        path: str | None = f'/v1/nodes?fields={fields}'
        while path:
            doc = self.ok('GET', path)
            found.extend(doc['nodes'])
            nxt = doc.get('next')
            path = (urllib.parse.urlsplit(nxt)._replace(
                scheme='', netloc='').geturl() if nxt else None)
        return found

    def set_power(self, ident: str, target: str) -> int:
        """PUT the power target; returns the HTTP status (202 expected)."""
        status, _ = self.call('PUT', f'/v1/nodes/{ident}/states/power',
                              {'target': target})
        return status


def wait_for(predicate: Callable[[], bool], timeout: float,
             interval: float = 0.01) -> float | None:
    """Seconds until ``predicate()`` held, or None after ``timeout``."""
    start = time.monotonic()
    while True:
        if predicate():
            return time.monotonic() - start
        if time.monotonic() - start > timeout:
            return None
        time.sleep(interval)
