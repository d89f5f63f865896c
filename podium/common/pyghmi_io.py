"""Datagram I/O for pyghmi's IO thread that never toggles blocking mode.

pyghmi's IO thread sets a shared socket non-blocking to drain it while
sender threads set it blocking to send; interleaved, the IO thread ends
up blocked in ``recvfrom`` forever and every IPMI session of the process
(client or simulated BMC) freezes. These replacements for pyghmi's
``_io_recvfrom`` and ``_io_sendto`` leave the socket blocking and
receive with ``MSG_DONTWAIT`` instead. The IPMI driver and the IPMI
simulator both install them; installing twice is harmless.
"""

import socket
from typing import Any

from pyghmi.ipmi.private import session as ipmi_session


def _raw(mysocket: Any) -> Any:
    # pyghmi may hand over an eventlet green socket; use the real one.
    return getattr(mysocket, 'fd', mysocket)


def recvfrom(mysocket: Any, size: int) -> tuple[bytes, Any] | None:
    """Drain one datagram if one is waiting; None otherwise."""
    try:
        return _raw(mysocket).recvfrom(size, socket.MSG_DONTWAIT)
    except OSError:
        return None


def sendto(mysocket: Any, packet: bytes, sockaddr: Any) -> None:
    """Send one datagram; a lost one is pyghmi's to retransmit."""
    try:
        _raw(mysocket).sendto(packet, sockaddr)
    except OSError:
        pass


def install() -> None:
    """Make pyghmi's IO thread use these functions."""
    ipmi_session._io_recvfrom = recvfrom
    ipmi_session._io_sendto = sendto
