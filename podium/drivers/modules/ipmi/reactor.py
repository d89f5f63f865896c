"""One thread owns every pyghmi session of the process.

pyghmi's synchronous API lets each calling thread run pyghmi's event loop
itself, under two process-wide locks that it takes in opposite orders
(``send_payload`` holds ``KEEPALIVE_SESSIONS`` and wants
``WAITING_SESSIONS``; a retransmit from ``awaitresponse`` or
``wait_for_rsp`` holds ``WAITING_SESSIONS`` and wants
``KEEPALIVE_SESSIONS``). With many threads this deadlocks every IPMI
session of the process, and a wait for those locks is bounded by nothing.

So no caller thread ever enters pyghmi. The :class:`Reactor` thread is
the only one that calls into it, through pyghmi's asynchronous API (log-in
and command callbacks), and runs pyghmi's event loop between requests.
Callers hand it a :class:`Request` and wait on a future for at most their
deadline; the reactor also expires the request at that deadline and
abandons its session, so a hung BMC costs only its own node's calls.
pyghmi's locks are re-entrant, so one thread cannot deadlock on them.

Per BMC (address, port, user, password digest) the reactor keeps one
logged-in session and a queue of requests, sent one at a time (pyghmi
allows one command in flight per session). Sessions unused for
``[ipmi] session_idle_timeout`` seconds are logged out.
"""

import collections
import concurrent.futures
import dataclasses
import functools
import itertools
import socket
import threading
import time
from collections.abc import Callable
from typing import Any

from oslo_log import log
from pyghmi import exceptions as pyghmi_exc
from pyghmi.ipmi.private import session as ipmi_session
from pyghmi.ipmi.private import util as ipmi_util

from podium.conf import CONF
from podium.drivers.modules.ipmi import pyghmi_compat

LOG = log.getLogger(__name__)

#: The longest the reactor sleeps without looking at deadlines.
_MAX_SLEEP = 1.0
#: How often idle sessions are looked for.
_IDLE_SWEEP = 5.0


class Expired(Exception):
    """The request's deadline passed before the BMC answered."""


@dataclasses.dataclass(frozen=True)
class Target:
    """Where a request goes: the BMC and the credentials for it."""

    address: str
    port: int
    username: bytes
    password: bytes = dataclasses.field(repr=False)
    #: What tells sessions apart (a digest, never the password).
    key: tuple[Any, ...] = ()


@dataclasses.dataclass(eq=False)
class Request:
    """One raw IPMI command and the future its caller waits on."""

    target: Target
    netfn: int
    command: int
    data: tuple[int, ...]
    bridge: dict[str, int] | None
    deadline: float
    future: concurrent.futures.Future[dict[str, Any]] = dataclasses.field(
        default_factory=concurrent.futures.Future)

    def finish(self, result: dict[str, Any] | None = None,
               error: BaseException | None = None) -> None:
        if self.future.done():
            return
        if error is not None:
            self.future.set_exception(error)
        else:
            self.future.set_result(result or {})


class _Bmc:
    """The session of one BMC and the requests waiting for it."""

    def __init__(self, target: Target) -> None:
        self.target = target
        self.session: Any = None
        self.logging_in = False
        self.queue: collections.deque[Request] = collections.deque()
        self.current: Request | None = None
        self.last_used = time.monotonic()
        #: Which login a pyghmi log-on callback belongs to.
        self.login_id = 0

    def busy(self) -> bool:
        return bool(self.queue) or self.current is not None


