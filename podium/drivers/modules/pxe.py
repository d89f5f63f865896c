"""The ``pxe`` boot interface: the node boots from the network once.

What answers the network boot (DHCP, TFTP or HTTP, the kickstart or
preseed) is the operator's installer service (Foreman, Cobbler, a
plain PXE server), not Podium: the interface only tells the BMC to
boot from PXE next time, through the node's management interface, and
takes that back afterwards. The installed system then boots from its
disk by itself: the override was for one boot only.
"""

from podium.common import states
from podium.drivers import base


class PXEBoot(base.BootInterface):
    """A one-time PXE boot through the node's management interface."""

    def prepare_ramdisk(self, task: base.DriverTask) -> None:
        task.driver.management.set_boot_device(
            task, states.BOOT_DEVICE_PXE, persistent=False)

    def clean_up_ramdisk(self, task: base.DriverTask) -> None:
        management = task.driver.management
        clear = getattr(management, 'clear_boot_override', None)
        if clear is not None:
            clear(task)
        else:
            # A BMC with no way to clear the override: boot the disk.
            management.set_boot_device(task, states.BOOT_DEVICE_DISK,
                                       persistent=True)
