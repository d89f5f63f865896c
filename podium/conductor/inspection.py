"""What an inspection found, written down: properties, ports and the
firmware versions of components (see :mod:`podium.db.firmware`).

An inspect interface reports a node's properties (``cpus``, ``cpu_arch``,
``memory_mb``, ``local_gb``) and the MAC addresses of its network
interfaces (``macs``). As Ironic does, the properties are merged into
the node's ``properties`` and every MAC becomes a port of the node,
unless a port with that MAC exists already: this node's (from an
earlier inspection or created by an operator), left as it is; or
another node's, left as it is with a warning, since one of the two
nodes' records is wrong and only an operator can tell which.
"""

from collections.abc import Iterable
from typing import Any

from oslo_log import log

from podium.common import exceptions, network
from podium.db import ports as db_ports

LOG = log.getLogger(__name__)

#: The key of the inspection result that lists the MAC addresses.
MACS = 'macs'
#: The key of the inspection result with the firmware versions.
FIRMWARE = 'firmware'


def split(found: dict[str, Any]) -> tuple[dict[str, Any], list[Any]]:
    """``(properties, macs)`` of what ``inspect_hardware`` returned (its
    firmware versions are left out: see :func:`firmware_versions`)."""
    properties = dict(found)
    macs = properties.pop(MACS, None) or []
    properties.pop(FIRMWARE, None)
    return properties, list(macs)


def firmware_versions(found: dict[str, Any]) -> dict[str, str]:
    """``{component: version}`` of what ``inspect_hardware`` returned,
    without the components it could not read."""
    versions = found.get(FIRMWARE) or {}
    return {str(name): str(version) for name, version in versions.items()
            if version not in (None, '')}


def create_ports(node: Any, macs: Iterable[Any]) -> list[str]:
    """A port of ``node`` for each of ``macs`` no port has yet.

    Ports are created one by one, so that a MAC taken meanwhile (by an
    operator, or another node's inspection) skips only that MAC.

    :returns: the MAC addresses that got a new port, normalised.
    """
    created: list[str] = []
    for mac in macs:
        try:
            address = network.validate_and_normalize_mac(mac)
        except exceptions.InvalidMAC as exc:
            LOG.warning('Node %s: inspection reported %s; no port '
                        'created for it', node.uuid, exc)
            continue
        if address in created:
            continue
        try:
            db_ports.create_port({'node_id': node.id, 'address': address,
                                  'pxe_enabled': True})
        except exceptions.MACAlreadyExists:
            _warn_if_elsewhere(node, address)
            continue
        created.append(address)
    if created:
        LOG.info('Node %s: inspection created ports for %s', node.uuid,
                 ', '.join(created))
    return created


def _warn_if_elsewhere(node: Any, address: str) -> None:
    found = db_ports.list_ports(address=address)
    if not found:
        return  # deleted meanwhile; the next inspection creates it
    owner = found[0].node_id
    if owner != node.id:
        LOG.warning('Node %(node)s: inspection found MAC %(mac)s, which '
                    'is a port of another node (id %(other)s); no port '
                    'created for it', {'node': node.uuid, 'mac': address,
                                       'other': owner})
