"""Interfaces for hardware that cannot do something at all."""

from typing import Any

from podium.common import exceptions
from podium.drivers import base


class NoInspect(base.InspectInterface):
    """Inspection is not available: refuses with a clear message.

    ``validate`` refuses too, so an inspection request fails at once
    with HTTP 400 and ``validate`` reports the interface as unusable,
    instead of the failure surfacing later in ``last_error``.
    """

    def _refuse(self, node: base.NodeView) -> exceptions.PodiumException:
        return exceptions.UnsupportedDriverExtension(
            extension='Inspection', node=base.node_label(node))

    def validate(self, node: base.NodeView) -> None:
        raise self._refuse(node)

    def inspect_hardware(self, task: base.Task) -> dict[str, Any]:
        raise self._refuse(task.node)


class NoBios(base.BiosInterface):
    """Hardware without BIOS settings support: every BIOS request is
    refused with a clear message, before any BMC is contacted.

    ``validate`` passes, so a node of this interface still validates;
    it declares no clean steps (its ``apply_configuration`` and
    ``factory_reset`` are plain methods that refuse), so manual cleaning
    names no BIOS step for it, and caching its settings reads nothing.
    """

    def _refuse(self, node: base.NodeView) -> exceptions.PodiumException:
        return exceptions.UnsupportedDriverExtension(
            extension='BIOS settings', node=base.node_label(node))

    def apply_configuration(self, task: base.Task,
                            settings: list[dict[str, Any]]) -> None:
        raise self._refuse(task.node)

    def factory_reset(self, task: base.Task) -> None:
        raise self._refuse(task.node)

    def cache_bios_settings(self, task: base.Task) -> None:
        """Nothing to read; the cache stays empty."""

    def get_settings(self, task: base.Task) -> list[Any]:
        raise self._refuse(task.node)

    def apply_settings(self, task: base.Task, settings: Any) -> None:
        raise self._refuse(task.node)

    def reset_settings(self, task: base.Task) -> None:
        raise self._refuse(task.node)
