"""Parsing and validation of a Redfish node's ``driver_info``.

:func:`parse` turns ``driver_info`` into a :class:`RedfishInfo` or raises
an error naming the key and what is wrong with it; every interface calls
it first, so a typo fails before any BMC is contacted. The password only
ever leaves this module inside :class:`RedfishInfo` (whose ``repr`` hides
it) and as a keyed digest in :class:`ConnectionKey`.
"""

import dataclasses
import hashlib
import ipaddress
import os
import re
from collections.abc import Mapping
from typing import Any
from urllib import parse as urlparse

from oslo_utils import strutils

from podium.common import exceptions
from podium.conf import CONF
from podium.drivers import base

#: The Redfish service root every address implies.
ROOT_PREFIX = '/redfish/v1/'
SYSTEMS_PREFIX = '/redfish/v1/Systems/'
AUTH_TYPES = ('basic', 'session', 'auto')
_DEFAULT_PORTS = {'http': 80, 'https': 443}

# Keys the password digest, so the digest kept in cache keys and batch
# keys is useless outside this process. A fast keyed hash on purpose: it
# runs on every power read, where a slow KDF would dominate the CPU cost.
_DIGEST_KEY = os.urandom(32)

PROPERTIES: Mapping[str, base.DriverInfoProperty] = {
    'redfish_address': base.DriverInfoProperty(
        'The BMC: a URL (https://host:port), or a host or host:port, '
        'which means https. Required.', required=True),
    'redfish_system_id': base.DriverInfoProperty(
        'The ComputerSystem: its path (/redfish/v1/Systems/1) or Id. '
        'Optional when the BMC has exactly one system.'),
    'redfish_username': base.DriverInfoProperty(
        'User name on the BMC. Optional; most BMCs need one.'),
    'redfish_password': base.DriverInfoProperty(
        'Password of redfish_username. Optional; never shown.'),
    'redfish_verify_ca': base.DriverInfoProperty(
        'true (default) to verify the BMC certificate against the system '
        'CAs, false not to, or the path of a CA bundle file or '
        'directory. Optional.'),
    'redfish_auth_type': base.DriverInfoProperty(
        'basic, session or auto (a session when the BMC offers one). '
        'Optional; defaults to [redfish] auth_type.'),
}


@dataclasses.dataclass(frozen=True)
class ConnectionKey:
    """What makes two nodes share a Redfish connection (and a batch).

    Holds a keyed digest of the password, never the password, so that a
    changed password opens a new connection.
    """

    address: str
    username: str | None
    password_digest: bytes
    verify: bool | str
    auth_type: str


@dataclasses.dataclass(frozen=True)
class RedfishInfo:
    """A node's parsed Redfish ``driver_info``."""

    #: ``scheme://host:port``, with the default port filled in.
    address: str
    #: The system path, or None for "the only system".
    system_path: str | None
    username: str | None
    password: str | None = dataclasses.field(repr=False)
    verify: bool | str
    auth_type: str

    @property
    def endpoint(self) -> str:
        """The endpoint concurrency is limited on."""
        return self.address

    def connection_key(self) -> ConnectionKey:
        # Parsed infos are cached (parse), and power sync asks for the
        # key of every node a few times a cycle: the digest is made once.
        key: ConnectionKey | None = self.__dict__.get('_connection_key')
        if key is None:
            digest = hashlib.blake2b((self.password or '').encode(),
                                     key=_DIGEST_KEY,
                                     digest_size=16).digest()
            key = ConnectionKey(self.address, self.username, digest,
                                self.verify, self.auth_type)
            # Frozen: set behind the dataclass's back (not a field, so
            # neither equality nor the hash sees it).
            self.__dict__['_connection_key'] = key
        return key


def _invalid(node: base.NodeView, key: str, why: str) -> exceptions.Invalid:
    return exceptions.InvalidParameterValue(
        err=f'Node {base.node_label(node)}: driver_info {key} {why}')


def parse_address(value: str) -> str:
    """Normalise an address to ``scheme://host:port``.

    :raises ValueError: saying what is wrong.
    """
    text = value.strip()
    if not text:
        raise ValueError('is empty')
    if '://' not in text:
        text = 'https://' + text
    parts = urlparse.urlsplit(text)
    if parts.scheme not in _DEFAULT_PORTS:
        raise ValueError(f'has scheme {parts.scheme!r}; use http or https')
    if parts.path not in ('', '/') or parts.query or parts.fragment:
        raise ValueError(f'must be scheme://host[:port] without a path, '
                         f'got {value!r} (the root {ROOT_PREFIX} is '
                         f'implied)')
    if parts.username or parts.password:
        raise ValueError('must not embed credentials; use '
                         'redfish_username and redfish_password')
    try:
        port = parts.port or _DEFAULT_PORTS[parts.scheme]
    except ValueError:
        raise ValueError(f'has an invalid port in {value!r}') from None
    host = parts.hostname
    if not host:
        raise ValueError(f'has no host in {value!r}')
    try:
        if ipaddress.ip_address(host).version == 6:
            host = f'[{host}]'
    except ValueError:
        if not re.fullmatch(r'[A-Za-z0-9._-]+', host):
            raise ValueError(f'has an invalid host {host!r}') from None
    return f'{parts.scheme}://{host}:{port}'


