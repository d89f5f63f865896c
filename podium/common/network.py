"""Network identifiers of ports: MAC addresses and switch connections.

A port's MAC is stored in one form (lower case, colon separated) so
that the uniqueness the database enforces is uniqueness of the
address, however a client or a BMC spelt it. Messages are Ironic's.
"""

import re
from typing import Any

from oslo_utils import netutils

from podium.common import exceptions

_DATAPATH_ID_RE = re.compile(r'^[0-9a-f]{16}$')

#: Keys a local_link_connection may have, as in Ironic.
LOCAL_LINK_KEYS = ('port_id', 'switch_id', 'hostname', 'switch_info',
                   'network_type', 'vtep-logical-switch',
                   'vtep-physical-switch')

#: The key sets of which a non-empty local_link_connection must contain
#: one: a switch port, a smart NIC, an unmanaged link, an OVN VTEP.
_LOCAL_LINK_REQUIRED = (
    ('port_id', 'switch_id'),
    ('port_id', 'hostname'),
    ('network_type',),  # with the value unmanaged
    ('port_id', 'vtep-logical-switch', 'vtep-physical-switch'),
)

_NETWORK_TYPES = ('managed', 'unmanaged')


def validate_and_normalize_mac(address: Any) -> str:
    """``address`` in lower case if it is a MAC address.

    :raises InvalidMAC: naming what was received.
    """
    if not isinstance(address, str) or not netutils.is_valid_mac(address):
        raise exceptions.InvalidMAC(mac=address)
    return address.lower()


def validate_and_normalize_datapath_id(datapath_id: str) -> str:
    """An OpenFlow datapath ID (16 hex digits) in lower case.

    :raises InvalidParameterValue:
    """
    if not _DATAPATH_ID_RE.match(datapath_id.lower()):
        raise exceptions.InvalidParameterValue(
            err=f'Expected an OpenFlow datapath ID but received '
                f'{datapath_id}.')
    return datapath_id.lower()


def _normalize_switch_id(switch_id: str) -> str:
    try:
        return validate_and_normalize_mac(switch_id)
    except exceptions.InvalidMAC:
        pass
    try:
        return validate_and_normalize_datapath_id(switch_id)
    except exceptions.InvalidParameterValue:
        raise exceptions.InvalidParameterValue(
            err=f'Expected a MAC address or OpenFlow datapath ID but '
                f'received {switch_id}.') from None


def validate_local_link_connection(value: Any) -> dict[str, Any]:
    """A port's ``local_link_connection``, checked as Ironic checks it,
    with ``switch_id`` normalised; ``{}`` for None.

    :raises InvalidParameterValue: naming the key at fault.
    """
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise exceptions.InvalidParameterValue(
            err='Invalid local_link_connection: expected an object.')
    unknown = sorted(set(value) - set(LOCAL_LINK_KEYS))
    if unknown:
        raise exceptions.InvalidParameterValue(
            err=f'Invalid local_link_connection: unknown key(s) '
                f'{", ".join(unknown)}; allowed: '
                f'{", ".join(LOCAL_LINK_KEYS)}.')
    for key, item in value.items():
        if not isinstance(item, str):
            raise exceptions.InvalidParameterValue(
                err=f'Invalid local_link_connection: {key} must be a '
                    f'string.')
    if value.get('network_type', 'managed') not in _NETWORK_TYPES:
        raise exceptions.InvalidParameterValue(
            err=f'Invalid local_link_connection: network_type must be '
                f'one of {", ".join(_NETWORK_TYPES)}.')
    if ('vtep-logical-switch' in value) != ('vtep-physical-switch' in value):
        raise exceptions.InvalidParameterValue(
            err='Invalid local_link_connection: vtep-logical-switch and '
                'vtep-physical-switch must be given together.')
    complete = any(all(key in value for key in keys)
                   for keys in _LOCAL_LINK_REQUIRED
                   if keys != ('network_type',))
    # network_type alone suffices only for a link nothing manages.
    if value and not complete and value.get('network_type') != 'unmanaged':
        choices = '; '.join(', '.join(keys) for keys in _LOCAL_LINK_REQUIRED)
        raise exceptions.InvalidParameterValue(
            err=f'Invalid local_link_connection {value}: it must have '
                f'all the keys of one of: {choices}.')
    result = dict(value)
    if 'switch_id' in result:
        result['switch_id'] = _normalize_switch_id(result['switch_id'])
    return result
