"""Mapping sushy and requests failures to Podium's driver errors.

The conductor shows the message in the node's ``last_error``, so it names
the node, the action and the BMC and says what went wrong in one line:
``BMCTimeout`` for a BMC that did not answer in time, ``BMCAuthError``
for rejected credentials (401/403), ``DriverError`` for everything else.
No message includes a password: sushy's and requests' errors carry URLs
and status lines, never the credentials Podium passes separately.
"""

import contextlib
from collections.abc import Iterator

import requests
from sushy import exceptions as sushy_exc

from podium.common import exceptions
from podium.drivers import base
from podium.drivers.modules.redfish import transport

_AUTH_STATUSES = (401, 403)


def describe(node: base.NodeView, action: str, address: str,
             exc: BaseException) -> exceptions.DriverError:
    """The Podium error for ``exc`` raised while doing ``action``."""
    where = f'node {base.node_label(node)}: {action} at {address}'
    if isinstance(exc, exceptions.DriverError):
        if isinstance(exc, exceptions.BMCTimeout):
            return type(exc)(timeout=exc.kwargs.get('timeout'),
                             reason=f'{where}: '
                                    f'{exc.kwargs.get("reason", exc)}')
        return exc
    if isinstance(exc, sushy_exc.HTTPError):
        status = exc.status_code
        detail = exc.detail or exc.code
        if status in _AUTH_STATUSES:
            return exceptions.BMCAuthError(
                reason=f'{where}: HTTP {status} ({detail}); check '
                       f'redfish_username and redfish_password')
        return exceptions.DriverError(
            reason=f'{where} failed: HTTP {status} ({detail})')
    if isinstance(exc, sushy_exc.ConnectionError | requests.RequestException):
        if transport.timed_out(exc):
            return exceptions.BMCTimeout(timeout='the request timeout',
                                         reason=where)
        return exceptions.DriverError(
            reason=f'{where}: cannot reach the BMC ({_root_cause(exc)})')
    if isinstance(exc, sushy_exc.SushyError):
        return exceptions.DriverError(reason=f'{where} failed: {exc}')
    if isinstance(exc, ValueError):
        return exceptions.DriverError(
            reason=f'{where}: the BMC sent an invalid answer ({exc})')
    return exceptions.DriverError(
        reason=f'{where} failed: {type(exc).__name__}: {exc}')


def _root_cause(exc: BaseException) -> str:
    """The useful part of a transport error's message."""
    text = str(exc)
    # urllib3 wraps the errno message in pool/object reprs; keep the tail.
    marker = 'Failed to establish a new connection: '
    if marker in text:
        text = text.split(marker, 1)[1].split(')', 1)[0].rstrip("'\"")
    return text


@contextlib.contextmanager
def translated(node: base.NodeView, action: str,
               address: str) -> Iterator[None]:
    """Re-raise any failure in the block as a Podium driver error; a
    refused request (Invalid: 400) or a conflict with the BMC's state
    (Conflict: 409) the driver raised stays what it is."""
    try:
        yield
    except (exceptions.Invalid, exceptions.Conflict):
        raise
    except Exception as exc:
        raise describe(node, action, address, exc) from None
