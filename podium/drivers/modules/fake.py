"""Fake power, management, inspect, boot and deploy interfaces.

State lives in ``driver_internal_info`` (``fake_power_state``,
``fake_boot_device``, ``fake_boot_persistent``, ``fake_boot_mode``,
``fake_secure_boot``, ``fake_sensors``, ``fake_boot_order``: the
references of the boot options in order, ``fake_nmi_count``: NMIs
injected), standing in for the
BMC: a test flips ``fake_power_state`` in the database to make an
out-of-band change. ``driver_info`` steers behaviour:

``fake_delay``
    seconds every call takes (a slow BMC);
``fake_hang``
    true: every call blocks for the whole call timeout, then fails the
    way a hung BMC does;
``fake_fail``
    a message: every call fails with it (a broken BMC);
``fake_reset_fixes``
    true: a BMC reset (``reset_bmc``) ends ``fake_hang`` and
    ``fake_fail`` (a wedged BMC a restart cures); the reset is recorded
    as ``fake_bmc_reset`` in ``driver_internal_info``;
``fake_bmc``
    a ``host:port`` naming the fake BMC, the key of its health record
    (nodes naming the same one share it); none by default;
``fake_macs``
    the MAC addresses inspection reports, comma-separated (default:
    one, derived from the node's UUID, so that nodes do not share it).
"""

import time
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from oslo_utils import strutils

from podium.common import exceptions, network, states
from podium.common import vmedia as common_vmedia
from podium.db import api as db_api
from podium.drivers import base, boot_order, sensor_readings, steps
from podium.drivers.modules import fake_sensors

_PROPERTIES = {
    'fake_delay': base.DriverInfoProperty(
        'Seconds every call to the fake BMC takes. Optional.'),
    'fake_hang': base.DriverInfoProperty(
        'If true, every call hangs until its timeout. Optional.'),
    'fake_fail': base.DriverInfoProperty(
        'If set, every call fails with this message. Optional.'),
    'fake_reset_fixes': base.DriverInfoProperty(
        'If true, a BMC reset ends fake_hang and fake_fail. Optional.'),
    'fake_bmc': base.DriverInfoProperty(
        'host:port naming the fake BMC, for its health record. '
        'Optional.'),
    'fake_bios_version': base.DriverInfoProperty(
        'The BIOS firmware version the fake inspection reports. '
        'Optional; 1.0.0 by default.'),
    'fake_macs': base.DriverInfoProperty(
        'Comma-separated MAC addresses the fake inspection reports. '
        'Optional; by default one derived from the node UUID.'),
}


def behave(task: base.Task) -> None:
    """Apply the delay, hang or failure ``driver_info`` asks for."""
    info = task.node.driver_info or {}
    if strutils.bool_from_string(info.get('fake_reset_fixes', False)) \
            and (task.node.driver_internal_info or {}).get('fake_bmc_reset'):
        info = {key: value for key, value in info.items()
                if key not in ('fake_hang', 'fake_fail')}
    if strutils.bool_from_string(info.get('fake_hang', False)):
        time.sleep(task.timeout)
        raise exceptions.BMCTimeout(timeout=task.timeout,
                                    reason='the fake BMC hangs')
    delay = float(info.get('fake_delay') or 0)
    if delay:
        time.sleep(min(delay, task.timeout))
        if delay > task.timeout:
            raise exceptions.BMCTimeout(timeout=task.timeout,
                                        reason='the fake BMC is too slow')
    if info.get('fake_fail'):
        raise exceptions.DriverError(reason=str(info['fake_fail']))


def store(task: base.Task, **values: Any) -> None:
    internal = dict(task.node.driver_internal_info or {}, **values)
    db_api.update_node_by_id(task.node.id,
                             {'driver_internal_info': internal})
    # Keep the caller's view coherent for a later call in the same task.
    try:
        task.node.driver_internal_info = internal
    except AttributeError:
        pass  # a read-only row view; the database has the truth


def _macs(node: base.NodeView) -> list[str]:
    """The MACs of the fake NICs: ``fake_macs``, else one of the UUID.

    :raises InvalidMAC: a ``fake_macs`` entry that is not a MAC.
    """
    given = (node.driver_info or {}).get('fake_macs')
    if given is None:
        tail = node.uuid.replace('-', '')[-6:]
        return ['52:54:00:' + ':'.join(tail[i:i + 2] for i in (0, 2, 4))]
    return [network.validate_and_normalize_mac(mac.strip())
            for mac in str(given).split(',') if mac.strip()]


