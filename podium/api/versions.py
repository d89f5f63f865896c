"""API microversions: what the server advertises and how a request's
version is negotiated.

Podium accepts every Ironic microversion from :data:`MIN_VERSION` to
:data:`MAX_VERSION`. What differs between versions (routes, fields,
state names, request features) is in one table,
:mod:`podium.api.microversions`.
"""

import functools
import re

from podium.common import exceptions

#: Lowest and highest microversions of the v1 API, as (major, minor).
MIN_VERSION = (1, 1)
MAX_VERSION = (1, 115)


def to_string(version: tuple[int, int]) -> str:
    return f'{version[0]}.{version[1]}'


MIN_VERSION_STRING = to_string(MIN_VERSION)
MAX_VERSION_STRING = to_string(MAX_VERSION)

VERSION_HEADER = 'X-OpenStack-Ironic-API-Version'
MIN_HEADER = 'X-OpenStack-Ironic-API-Minimum-Version'
MAX_HEADER = 'X-OpenStack-Ironic-API-Maximum-Version'

#: The generic microversion header and the service type it names.
GENERIC_HEADER = 'OpenStack-API-Version'
SERVICE_TYPE = 'baremetal'

_VERSION_RE = re.compile(r'^(\d+)\.(\d+)$')


def parse(value: str | None) -> tuple[int, int]:
    """The version a request asks for, checked against the range.

    :param value: the header value; None (no header) means the minimum
        and ``latest`` the maximum.
    :raises NotAcceptable: for a malformed or unsupported version.
    """
    if value is None:
        return MIN_VERSION
    return _parse(value)


# Clients send one of a handful of values, every request: each is
# parsed once. Refused values raise and so are not kept.
@functools.lru_cache(maxsize=256)
def _parse(value: str) -> tuple[int, int]:
    value = value.strip()
    if value.lower() == 'latest':
        return MAX_VERSION
    match = _VERSION_RE.match(value)
    if match is None:
        raise exceptions.NotAcceptable(
            f'Invalid value for {VERSION_HEADER} header: "{value}". '
            f'Expected "latest" or MAJOR.MINOR, e.g. '
            f'"{MAX_VERSION_STRING}".')
    version = (int(match.group(1)), int(match.group(2)))
    if version[0] != MAX_VERSION[0]:
        raise exceptions.NotAcceptable(
            f'Mutually exclusive versions requested. Version {value} '
            f'requested but not supported by this service. The supported '
            f'version range is: [{MIN_VERSION_STRING}, '
            f'{MAX_VERSION_STRING}].')
    if not MIN_VERSION <= version <= MAX_VERSION:
        raise exceptions.NotAcceptable(
            f'Version {value} was requested but the minor version is not '
            f'supported by this service. The supported version range is: '
            f'[{MIN_VERSION_STRING}, {MAX_VERSION_STRING}].')
    return version


def from_generic_header(value: str) -> str | None:
    """The baremetal version in an ``OpenStack-API-Version`` header.

    The header may list several services (``compute 2.1, baremetal
    1.50``); None when it names no baremetal version.
    """
    for item in value.split(','):
        parts = item.split()
        if len(parts) == 2 and parts[0].lower() == SERVICE_TYPE:
            return parts[1]
    return None


def version_document(base_url: str) -> dict[str, object]:
    """The description of API v1 used by ``/`` and ``/v1``."""
    return {
        'id': 'v1',
        'status': 'CURRENT',
        'min_version': MIN_VERSION_STRING,
        'version': MAX_VERSION_STRING,
        'links': [{'href': f'{base_url}/v1/', 'rel': 'self'}],
    }
