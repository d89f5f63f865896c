"""The process's limit on open files, raised as far as it may go.

Every BMC a conductor keeps a connection to costs a file descriptor (a
Redfish connection, its kept-alive sockets), as does every simulated
BMC's listening socket. The usual soft limit of 1024 stops a conductor
at a few hundred BMCs with "Too many open files", while the hard limit
a service manager grants (``LimitNOFILE``) is usually far higher.
"""

import logging
import resource

LOG = logging.getLogger(__name__)

#: What "no limit" is taken to mean when raising the soft limit.
UNLIMITED_TARGET = 1 << 20


def raise_limit() -> int:
    """Raise the soft RLIMIT_NOFILE to the hard limit; return the soft
    limit now in force."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or soft < hard:
        target = hard if hard != resource.RLIM_INFINITY else \
            UNLIMITED_TARGET
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            soft = target
        except (ValueError, OSError) as exc:
            LOG.warning('Could not raise the open files limit '
                        '(RLIMIT_NOFILE) to %s: %s', target, exc)
    return soft
