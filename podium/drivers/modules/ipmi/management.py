"""IPMI management interface: the boot device (Set System Boot Options).
"""

from typing import Any

from podium.common import exceptions
from podium.drivers import base
from podium.drivers.modules.ipmi import client, commands, utils


class IPMIManagement(base.ManagementInterface):
    """Boot device control over IPMI 2.0 LAN."""

    properties = utils.PROPERTIES

    def validate(self, node: base.NodeView) -> None:
        utils.parse(node)

    def get_supported_boot_devices(self, task: base.Task) -> list[str]:
        return list(commands.BOOT_SELECTORS)

    def set_boot_device(self, task: base.Task, device: str,
                        persistent: bool = False) -> None:
        if device not in commands.BOOT_SELECTORS:
            raise exceptions.InvalidParameterValue(
                err=f'Node {base.node_label(task.node)}: invalid boot '
                    f'device {device}, valid devices are: '
                    f'{", ".join(commands.BOOT_SELECTORS)}.')
        info = utils.parse(task.node)
        bridge = info.bridge_request()
        client.run(task, info, f'setting boot device {device}',
                   lambda cmd: commands.set_boot_device(
                       cmd, device, persistent, bridge))

    def get_boot_device(self, task: base.Task) -> dict[str, Any]:
        info = utils.parse(task.node)
        bridge = info.bridge_request()
        return client.run(task, info, 'reading the boot device',
                          lambda cmd: commands.get_boot_device(cmd, bridge))
