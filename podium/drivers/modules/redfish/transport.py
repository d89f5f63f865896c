"""How every Redfish HTTP request is bounded.

sushy's defaults make a hung BMC cost minutes per call (ten 5xx retries
three seconds apart, a 60 s read timeout, transport errors retried three
times two seconds apart). :class:`BoundedConnector` replaces that with
Podium's options and the caller's deadline
(:mod:`podium.drivers.modules.deadline`):

- each request's connect and read timeouts are ``[redfish]
  request_timeout``, shortened to what is left of the deadline;
- a 5xx answer to a GET is retried ``server_side_retries`` times, and not
  at all when the deadline would pass during the delay before the retry;
- transport errors are not retried inside a call (power sync retries on
  its next cycle);
- at most ``max_concurrent_requests_per_endpoint`` requests are in flight
  to one ``scheme://host:port`` (:class:`EndpointLimiter`), waiting for a
  slot no longer than the deadline.

A request that times out raises
:class:`~podium.common.exceptions.BMCTimeout` at once, bypassing sushy's
own retry loop.

Note that a read timeout bounds each wait for data, not the whole
response: a BMC that trickles a byte every few seconds can outlast it.
The deadline is re-checked before every request, so such a BMC costs at
most one request's worth of trickling past the deadline.
"""

import contextlib
import threading
from collections.abc import Iterator
from typing import Any

import requests
from sushy import connector as sushy_connector
from sushy import exceptions as sushy_exc

from podium.common import exceptions
from podium.conf import CONF
from podium.drivers.modules import deadline


class EndpointLimiter:
    """One semaphore per endpoint, created on first use.

    A thread that already holds its endpoint's slot (sushy re-enters the
    connector to retry or re-authenticate) does not take a second one, so
    a limit of one cannot deadlock.
    """

    def __init__(self) -> None:
        self._semaphores: dict[str, threading.BoundedSemaphore] = {}
        self._lock = threading.Lock()
        self._held = threading.local()

    def _semaphore(self, endpoint: str) -> threading.BoundedSemaphore:
        semaphore = self._semaphores.get(endpoint)
        if semaphore is None:
            with self._lock:
                semaphore = self._semaphores.get(endpoint)
                if semaphore is None:
                    semaphore = threading.BoundedSemaphore(
                        CONF.redfish.max_concurrent_requests_per_endpoint)
                    self._semaphores[endpoint] = semaphore
        return semaphore

    def reset(self) -> None:
        """Forget every endpoint's semaphore (for tests: each keeps the
        limit configured when it was made, and a test reusing a port
        would otherwise get an earlier test's limit)."""
        with self._lock:
            self._semaphores = {}

    def try_take(self, endpoint: str) -> bool:
        """Take one of ``endpoint``'s slots if one is free, without
        waiting (the non-blocking reads; see :mod:`.aio_get`)."""
        return self._semaphore(endpoint).acquire(blocking=False)

    def give(self, endpoint: str) -> None:
        """Give back a slot :meth:`try_take` took."""
        self._semaphore(endpoint).release()

    @contextlib.contextmanager
    def slot(self, endpoint: str) -> Iterator[None]:
        """Hold one of ``endpoint``'s request slots for the block.

        :raises BMCTimeout: no slot freed up before the deadline.
        """
        held: set[str] = self._held.__dict__.setdefault('endpoints', set())
        if endpoint in held:
            yield
            return
        semaphore = self._semaphore(endpoint)
        left = deadline.remaining()
        acquired = semaphore.acquire(timeout=max(left, 0.0)
                                     if left is not None else None)
        if not acquired:
            raise deadline.exceeded(
                f'{CONF.redfish.max_concurrent_requests_per_endpoint}'
                f' request(s) to {endpoint} were already in flight '
                f'([redfish] max_concurrent_requests_per_endpoint)')
        held.add(endpoint)
        try:
            yield
        finally:
            held.discard(endpoint)
            semaphore.release()


#: The process-wide limiter shared by every Redfish connection.
LIMITER = EndpointLimiter()


def timed_out(exc: BaseException) -> bool:
    """Whether a sushy error was caused by a requests timeout."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, requests.exceptions.Timeout):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def timeout_error(method: str, url: str,
                  seconds: float) -> exceptions.BMCTimeout:
    return exceptions.BMCTimeout(
        timeout=f'{seconds:g}', reason=f'{method} {url} timed out')


class BoundedConnector(sushy_connector.Connector):
    """A sushy connector whose every request is bounded (module doc)."""

    def __init__(self, address: str, verify: bool | str,
                 limiter: EndpointLimiter = LIMITER) -> None:
        opts = CONF.redfish
        # server_side_retries=1 makes sushy's transport-error loop a single
        # attempt (0 would mean its default of three); 5xx retries are
        # passed per request in _op below.
        super().__init__(
            address, verify=verify, server_side_retries=1,
            server_side_retries_delay=opts.server_side_retries_delay,
            default_request_timeout=opts.request_timeout,
            connect_timeout=opts.request_timeout)
        self.endpoint = address
        self._request_timeout = opts.request_timeout
        self._retries_5xx = opts.server_side_retries
        self._limiter = limiter
        self._session.trust_env = opts.trust_env
        if opts.keep_alive:
            # sushy asks every BMC to close the connection after each
            # request; reusing it saves a TCP (and TLS) handshake per read.
            self._session.headers.pop('Connection', None)

    @property
    def http(self) -> requests.Session:
        """The authenticated requests session (for the lean power read)."""
        return self._session

    @property
    def verify(self) -> bool | str:
        return self._verify

    def request_timeout(self) -> float:
        """This request's connect/read timeout under the deadline."""
        return deadline.cap(self._request_timeout)

    @contextlib.contextmanager
    def bounded_request(self, method: str, url: str) -> Iterator[float]:
        """Check the deadline, hold an endpoint slot, map timeouts.

        Yields the timeout the request must use.
        """
        deadline.check(f'before {method} {url}')
        with self._limiter.slot(self.endpoint):
            timeout = self.request_timeout()
            if timeout <= 0:
                deadline.check(f'waiting to {method} {url}')
            # Name the budget that actually ran out.
            budget = deadline.budget()
            reported = (budget if budget is not None
                        and timeout < self._request_timeout
                        else self._request_timeout)
            try:
                yield timeout
            except requests.exceptions.Timeout:
                raise timeout_error(method, url, reported) from None
            except sushy_exc.ConnectionError as exc:
                if timed_out(exc):
                    raise timeout_error(method, url, reported) from None
                raise

    def _op(self, method: str, path: str = '', data: Any = None,
            headers: dict[str, Any] | None = None, blocking: bool = False,
            timeout: Any = None, server_side_retries_left: int | None = None,
            allow_reauth: bool = True, **kwargs: Any) -> Any:
        if server_side_retries_left is None:
            server_side_retries_left = self._retries_5xx
        left = deadline.remaining()
        if left is not None and left <= self._server_side_retries_delay:
            server_side_retries_left = 0
        with self.bounded_request(method, path) as request_timeout:
            return super()._op(
                method, path, data=data, headers=headers, blocking=blocking,
                timeout=(request_timeout, request_timeout),
                server_side_retries_left=server_side_retries_left,
                allow_reauth=allow_reauth, **kwargs)
