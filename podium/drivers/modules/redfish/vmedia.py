"""Redfish virtual media: find a system's devices, insert and eject.

The devices are the system's own ``VirtualMedia`` collection where the
BMC links one (Redfish 1.13 and later), else those of the managers that
manage the system (the older place), as Ironic looks for them. A device
serves a device type (:mod:`podium.common.vmedia`) when its
``MediaTypes`` include one of the type's Redfish media types.
"""

from collections.abc import Iterable, Sequence
from typing import Any

import sushy
from oslo_log import log
from sushy import exceptions as sushy_exc

from podium.common import exceptions
from podium.common import vmedia as common_vmedia
from podium.drivers import base

LOG = log.getLogger(__name__)

#: Ironic's virtual media device types and the Redfish media types.
MEDIA_TYPES = {
    common_vmedia.CDROM: (sushy.VirtualMediaType.CD,
                          sushy.VirtualMediaType.DVD),
    common_vmedia.DISK: (sushy.VirtualMediaType.USB_STICK,),
    common_vmedia.FLOPPY: (sushy.VirtualMediaType.FLOPPY,),
}


def devices(system: Any) -> list[Any]:
    """The virtual media devices of ``system`` (a sushy System)."""
    try:
        return list(system.virtual_media.get_members())
    except sushy_exc.MissingAttributeError:
        pass
    try:
        managers = system.managers
    except sushy_exc.MissingAttributeError:
        return []
    found: list[Any] = []
    for manager in managers:
        try:
            found.extend(manager.virtual_media.get_members())
        except sushy_exc.MissingAttributeError:
            continue
    return found


def _serves(device: Any, media_types: Iterable[Any]) -> bool:
    return bool(set(device.media_types or ()) & set(media_types))


def insert(task: base.Task, system: Any, device_type: str,
           image_url: str) -> None:
    """Insert ``image_url`` into a free device of ``device_type``; one
    that already holds this image is left as it is.

    :raises InvalidParameterValue: the BMC has no such device.
    :raises Conflict: every such device holds another image.
    """
    label = base.node_label(task.node)
    candidates = [d for d in devices(system)
                  if _serves(d, MEDIA_TYPES[device_type])]
    if not candidates:
        raise exceptions.InvalidParameterValue(
            err=f'Node {label}: the BMC has no {device_type} virtual '
                f'media device.')
    for device in candidates:
        if device.inserted and device.image == image_url:
            LOG.info('Node %s: %s already in virtual media %s', label,
                     image_url, device.identity)
            return
    for device in candidates:
        if not device.inserted:
            device.insert_media(image_url, inserted=True,
                                write_protected=True)
            LOG.info('Node %s: inserted %s in virtual media %s', label,
                     image_url, device.identity)
            return
    raise exceptions.Conflict(
        reason=f'Node {label}: every {device_type} virtual media device '
               f'holds an image already; detach it first.')


def eject(task: base.Task, system: Any,
          device_types: Sequence[str] | None = None) -> None:
    """Eject the inserted devices of ``device_types`` (all when None)."""
    wanted = [t for kind in (device_types or list(MEDIA_TYPES))
              for t in MEDIA_TYPES[kind]]
    for device in devices(system):
        if device.inserted and _serves(device, wanted):
            device.eject_media()
            LOG.info('Node %s: ejected virtual media %s',
                     base.node_label(task.node), device.identity)


def holds(system: Any, device_type: str, image_url: str) -> bool:
    """Whether a ``device_type`` device of ``system`` holds the image."""
    return any(d.inserted and d.image == image_url
               for d in devices(system)
               if _serves(d, MEDIA_TYPES[device_type]))
