"""Process-level helpers shared by the Redfish and IPMI simulators."""

from __future__ import annotations

import ipaddress
import logging
import resource
import socket

LOG = logging.getLogger(__name__)


def raise_nofile_limit() -> int:
    """Raise the soft RLIMIT_NOFILE to the hard limit; return the new soft
    limit.

    Thousands of endpoints each hold a listening socket plus their clients'
    connections, far past the usual soft limit of 1024.
    """
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or soft < hard:
        target = hard if hard != resource.RLIM_INFINITY else 1 << 20
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            soft = target
        except (ValueError, OSError) as exc:
            LOG.warning("Could not raise RLIMIT_NOFILE to %s: %s",
                        target, exc)
    return soft


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
