"""Workarounds for client-side defects of pyghmi (measured on 1.6.19).

Every patch of pyghmi's internals lives here, applied once by
:func:`apply` (the IPMI interfaces call it on import). Each one replaces
a module-level function or wraps a method pyghmi looks up at call time,
so it also covers sessions created before it was applied.

1. **Cipher suite negotiation.** pyghmi proposes cipher suite 17
   (SHA-256) and takes it for granted that the BMC accepted it; a BMC that
   answers the open-session request with suite 3's algorithms (SHA-1, as
   pyghmi's own BMC does) makes the client crash in RAKP2. The client now
   follows the algorithms the BMC accepted.
2. **Blocking toggles.** The IO thread sets a shared socket non-blocking
   to drain it while sender threads set it blocking to send; under
   concurrency the IO thread ends up blocked in ``recvfrom`` forever and
   every IPMI session in the process freezes. Sockets now stay blocking;
   receives use ``MSG_DONTWAIT`` and sends never toggle.
3. **select() and fd >= 1024.** The IO thread waits with ``select()``,
   which fails for any socket whose fd is 1024 or more, killing the IO
   thread and every session. A conductor holding many Redfish
   connections and database sockets easily reaches such fds. The IO
   thread now waits with ``poll()``, which has no fd limit.
4. **Unbounded waits.** pyghmi retries a silent BMC for about a minute
   and has no per-call timeout. Every wait of a pyghmi call made inside a
   :func:`podium.drivers.modules.deadline.bounded` block is shortened to
   the deadline and raises
   :class:`~podium.drivers.modules.deadline.DeadlineExceeded` once it has
   passed; :func:`abandon` then discards the session left mid-command.

(pyghmi's fifth client defect, a second ``Command`` to the same BMC
hanging when credentials are ``str``, is avoided by the caller passing
bytes; see :mod:`.client`.)
"""

import hashlib
import select
import threading
import types
from typing import Any

from pyghmi.ipmi.private import session as ipmi_session

from podium.common import pyghmi_io
from podium.drivers.modules import deadline

_applied = False
_apply_lock = threading.Lock()

# RMCP+ open session response: the accepted authentication algorithm is
# byte 16 of the payload, the integrity algorithm byte 24 (IPMI 2.0,
# table 13-10); 1 is RAKP-HMAC-SHA1 and HMAC-SHA1-96 respectively.
_AUTH_ALGORITHM_OFFSET = 16
_RAKP_HMAC_SHA1 = 1


def _poll_select(rlist: list[Any], wlist: Any, xlist: Any,
                 timeout: float | None = None
                 ) -> tuple[list[Any], list[Any], list[Any]]:
    """``select.select`` for readability only, on ``poll()`` (no fd cap)."""
    poller = select.poll()
    for sock in rlist:
        poller.register(sock, select.POLLIN)
    millis = None if timeout is None else max(int(timeout * 1000), 0)
    ready = {fd for fd, _event in poller.poll(millis)}
    return [sock for sock in rlist if sock.fileno() in ready], [], []


#: What pyghmi's IO thread sees as its ``select`` module.
_SELECT_SHIM = types.SimpleNamespace(select=_poll_select, error=OSError)


def _bounded_io_wait(original: Any) -> Any:
    def io_wait(timeout: float, myaddr: Any = None, evq: Any = None) -> Any:
        left = deadline.check('waiting for the IPMI BMC to answer')
        if left is not None and (timeout is None or timeout > left):
            timeout = left
        return original(timeout, myaddr, evq)
    io_wait.podium_bounded = True  # type: ignore[attr-defined]
    return io_wait


def _follow_accepted_cipher(original: Any) -> Any:
    def got_rmcp_response(self: Any, data: Any) -> Any:
        if (not getattr(self, 'servermode', False)
                and len(data) > _AUTH_ALGORITHM_OFFSET and data[1] == 0
                and getattr(self, 'attemptedhash', None) == 256
                and data[_AUTH_ALGORITHM_OFFSET] == _RAKP_HMAC_SHA1):
            # The BMC chose suite 3 over our suite 17 proposal.
            self.attemptedhash = 1
            self.currhashlib = hashlib.sha1
            self.currhashlen = 12
        return original(self, data)
    got_rmcp_response.podium_patched = True  # type: ignore[attr-defined]
    return got_rmcp_response


def apply() -> None:
    """Install every workaround (idempotent, thread-safe)."""
    global _applied
    with _apply_lock:
        if _applied:
            return
        pyghmi_io.install()
        ipmi_session.select = _SELECT_SHIM
        ipmi_session._io_wait = _bounded_io_wait(ipmi_session._io_wait)
        session_class = ipmi_session.Session
        session_class._got_rmcp_response = _follow_accepted_cipher(
            session_class._got_rmcp_response)
        for sock in list(ipmi_session.iosockets):
            sock.setblocking(True)
        _applied = True


def session_valid(session: Any) -> bool:
    """Whether pyghmi still considers ``session`` usable (keepalives)."""
    return bool(session.logged) and bool(
        ipmi_session.Session._is_session_valid(session))


def abandon(session: Any | None, key: tuple[Any, ...] | None = None) -> None:
    """Discard a session left mid-command or mid-login by a deadline.

    Clears the command pyghmi still waits for (it would block the next
    command up to its own minute-long timeout) and marks the session
    broken, which logs it out without waiting and unregisters it, so the
    next command logs in afresh. ``key`` finds a session still logging in
    (``(bmc, userid, password, port, kg)``, as pyghmi keys them).
    """
    if session is None and key is not None:
        session = ipmi_session.Session.initting_sessions.get(key)
    if session is None or getattr(session, 'broken', False):
        return
    session.incommand = False
    try:
        session._mark_broken('abandoned by Podium after its deadline')
    except Exception:  # noqa: S110 - best effort on a dead session
        pass
