"""IPMI sessions: one pyghmi ``Command`` per BMC, one command at a time.

pyghmi allows one command per session at a time, and logging in costs
four round trips, so every BMC (address, port, user, password digest) has
a :class:`BmcClient`: a lock that serialises commands to it and the
logged-in ``Command`` reused across calls and power-sync cycles.
Different BMCs run concurrently. A session idle for ``[ipmi]
session_idle_timeout`` seconds is logged out.

:func:`run` bounds a call: the whole call by ``task.timeout``, each
command by ``[ipmi] command_timeout``, waiting for the BMC's lock
included. A session pyghmi no longer trusts, or that failed a command,
is replaced by a fresh login for up to ``[ipmi] command_retries`` more
attempts while time is left. Credentials go to pyghmi as bytes: with
``str`` a second session to the same BMC hangs (pyghmi 1.6.19).
"""

import collections
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

from oslo_log import log
from pyghmi import exceptions as pyghmi_exc
from pyghmi.ipmi import command as ipmi_command

from podium.common import exceptions
from podium.conf import CONF
from podium.drivers import base
from podium.drivers.modules import deadline
from podium.drivers.modules.ipmi import pyghmi_compat, utils

LOG = log.getLogger(__name__)
T = TypeVar('T')

pyghmi_compat.apply()

#: pyghmi messages meaning the BMC refused the credentials.
_AUTH_FAILURES = ('Incorrect password', 'Unauthorized name',
                  'Unauthorized role', 'Invalid username length')


class BmcClient:
    """The lock and the logged-in session of one BMC."""

    def __init__(self, info: utils.IPMIInfo) -> None:
        self.label = info.label
        self.lock = threading.Lock()
        self.command: Any = None
        self.last_used = time.monotonic()

    def command_for(self, info: utils.IPMIInfo) -> Any:
        """The logged-in ``Command``, logging in again if needed.

        Caller holds :attr:`lock`.
        """
        if self.command is not None and not pyghmi_compat.session_valid(
                self.command.ipmi_session):
            self.discard()
        if self.command is None:
            try:
                self.command = ipmi_command.Command(
                    bmc=info.address, port=info.port,
                    userid=info.username.encode(),
                    password=info.password.encode())
            except deadline.DeadlineExceeded:
                # pyghmi keys a login in progress by the values passed.
                with deadline.lifted():
                    pyghmi_compat.abandon(None, (
                        info.address, info.username.encode(),
                        info.password.encode(), info.port, None))
                raise
        return self.command

    def discard(self) -> None:
        """Abandon the session (caller holds :attr:`lock`)."""
        command, self.command = self.command, None
        if command is not None:
            with deadline.lifted():
                pyghmi_compat.abandon(command.ipmi_session)


class ClientCache:
    """:class:`BmcClient` by session key, idle ones logged out."""

    def __init__(self) -> None:
        self._clients: collections.OrderedDict[
            tuple[Any, ...], BmcClient] = collections.OrderedDict()
        self._lock = threading.Lock()

    def get(self, info: utils.IPMIInfo) -> BmcClient:
        key = info.session_key()
        now = time.monotonic()
        with self._lock:
            idle = self._pop_idle(now)
            client = self._clients.get(key)
            if client is None:
                client = self._clients[key] = BmcClient(info)
            self._clients.move_to_end(key)
            client.last_used = now
        for stale in idle:
            # Never wait for a busy client: it is in use, hence not idle.
            if stale.lock.acquire(blocking=False):
                try:
                    stale.discard()
                finally:
                    stale.lock.release()
        return client

    def clear(self) -> None:
        with self._lock:
            clients = list(self._clients.values())
            self._clients.clear()
        for client in clients:
            with client.lock:
                client.discard()

    def __len__(self) -> int:
        return len(self._clients)

    def _pop_idle(self, now: float) -> list[BmcClient]:
        ttl = CONF.ipmi.session_idle_timeout
        idle: list[BmcClient] = []
        while ttl and self._clients:
            key, client = next(iter(self._clients.items()))
            if now - client.last_used < ttl:
                break
            del self._clients[key]
            idle.append(client)
        return idle


#: The process-wide IPMI clients.
CLIENTS = ClientCache()


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
    if isinstance(exc, exceptions.BMCTimeout):
        return False
    return not any(marker in str(exc) for marker in _AUTH_FAILURES)


def run(task: base.Task, info: utils.IPMIInfo, action: str,
        call: Callable[[Any], T]) -> T:
    """Run ``call(command)`` on the node's BMC within the bounds.

    :raises BMCTimeout: the BMC (or its lock) did not free up in time.
    :raises BMCAuthError: the BMC refused the credentials.
    :raises DriverError: any other failure, naming node, BMC and action.
    """
    client = CLIENTS.get(info)
    with deadline.bounded(task.timeout):
        try:
            return _run_locked(client, info, call)
        except (pyghmi_exc.IpmiException, exceptions.DriverError,
                OSError, ValueError) as exc:
            raise _error(task.node, action, info, exc) from None


def _run_locked(client: BmcClient, info: utils.IPMIInfo,
                call: Callable[[Any], T]) -> T:
    left = deadline.remaining()
    if not client.lock.acquire(timeout=max(left or 0.0, 0.0)):
        raise deadline.exceeded('an earlier command to this BMC is still '
                                'running')
    try:
        attempt = 0
        while True:
            attempt += 1
            try:
                with deadline.bounded(CONF.ipmi.command_timeout):
                    result = call(client.command_for(info))
                client.last_used = time.monotonic()
                return result
            except deadline.DeadlineExceeded:
                client.discard()
                raise
            except (pyghmi_exc.IpmiException, OSError) as exc:
                client.discard()
                left = deadline.remaining()
                if (attempt > CONF.ipmi.command_retries
                        or not _retryable(exc)
                        or (left is not None and left <= 0)):
                    raise
                LOG.debug('IPMI command to %s failed (%s); retrying on a '
                          'new session', info.label, exc)
    finally:
        client.lock.release()