class Reactor:
    """The thread that runs every pyghmi call of the process."""

    def __init__(self) -> None:
        self._inbox: collections.deque[Callable[[], None]] = (
            collections.deque())
        self._bmcs: dict[tuple[Any, ...], _Bmc] = {}
        #: BMCs with requests queued or in flight, or a login under way:
        #: each turn of the loop looks at these only, not at every BMC.
        self._active: set[_Bmc] = set()
        self._wakeup = threading.Event()
        self._start_lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._wake_sock: socket.socket | None = None
        self._next_sweep = 0.0
        self._stopping = False

    # -- caller side ---------------------------------------------------

    @property
    def thread(self) -> threading.Thread | None:
        return self._thread

    def submit(self, request: Request) -> None:
        """Queue ``request``; its future gets the response or the error."""
        self._post(functools.partial(self._accept, request))

    def call_soon(self, func: Callable[[], Any],
                  timeout: float) -> Any:
        """Run ``func`` on the reactor thread and return its result.

        :raises TimeoutError: it did not finish within ``timeout``.
        """
        future: concurrent.futures.Future[Any] = concurrent.futures.Future()

        def run() -> None:
            try:
                future.set_result(func())
            except BaseException as exc:  # handed to the caller
                future.set_exception(exc)
        self._post(run)
        try:
            return future.result(timeout)
        except concurrent.futures.TimeoutError:
            raise TimeoutError(f'the IPMI reactor did not run {func!r} '
                               f'within {timeout:g} s') from None

    def sessions(self) -> int:
        """How many BMCs have a session or requests (for tests, metrics)."""
        return len(self._bmcs)

    def sessions_at(self, endpoint: str) -> int:
        """Logged-in sessions to ``endpoint`` (``address:port`` as in
        ``driver_info``), counted on the reactor thread; 0 while the
        reactor is stopped (it holds no session then)."""
        if self._thread is None:
            return 0

        def count() -> int:
            return sum(1 for bmc in self._bmcs.values()
                       if bmc.session is not None
                       and ':'.join(map(str, bmc.target.key[:2]))
                       == endpoint)
        try:
            return int(self.call_soon(count, 1.0))
        except TimeoutError:
            return 0

    def drop_sessions(self, key: tuple[Any, ...],
                      timeout: float = 5.0) -> None:
        """Drop the session of the BMC with session ``key`` (on the
        reactor thread): its next request logs in afresh. Nothing when
        the reactor is stopped (it holds no session then)."""
        if self._thread is None:
            return

        def drop() -> None:
            bmc = self._bmcs.get(key)
            if bmc is not None and not bmc.busy():
                self._drop_session(bmc, 'dropped for BMC recovery')
        try:
            self.call_soon(drop, timeout)
        except TimeoutError:
            LOG.warning('The IPMI reactor did not drop a session within '
                        '%s s', timeout)

    def clear(self, timeout: float = 10.0) -> None:
        """Log every session out, forget it and stop the thread.

        The thread starts again with the next request. Stopped, it runs
        no pyghmi code, so a sole other pyghmi user of the process (a
        test's in-process BMC simulator) is left alone.
        """
        if self._thread is not None:
            self.call_soon(self._clear, timeout)

    def _post(self, item: Callable[[], None]) -> None:
        with self._start_lock:
            self._inbox.append(item)
            if self._thread is None:
                pyghmi_compat.apply()
                self._stopping = False
                thread = threading.Thread(target=self._run, daemon=True,
                                          name='podium-ipmi-reactor')
                thread.start()
                self._thread = thread
        self._wake()

    def _wake(self) -> None:
        self._wakeup.set()
        # The reactor may sleep in pyghmi's event loop, which only a
        # datagram on pyghmi's first socket interrupts (4 bytes or more,
        # else pyghmi ignores it; no session owns our address).
        sockets = ipmi_session.iosockets
        if not sockets or ipmi_session.myself is None:
            return
        first = sockets[0]
        try:
            if self._wake_sock is None or (
                    self._wake_sock.family != first.family):
                self._wake_sock = socket.socket(first.family,
                                                socket.SOCK_DGRAM)
            self._wake_sock.sendto(
                b'wake', (ipmi_session.myself, first.getsockname()[1]))
        except OSError:
            pass  # the reactor wakes within _MAX_SLEEP anyway

    # -- reactor thread ------------------------------------------------

    def _run(self) -> None:
        while True:
            try:
                self._iterate()
            except Exception:
                # Nothing may stop the thread every IPMI call relies on.
                LOG.exception('IPMI reactor iteration failed')
            if self._stopping and not self._bmcs:
                with self._start_lock:
                    if not self._inbox:
                        self._thread = None
                        return

    def _iterate(self) -> None:
        while self._inbox:
            self._inbox.popleft()()
        now = time.monotonic()
        self._expire(now)
        if now >= self._next_sweep:
            self._next_sweep = now + _IDLE_SWEEP
            self._log_out_idle(now)
        sleep = _MAX_SLEEP
        for bmc in list(self._active):
            self._pump(bmc)
            if not bmc.busy() and not bmc.logging_in:
                self._active.discard(bmc)
                continue
            for request in itertools.chain(bmc.queue, (bmc.current,)):
                if request is not None:
                    sleep = min(sleep, request.deadline - now)
        sleep = max(sleep, 0.0)
        if self._inbox or self._stopping:
            return
        if ipmi_session.iothread is None:
            # No session yet: pyghmi's event loop has no IO thread to
            # wake it, so wait on our own event.
            self._wakeup.wait(sleep)
            self._wakeup.clear()
        else:
            self._wakeup.clear()
            ipmi_session.Session.wait_for_rsp(sleep)
        self._check_broken()

    def _accept(self, request: Request) -> None:
        self._stopping = False
        key = request.target.key
        bmc = self._bmcs.get(key)
        if bmc is None:
            bmc = self._bmcs[key] = _Bmc(request.target)
        bmc.queue.append(request)
        bmc.last_used = time.monotonic()
        self._active.add(bmc)
        self._pump(bmc)

    def _pump(self, bmc: _Bmc) -> None:
        """Send the next queued request if the session is free."""
        if bmc.current is not None or not bmc.queue or bmc.logging_in:
            return
        session = bmc.session
        if session is None or not pyghmi_compat.session_valid(session):
            if session is not None:
                pyghmi_compat.abandon(session, 'no longer valid')
            self._log_in(bmc)
            return
        if session._isincommand():
            return  # pyghmi's keepalive is in flight; next iteration
        request = bmc.queue.popleft()
        bmc.current = request
        bmc.last_used = time.monotonic()
        try:
            session.raw_command(
                netfn=request.netfn, command=request.command,
                data=request.data, bridge_request=request.bridge or (),
                callback=functools.partial(self._answered, bmc, request,
                                           session))
        except Exception as exc:
            bmc.current = None
            request.finish(error=_as_ipmi_error(exc))
            self._drop_session(bmc, f'sending failed: {exc}')

    def _log_in(self, bmc: _Bmc) -> None:
        target = bmc.target
        bmc.logging_in = True
        bmc.session = None
        bmc.login_id += 1
        login_id = bmc.login_id
        try:
            session = ipmi_session.Session(
                bmc=target.address, userid=target.username,
                password=target.password, port=target.port,
                onlogon=functools.partial(self._logged_on, bmc, login_id))
        except Exception as exc:
            bmc.logging_in = False
            self._fail_all(bmc, _as_ipmi_error(exc))
            return
        if bmc.login_id == login_id and not session.broken:
            bmc.session = session

    def _logged_on(self, bmc: _Bmc, login_id: int,
                   response: dict[str, Any]) -> None:
        if login_id != bmc.login_id or not bmc.logging_in:
            return  # a login this BMC already gave up on
        bmc.logging_in = False
        session = bmc.session
        if 'error' in response:
            reason = getattr(session, 'errormsg', None) or response['error']
            self._drop_session(bmc, reason)
            self._fail_all(bmc, pyghmi_exc.IpmiException(reason))
            return
        if session is not None:
            # A command that times out fails (and the session with it)
            # rather than pyghmi re-logging in inside the event loop,
            # which waits synchronously for the command in flight.
            session.logontries = 0
        # The first command goes out from the reactor loop, not from
        # here: pyghmi forgets a request sent from inside its callback.

    def _answered(self, bmc: _Bmc, request: Request, session: Any,
                  response: dict[str, Any]) -> None:
        # What pyghmi's synchronous raw_command does after its wait (the
        # callback contract): the session is free for the next command.
        session.incommand = False
        session.lastresponse = None
        while session.evq:
            session.evq.popleft().set()
        if bmc.current is request:
            bmc.current = None
        bmc.last_used = time.monotonic()
        error = ipmi_util.get_ipmi_error(response)
        if error:
            request.finish(error=pyghmi_exc.IpmiException(
                error, response.get('code')))
        else:
            response['data'] = bytes(response.get('data') or b'')
            request.finish(response)

    def _expire(self, now: float) -> None:
        for bmc in list(self._active):
            for request in [r for r in bmc.queue
                            if r.deadline <= now or r.future.done()]:
                bmc.queue.remove(request)
                request.finish(error=Expired())
            current = bmc.current
            if current is not None and (current.deadline <= now
                                        or current.future.done()):
                bmc.current = None
                current.finish(error=Expired())
                # Its answer may still come, or never: either way the
                # session is in an unknown state.
                self._drop_session(bmc, 'a command passed its deadline')
            if bmc.logging_in and not bmc.queue:
                # Nobody waits for this login any more.
                bmc.logging_in = False
                self._drop_session(bmc, 'login abandoned: no caller left')
            elif bmc.logging_in and bmc.session is None:
                bmc.logging_in = False  # the login never started

    def _check_broken(self) -> None:
        """Fail the command of a session pyghmi marked broken."""
        for bmc in list(self._active):
            session, current = bmc.session, bmc.current
            if current is None or session is None or not session.broken:
                continue
            bmc.current = None
            reason = session.errormsg or 'the BMC closed the session'
            current.finish(error=pyghmi_exc.IpmiException(reason))
            self._drop_session(bmc, reason)

    def _fail_all(self, bmc: _Bmc, error: Exception) -> None:
        while bmc.queue:
            bmc.queue.popleft().finish(error=error)

    def _drop_session(self, bmc: _Bmc, reason: str) -> None:
        session, bmc.session = bmc.session, None
        if session is not None:
            pyghmi_compat.abandon(session, reason)

    def _log_out_idle(self, now: float) -> None:
        ttl = CONF.ipmi.session_idle_timeout
        for key, bmc in list(self._bmcs.items()):
            if bmc.busy() or bmc.logging_in:
                continue
            if bmc.session is None or (ttl and now - bmc.last_used >= ttl):
                del self._bmcs[key]
                if bmc.session is not None:
                    pyghmi_compat.log_out(bmc.session)

    def _clear(self) -> None:
        for bmc in self._bmcs.values():
            bmc.current, current = None, bmc.current
            if current is not None:
                current.finish(error=Expired())
            self._fail_all(bmc, Expired())
            if bmc.session is not None:
                pyghmi_compat.log_out(bmc.session)
        self._bmcs.clear()
        self._active.clear()
        self._stopping = True


def _as_ipmi_error(exc: Exception) -> Exception:
    if isinstance(exc, pyghmi_exc.IpmiException):
        return exc
    return pyghmi_exc.IpmiException(f'{type(exc).__name__}: {exc}')


#: The process's reactor, started on first use.
REACTOR = Reactor()
