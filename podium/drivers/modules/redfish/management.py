"""Redfish management interface: the boot device (BootSourceOverride),
the persistent boot order (see :mod:`.boot_order`), NMI (the Nmi reset
type), BMC reset (``Manager.Reset``),
the boot mode (BootSourceOverrideMode), UEFI secure boot (the system's
SecureBoot resource, where the BMC has one), sensor readings and the
out-of-band clean steps (clear the override, eject virtual media, reset
the BIOS to its defaults).

A one-time boot device is ``BootSourceOverrideEnabled: Once``, a
persistent one ``Continuous``. The devices a node supports are the ones
its BMC lists in ``BootSourceOverrideTarget@Redfish.AllowableValues``.
"""

from collections.abc import Sequence
from typing import Any

import sushy
from oslo_log import log
from sushy import exceptions as sushy_exc

from podium.common import exceptions, states
from podium.common import vmedia as common_vmedia
from podium.drivers import base, boot_order, sensor_readings, steps
from podium.drivers.modules.redfish import boot_order as redfish_boot_order
from podium.drivers.modules.redfish import (
    connection,
    power_read,
    sensors,
    utils,
    vmedia,
)

BOOT_DEVICE_MAP = {
    states.BOOT_DEVICE_PXE: sushy.BootSource.PXE,
    states.BOOT_DEVICE_DISK: sushy.BootSource.HDD,
    states.BOOT_DEVICE_CDROM: sushy.BootSource.CD,
    states.BOOT_DEVICE_BIOS: sushy.BootSource.BIOS_SETUP,
    states.BOOT_DEVICE_USB: sushy.BootSource.USB,
}
BOOT_DEVICE_MAP_REV = {value: key for key, value in BOOT_DEVICE_MAP.items()}

BOOT_MODE_MAP = {
    states.BOOT_MODE_UEFI: sushy.BootSourceOverrideMode.UEFI,
    states.BOOT_MODE_BIOS: sushy.BootSourceOverrideMode.LEGACY,
}
BOOT_MODE_MAP_REV = {value: key for key, value in BOOT_MODE_MAP.items()}

#: The boot device that boots each virtual media device type.
_BOOT_DEVICE_OF = {
    common_vmedia.CDROM: states.BOOT_DEVICE_CDROM,
    common_vmedia.DISK: states.BOOT_DEVICE_USB,
}