def _boot_options(node: base.NodeView) -> list[boot_order.BootOption]:
    """The fake boot options: one PXE option per fake NIC, a disk and a
    CD, in the order ``fake_boot_order`` names (options it does not name
    follow, in that default order)."""
    options = [boot_order.BootOption(
        f'Boot{index:04X}', f'UEFI PXEv4 (MAC:{mac})',
        states.BOOT_DEVICE_PXE, mac, True)
        for index, mac in enumerate(_macs(node))]
    options += [
        boot_order.BootOption(f'Boot{len(options):04X}', 'UEFI Disk 0',
                              states.BOOT_DEVICE_DISK, None, True),
        boot_order.BootOption(f'Boot{len(options) + 1:04X}',
                              'UEFI Virtual CD', states.BOOT_DEVICE_CDROM,
                              None, True)]
    order = list((node.driver_internal_info or {}).get('fake_boot_order')
                 or ())
    by_ref = {option.ref: option for option in options}
    first = [by_ref[ref] for ref in order if ref in by_ref]
    return first + [option for option in options if option not in first]


class FakeBase:
    properties: ClassVar[Mapping[str, base.DriverInfoProperty]] = _PROPERTIES

    def validate(self, node: base.NodeView) -> None:
        info = node.driver_info or {}
        if 'fake_delay' in info:
            try:
                if float(info['fake_delay']) < 0:
                    raise ValueError
            except (TypeError, ValueError):
                raise exceptions.InvalidParameterValue(
                    err=f'Node {base.node_label(node)}: driver_info '
                        f'fake_delay must be a non-negative number, got '
                        f'{info["fake_delay"]!r}.') from None
        if 'fake_macs' in info:
            try:
                _macs(node)
            except exceptions.InvalidMAC as exc:
                raise exceptions.InvalidParameterValue(
                    err=f'Node {base.node_label(node)}: driver_info '
                        f'fake_macs: {exc}') from None
        if 'fake_hang' in info:
            try:
                strutils.bool_from_string(info['fake_hang'], strict=True)
            except ValueError:
                raise exceptions.InvalidParameterValue(
                    err=f'Node {base.node_label(node)}: driver_info '
                        f'fake_hang must be a boolean, got '
                        f'{info["fake_hang"]!r}.') from None


class FakePower(FakeBase, base.PowerInterface):
    """Power state kept in the node record."""

    def bmc_endpoint(self, node: base.NodeView) -> str | None:
        value = (node.driver_info or {}).get('fake_bmc')
        return str(value) if value else None

    def get_power_state(self, task: base.Task) -> str:
        behave(task)
        internal = task.node.driver_internal_info or {}
        return internal.get('fake_power_state') or \
            task.node.power_state or states.POWER_OFF

    def set_power_state(self, task: base.Task, power_state: str,
                        timeout: float | None = None) -> None:
        behave(task)
        if power_state not in states.POWER_TARGET_RESULT:
            raise exceptions.InvalidParameterValue(
                err=f'Unknown power state {power_state}.')
        store(task,
               fake_power_state=states.POWER_TARGET_RESULT[power_state])

    def reboot(self, task: base.Task, timeout: float | None = None) -> None:
        behave(task)
        store(task, fake_power_state=states.POWER_ON)

    def get_supported_power_states(self, task: base.Task) -> list[str]:
        return list(states.POWER_TARGETS)


