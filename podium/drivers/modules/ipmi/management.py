"""IPMI management interface: the boot device and boot mode (the boot
flags of Set System Boot Options), NMI (a diagnostic interrupt), BMC
reset (``mc reset cold``) and the sensors (the SDR repository).

IPMI has no boot order: :meth:`IPMIManagement.set_boot_order` sets the
persistent boot device (one device, never a NIC by MAC) and the order
read back is that device alone.

IPMI keeps the boot mode in the same flags as the boot device override,
so setting a device keeps the node's recorded ``boot_mode`` (uefi sets
the EFI boot type bit), and setting the mode rewrites the current
override with the new boot type. Secure boot is not in IPMI.
"""

from typing import Any

from podium.common import exceptions, states
from podium.drivers import base, boot_order, sensor_readings
from podium.drivers.modules.ipmi import (
    client,
    commands,
    reactor,
    sensors,
    utils,
)


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
        uefi = getattr(task.node, 'boot_mode', None) == \
            states.BOOT_MODE_UEFI
        client.run(task, info, f'setting boot device {device}',
                   lambda cmd: commands.set_boot_device(
                       cmd, device, persistent, bridge, uefi))

    def get_sensors_data(self, task: base.Task
                         ) -> list[sensor_readings.SensorReading]:
        """The threshold sensors of the BMC's SDR repository
        (:mod:`podium.drivers.modules.ipmi.sensors`)."""
        return sensors.read(task)

    def reset_bmc(self, task: base.Task) -> None:
        """``mc reset cold`` through the IPMI reactor; the session is
        dropped afterwards, since the restarted BMC no longer knows it."""
        info = utils.parse(task.node)
        bridge = info.bridge_request()
        client.run(task, info, 'resetting the BMC (mc reset cold)',
                   lambda cmd: commands.cold_reset(cmd, bridge))
        reactor.REACTOR.drop_sessions(info.session_key())

    def inject_nmi(self, task: base.Task) -> None:
        """Chassis Control "pulse diagnostic interrupt" (``ipmitool
        chassis power diag``)."""
        info = utils.parse(task.node)
        bridge = info.bridge_request()
        client.run(task, info, 'injecting an NMI (diagnostic interrupt)',
                   lambda cmd: commands.chassis_control(
                       cmd, commands.DIAGNOSTIC_INTERRUPT, bridge))

    def get_boot_order(self, task: base.Task
                       ) -> list[boot_order.BootOption]:
        """IPMI has no boot order, only a persistent boot device: the
        order is that device alone, or empty when none is set (the
        BIOS's own order then applies, which IPMI cannot read)."""
        current = self.get_boot_device(task)
        device = current.get('boot_device')
        if not device or not current.get('persistent'):
            return []
        return [boot_order.BootOption(device, f'persistent boot device '
                                              f'{device}', device)]

    def set_boot_order(self, task: base.Task,
                       request: boot_order.OrderRequest
                       ) -> list[boot_order.BootOption]:
        """Set the persistent boot device: IPMI can put one device
        first and nothing else, so a request by MAC or naming several
        devices is refused before anything is sent."""
        label = base.node_label(task.node)
        if request.mac is not None or len(request.devices) != 1:
            raise exceptions.InvalidParameterValue(
                err=f'Node {label}: IPMI sets only a persistent boot '
                    f'device, not a boot order: give one device of '
                    f'{", ".join(commands.BOOT_SELECTORS)} (no MAC).')
        self.set_boot_device(task, request.devices[0], persistent=True)
        return self.get_boot_order(task)

    def check_boot_order(self, task: base.Task,
                         request: boot_order.OrderRequest
                         ) -> boot_order.OrderCheck:
        """Whether the persistent boot device is the one device asked
        for (IPMI has nothing else to compare)."""
        current = [option.ref for option in self.get_boot_order(task)]
        expected = list(request.devices[:1]) if request.mac is None else []
        return boot_order.OrderCheck(
            bool(expected) and current == expected, expected, current)

    def get_boot_device(self, task: base.Task) -> dict[str, Any]:
        info = utils.parse(task.node)
        bridge = info.bridge_request()
        return client.run(task, info, 'reading the boot device',
                          lambda cmd: commands.get_boot_device(cmd, bridge))

    def get_supported_boot_modes(self, task: base.Task) -> list[str]:
        return list(states.BOOT_MODES)

    def get_boot_mode(self, task: base.Task) -> str | None:
        info = utils.parse(task.node)
        bridge = info.bridge_request()
        mode: str | None = client.run(
            task, info, 'reading the boot mode',
            lambda cmd: commands.get_boot_mode(cmd, bridge))
        return mode

    def set_boot_mode(self, task: base.Task, mode: str) -> None:
        """Set the mode and read it back: a BMC that ignores the EFI
        bit is reported, not trusted."""
        info = utils.parse(task.node)
        bridge = info.bridge_request()
        client.run(task, info, f'setting boot mode {mode}',
                   lambda cmd: commands.set_boot_mode(cmd, mode, bridge))
        now = self.get_boot_mode(task)
        if now != mode:
            raise exceptions.DriverError(
                reason=f'Node {base.node_label(task.node)}: the BMC '
                       f'accepted boot mode {mode} but reports '
                       f'{now or "no boot flags"}.')
