"""The IPMI chassis commands Podium sends, encoded and decoded.

Raw commands rather than pyghmi's helpers: the helpers first identify
the BMC's vendor (an extra round trip per call against BMCs pyghmi has
no OEM module for) and cannot be bridged. Encodings follow IPMI 2.0
section 28 (chassis commands).
"""

from typing import Any

from podium.common import states

NETFN_CHASSIS = 0x00
CMD_GET_CHASSIS_STATUS = 0x01
CMD_CHASSIS_CONTROL = 0x02
CMD_SET_BOOT_OPTIONS = 0x08
CMD_GET_BOOT_OPTIONS = 0x09

# Chassis control directives (table 28-4).
POWER_OFF = 0x00
POWER_ON = 0x01
HARD_RESET = 0x03
#: "Pulse diagnostic interrupt": an NMI on most x86 servers.
DIAGNOSTIC_INTERRUPT = 0x04
SOFT_OFF = 0x05

_BOOT_FLAGS = 5
# Parameter 3, "boot flag valid bit clearing": 0x08 keeps the flags
# across a reset caused by a watchdog timeout (what pyghmi sends).
_VALID_BIT_CLEARING = 3
_KEEP_ON_WATCHDOG = 0x08
_FLAGS_VALID = 0x80
_FLAGS_PERSISTENT = 0x40
_FLAGS_EFI = 0x20

#: Podium boot device -> boot device selector (table 28-14, bits 5:2).
BOOT_SELECTORS = {
    states.BOOT_DEVICE_PXE: 0x1,
    states.BOOT_DEVICE_DISK: 0x2,
    states.BOOT_DEVICE_SAFE: 0x3,
    states.BOOT_DEVICE_CDROM: 0x5,
    states.BOOT_DEVICE_BIOS: 0x6,
}
_SELECTOR_DEVICES = {value: key for key, value in BOOT_SELECTORS.items()}


def _send(command: Any, cmd: int, data: tuple[int, ...],
          bridge: dict[str, int] | None) -> Any:
    return command.xraw_command(netfn=NETFN_CHASSIS, command=cmd,
                                data=data, bridge_request=bridge or ())


NETFN_APP = 0x06
CMD_COLD_RESET = 0x02


def cold_reset(command: Any, bridge: dict[str, int] | None) -> None:
    """``mc reset cold`` (IPMI 2.0 section 20.2): the BMC restarts."""
    command.xraw_command(netfn=NETFN_APP, command=CMD_COLD_RESET,
                         data=(), bridge_request=bridge or ())


def get_power(command: Any, bridge: dict[str, int] | None) -> str:
    """``states.POWER_ON`` or ``POWER_OFF`` from Get Chassis Status."""
    response = _send(command, CMD_GET_CHASSIS_STATUS, (), bridge)
    return states.POWER_ON if response['data'][0] & 0x01 \
        else states.POWER_OFF


def chassis_control(command: Any, directive: int,
                    bridge: dict[str, int] | None) -> None:
    _send(command, CMD_CHASSIS_CONTROL, (directive,), bridge)


def _write_boot_flags(command: Any, selector: int, persistent: bool,
                      uefi: bool, bridge: dict[str, int] | None) -> None:
    """Set the boot flags (as pyghmi's ``set_bootdev`` does, bridged);
    ``uefi`` sets the "BIOS boot type: EFI" bit (table 28-14)."""
    _send(command, CMD_SET_BOOT_OPTIONS,
          (_VALID_BIT_CLEARING, _KEEP_ON_WATCHDOG), bridge)
    flags = (_FLAGS_VALID | (_FLAGS_PERSISTENT if persistent else 0)
             | (_FLAGS_EFI if uefi else 0))
    _send(command, CMD_SET_BOOT_OPTIONS,
          (_BOOT_FLAGS, flags, selector << 2, 0, 0, 0), bridge)


def _read_boot_flags(command: Any,
                     bridge: dict[str, int] | None) -> tuple[int, int] | None:
    """``(flags, device selector)`` of the boot flags; None when the
    BMC says they are not valid (no override set)."""
    data = _send(command, CMD_GET_BOOT_OPTIONS, (_BOOT_FLAGS, 0, 0),
                 bridge)['data']
    if len(data) < 4 or not data[2] & _FLAGS_VALID:
        return None
    return data[2], (data[3] >> 2) & 0x0F


def set_boot_device(command: Any, device: str, persistent: bool,
                    bridge: dict[str, int] | None,
                    uefi: bool = False) -> None:
    """Boot from ``device`` (in UEFI mode if ``uefi``)."""
    _write_boot_flags(command, BOOT_SELECTORS[device], persistent, uefi,
                      bridge)


def get_boot_device(command: Any,
                    bridge: dict[str, int] | None) -> dict[str, Any]:
    """``{'boot_device': name or None, 'persistent': bool or None}``."""
    flags = _read_boot_flags(command, bridge)
    if flags is None:
        return {'boot_device': None, 'persistent': None}
    return {'boot_device': _SELECTOR_DEVICES.get(flags[1]),
            'persistent': bool(flags[0] & _FLAGS_PERSISTENT)}


def get_boot_mode(command: Any, bridge: dict[str, int] | None) -> str | None:
    """``uefi`` or ``bios`` from the boot flags; None when not set."""
    flags = _read_boot_flags(command, bridge)
    if flags is None:
        return None
    return states.BOOT_MODE_UEFI if flags[0] & _FLAGS_EFI \
        else states.BOOT_MODE_BIOS


def set_boot_mode(command: Any, mode: str,
                  bridge: dict[str, int] | None) -> None:
    """Rewrite the boot flags with ``mode``'s boot type, keeping the
    device override and its persistence (none: "no override")."""
    flags = _read_boot_flags(command, bridge)
    selector, persistent = (0, False) if flags is None else \
        (flags[1], bool(flags[0] & _FLAGS_PERSISTENT))
    _write_boot_flags(command, selector, persistent,
                      mode == states.BOOT_MODE_UEFI, bridge)
