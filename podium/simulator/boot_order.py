"""A simulated system's persistent boot order: ``Boot.BootOrder`` and
the ``BootOptions`` collection.

Every system has a PXE option per NIC (its UEFI device path names the
NIC's MAC, the one its EthernetInterfaces report), a disk and a virtual
CD, as a UEFI boot manager lists them; the order starts with the disk.
A PATCH of ``Boot.BootOrder`` must name known options, each once
(anything else is refused whole, with 400); options left out are no
longer in the order, as on BMCs that take a partial order.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any


@dataclasses.dataclass(frozen=True)
class SimBootOption:
    """One option: its reference, Redfish alias, name and device path."""

    ref: str
    alias: str
    name: str
    device_path: str

    def document(self, system_path: str) -> dict[str, Any]:
        """``.../BootOptions/<ref>``."""
        return {
            "@odata.type": "#BootOption.v1_0_4.BootOption",
            "@odata.id": f"{system_path}/BootOptions/{self.ref}",
            "Id": self.ref,
            "Name": "Boot Option",
            "BootOptionReference": self.ref,
            "DisplayName": self.name,
            "Alias": self.alias,
            "UefiDevicePath": self.device_path,
            "BootOptionEnabled": True,
        }


def _options(macs: Sequence[str]) -> list[SimBootOption]:
    disk = SimBootOption("Boot0000", "Hdd", "UEFI Disk 0",
                         "PciRoot(0x0)/Pci(0x1F,0x2)/Sata(0x0,0xFFFF,0x0)")
    nics = [SimBootOption(
        f"Boot{n + 1:04X}", "Pxe", f"UEFI PXEv4 (NIC{n})",
        f"PciRoot(0x0)/Pci(0x2,0x{n:X})/Pci(0x0,0x0)/"
        f"MAC({mac.replace(':', '').upper()},0x1)/IPv4(0.0.0.0)")
        for n, mac in enumerate(macs)]
    cd = SimBootOption(f"Boot{len(macs) + 1:04X}", "Cd", "UEFI Virtual CD",
                       "PciRoot(0x0)/Pci(0x14,0x0)/USB(0x0,0x0)/CDROM(0x1)")
    return [disk, *nics, cd]


class SimBootOrder:
    """The boot options of one system and their persistent order."""

    __slots__ = ("options", "by_ref", "order")

    def __init__(self, macs: Sequence[str]) -> None:
        self.options = _options(macs)
        self.by_ref = {option.ref: option for option in self.options}
        self.order = [option.ref for option in self.options]

    def set_order(self, value: Any) -> str | None:
        """Replace the order; the reason it is refused, else None."""
        if not isinstance(value, list) or not all(
                isinstance(ref, str) for ref in value):
            return "Boot/BootOrder must be a list of boot option references."
        unknown = [ref for ref in value if ref not in self.by_ref]
        if unknown:
            return (f"Boot/BootOrder names unknown boot options "
                    f"{unknown}; known: {list(self.by_ref)}.")
        if len(set(value)) != len(value):
            return "Boot/BootOrder names a boot option more than once."
        self.order = list(value)
        return None

    def collection(self, system_path: str) -> dict[str, Any]:
        """``.../BootOptions``."""
        base = system_path + "/BootOptions"
        return {
            "@odata.type": "#BootOptionCollection.BootOptionCollection",
            "@odata.id": base,
            "Name": "Boot Options",
            "Members@odata.count": len(self.options),
            "Members": [{"@odata.id": f"{base}/{option.ref}"}
                        for option in self.options],
        }

    def document(self, system_path: str, ref: str) -> dict[str, Any] | None:
        """One option's document, None when there is no such option."""
        option = self.by_ref.get(ref)
        return option.document(system_path) if option else None

    def describe(self) -> dict[str, Any]:
        """The order and the options (the simulator's Python API)."""
        return {"order": list(self.order),
                "options": {option.ref: option.name
                            for option in self.options}}
