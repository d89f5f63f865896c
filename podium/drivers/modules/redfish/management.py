"""Redfish management interface: the boot device (BootSourceOverride).

A one-time boot device is ``BootSourceOverrideEnabled: Once``, a
persistent one ``Continuous``. The devices a node supports are the ones
its BMC lists in ``BootSourceOverrideTarget@Redfish.AllowableValues``.
"""

from typing import Any

import sushy

from podium.common import exceptions, states
from podium.drivers import base
from podium.drivers.modules.redfish import power_read, utils

BOOT_DEVICE_MAP = {
    states.BOOT_DEVICE_PXE: sushy.BootSource.PXE,
    states.BOOT_DEVICE_DISK: sushy.BootSource.HDD,
    states.BOOT_DEVICE_CDROM: sushy.BootSource.CD,
    states.BOOT_DEVICE_BIOS: sushy.BootSource.BIOS_SETUP,
    states.BOOT_DEVICE_USB: sushy.BootSource.USB,
}
BOOT_DEVICE_MAP_REV = {value: key for key, value in BOOT_DEVICE_MAP.items()}


def _supported(system: Any) -> list[str]:
    allowed = system.get_allowed_system_boot_source_values()
    return [device for device, source in BOOT_DEVICE_MAP.items()
            if source in allowed]


class RedfishManagement(base.ManagementInterface):
    """Boot device control of a Redfish ComputerSystem."""

    properties = utils.PROPERTIES

    def validate(self, node: base.NodeView) -> None:
        utils.parse(node)

    def get_supported_boot_devices(self, task: base.Task) -> list[str]:
        with power_read.connected(task, 'reading the boot devices') \
                as (info, conn):
            return _supported(conn.root.get_system(conn.system_path(info)))

    def set_boot_device(self, task: base.Task, device: str,
                        persistent: bool = False) -> None:
        with power_read.connected(task, f'setting boot device {device}') \
                as (info, conn):
            system = conn.root.get_system(conn.system_path(info))
            supported = _supported(system)
            if device not in supported:
                raise exceptions.InvalidParameterValue(
                    err=f'Node {base.node_label(task.node)}: invalid boot '
                        f'device {device}, valid devices are: '
                        f'{", ".join(supported)}.')
            enabled = (sushy.BootSourceOverrideEnabled.CONTINUOUS
                       if persistent else sushy.BootSourceOverrideEnabled.ONCE)
            system.set_system_boot_options(BOOT_DEVICE_MAP[device],
                                           enabled=enabled)

    def get_boot_device(self, task: base.Task) -> dict[str, Any]:
        with power_read.connected(task, 'reading the boot device') \
                as (info, conn):
            boot = conn.root.get_system(conn.system_path(info)).boot
            continuous = sushy.BootSourceOverrideEnabled.CONTINUOUS
            return {
                'boot_device': BOOT_DEVICE_MAP_REV.get(boot.target),
                'persistent': (None if boot.enabled is None
                               else boot.enabled == continuous),
            }
