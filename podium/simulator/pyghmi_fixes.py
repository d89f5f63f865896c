"""Workarounds for pyghmi 1.6.19 defects met by the IPMI simulator.

pyghmi 1.6.19 has defects that bite on loopback; the workarounds below are
kept in this module, used only by :mod:`podium.simulator.ipmi`, and
applied once, when the first simulator starts (the function patches are
process-wide, and strictly safer than the originals):

1. Its client proposes cipher suite 17 (SHA-256) and crashes in RAKP2 when
   the server, which only implements suite 3, answers as if it had agreed.
   :class:`ServerSession` rejects any other proposal with RMCP+ status
   0x11, and the client retries with suite 3.
2. The IO thread sets a socket non-blocking to ``recvfrom`` while sender
   threads set it blocking to ``sendto``; interleaved, the IO thread blocks
   in ``recvfrom`` forever and every session in the process freezes.
   :mod:`podium.common.pyghmi_io` receives with ``MSG_DONTWAIT`` and
   leaves the blocking mode alone (shared with the IPMI driver).
3. A new client reusing a client address deletes every server session of
   that address (on all BMC ports), and a packet then queued to a dead
   session raises ``AttributeError`` in the listen loop. The session
   subclass removes only its own entry and hands stray packets to its BMC;
   the listen loop also survives any exception.
4. The IO thread wakes itself by a datagram to ``iosockets[0]`` at address
   ``myself``, which pyghmi guesses wrongly when the first socket is an IPv4
   one. Before the first pyghmi socket exists we set ``myself`` and create a
   dedicated loopback wake socket that is never closed, so BMC sockets can
   be closed on stop without stranding the IO thread.

The pyghmi functions these workarounds override or rely on are listed,
with digests of their source, in
``podium.drivers.modules.ipmi.pyghmi_compat.SIMULATOR_FINGERPRINTS``,
next to the driver's own: a new pyghmi that changes one fails the unit
tests.

Not worked around (client side, outside the simulator's reach): logins
racing in many threads of one client process can lose a wake-up, leaving
one ``Command()`` stuck until another session's keepalive timer fires
(~25 s). Log in serially or with few threads; commands on established
sessions are not affected.
"""

from __future__ import annotations

import socket
import struct
import threading
from typing import Any

import pyghmi.ipmi.private.serversession as serversession
import pyghmi.ipmi.private.session as ipmi_session

from podium.common import pyghmi_io

_RMCP_INVALID_AUTH_ALGORITHM = 0x11
_SUITE3_AUTH_ALGORITHM = 1              # RAKP-HMAC-SHA1

_fix_lock = threading.Lock()
_fixed = False


def apply_pyghmi_fixes(host: str = "127.0.0.1") -> None:
    """Install the workarounds described in the module docstring (once)."""
    global _fixed
    with _fix_lock:
        if not _fixed:
            pyghmi_io.install()
            _fixed = True
        if not ipmi_session.iosockets:
            if ipmi_session.myself is None:
                ipmi_session.myself = host
            wake = socket.getaddrinfo(host, 0, socket.AF_INET,
                                      socket.SOCK_DGRAM)[0]
            ipmi_session.Session._assignsocket(server=wake)


class ServerSession(serversession.ServerSession):
    """pyghmi's server session with defects 1 and 3 worked around."""

    def create_open_session_response(self, request: bytearray) -> bytearray:
        # Auth algorithm is byte 12 of the open session request payload.
        if len(request) >= 13 and request[12] != _SUITE3_AUTH_ALGORITHM:
            self.clientsessionid = request[4:8]
            return (bytearray([request[0], _RMCP_INVALID_AUTH_ALGORITHM,
                               0, 0]) + self.clientsessionid)
        return super().create_open_session_response(request)

    def sessionless_data(self, data: bytes, sockaddr: Any) -> None:
        self.bmc.sessionless_data(data, sockaddr)

    def _handle_ipmi_packet(self, data: bytearray, sockaddr: Any = None,
                            qent: Any = None) -> Any:
        if (data[4] in (0, 2) and sockaddr is not None
                and struct.unpack("<II", bytes(data[5:13])) == (0, 0)):
            # A new client on an address this session used: forget only
            # this BMC's session, then treat the packet as sessionless.
            handlers = ipmi_session.Session.bmc_handlers.get(sockaddr, {})
            if handlers.get(self.bmc.port) is self:
                del handlers[self.bmc.port]
                if not handlers:
                    ipmi_session.Session.bmc_handlers.pop(sockaddr, None)
            self.bmc.sessionless_data(data, sockaddr)
            return None
        return super()._handle_ipmi_packet(data, sockaddr, qent)
