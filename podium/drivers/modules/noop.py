"""Interfaces for hardware that cannot do something at all."""

from typing import Any

from podium.common import exceptions
from podium.drivers import base


class NoInspect(base.InspectInterface):
    """Inspection is not available: refuses with a clear message."""

    def inspect_hardware(self, task: base.Task) -> dict[str, Any]:
        raise exceptions.UnsupportedDriverExtension(
            extension='Inspection', node=base.node_label(task.node))
