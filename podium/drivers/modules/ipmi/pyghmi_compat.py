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
4. **A blocking step inside the asynchronous login.** After RAKP4,
   pyghmi requests the privilege level with a *synchronous* command
   even when the caller asked for an asynchronous login, so the thread
   running the event loop waits for that one BMC (for up to a minute
   when it stops answering then). The request is now sent with a
   callback, like every other login step.
5. **Garbage answers.** A malformed packet that passes the RMCP header
   check can raise from the packet parser inside the event loop,
   dropping the packets of every other session queued behind it. The
   packets of a client session are now parsed under a guard that marks
   only that session broken, with an error naming the malformed answer.

pyghmi's process-wide locks ``KEEPALIVE_SESSIONS`` and
``WAITING_SESSIONS`` are taken in opposite orders by ``send_payload``
and by the retransmit paths; that cycle is not patched but made
harmless: only :mod:`.reactor`'s thread ever calls into pyghmi, and the
locks are re-entrant.

(pyghmi's sixth client defect, a second ``Command`` to the same BMC
hanging when credentials are ``str``, is avoided by the caller passing
bytes; see :mod:`.client`.)
"""

import ast
import hashlib
import random
import select
import threading
import types
from collections.abc import Collection
from typing import Any

from pyghmi.ipmi.private import session as ipmi_session
from pyghmi.ipmi.private import util as ipmi_util

from podium.common import pyghmi_io

#: What this module was written against: a digest of the source of each
#: pyghmi function it replaces, wraps or relies on the behaviour of
#: (``Session._parse_ipmi_payload`` forgetting a request sent from its
#: callback; ``send_payload``/``_timedout`` taking the two locks in
#: opposite orders, made harmless by the reactor). A new pyghmi that
#: changes any of them fails ``test_pyghmi_is_what_was_patched``.
FINGERPRINTS = {
    '_io_recvfrom': 'c6f597db8e0c13c4',
    '_io_sendto': '5cdba478bc20d95b',
    '_io_wait': 'cd0469dae6554fec',
    'Session.__init__': '646f0602cc45fca5',
    'Session._got_rmcp_response': '2023f33431047fd5',
    'Session._is_session_valid': '45aa0efd649c2c26',
    'Session._mark_broken': '4630a29a692cc7cb',
    'Session._parse_ipmi_payload': '4929abc4390435f2',
    'Session._req_priv_level': '0b2ed86787e41913',
    'Session._timedout': '1749221cf8d6377d',
    'Session._xmit_packet': '6bd91d30630f3560',
    'Session.logout': 'fed92894be92debc',
    'Session.onlogon': '26226124505ee58a',
    'Session.process_pktqueue': '1a09e023dfe0fc63',
    'Session.raw_command': '024c828d35b9a178',
    'Session.send_payload': '14dc71b0148c9640',
    'Session.wait_for_rsp': 'e2ef6e74df647979',
}

#: What the IPMI simulator's workarounds (:mod:`podium.simulator.
#: pyghmi_fixes`, pyghmi's BMC side) subclass, override or rely on, by
#: pyghmi module: listed here too, so that this one module names every
#: pyghmi internal Podium depends on, and the same test guards them.
SIMULATOR_FINGERPRINTS = {
    'pyghmi.ipmi.private.serversession': {
        'ServerSession.__init__': '0574e06a2208e969',
        'ServerSession.create_open_session_response': 'a009831a5376d70c',
        'IpmiServer.sessionless_data': 'b93e1f78312226e6',
    },
    'pyghmi.ipmi.private.session': {
        'Session._assignsocket': 'd41a03c7e4271181',
        'Session._handle_ipmi_packet': 'd9995c3bcdafb0b6',
    },
    'pyghmi.ipmi.bmc': {
        'Bmc.handle_raw_request': 'b07edfdb0b72f797',
    },
}

_applied = False
_apply_lock = threading.Lock()

# RMCP+ open session response: the accepted authentication algorithm is
# byte 16 of the payload, the integrity algorithm byte 24 (IPMI 2.0,
# table 13-10); 1 is RAKP-HMAC-SHA1 and HMAC-SHA1-96 respectively.
_AUTH_ALGORITHM_OFFSET = 16
_RAKP_HMAC_SHA1 = 1
# Set Session Privilege Level (IPMI 2.0 section 22.18).
_NETFN_APP = 0x06
_SET_PRIV_LEVEL = 0x3B
_ADMINISTRATOR = 4
_OPERATOR = 3
_PRIV_TOO_HIGH = (0x80, 0x81)
#: The completion code pyghmi reports when it gave up retransmitting.
_TIMEOUT_CODE = 0xFFFF


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


def _async_priv_level(self: Any) -> None:
    """``Session._req_priv_level`` with a callback instead of a wait."""
    self.logged = 1
    self.logoutexpiry = None
    self.maxtimeout = 4
    # A silent BMC fails the login instead of pyghmi re-logging in,
    # which would wait synchronously for this command.
    self.logontries = 0

    def answered(response: dict[str, Any]) -> None:
        self.incommand = False
        self.lastresponse = None
        if response.get('code') == _TIMEOUT_CODE:
            return  # pyghmi marks the session broken next, telling waiters
        if (response.get('code') in _PRIV_TOO_HIGH
                and self.privlevel == _ADMINISTRATOR):
            # Some BMCs refuse administrator only at this step.
            self.privlevel = _OPERATOR
            ipmi_session.Session.iterwaiters.append(lambda _ignored: send())
            return
        if response.get('code'):
            self.logged = 0
            self.onlogpayload = None
            self.logging = False
            self.onlogon({'error': ipmi_util.get_ipmi_error(
                response, suffix=f' while requesting privilege level '
                                 f'{self.privlevel}')})
            return
        self.logging = False
        with ipmi_util.protect(ipmi_session.KEEPALIVE_SESSIONS):
            ipmi_session.Session.keepalive_sessions[self] = {
                'ipmisession': self,
                'timeout': ipmi_session._monotonic_time()
                + ipmi_session.MAX_IDLE - random.random() * 4.9}
        self.onlogon({'success': True})

    def send() -> None:
        self.raw_command(netfn=_NETFN_APP, command=_SET_PRIV_LEVEL,
                         data=[self.privlevel], callback=answered)
    # This runs inside the callback of the previous login step (IPMI
    # 1.5); pyghmi would drop the request entry of a command sent from
    # there once the callback returns, so send on the next loop turn.
    ipmi_session.Session.iterwaiters.append(lambda _ignored: send())


def _guarded_packets(original: Any) -> Any:
    def process_pktqueue(self: Any) -> Any:
        try:
            return original(self)
        except Exception as exc:
            if getattr(self, 'servermode', False):
                raise
            self.pktqueue.clear()
            self.incommand = False
            self._mark_broken(f'the BMC sent a malformed answer '
                              f'({type(exc).__name__}: {exc})')
            return None
    process_pktqueue.podium_patched = True  # type: ignore[attr-defined]
    return process_pktqueue


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
        session_class = ipmi_session.Session
        session_class._req_priv_level = _async_priv_level
        session_class.process_pktqueue = _guarded_packets(
            session_class.process_pktqueue)
        session_class._got_rmcp_response = _follow_accepted_cipher(
            session_class._got_rmcp_response)
        for sock in list(ipmi_session.iosockets):
            sock.setblocking(True)
        _applied = True


def fingerprints(module: types.ModuleType = ipmi_session,
                 names: Collection[str] | None = None) -> dict[str, str]:
    """The digests of ``names`` (default :data:`FINGERPRINTS`'), functions
    of ``module`` as installed.

    Read from the module's source file, so patches already applied do
    not change the answer.
    """
    wanted = FINGERPRINTS if names is None else names
    with open(str(module.__file__), encoding='utf-8') as source_file:
        source = source_file.read()
    found: dict[str, str] = {}

    def visit(body: list[ast.stmt], prefix: str) -> None:
        for node in body:
            if isinstance(node, ast.ClassDef):
                visit(node.body, f'{prefix}{node.name}.')
            elif isinstance(node, ast.FunctionDef):
                name = prefix + node.name
                if name in wanted:
                    text = ast.get_source_segment(source, node) or ''
                    found[name] = hashlib.sha256(
                        text.encode()).hexdigest()[:16]
    visit(ast.parse(source).body, '')
    return found


def session_valid(session: Any) -> bool:
    """Whether pyghmi still considers ``session`` usable (keepalives)."""
    return bool(session.logged) and bool(
        ipmi_session.Session._is_session_valid(session))


def abandon(session: Any, reason: str) -> None:
    """Discard a session left mid-command or mid-login.

    Clears the command pyghmi still waits for (the next command would
    wait for it) and marks the session broken, which logs it out without
    waiting for an answer and unregisters it, so the next login to that
    BMC starts afresh.
    """
    if getattr(session, 'broken', False):
        return
    session.incommand = False
    try:
        session._mark_broken(f'abandoned: {reason}')
    except Exception:  # noqa: S110 - best effort on a dead session
        pass


def log_out(session: Any) -> None:
    """Close an idle session, never waiting for the BMC's answer."""
    if getattr(session, 'broken', False):
        return
    if session._isincommand():
        abandon(session, 'logged out while busy')
        return
    try:
        session.logout()
    except Exception:
        abandon(session, 'logout failed')
