"""Virtual media device types and image URLs, checked where a request
enters (the API, a clean step's arguments) so a bad one is a 400 before
any BMC is asked.

The device types are Ironic's (``boot_devices.VMEDIA_DEVICES``):
``cdrom``, ``disk`` (a USB stick) and ``floppy``; Podium also takes its
own short names ``cd`` and ``usb``, which its ``eject_vmedia`` clean step
has always taken.
"""

from collections.abc import Iterable
from urllib.parse import urlsplit

from podium.common import exceptions

CDROM = 'cdrom'
DISK = 'disk'
FLOPPY = 'floppy'
#: Ironic's virtual media device types, in Ironic's order.
DEVICE_TYPES = (DISK, CDROM, FLOPPY)
#: Podium's short names for the same devices.
ALIASES = {'cd': CDROM, 'usb': DISK}

#: ``image_download_source`` values Ironic takes; Podium hands the URL to
#: the BMC as it is, which is Ironic's ``http``.
DOWNLOAD_SOURCES = ('http', 'local', 'swift')
SUPPORTED_DOWNLOAD_SOURCES = ('http',)


def device_type(name: str) -> str:
    """The Ironic device type ``name`` means.

    :raises InvalidParameterValue: an unknown device type.
    """
    canonical = ALIASES.get(name, name)
    if canonical not in DEVICE_TYPES:
        raise exceptions.InvalidParameterValue(
            err=f'Unknown virtual media device type {name!r}; known: '
                f'{", ".join(DEVICE_TYPES)} (or cd, usb).')
    return canonical


def device_types(names: Iterable[str]) -> list[str]:
    """:func:`device_type` of each name, without repeats, in order."""
    found: list[str] = []
    for name in names:
        canonical = device_type(name.strip())
        if canonical not in found:
            found.append(canonical)
    return found


def check_image_url(url: object, what: str = 'image_url') -> str:
    """``url`` if it is an http(s) URL with a host (what a BMC can fetch).

    :raises InvalidParameterValue: anything else.
    """
    if isinstance(url, str):
        parts = urlsplit(url)
        if parts.scheme in ('http', 'https') and parts.hostname:
            return url
    raise exceptions.InvalidParameterValue(
        err=f'{what} must be an http or https URL the BMC can fetch, '
            f'not {url!r}.')


def check_download_source(source: str | None) -> None:
    """Refuse an ``image_download_source`` Podium cannot honour.

    :raises InvalidParameterValue: unknown, or ``local`` / ``swift``
        (Podium serves no images; it passes the URL to the BMC).
    """
    if source is None or source in SUPPORTED_DOWNLOAD_SOURCES:
        return
    if source in DOWNLOAD_SOURCES:
        raise exceptions.InvalidParameterValue(
            err=f'image_download_source {source!r} is not supported: '
                f'Podium serves no images and hands image_url to the BMC '
                f'as it is (http).')
    raise exceptions.InvalidParameterValue(
        err=f'Unknown image_download_source {source!r}; known: '
            f'{", ".join(DOWNLOAD_SOURCES)}.')
