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
