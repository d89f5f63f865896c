"""Persistent boot order: the options a BMC lists and how a request
reorders them, shared by every management interface.

A BMC lists boot options (Redfish's ``BootOptions``, a UEFI boot
manager's ``Boot####`` entries): each has a reference (what the order
names), a display name, the kind of device it boots (``pxe``, ``disk``,
``cdrom``, ``usb``...) and, for a NIC, its MAC address. An operator asks
for an order by device kinds (``pxe,disk``: every PXE option first, in
their current order, then every disk option, then the rest as they
were; Badfish's ``--boot-to``) or by a NIC's MAC (that NIC's option
first, the rest as they were; Badfish's ``--boot-to-mac``). A check
compares the current order with the one the request would produce.
"""

import dataclasses
import re
from collections.abc import Mapping, Sequence
from typing import Any

from podium.common import exceptions, network, states

#: Device kinds an order request may name (a BMC's option references,
#: such as ``Boot0003``, are accepted too).
DEVICE_KINDS = (states.BOOT_DEVICE_PXE, states.BOOT_DEVICE_DISK,
                states.BOOT_DEVICE_CDROM, states.BOOT_DEVICE_USB,
                states.BOOT_DEVICE_BIOS)

_MAC_COLONS = re.compile(r'(?<![0-9A-Fa-f:])((?:[0-9A-Fa-f]{2}[:-]){5}'
                         r'[0-9A-Fa-f]{2})(?![0-9A-Fa-f:])')
_UEFI_MAC = re.compile(r'MAC\(([0-9A-Fa-f]{12})\b')


@dataclasses.dataclass(frozen=True)
class BootOption:
    """One boot option of a node.

    ``ref`` is what the boot order names; ``device`` the kind of device
    (None when the BMC does not say); ``mac`` the NIC's MAC, lower case,
    for network options.
    """

    ref: str
    name: str
    device: str | None = None
    mac: str | None = None
    enabled: bool | None = None

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> 'BootOption':
        return cls(ref=str(data['ref']), name=str(data.get('name') or ''),
                   device=data.get('device'), mac=data.get('mac'),
                   enabled=data.get('enabled'))


@dataclasses.dataclass(frozen=True)
class OrderRequest:
    """What an operator wants first: ``devices`` (kinds or option
    references, first first) or one NIC by ``mac``."""

    devices: tuple[str, ...] = ()
    mac: str | None = None

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> 'OrderRequest':
        """Parse and check a request body: exactly one of ``devices``
        (a non-empty list of names, or a comma-separated string) and
        ``mac`` (a MAC address).

        :raises InvalidParameterValue: naming the field at fault.
        """
        data = dict(data or {})
        unknown = sorted(set(data) - {'devices', 'mac'})
        if unknown:
            raise exceptions.InvalidParameterValue(
                err=f'Unknown boot order argument(s): {", ".join(unknown)}'
                    f'; expected devices or mac.')
        devices, mac = data.get('devices'), data.get('mac')
        if (devices is None) == (mac is None):
            raise exceptions.InvalidParameterValue(
                err='Give either devices (boot devices or boot option '
                    'references, first first) or mac (a NIC to boot '
                    'first), not both and not neither.')
        if mac is not None:
            try:
                return cls(mac=network.validate_and_normalize_mac(str(mac)))
            except exceptions.InvalidMAC:
                raise exceptions.InvalidParameterValue(
                    err=f'Invalid mac {mac!r}: not a MAC address.') from None
        if isinstance(devices, str):
            devices = [item.strip() for item in devices.split(',')]
        if not isinstance(devices, list) or not devices or not all(
                isinstance(item, str) and item.strip() for item in devices):
            raise exceptions.InvalidParameterValue(
                err=f'Invalid devices {devices!r}: a non-empty list of boot '
                    f'devices ({", ".join(DEVICE_KINDS)}) or boot option '
                    f'references.')
        names = tuple(item.strip() for item in devices)
        repeated = sorted({name for name in names if names.count(name) > 1})
        if repeated:
            raise exceptions.InvalidParameterValue(
                err=f'Invalid devices: {", ".join(repeated)} given more '
                    f'than once.')
        return cls(devices=names)

    def to_dict(self) -> dict[str, Any]:
        return ({'mac': self.mac} if self.mac is not None
                else {'devices': list(self.devices)})

    def describe(self) -> str:
        return (f'the NIC {self.mac} first' if self.mac is not None
                else ', '.join(self.devices) + ' first')


