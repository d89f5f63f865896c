"""Redfish power reads that wait on the read loop, not on a thread.

:func:`start` is the Redfish ``PowerInterface.start_power_read``: the
same GET as :mod:`.power_read` (one system document, or every system
of the endpoint with ``$expand`` for a batch), over the same cached
connection and with the same authentication (the session token or
basic-auth pair the connection's requests session holds, as
:mod:`.lean_get` sends it), run as a coroutine on
:data:`~podium.drivers.modules.aio_loop.LOOP` with the task's timeout as
its deadline.

What this path cannot serve exactly is left to the threaded one: a node
whose connection is not open yet (opening logs in, which is
synchronous), whose system path is not known yet, a batch whose BMC's
``$expand`` is not known to work, and any answer but a 200 with a JSON
body (a 401 in particular: the threaded path logs in again and reports
errors as before). Such nodes are left out of the result, like the
nodes a batch read leaves out, or :func:`start` returns None. A read
that does not finish within its deadline fails with the
``BMCTimeout`` the threaded path raises for it.
"""

import asyncio
from collections.abc import Sequence
from typing import Any

import orjson
from oslo_log import log

from podium.common import exceptions
from podium.conf import CONF
from podium.drivers import base
from podium.drivers.modules import aio_loop, read_future
from podium.drivers.modules.redfish import (
    aio_get,
    connection,
    errors,
    lean_get,
    power_read,
    transport,
    utils,
)

LOG = log.getLogger(__name__)

#: Statuses the threaded path answers by logging in again.
_AUTH_STATUSES = (401, 403)

#: What one read resolves to: power state or error by node id.
Result = dict[int, str | Exception]


def start(tasks: Sequence[base.Task]
          ) -> read_future.ReadFuture[Result] | None:
    """Start reading ``tasks`` (one node, or a batch sharing a
    connection key); None when the threaded path must read them."""
    if not tasks:
        return None
    try:
        info = utils.parse(tasks[0].node)
    except exceptions.Invalid:
        return None  # the threaded path reports it
    conn = connection.CACHE.peek(info, touch=True)
    if conn is None:
        return None
    if len(tasks) > 1:
        if not conn.expand_usable():
            return None
        path = conn.systems_path + power_read.EXPAND_QUERY
        action = 'reading power states with $expand'
        node: Any = power_read.BatchTask(tasks).node
    else:
        system = conn.known_system_path(info)
        if system is None:
            return None
        path, action, node = system, 'reading the power state', \
            tasks[0].node
    session = conn.connector.http
    headers = lean_get.auth_headers(session)
    getter = conn.aio_getter()
    if headers is None or not getter.serves(session):
        return None
    headers.update(connection.JSON_HEADERS)
    timeout = max(task.timeout for task in tasks)
    return aio_loop.LOOP.submit(_read(
        getter, path, headers, timeout, list(tasks), conn, node, action,
        info.address))


def _timed_out(node: Any, action: str, address: str, url: str,
               timeout: float) -> exceptions.DriverError:
    """The error the threaded path raises for a read past its deadline
    (``transport.BoundedConnector.bounded_request``, then
    ``errors.translated``)."""
    request_timeout = CONF.redfish.request_timeout
    reported = timeout if timeout < request_timeout else request_timeout
    return errors.describe(node, action, address,
                           transport.timeout_error('GET', url, reported))


def _sent(tasks: list[base.Task]) -> None:
    for task in tasks:
        base.request_sent(task)


async def _read(getter: aio_get.AioGetter, path: str,
                headers: dict[str, str], timeout: float,
                tasks: list[base.Task], conn: connection.Connection,
                node: Any, action: str, address: str) -> Result:
    # The threaded path bounds each request by [redfish] request_timeout
    # too; a power read is one request.
    limit = min(timeout, CONF.redfish.request_timeout)
    try:
        async with asyncio.timeout(limit):
            reply = await getter.get(path, headers,
                                     on_sent=lambda: _sent(tasks))
    except TimeoutError:
        error = _timed_out(node, action, address, address + path, timeout)
        return {task.node.id: error for task in tasks}
    if reply is None or reply[0] != 200:
        if (reply is not None and len(tasks) > 1
                and reply[0] not in _AUTH_STATUSES):
            # As the threaded batch read: a BMC that advertises $expand
            # and refuses it is read one node at a time from now on.
            LOG.info('The Redfish BMC at %s refused $expand (HTTP %d); '
                     'reading its systems one by one', address, reply[0])
            conn.expand_refused = True
        return {}
    try:
        # orjson: a third of the stdlib decoder's CPU. What it refuses
        # (NaN, integers past 64 bits) falls back to the threaded path.
        doc = orjson.loads(reply[1])
    except ValueError:
        return {}
    if not isinstance(doc, dict):
        return {}
    if len(tasks) == 1:
        task = tasks[0]
        try:
            state = power_read.power_state_of(task.node, doc)
        except exceptions.DriverError as exc:
            return {task.node.id: exc}
        power_read.observe(task, doc)
        return {task.node.id: state}
    members = power_read.member_index(doc)
    result: Result = {}
    if not any('PowerState' in m for m in members.values()):
        return result  # links only: read one by one
    for task in tasks:
        try:
            system = conn.known_system_path(utils.parse(task.node))
            member = members.get(system) if system is not None else None
            if member is not None and 'PowerState' in member:
                result[task.node.id] = power_read.power_state_of(
                    task.node, member)
                power_read.observe(task, member)
        except Exception as exc:
            result[task.node.id] = exc
    return result
