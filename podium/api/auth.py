"""HTTP basic authentication against an htpasswd file of bcrypt hashes.

bcrypt is deliberately slow (tens of milliseconds per check), far more
than a whole API request may cost. A successful check is therefore
remembered, keyed by a SHA-256 of the ``Authorization`` header held in
memory only, and re-used until the entry expires or the htpasswd file
changes. Failures are never cached, so a fixed password works at once.
"""

import base64
import binascii
import functools
import hashlib
import os
import threading
import time

import bcrypt
from oslo_log import log
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Receive, Scope, Send

from podium.api import responses
from podium.common import exceptions

LOG = log.getLogger(__name__)

REALM = 'Baremetal API'

#: Paths answered without credentials: version discovery, as in Ironic.
PUBLIC_PATHS = frozenset({'/', '/v1'})

#: Installer call-backs, also without credentials as in Ironic (an
#: installer has none; the heartbeat carries its agent token).
CALLBACK_PATHS = frozenset({'/v1/lookup', '/v1/lookup/'})
CALLBACK_PREFIX = '/v1/heartbeat/'


def is_public(path: str) -> bool:
    """Whether ``path`` is answered without credentials."""
    return (path in PUBLIC_PATHS or path in CALLBACK_PATHS
            or path.startswith(CALLBACK_PREFIX))

#: Seconds a verified credential is trusted without bcrypt.
CACHE_TTL = 300.0
#: Verified credentials kept at most; the cache is cleared beyond this.
CACHE_SIZE = 1024

_CHALLENGE = [(b'www-authenticate', f'Basic realm="{REALM}"'.encode())]

#: bcrypt's cost when the htpasswd file has no user to copy it from.
_DEFAULT_COST = 12


@functools.lru_cache(maxsize=8)
def _dummy_hash(cost: int) -> bytes:
    return bcrypt.hashpw(b'podium-no-such-user', bcrypt.gensalt(cost))


def _cost(hashed: bytes) -> int:
    # "$2b$12$...": the cost is the third field.
    try:
        return int(hashed.split(b'$')[2])
    except (IndexError, ValueError):
        return _DEFAULT_COST


def parse_htpasswd(text: str) -> dict[str, bytes]:
    """``{user: bcrypt hash}`` from htpasswd content.

    :raises ConfigInvalid: for a line that is not ``user:bcrypt-hash``.
    """
    users = {}
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith('#'):
            continue
        user, sep, hashed = line.partition(':')
        if not sep or not user or not hashed.startswith(('$2y$', '$2b$',
                                                         '$2a$')):
            raise exceptions.ConfigInvalid(
                reason=f'htpasswd line {number}: expected "user:<bcrypt '
                       f'hash>" (htpasswd -B)')
        users[user] = hashed.encode()
    return users


class HtpasswdAuthenticator:
    """Checks credentials against an htpasswd file, with a cache."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._mtime: float | None = None
        self._users: dict[str, bytes] = {}
        self._verified: dict[bytes, float] = {}
        self._reload()

    def _reload(self) -> None:
        try:
            mtime = os.stat(self.path).st_mtime
            if mtime == self._mtime:
                return
            with open(self.path, encoding='utf-8') as handle:
                users = parse_htpasswd(handle.read())
        except OSError as exc:
            raise exceptions.ConfigInvalid(
                reason=f'cannot read [api] http_basic_auth_user_file '
                       f'{self.path}: {exc.strerror}') from None
        with self._lock:
            self._users = users
            self._verified = {}
            self._mtime = mtime

    def _check_dummy(self, password: bytes) -> None:
        cost = next((_cost(h) for h in self._users.values()), _DEFAULT_COST)
        bcrypt.checkpw(password, _dummy_hash(cost))

    def cached(self, header: bytes) -> bool:
        """Whether ``header`` was verified recently (no bcrypt paid).

        A changed htpasswd file invalidates every entry: a removed user
        or a changed password takes effect on the next request.
        """
        expiry = self._verified.get(hashlib.sha256(header).digest())
        if expiry is None or expiry <= time.monotonic():
            return False
        try:
            return os.stat(self.path).st_mtime == self._mtime
        except OSError:
            return False

    def verify(self, header: bytes) -> bool:
        """Check an ``Authorization`` header value with bcrypt."""
        try:
            self._reload()
        except exceptions.ConfigInvalid as exc:
            LOG.error('Refusing API requests: %s', exc)
            return False
        scheme, _, encoded = header.partition(b' ')
        if scheme.lower() != b'basic':
            return False
        try:
            user, sep, password = base64.b64decode(
                encoded.strip(), validate=True).partition(b':')
        except (binascii.Error, ValueError):
            return False
        hashed = self._users.get(user.decode('utf-8', 'replace'))
        if not sep or hashed is None:
            # Pay for a bcrypt check anyway, at the file's cost: an
            # unknown user must take as long as a wrong password, or the
            # answer time tells which user names exist.
            self._check_dummy(password)
            return False
        # bcrypt writes "$2y$" (htpasswd's prefix) as "$2b$": same scheme.
        if hashed.startswith(b'$2y$'):
            hashed = b'$2b$' + hashed[4:]
        try:
            valid = bcrypt.checkpw(password, hashed)
        except ValueError:
            return False
        if valid:
            with self._lock:
                if len(self._verified) >= CACHE_SIZE:
                    self._verified.clear()
                self._verified[hashlib.sha256(header).digest()] = \
                    time.monotonic() + CACHE_TTL
        return valid


def user_of(header: bytes) -> str | None:
    """The user name of a verified Basic ``Authorization`` header."""
    try:
        decoded = base64.b64decode(header.partition(b' ')[2].strip())
    except (binascii.Error, ValueError):
        return None
    return decoded.partition(b':')[0].decode('utf-8', 'replace') or None


class BasicAuthMiddleware:
    """Refuses requests without valid credentials with a 401."""

    def __init__(self, app: ASGIApp, authenticator: HtpasswdAuthenticator
                 ) -> None:
        self.app = app
        self.authenticator = authenticator

    async def __call__(self, scope: Scope, receive: Receive,
                       send: Send) -> None:
        if scope['type'] != 'http' or is_public(scope['path']):
            await self.app(scope, receive, send)
            return
        header = next((value for name, value in scope['headers']
                       if name == b'authorization'), None)
        if header is not None and (
                self.authenticator.cached(header)
                or await run_in_threadpool(self.authenticator.verify,
                                           header)):
            # Who asked, for node history (request.state.user).
            scope.setdefault('state', {})['user'] = user_of(header)
            await self.app(scope, receive, send)
            return
        body = responses.error_body(
            401, 'The request you have made requires authentication.')
        await send({'type': 'http.response.start', 'status': 401,
                    'headers': [
                        (b'content-type', responses.JSON_MEDIA_TYPE.encode()),
                        (b'content-length', str(len(body)).encode()),
                        *_CHALLENGE]})
        await send({'type': 'http.response.body', 'body': body})
