"""Parsing and validation of an IPMI node's ``driver_info``.

pyghmi bridges one level (a target channel and address behind the BMC);
it cannot do the dual bridging Ironic's ipmitool driver offers, so
``ipmi_bridging=dual`` and the ``ipmi_transit_*`` keys are refused with a
message saying so, rather than silently talking to the wrong controller.
"""

import dataclasses
import hashlib
import os
import re
from collections.abc import Mapping
from typing import Any

from podium.common import exceptions
from podium.drivers import base

DEFAULT_PORT = 623
BRIDGING = ('no', 'single')
_TRANSIT_KEYS = ('ipmi_transit_channel', 'ipmi_transit_address')
_DIGEST_KEY = os.urandom(32)

PROPERTIES: Mapping[str, base.DriverInfoProperty] = {
    'ipmi_address': base.DriverInfoProperty(
        'IP address or host name of the BMC. Required.', required=True),
    'ipmi_port': base.DriverInfoProperty(
        'UDP port of the BMC. Optional, default 623.'),
    'ipmi_username': base.DriverInfoProperty(
        'User name on the BMC. Optional (anonymous login if empty).'),
    'ipmi_password': base.DriverInfoProperty(
        'Password of ipmi_username. Optional; never shown.'),
    'ipmi_bridging': base.DriverInfoProperty(
        '"no" (default) or "single": send commands through the BMC to '
        'the controller at ipmi_target_address on ipmi_target_channel. '
        '"dual" bridging is not supported by pyghmi. Optional.'),
    'ipmi_target_channel': base.DriverInfoProperty(
        'Channel of the bridged controller (0-15). Required when '
        'ipmi_bridging is single.'),
    'ipmi_target_address': base.DriverInfoProperty(
        'IPMB address of the bridged controller (0-255, decimal or 0x). '
        'Required when ipmi_bridging is single.'),
}


@dataclasses.dataclass(frozen=True)
class IPMIInfo:
    """A node's parsed IPMI ``driver_info``."""

    address: str
    port: int
    username: str
    password: str = dataclasses.field(repr=False)
    #: ``(target channel, target address)`` when bridged, else None.
    bridge: tuple[int, int] | None = None

    @property
    def label(self) -> str:
        return f'{self.address}:{self.port}'

    def session_key(self) -> tuple[str, int, str, bytes]:
        """What identifies one IPMI session (password as a digest)."""
        digest = hashlib.blake2b(self.password.encode(), key=_DIGEST_KEY,
                                 digest_size=16).digest()
        return (self.address, self.port, self.username, digest)

    def bridge_request(self) -> dict[str, int] | None:
        if self.bridge is None:
            return None
        channel, addr = self.bridge
        return {'channel': channel, 'addr': addr}


def _invalid(node: base.NodeView, key: str, why: str) -> exceptions.Invalid:
    return exceptions.InvalidParameterValue(
        err=f'Node {base.node_label(node)}: driver_info {key} {why}')


def _integer(node: base.NodeView, info: Mapping[str, Any], key: str,
             low: int, high: int) -> int:
    value = info.get(key)
    try:
        number = int(str(value).strip(), 0) if isinstance(value, str) \
            else int(value)  # type: ignore[arg-type]
        if isinstance(value, bool) or not low <= number <= high:
            raise ValueError
    except (TypeError, ValueError):
        raise _invalid(node, key, f'must be an integer from {low} to '
                                  f'{high}, got {value!r}.') from None
    return number


def _string(node: base.NodeView, info: Mapping[str, Any], key: str) -> str:
    value = info.get(key)
    if value is None:
        return ''
    if not isinstance(value, str):
        raise _invalid(node, key, f'must be a string, got a '
                                  f'{type(value).__name__}.')
    return value


def parse(node: base.NodeView) -> IPMIInfo:
    """Parse and check a node's IPMI ``driver_info``.

    :raises MissingParameterValue: naming the missing key.
    :raises InvalidParameterValue: naming the malformed key and why.
    """
    info = node.driver_info or {}
    label = base.node_label(node)
    address = _string(node, info, 'ipmi_address').strip()
    if not address:
        raise exceptions.MissingParameterValue(
            err=f'Node {label}: driver_info is missing required key(s) '
                f'for IPMI: ipmi_address.')
    if not re.fullmatch(r'[A-Za-z0-9._:%-]+', address):
        raise _invalid(node, 'ipmi_address',
                       f'must be an IP address or host name, got '
                       f'{address!r}.')
    port = DEFAULT_PORT
    if info.get('ipmi_port') not in (None, ''):
        port = _integer(node, info, 'ipmi_port', 1, 65535)
    username = _string(node, info, 'ipmi_username')
    password = _string(node, info, 'ipmi_password')

    bridging = info.get('ipmi_bridging') or 'no'
    if bridging == 'dual' or any(info.get(k) not in (None, '')
                                 for k in _TRANSIT_KEYS):
        raise _invalid(node, 'ipmi_bridging',
                       'dual bridging (ipmi_transit_channel/'
                       'ipmi_transit_address) is not supported: pyghmi '
                       'bridges a single level only.')
    if bridging not in BRIDGING:
        raise _invalid(node, 'ipmi_bridging',
                       f'must be one of {", ".join(BRIDGING)}, got '
                       f'{bridging!r}.')
    bridge = None
    if bridging == 'single':
        missing = [key for key in ('ipmi_target_channel',
                                   'ipmi_target_address')
                   if info.get(key) in (None, '')]
        if missing:
            raise exceptions.MissingParameterValue(
                err=f'Node {label}: ipmi_bridging single needs '
                    f'driver_info {" and ".join(missing)}.')
        bridge = (_integer(node, info, 'ipmi_target_channel', 0, 15),
                  _integer(node, info, 'ipmi_target_address', 0, 255))
    return IPMIInfo(address, port, username, password, bridge)