def parse_system_id(value: str) -> str:
    """A system path from a path or a bare Id.

    :raises ValueError: saying what is wrong.
    """
    text = value.strip()
    if not text or any(c.isspace() for c in text):
        raise ValueError(f'must be a path or an Id without spaces, got '
                         f'{value!r}')
    if text.startswith('/'):
        return text.rstrip('/')
    return SYSTEMS_PREFIX + urlparse.quote(text, safe='')


def _parse_verify(value: Any) -> bool | str:
    if isinstance(value, bool):
        return value
    text = str(value).strip()
    try:
        return strutils.bool_from_string(text, strict=True)
    except ValueError:
        pass
    if not os.path.exists(text):
        raise ValueError(f'is neither a boolean nor an existing CA file or '
                         f'directory: {text!r}')
    return text


def _optional_str(node: base.NodeView, info: Mapping[str, Any],
                  key: str) -> str | None:
    value = info.get(key)
    if value is None or value == '':
        return None
    if not isinstance(value, str):
        # The value is not echoed: it may be a password.
        raise _invalid(node, key, f'must be a string, got a '
                                  f'{type(value).__name__}.')
    return value


#: Parsed ``driver_info`` by its items (and the default auth type): power
#: sync parses every node several times a cycle (batch key, endpoint,
#: read), and parsing costs more than the rest of a non-blocking read.
#: Cleared when full; a CA path is never cached (it is checked to exist).
_PARSED: dict[tuple[Any, ...], RedfishInfo] = {}
_PARSED_MAX = 100_000


def parse(node: base.NodeView) -> RedfishInfo:
    """Parse and check a node's Redfish ``driver_info``.

    :raises MissingParameterValue: redfish_address is missing.
    :raises InvalidParameterValue: naming the malformed key and why.
    """
    info = node.driver_info or {}
    try:
        # Unsorted: the same document decodes to the same order, and
        # sorting was most of a cached parse.
        key = (CONF.redfish.auth_type, *info.items())
        cached = _PARSED.get(key)
    except TypeError:  # an unhashable value: no caching
        return _parse(node, info)
    if cached is not None:
        return cached
    parsed = _parse(node, info)
    if isinstance(parsed.verify, bool):
        if len(_PARSED) >= _PARSED_MAX:
            _PARSED.clear()
        _PARSED[key] = parsed
    return parsed


def _parse(node: base.NodeView, info: Mapping[str, Any]) -> RedfishInfo:
    raw_address = info.get('redfish_address')
    if raw_address in (None, ''):
        raise exceptions.MissingParameterValue(
            err=f'Node {base.node_label(node)}: driver_info is missing '
                f'required key(s) for Redfish: redfish_address.')
    if not isinstance(raw_address, str):
        raise _invalid(node, 'redfish_address', 'must be a string.')
    try:
        address = parse_address(raw_address)
    except ValueError as exc:
        raise _invalid(node, 'redfish_address', f'{exc}.') from None

    system_path = None
    raw_system = _optional_str(node, info, 'redfish_system_id')
    if raw_system is not None:
        try:
            system_path = parse_system_id(raw_system)
        except ValueError as exc:
            raise _invalid(node, 'redfish_system_id', f'{exc}.') from None

    username = _optional_str(node, info, 'redfish_username')
    password = _optional_str(node, info, 'redfish_password')
    if password is not None and username is None:
        raise exceptions.MissingParameterValue(
            err=f'Node {base.node_label(node)}: driver_info has '
                f'redfish_password but no redfish_username.')

    verify: bool | str = True
    if info.get('redfish_verify_ca') not in (None, ''):
        try:
            verify = _parse_verify(info['redfish_verify_ca'])
        except ValueError as exc:
            raise _invalid(node, 'redfish_verify_ca', f'{exc}.') from None

    auth_type = info.get('redfish_auth_type') or CONF.redfish.auth_type
    if auth_type not in AUTH_TYPES:
        raise _invalid(node, 'redfish_auth_type',
                       f'must be one of {", ".join(AUTH_TYPES)}, got '
                       f'{auth_type!r}.')
    return RedfishInfo(address, system_path, username, password, verify,
                       auth_type)
