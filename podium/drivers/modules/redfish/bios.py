"""Redfish BIOS interface: the system's Bios resource through sushy.

Reading gives the ``Attributes`` of the Bios resource and, where the BMC
serves an attribute registry, each attribute's entry in it (Ironic's
registry fields). A change is PATCHed to the Bios settings resource,
which the BMC applies at the next boot, so applying (and resetting)
restarts the node (powers it on if it was off), waits for it to be on
and then for the BIOS to report the new values: a value the BMC
accepted and did not keep fails the step, naming the attribute, rather
than being taken on trust.
"""

import time
from collections.abc import Callable, Mapping
from typing import Any

import sushy
from oslo_log import log
from sushy import exceptions as sushy_exc

from podium.common import exceptions
from podium.conf import CONF
from podium.drivers import base, bios_settings
from podium.drivers.modules import deadline
from podium.drivers.modules.redfish import connection, power_read, utils

LOG = log.getLogger(__name__)

_REGISTRY_ATTRIBUTES = ('attribute_type', 'lower_bound', 'upper_bound',
                        'min_length', 'max_length', 'read_only',
                        'reset_required', 'unique')


def _bios(task: base.Task, system: Any) -> Any:
    try:
        return system.bios
    except sushy_exc.MissingAttributeError:
        raise exceptions.UnsupportedDriverExtension(
            extension='BIOS settings (the BMC serves no Bios resource)',
            node=base.node_label(task.node)) from None


def _registry(task: base.Task, bios: Any) -> dict[str, Any]:
    """Registry entries by attribute name; empty where the BMC has no
    registry or fails to serve it (the settings are still read)."""
    try:
        registry = bios.get_attribute_registry()
    except (sushy_exc.SushyError, ValueError) as exc:
        LOG.info('Node %s: the BIOS attribute registry could not be read '
                 '(%s); settings are cached without it',
                 base.node_label(task.node), exc)
        return {}
    if registry is None or registry.registry_entries is None:
        return {}
    return {entry.name: entry
            for entry in registry.registry_entries.attributes or ()}


def _setting(name: str, value: Any, entry: Any) -> bios_settings.BiosSetting:
    if entry is None:
        return bios_settings.BiosSetting(name, bios_settings.as_text(value))
    allowed = None
    if entry.allowable_values:
        allowed = tuple(str(item.get('ValueName'))
                        for item in entry.allowable_values
                        if isinstance(item, dict))
    return bios_settings.BiosSetting(
        name, bios_settings.as_text(value), allowable_values=allowed,
        **{field: getattr(entry, field) for field in _REGISTRY_ATTRIBUTES})


def _read(task: base.Task, bios: Any) -> list[bios_settings.BiosSetting]:
    registry = _registry(task, bios)
    return [_setting(name, value, registry.get(name))
            for name, value in sorted((bios.attributes or {}).items())]


class RedfishBios(base.BiosInterface):
    """BIOS settings of a Redfish ComputerSystem."""

    properties = utils.PROPERTIES

    def validate(self, node: base.NodeView) -> None:
        utils.parse(node)

    def get_settings(self, task: base.Task
                     ) -> list[bios_settings.BiosSetting]:
        with power_read.connected(task, 'reading the BIOS settings') \
                as (info, conn):
            system = conn.root.get_system(conn.system_path(info))
            return _read(task, _bios(task, system))

    def get_values(self, task: base.Task) -> dict[str, Any]:
        """The attributes' values alone: the Bios resource, without the
        registry (what drift checks compare)."""
        with power_read.connected(task, 'reading the BIOS values') \
                as (info, conn):
            system = conn.root.get_system(conn.system_path(info))
            return dict(_bios(task, system).attributes or {})

    def apply_settings(self, task: base.Task,
                       settings: Mapping[str, Any]) -> None:
        names = ', '.join(sorted(settings))
        with power_read.connected(task, f'applying BIOS settings {names}') \
                as (info, conn):
            system = conn.root.get_system(conn.system_path(info))
            bios = _bios(task, system)
            bios.set_attributes(dict(settings))
            _boot(task, conn, info, system)

            def pending() -> list[str]:
                bios.refresh(force=True)
                return bios_settings.not_kept(settings, _read(task, bios))

            _wait_applied(task, pending, f'the BIOS settings {names}')

    def reset_settings(self, task: base.Task) -> None:
        with power_read.connected(task, 'resetting the BIOS settings') \
                as (info, conn):
            system = conn.root.get_system(conn.system_path(info))
            _bios(task, system).reset_bios()
            _boot(task, conn, info, system)


def _boot(task: base.Task, conn: connection.Connection,
          info: utils.RedfishInfo, system: Any) -> None:
    """Restart the node (power it on if off) so that the BIOS applies
    its pending settings, and wait until it is on."""
    is_on = system.power_state in (sushy.PowerState.ON,
                                   sushy.PowerState.POWERING_ON)
    system.reset_system(sushy.ResetType.FORCE_RESTART if is_on
                        else sushy.ResetType.ON)
    power_read.wait_for_power_state(
        task, conn, info, 'On', CONF.redfish.power_state_change_timeout)


def _wait_applied(task: base.Task, pending: Callable[[], list[str]],
                  what: str) -> None:
    """Poll until ``pending()`` (the attributes not showing their new
    value) is empty; fail naming them once the wait is over. The wait
    ends a request timeout before the task's deadline, so the failure
    names the attributes rather than the deadline."""
    wait = CONF.redfish.power_state_change_timeout
    left = deadline.remaining()
    if left is not None:
        wait = min(wait, max(left - CONF.redfish.request_timeout, 0.0))
    until = time.monotonic() + wait
    while True:
        left_over = pending()
        if not left_over:
            return
        left = until - time.monotonic()
        if left <= 0:
            raise exceptions.SettingNotKept(
                reason=f'Node {base.node_label(task.node)}: the BMC '
                       f'accepted {what} but did not keep '
                       f'{", ".join(left_over)}: after a restart it '
                       f'reports other values.')
        time.sleep(min(CONF.redfish.power_state_poll_interval, left))
