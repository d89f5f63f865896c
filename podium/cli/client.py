"""A small HTTP client for Podium's Ironic v1 compatible API.

One keep-alive ``requests`` session, shared by the bulk runner's
threads (its connection pool is sized to the concurrency so no request
waits for a socket). The microversion is settled once per process with
``GET /v1``, which also tells a wrong URL (no Ironic version headers)
from a server that is down. Errors come back as :class:`ApiError` with
Ironic's double-encoded ``faultstring`` unwrapped.

``requests`` is imported when the first client is built, never at CLI
start-up.
"""

import json
import re
import threading
import urllib.parse
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from podium.cli.errors import ApiError, CliError
from podium.cli.settings import Settings

#: Newest microversion this CLI was written against.
API_VERSION = (1, 115)
VERSION_HEADER = 'X-OpenStack-Ironic-API-Version'
MAX_VERSION_HEADER = 'X-OpenStack-Ironic-API-Maximum-Version'
CONNECT_TIMEOUT = 5.0
READ_TIMEOUT = 60.0

_ERRNO_RE = re.compile(r'\[Errno -?\d+\] ([^\'")]+)')


def parse_version(text: str) -> tuple[int, int]:
    """``"1.49"`` -> ``(1, 49)``."""
    major, _, minor = text.strip().partition('.')
    return int(major), int(minor)


def error_message(body: bytes | str, content_type: str) -> str | None:
    """The human message of an error response, whatever its shape.

    Ironic wraps a JSON document in a JSON string under
    ``error_message``; plain strings and dicts are accepted too, so a
    proxy's or another server's error still reads well.
    """
    if not body or 'json' not in content_type:
        text = body.decode('utf-8', 'replace') if isinstance(
            body, bytes) else body
        text = text.strip()
        return text.splitlines()[0][:300] if text else None
    try:
        doc = json.loads(body)
    except ValueError:
        return None
    inner = doc.get('error_message') if isinstance(doc, dict) else None
    if isinstance(inner, str):
        try:
            inner = json.loads(inner)
        except ValueError:
            return inner
    if isinstance(inner, dict):
        return inner.get('faultstring') or json.dumps(inner)
    if isinstance(doc, dict):
        for key in ('detail', 'message', 'title'):
            if isinstance(doc.get(key), str):
                return str(doc[key])
    return None


def describe_connection_error(exc: Exception) -> str:
    """The useful tail of a ``requests`` connection error."""
    match = _ERRNO_RE.search(str(exc))
    if match:
        return match.group(1).strip()
    name = type(exc).__name__
    if 'Timeout' in name:
        return 'timed out'
    return str(exc) or name