class FakeManagement(FakeBase, base.ManagementInterface):
    """Boot device kept in the node record."""

    def get_supported_boot_devices(self, task: base.Task) -> list[str]:
        return [states.BOOT_DEVICE_PXE, states.BOOT_DEVICE_DISK,
                states.BOOT_DEVICE_CDROM, states.BOOT_DEVICE_BIOS]

    def set_boot_device(self, task: base.Task, device: str,
                        persistent: bool = False) -> None:
        self.check_boot_device(task, device)
        behave(task)
        store(task, fake_boot_device=device,
               fake_boot_persistent=bool(persistent))

    def reset_bmc(self, task: base.Task) -> None:
        """Record the reset; with ``fake_reset_fixes`` it cures the BMC."""
        store(task, fake_bmc_reset=True)

    def get_sensors_data(self, task: base.Task
                         ) -> list[sensor_readings.SensorReading]:
        """Readings for the fake power state (:mod:`fake_sensors`)."""
        behave(task)
        internal = task.node.driver_internal_info or {}
        return fake_sensors.readings(task.node, internal.get(
            'fake_power_state') or task.node.power_state or states.POWER_OFF)

    def inject_nmi(self, task: base.Task) -> None:
        """Count the NMI in ``fake_nmi_count``."""
        behave(task)
        count = int((task.node.driver_internal_info or {}).get(
            'fake_nmi_count') or 0)
        store(task, fake_nmi_count=count + 1)

    def get_boot_order(self, task: base.Task
                       ) -> list[boot_order.BootOption]:
        behave(task)
        return _boot_options(task.node)

    def set_boot_order(self, task: base.Task,
                       request: boot_order.OrderRequest
                       ) -> list[boot_order.BootOption]:
        options = boot_order.reorder(self.get_boot_order(task), request,
                                     base.node_label(task.node))
        store(task, fake_boot_order=[option.ref for option in options])
        return options

    def get_boot_device(self, task: base.Task) -> dict[str, Any]:
        behave(task)
        internal = task.node.driver_internal_info or {}
        return {'boot_device': internal.get('fake_boot_device',
                                            states.BOOT_DEVICE_DISK),
                'persistent': internal.get('fake_boot_persistent', True)}

    def get_supported_boot_modes(self, task: base.Task) -> list[str]:
        return list(states.BOOT_MODES)

    def get_boot_mode(self, task: base.Task) -> str | None:
        # Not steered by fake_delay and friends, as the fake BIOS reads:
        # inspection reads it too and must not take twice the delay.
        return str((task.node.driver_internal_info or {}).get(
            'fake_boot_mode', states.BOOT_MODE_UEFI))

    def set_boot_mode(self, task: base.Task, mode: str) -> None:
        behave(task)
        values: dict[str, Any] = {'fake_boot_mode': mode}
        if mode != states.BOOT_MODE_UEFI:
            values['fake_secure_boot'] = False  # UEFI only
        store(task, **values)

    def get_secure_boot_state(self, task: base.Task) -> bool | None:
        return bool((task.node.driver_internal_info or {}).get(
            'fake_secure_boot', False))

    def set_secure_boot_state(self, task: base.Task, state: bool) -> None:
        if state and self.get_boot_mode(task) != states.BOOT_MODE_UEFI:
            raise exceptions.InvalidParameterValue(
                err=f'Node {base.node_label(task.node)}: secure boot needs '
                    f'the uefi boot mode.')
        behave(task)
        store(task, fake_secure_boot=bool(state))

    @steps.clean_step(priority=60)
    def clear_boot_override(self, task: base.Task) -> None:
        """Clean step: forget any boot device override."""
        behave(task)
        store(task, fake_boot_device=states.BOOT_DEVICE_DISK,
               fake_boot_persistent=True)

    def attach_virtual_media(self, task: base.Task, device_type: str,
                             image_url: str) -> None:
        """Record ``image_url`` as inserted in the (fake) device; a
        device holding another image is a conflict, as on a BMC."""
        behave(task)
        inserted = dict((task.node.driver_internal_info or {})
                        .get('fake_vmedia') or {})
        if inserted.get(device_type) not in (None, image_url):
            raise exceptions.Conflict(
                reason=f'Node {base.node_label(task.node)}: the '
                       f'{device_type} virtual media device holds an '
                       f'image already; detach it first.')
        inserted[device_type] = image_url
        store(task, fake_vmedia=inserted)

    def detach_virtual_media(self, task: base.Task,
                             device_types: Sequence[str] | None = None
                             ) -> None:
        """Forget the (fake) images of ``device_types`` (all if None)."""
        behave(task)
        inserted = dict((task.node.driver_internal_info or {})
                        .get('fake_vmedia') or {})
        for device in list(inserted):
            if device_types is None or device in device_types:
                del inserted[device]
        store(task, fake_vmedia=inserted)

    def virtual_media_booted(self, task: base.Task, device_type: str,
                             image_url: str) -> bool:
        """On, with the image in the (fake) device."""
        internal = task.node.driver_internal_info or {}
        return (internal.get('fake_power_state') == states.POWER_ON
                and (internal.get('fake_vmedia') or {}).get(device_type)
                == image_url)

    @steps.clean_step(priority=70, argsinfo={
        'boot_device': {'description': 'Eject only this device (cdrom '
                                       'or cd, disk or usb, floppy); '
                                       'every device when not given.',
                        'required': False}})
    def eject_vmedia(self, task: base.Task,
                     boot_device: str | None = None) -> None:
        """Clean step: eject the (fake) virtual media."""
        self.detach_virtual_media(
            task, None if boot_device is None
            else [common_vmedia.device_type(boot_device)])


class FakeInspect(FakeBase, base.InspectInterface):
    """Reports a fixed, plausible inventory."""

    def inspect_hardware(self, task: base.Task) -> dict[str, Any]:
        behave(task)
        info = task.node.driver_info or {}
        return {'cpus': 4, 'cpu_arch': 'x86_64', 'memory_mb': 16384,
                'local_gb': 100, 'macs': _macs(task.node),
                'firmware': {'bios': str(info.get('fake_bios_version')
                                         or '1.0.0'),
                             'bmc': '2.0.0'}}


class FakeBoot(FakeBase, base.BootInterface):
    """Records the one-time boot device a deploy asks for."""

    def prepare_ramdisk(self, task: base.DriverTask) -> None:
        behave(task)
        store(task, fake_boot_device=states.BOOT_DEVICE_PXE,
               fake_boot_persistent=False)

    def clean_up_ramdisk(self, task: base.DriverTask) -> None:
        behave(task)
        store(task, fake_boot_device=states.BOOT_DEVICE_DISK,
               fake_boot_persistent=True)


class FakeDeploy(FakeBase, base.DeployInterface):
    """Deploys instantly: the node becomes ``active`` as it is (Ironic's
    ``fake`` deploy interface). ``fake_fail`` and friends apply."""

    def deploy(self, task: base.DriverTask) -> None:
        behave(task)

    def tear_down(self, task: base.DriverTask) -> None:
        behave(task)
