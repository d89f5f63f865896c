"""IPMI calls of the driver, bounded by their deadline.

Every command goes through :mod:`.reactor`: the calling thread builds a
request and waits for its future for at most the time left, so no
driver thread ever runs pyghmi code or waits on pyghmi's locks. The
reactor keeps one logged-in session per BMC (address, port, user,
password digest) across calls and power-sync cycles.

:func:`run` bounds a call: the whole call by ``task.timeout``, each
command by ``[ipmi] command_timeout``. A command that failed is retried
(on a fresh session when the reactor dropped the old one) for up to
``[ipmi] command_retries`` more attempts while time is left. Host names
are resolved here, in the caller's thread, so a slow DNS answer never
holds up the reactor.
"""

import socket
import time
from collections.abc import Callable
from typing import Any, TypeVar

from oslo_log import log
from pyghmi import exceptions as pyghmi_exc

from podium.common import exceptions
from podium.conf import CONF
from podium.drivers import base
from podium.drivers.modules import deadline
from podium.drivers.modules.ipmi import reactor, utils

LOG = log.getLogger(__name__)
T = TypeVar('T')

#: pyghmi messages meaning the BMC refused the credentials.
_AUTH_FAILURES = ('Incorrect password', 'Unauthorized name',
                  'Unauthorized role', 'Invalid username length')
#: The completion code pyghmi gives a command it stopped retransmitting.
_PYGHMI_GAVE_UP = 0xFFFF


class Connection:
    """What :mod:`.commands` sends commands through (pyghmi's API)."""

    def __init__(self, target: reactor.Target,
                 engine: reactor.Reactor) -> None:
        self.target = target
        self.engine = engine

    def xraw_command(self, netfn: int, command: int,
                     bridge_request: Any = (), data: Any = ()
                     ) -> dict[str, Any]:
        """Send one command; the answer, or raise by the deadline.

        :raises DeadlineExceeded: no answer within the current deadline.
        :raises IpmiException: the BMC answered with an error, or the
            session failed.
        """
        left = deadline.check('waiting for the IPMI BMC to answer')
        timeout = CONF.ipmi.command_timeout if left is None else left
        request = reactor.Request(
            target=self.target, netfn=netfn, command=command,
            data=tuple(data), bridge=dict(bridge_request) or None,
            deadline=time.monotonic() + timeout)
        self.engine.submit(request)
        try:
            return request.future.result(timeout)
        except (reactor.Expired, TimeoutError):
            # The reactor gives up on the request at the same deadline;
            # TimeoutError only if it could not even do that in time.
            request.future.cancel()
            raise deadline.exceeded('the BMC did not answer') from None


def target_for(info: utils.IPMIInfo) -> reactor.Target:
    """The reactor's target for ``info``, its host name resolved.

    :raises DriverError: the host name does not resolve.
    """
    try:
        resolved = socket.getaddrinfo(info.address, info.port, 0,
                                      socket.SOCK_DGRAM)
    except (OSError, UnicodeError) as exc:
        raise exceptions.DriverError(
            reason=f'cannot resolve IPMI address {info.address}: {exc}'
        ) from None
    return reactor.Target(address=str(resolved[0][4][0]), port=info.port,
                          username=info.username.encode(),
                          password=info.password.encode(),
                          key=info.session_key())


def _error(node: base.NodeView, action: str, info: utils.IPMIInfo,
           exc: Exception) -> exceptions.DriverError:
    where = f'node {base.node_label(node)}: {action} at IPMI BMC {info.label}'
    if isinstance(exc, exceptions.BMCTimeout):
        return exceptions.BMCTimeout(timeout=exc.kwargs.get('timeout'),
                                     reason=f'{where}: '
                                            f'{exc.kwargs.get("reason")}')
    text = str(exc)
    if any(marker in text for marker in _AUTH_FAILURES):
        return exceptions.BMCAuthError(
            reason=f'{where}: {text}; check ipmi_username and '
                   f'ipmi_password')
    if isinstance(exc, exceptions.DriverError):
        return exc
    return exceptions.DriverError(reason=f'{where} failed: {text}')


def _retryable(exc: Exception) -> bool:
    # A command that timed out is retried only while the outer deadline
    # has time left (checked by the caller): the reactor has dropped the
    # session, so the retry logs in afresh.
    return not any(marker in str(exc) for marker in _AUTH_FAILURES)


def _readable(exc: Exception) -> Exception:
    """pyghmi's terse "timeout" as the sentence a user needs."""
    if getattr(exc, 'ipmicode', None) == _PYGHMI_GAVE_UP:
        return deadline.exceeded('the BMC stopped answering and pyghmi '
                                 'gave up retransmitting')
    return exc


def run(task: base.Task, info: utils.IPMIInfo, action: str,
        call: Callable[[Connection], T],
        engine: reactor.Reactor | None = None) -> T:
    """Run ``call(connection)`` on the node's BMC within the bounds.

    :raises BMCTimeout: the BMC did not answer in time.
    :raises BMCAuthError: the BMC refused the credentials.
    :raises DriverError: any other failure, naming node, BMC and action.
    """
    with deadline.bounded(task.timeout):
        try:
            connection = Connection(target_for(info),
                                    engine or reactor.REACTOR)
            return _attempts(connection, info, call)
        except (pyghmi_exc.IpmiException, exceptions.DriverError,
                OSError, ValueError) as exc:
            raise _error(task.node, action, info, exc) from None


def _attempts(connection: Connection, info: utils.IPMIInfo,
              call: Callable[[Connection], T]) -> T:
    attempt = 0
    while True:
        attempt += 1
        try:
            with deadline.bounded(CONF.ipmi.command_timeout):
                return call(connection)
        except (LookupError, TypeError) as exc:
            # The decoders index into the answer: a short one is garbage.
            raise ValueError(f'the BMC sent a malformed answer '
                             f'({type(exc).__name__}: {exc})') from None
        except (pyghmi_exc.IpmiException, deadline.DeadlineExceeded) as exc:
            error = _readable(exc)
            left = deadline.remaining()
            if (attempt > CONF.ipmi.command_retries
                    or not _retryable(error)
                    or (left is not None and left <= 0)):
                raise error from None
            LOG.debug('IPMI command to %s failed (%s); retrying',
                      info.label, exc)