class ApiClient:
    """Talks to one Podium endpoint; safe to share between threads."""

    def __init__(self, settings: Settings, pool_size: int = 10,
                 read_timeout: float = READ_TIMEOUT) -> None:
        import requests
        from requests.adapters import HTTPAdapter

        self.settings = settings
        self._requests = requests
        self._timeout = (CONNECT_TIMEOUT, read_timeout)
        self._session = requests.Session()
        adapter = HTTPAdapter(pool_connections=1,
                              pool_maxsize=max(pool_size, 10))
        self._session.mount('http://', adapter)
        self._session.mount('https://', adapter)
        # Passed with every request: requests lets REQUESTS_CA_BUNDLE
        # override a session-level setting.
        self._verify: str | bool = settings.cacert or not settings.insecure
        if settings.insecure:
            # Asked for explicitly; a warning per request would bury the
            # output.
            import urllib3

            urllib3.disable_warnings(
                urllib3.exceptions.InsecureRequestWarning)
        if settings.user:
            self._session.auth = (settings.user, settings.password or '')
        self._session.headers['Accept'] = 'application/json'
        self._version: str | None = None
        self._version_lock = threading.Lock()

    def close(self) -> None:
        self._session.close()

    # plumbing

    def _send(self, method: str, path: str, headers: Mapping[str, str],
              **kwargs: Any) -> Any:
        url = self.settings.url + path
        try:
            return self._session.request(method, url, headers=headers,
                                         timeout=self._timeout,
                                         verify=self._verify, **kwargs)
        except self._requests.exceptions.InvalidURL as exc:
            raise CliError(f'invalid URL {self.settings.url}: '
                           f'{exc}') from None
        except self._requests.exceptions.RequestException as exc:
            raise CliError(f'cannot connect to {self.settings.url}: '
                           f'{describe_connection_error(exc)}') from None

    def api_version(self) -> str:
        """The microversion to send: ours, capped by the server's max."""
        with self._version_lock:
            if self._version is None:
                self._version = self._negotiate()
            return self._version

    def _negotiate(self) -> str:
        response = self._send('GET', '/v1', {})
        if response.status_code == 401:
            raise ApiError(401, error_message(
                response.content, response.headers.get(
                    'Content-Type', '')) or 'authentication required')
        server_max = response.headers.get(MAX_VERSION_HEADER)
        if response.status_code != 200 or not server_max:
            raise CliError(f'{self.settings.url} does not serve the Podium '
                           f'API (GET /v1 answered HTTP '
                           f'{response.status_code} without version '
                           f'headers)')
        try:
            version = min(API_VERSION, parse_version(server_max))
        except ValueError:
            raise CliError(f'{self.settings.url} announced an invalid API '
                           f'version {server_max!r}') from None
        return f'{version[0]}.{version[1]}'

    def request(self, method: str, path: str, *,
                params: Mapping[str, Any] | None = None,
                body: Any = None) -> Any:
        """Send one request; return the decoded JSON body or None.

        :raises ApiError: on any status of 400 or more.
        :raises CliError: when the server cannot be reached.
        """
        headers = {VERSION_HEADER: self.api_version()}
        kwargs: dict[str, Any] = {'params': params}
        if body is not None:
            kwargs['data'] = json.dumps(body)
            headers['Content-Type'] = 'application/json'
        response = self._send(method, path, headers, **kwargs)
        content_type = response.headers.get('Content-Type', '')
        if response.status_code >= 400:
            message = error_message(response.content, content_type)
            raise ApiError(response.status_code,
                           message or response.reason or 'request failed')
        if not response.content or 'json' not in content_type:
            return None
        try:
            return response.json()
        except ValueError:
            raise CliError(f'{method} {path} returned invalid '
                           f'JSON') from None

    # resources

    def paginate(self, path: str, key: str,
                 params: Mapping[str, Any] | None = None,
                 limit: int | None = None,
                 on_page: Callable[[dict[str, Any]], None] | None = None
                 ) -> Iterator[dict[str, Any]]:
        """Yield every item of a collection, following ``next`` links;
        ``on_page`` sees each page's whole body (for keys beside the
        items).

        The host of a ``next`` link is ignored (only its path and query
        are used), like ironicclient does, so a server behind a proxy
        that builds links with its own address still works.
        """
        query: dict[str, Any] = dict(params or {})
        if limit:
            query['limit'] = limit
        count = 0
        while True:
            page = self.request('GET', path, params=query) or {}
            if on_page is not None:
                on_page(page)
            for item in page.get(key, []):
                yield item
                count += 1
                if limit and count >= limit:
                    return
            link = page.get('next')
            if not link or not page.get(key):
                return
            parts = urllib.parse.urlsplit(link)
            path = parts.path
            query = dict(urllib.parse.parse_qsl(parts.query))


def node_path(ident: str, *suffix: str) -> str:
    """``/v1/nodes/<ident>[/suffix...]`` with the identifier quoted."""
    return '/'.join(('/v1/nodes', urllib.parse.quote(ident, safe=''))
                    + suffix)


def json_pointer(*parts: str) -> str:
    """A JSON pointer (RFC 6901) with ``~`` and ``/`` escaped."""
    return ''.join('/' + p.replace('~', '~0').replace('/', '~1')
                   for p in parts)