LOG = log.getLogger(__name__)


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

    def get_sensors_data(self, task: base.Task
                         ) -> list[sensor_readings.SensorReading]:
        """The chassis' Power and Thermal readings, or its Sensors
        (:mod:`podium.drivers.modules.redfish.sensors`)."""
        return sensors.read(task)

    def reset_bmc(self, task: base.Task) -> None:
        """``Manager.Reset`` (GracefulRestart when offered, else
        ForceRestart) of the node's BMC. The manager is found in the
        Managers collection without reading the system, which may be
        what hangs; with several managers, the system's ManagedBy link
        decides. The cached connection is dropped: its session does not
        survive the restart."""
        with power_read.connected(task, 'resetting the BMC') \
                as (info, conn):
            managers = conn.root.get_manager_collection().get_members()
            if len(managers) != 1:
                system = conn.root.get_system(conn.system_path(info))
                managers = list(system.managers)[:1]
            if not managers:
                raise exceptions.DriverError(
                    reason=f'the BMC at {info.address} lists no manager '
                           f'to reset')
            manager = managers[0]
            allowed = manager.get_allowed_reset_manager_values()
            reset = (sushy.ResetType.GRACEFUL_RESTART
                     if sushy.ResetType.GRACEFUL_RESTART in allowed
                     else sushy.ResetType.FORCE_RESTART)
            manager.reset_manager(reset)
        connection.CACHE.forget(info)

    def inject_nmi(self, task: base.Task) -> None:
        """``ComputerSystem.Reset`` with ResetType ``Nmi``; a BMC that
        does not list Nmi among the allowed reset types is refused
        before the request."""
        with power_read.connected(task, 'injecting an NMI') \
                as (info, conn):
            system = conn.root.get_system(conn.system_path(info))
            allowed = system.get_allowed_reset_system_values()
            if sushy.ResetType.NMI not in allowed:
                raise exceptions.UnsupportedDriverExtension(
                    extension='Injecting an NMI (the BMC does not offer '
                              'the Nmi reset type)',
                    node=base.node_label(task.node))
            system.reset_system(sushy.ResetType.NMI)

    def get_boot_order(self, task: base.Task
                       ) -> list[boot_order.BootOption]:
        return redfish_boot_order.get_boot_order(task)

    def set_boot_order(self, task: base.Task,
                       request: boot_order.OrderRequest
                       ) -> list[boot_order.BootOption]:
        return redfish_boot_order.set_boot_order(task, request)

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

    def get_supported_boot_modes(self, task: base.Task) -> list[str]:
        """Every mode: BMCs rarely list the modes they take, so a mode
        one refuses shows as a failure of :meth:`set_boot_mode`."""
        return list(states.BOOT_MODES)

    def get_boot_mode(self, task: base.Task) -> str | None:
        with power_read.connected(task, 'reading the boot mode') \
                as (info, conn):
            boot = conn.root.get_system(conn.system_path(info)).boot
            return BOOT_MODE_MAP_REV.get(boot.mode)

    def set_boot_mode(self, task: base.Task, mode: str) -> None:
        """Set BootSourceOverrideMode and read it back: a mode the BMC
        accepted and does not report is an error, not a success.

        Some BMCs refuse a change without the override target and
        enablement (HTTP 400); to those the current ones are sent
        along, unchanged.
        """
        with power_read.connected(task, f'setting boot mode {mode}') \
                as (info, conn):
            system = conn.root.get_system(conn.system_path(info))
            try:
                system.set_system_boot_options(mode=BOOT_MODE_MAP[mode])
            except sushy_exc.BadRequestError:
                boot = system.boot
                system.set_system_boot_options(
                    target=boot.target, enabled=boot.enabled,
                    mode=BOOT_MODE_MAP[mode])
            system.refresh(force=True)
            now = BOOT_MODE_MAP_REV.get(system.boot.mode)
            if now != mode:
                raise exceptions.SettingNotKept(
                    reason=f'Node {base.node_label(task.node)}: the BMC '
                           f'accepted boot mode {mode} but reports '
                           f'{now or "none"}.')

    def _secure_boot(self, task: base.Task, system: Any) -> Any:
        try:
            return system.secure_boot
        except sushy_exc.MissingAttributeError:
            raise exceptions.UnsupportedDriverExtension(
                extension='Secure boot (the BMC serves no SecureBoot '
                          'resource)',
                node=base.node_label(task.node)) from None

    def get_secure_boot_state(self, task: base.Task) -> bool | None:
        with power_read.connected(task, 'reading the secure boot state') \
                as (info, conn):
            system = conn.root.get_system(conn.system_path(info))
            try:
                enabled = system.secure_boot.enabled
            except sushy_exc.MissingAttributeError:
                return None
            return None if enabled is None else bool(enabled)

    def set_secure_boot_state(self, task: base.Task, state: bool) -> None:
        with power_read.connected(task, 'setting secure boot') \
                as (info, conn):
            system = conn.root.get_system(conn.system_path(info))
            secure = self._secure_boot(task, system)
            secure.set_enabled(bool(state))
            secure.refresh(force=True)
            if bool(secure.enabled) != bool(state):
                wanted, seen = (('on' if value else 'off')
                                for value in (state, secure.enabled))
                raise exceptions.DriverError(
                    reason=f'Node {base.node_label(task.node)}: the BMC '
                           f'accepted secure boot {wanted} but reports it '
                           f'{seen}.')

    @steps.clean_step(priority=60)
    def clear_boot_override(self, task: base.Task) -> None:
        """Clean step: disable BootSourceOverride, so the next boot
        follows the persistent boot order.

        Some BMCs (sushy-tools' emulator among them) refuse a change
        without ``BootSourceOverrideTarget`` with HTTP 400; to those the
        current target is sent along, unchanged. A BMC that shows no
        target has no override to clear.
        """
        disabled = sushy.BootSourceOverrideEnabled.DISABLED
        with power_read.connected(task, 'clearing the boot override') \
                as (info, conn):
            system = conn.root.get_system(conn.system_path(info))
            try:
                system.set_system_boot_options(enabled=disabled)
            except sushy_exc.BadRequestError:
                target = system.boot.target
                if target in (None, sushy.BootSource.NONE):
                    return
                LOG.debug('Node %s: the BMC wants a target to clear the '
                          'boot override; sending %s along',
                          base.node_label(task.node), target)
                system.set_system_boot_options(target=target,
                                               enabled=disabled)

    def attach_virtual_media(self, task: base.Task, device_type: str,
                             image_url: str) -> None:
        """``VirtualMedia.InsertMedia`` of a free device of the type
        (:func:`.vmedia.insert`)."""
        with power_read.connected(task, f'attaching {device_type} '
                                        f'virtual media') as (info, conn):
            system = conn.root.get_system(conn.system_path(info))
            vmedia.insert(task, system, device_type, image_url)

    def detach_virtual_media(self, task: base.Task,
                             device_types: Sequence[str] | None = None
                             ) -> None:
        """``VirtualMedia.EjectMedia`` of the inserted devices of the
        types (all when None); a BMC without virtual media has nothing
        to eject."""
        with power_read.connected(task, 'ejecting virtual media') \
                as (info, conn):
            system = conn.root.get_system(conn.system_path(info))
            vmedia.eject(task, system, device_types)

    def virtual_media_booted(self, task: base.Task, device_type: str,
                             image_url: str) -> bool:
        """On, the override still pointing at the device but no longer
        ``Once`` (a BMC spends a one-time override when the system boots
        from it), and the image inserted. A BMC that keeps a spent
        override shows no boot here."""
        if device_type not in _BOOT_DEVICE_OF:
            raise exceptions.InvalidParameterValue(
                err=f'No boot device boots {device_type} virtual media.')
        source = BOOT_DEVICE_MAP[_BOOT_DEVICE_OF[device_type]]
        with power_read.connected(task, 'reading the virtual media boot') \
                as (info, conn):
            system = conn.root.get_system(conn.system_path(info))
            boot = system.boot
            if (system.power_state != sushy.PowerState.ON
                    or boot.target != source
                    or boot.enabled != sushy.BootSourceOverrideEnabled
                    .DISABLED):
                return False
            return vmedia.holds(system, device_type, image_url)

    @steps.clean_step(priority=70, argsinfo={
        'boot_device': {'description': 'Eject only this kind of media: '
                                       'cdrom (or cd), disk (or usb) or '
                                       'floppy; all when not given.',
                        'required': False}})
    def eject_vmedia(self, task: base.Task,
                     boot_device: str | None = None) -> None:
        """Clean step: eject the node's virtual media
        (:meth:`detach_virtual_media`)."""
        self.detach_virtual_media(
            task, None if boot_device is None
            else [common_vmedia.device_type(boot_device)])

    @steps.clean_step(priority=50)
    def reset_bios_to_default(self, task: base.Task) -> None:
        """Clean step: reset the BIOS settings to their defaults (the BMC
        applies them at the next boot). Skipped, with a log line, where
        the BMC has no Bios resource."""
        with power_read.connected(task, 'resetting the BIOS') \
                as (info, conn):
            system = conn.root.get_system(conn.system_path(info))
            try:
                bios = system.bios
            except sushy_exc.MissingAttributeError:
                LOG.info('Node %s: the BMC has no Bios resource; BIOS '
                         'reset skipped', base.node_label(task.node))
                return
            bios.reset_bios()