@dataclasses.dataclass(frozen=True)
class OrderCheck:
    """The outcome of a check: whether ``actual`` (option references)
    already is ``expected``."""

    matches: bool
    expected: list[str]
    actual: list[str]

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def _matches(option: BootOption, name: str) -> bool:
    lowered = name.lower()
    return option.ref.lower() == lowered or option.device == lowered


def reorder(options: Sequence[BootOption], request: OrderRequest,
            label: str) -> list[BootOption]:
    """The order ``request`` asks for, from the current ``options``.

    :raises InvalidParameterValue: a device or MAC no option has, naming
        what the node lists.
    """
    if request.mac is not None:
        first = [option for option in options if option.mac == request.mac]
        if not first:
            macs = sorted({o.mac for o in options if o.mac})
            raise exceptions.InvalidParameterValue(
                err=f'Node {label}: no boot option for the NIC '
                    f'{request.mac}; the NICs with boot options are: '
                    f'{", ".join(macs) or "none"}.')
    else:
        first = []
        for name in request.devices:
            found = [option for option in options
                     if _matches(option, name) and option not in first]
            if not found:
                listed = sorted({o.device for o in options if o.device}
                                | {o.ref for o in options})
                raise exceptions.InvalidParameterValue(
                    err=f'Node {label}: the BMC lists no boot option for '
                        f'{name}; it lists: {", ".join(listed) or "none"}.')
            first.extend(found)
    return first + [option for option in options if option not in first]


def check(options: Sequence[BootOption],
          request: OrderRequest, label: str = 'node') -> OrderCheck:
    """Whether ``options`` already is the order ``request`` asks for.

    :raises InvalidParameterValue: as :func:`reorder`.
    """
    expected = [option.ref for option in reorder(options, request, label)]
    actual = [option.ref for option in options]
    return OrderCheck(expected == actual, expected, actual)


def mac_in(*texts: str | None) -> str | None:
    """The first MAC address in ``texts`` (a UEFI device path's
    ``MAC(525400123456,0x1)`` or a colon/dash-separated one), lower
    case with colons; None when there is none."""
    for text in texts:
        if not text:
            continue
        found = _UEFI_MAC.search(text)
        if found:
            raw = found.group(1).lower()
            return ':'.join(raw[i:i + 2] for i in range(0, 12, 2))
        found = _MAC_COLONS.search(text)
        if found:
            return found.group(1).replace('-', ':').lower()
    return None


#: Words of a display name or device path and the device kind they mean,
#: most specific first.
_KIND_WORDS: tuple[tuple[str, str], ...] = (
    ('pxe', states.BOOT_DEVICE_PXE),
    ('ipv4(', states.BOOT_DEVICE_PXE),
    ('ipv6(', states.BOOT_DEVICE_PXE),
    ('network', states.BOOT_DEVICE_PXE),
    ('nic', states.BOOT_DEVICE_PXE),
    ('cdrom', states.BOOT_DEVICE_CDROM),
    ('cd/dvd', states.BOOT_DEVICE_CDROM),
    ('dvd', states.BOOT_DEVICE_CDROM),
    ('virtual cd', states.BOOT_DEVICE_CDROM),
    ('usb', states.BOOT_DEVICE_USB),
    ('nvme', states.BOOT_DEVICE_DISK),
    ('sata', states.BOOT_DEVICE_DISK),
    ('scsi', states.BOOT_DEVICE_DISK),
    ('hd(', states.BOOT_DEVICE_DISK),
    ('hard', states.BOOT_DEVICE_DISK),
    ('disk', states.BOOT_DEVICE_DISK),
    ('raid', states.BOOT_DEVICE_DISK),
)

#: Redfish BootSource names (a BootOption's ``Alias``) and their kinds.
ALIASES = {
    'Pxe': states.BOOT_DEVICE_PXE,
    'Hdd': states.BOOT_DEVICE_DISK,
    'Cd': states.BOOT_DEVICE_CDROM,
    'Usb': states.BOOT_DEVICE_USB,
    'BiosSetup': states.BOOT_DEVICE_BIOS,
}


def device_of(alias: str | None, *texts: str | None) -> str | None:
    """The device kind of an option: from its Redfish ``Alias`` when it
    has one, else from words of its name or device path (a MAC in the
    path means a network option); None when nothing says."""
    if alias in ALIASES:
        return ALIASES[alias]
    if mac_in(*texts):
        return states.BOOT_DEVICE_PXE
    joined = ' '.join(text for text in texts if text).lower()
    for word, kind in _KIND_WORDS:
        if word in joined:
            return kind
    return None
