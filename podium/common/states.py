"""Power and provision states, spelt as Ironic spells them.

Clients compare these strings literally (openstacksdk waits until
``power_state`` equals ``"power on"``), so they must not change.
"""

POWER_ON = 'power on'
POWER_OFF = 'power off'
REBOOT = 'rebooting'
SOFT_REBOOT = 'soft rebooting'
SOFT_POWER_OFF = 'soft power off'
ERROR = 'error'
NOSTATE = None

#: Targets a client may ask for in ``PUT .../states/power``.
POWER_TARGETS = (POWER_ON, POWER_OFF, REBOOT, SOFT_REBOOT, SOFT_POWER_OFF)

#: The stable power state each target ends in.
POWER_TARGET_RESULT = {
    POWER_ON: POWER_ON,
    POWER_OFF: POWER_OFF,
    REBOOT: POWER_ON,
    SOFT_REBOOT: POWER_ON,
    SOFT_POWER_OFF: POWER_OFF,
}

# Provision states. Podium does not deploy; nodes move between enroll,
# manageable and available under operator control only.
ENROLL = 'enroll'
MANAGEABLE = 'manageable'
AVAILABLE = 'available'
VERIFYING = 'verifying'
INSPECTING = 'inspecting'
INSPECTFAIL = 'inspect failed'

#: Fault recorded when power sync gave up on a node's BMC.
POWER_FAILURE = 'power failure'

# Node history event severities.
INFO = 'INFO'
WARNING = 'WARNING'
ERROR_SEVERITY = 'ERROR'

# Boot devices (Ironic's names).
BOOT_DEVICE_PXE = 'pxe'
BOOT_DEVICE_DISK = 'disk'
BOOT_DEVICE_CDROM = 'cdrom'
BOOT_DEVICE_BIOS = 'bios'
BOOT_DEVICE_SAFE = 'safe'
BOOT_DEVICE_USB = 'usb'
BOOT_DEVICES = (BOOT_DEVICE_PXE, BOOT_DEVICE_DISK, BOOT_DEVICE_CDROM,
                BOOT_DEVICE_BIOS, BOOT_DEVICE_SAFE, BOOT_DEVICE_USB)
