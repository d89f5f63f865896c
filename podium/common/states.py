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

# Provision states (Ironic's spelling; the machine lives in
# podium.common.provision).
ENROLL = 'enroll'
VERIFYING = 'verifying'
MANAGEABLE = 'manageable'
AVAILABLE = 'available'
ACTIVE = 'active'
DEPLOYING = 'deploying'
DEPLOYWAIT = 'wait call-back'
DEPLOYFAIL = 'deploy failed'
DELETING = 'deleting'
CLEANING = 'cleaning'
CLEANWAIT = 'clean wait'
CLEANFAIL = 'clean failed'
INSPECTING = 'inspecting'
INSPECTWAIT = 'inspect wait'
INSPECTFAIL = 'inspect failed'
ADOPTING = 'adopting'
ADOPTFAIL = 'adopt failed'

#: States a node stays in until someone asks for something.
STABLE_STATES = (ENROLL, MANAGEABLE, AVAILABLE, ACTIVE, ERROR)

#: States a conductor is working in (or waiting for a call-back in);
#: power sync leaves them alone and the recovery code finishes them.
TRANSIENT_STATES = (VERIFYING, DEPLOYING, DEPLOYWAIT, DELETING, CLEANING,
                    CLEANWAIT, INSPECTING, INSPECTWAIT, ADOPTING)

#: States power sync does not read (Ironic's ``SYNC_EXCLUDED_STATES``,
#: widened to every transient state): ``enroll`` because the node's BMC
#: credentials were never verified, ``adopt failed`` because adoption
#: found them or the node wrong, and every transient state because the
#: conductor working on the node may switch its power on purpose.
SYNC_EXCLUDED_STATES = (ENROLL, ADOPTFAIL) + TRANSIENT_STATES

#: States a failed transition ends in.
FAILURE_STATES = (DEPLOYFAIL, CLEANFAIL, INSPECTFAIL, ADOPTFAIL)

#: States in which a node may be deleted (Ironic's list).
DELETE_ALLOWED_STATES = (ENROLL, MANAGEABLE, ADOPTFAIL)

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

# Boot modes (Ironic's names).
BOOT_MODE_UEFI = 'uefi'
BOOT_MODE_BIOS = 'bios'
BOOT_MODES = (BOOT_MODE_UEFI, BOOT_MODE_BIOS)
