"""Process-level helpers shared by the Redfish and IPMI simulators."""

from __future__ import annotations

import ipaddress
import logging
import resource
import socket

from podium.common import open_files

LOG = logging.getLogger(__name__)

#: Thousands of simulated BMCs each hold a listening socket plus their
#: clients' connections.
raise_nofile_limit = open_files.raise_limit


def process_cpu_seconds() -> float:
    """User plus system CPU time of this whole process."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def require_loopback(host: str) -> None:
    """Refuse to bind anything but a loopback address.

    The simulator serves plain-text credentials and fault injection; it
    has no business on a real network.
    """
    try:
        infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except socket.gaierror as exc:
        raise ValueError(f"cannot resolve {host!r}: {exc}") from None
    for info in infos:
        addr = ipaddress.ip_address(info[4][0])
        if not addr.is_loopback:
            raise ValueError(f"{host!r} is not a loopback address; the "
                             f"simulator only binds loopback")
