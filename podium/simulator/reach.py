"""How a client reaches the Redfish simulator: an endpoint's address and
the systems behind it, and one system's ``driver_info``.

What :class:`~podium.simulator.redfish.Simulator` hands out of its
inventory; plain frozen data, safe to pass between threads.
"""

from __future__ import annotations

import dataclasses
from typing import Any


@dataclasses.dataclass(frozen=True)
class SystemInfo:
    """How a client reaches one simulated system.

    ``address`` and ``system_id`` are what Ironic calls ``redfish_address``
    and ``redfish_system_id``: ``sushy.Sushy(address, ...)
    .get_system(system_id)`` reads it.
    """

    address: str
    system_id: str
    uuid: str
    name: str
    username: str
    password: str
    endpoint: int
    macs: tuple[str, ...]

    def driver_info(self) -> dict[str, str]:
        """The ``driver_info`` of a ``redfish`` node of this system."""
        return {"redfish_address": self.address,
                "redfish_system_id": self.system_id,
                "redfish_username": self.username,
                "redfish_password": self.password}

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly form (the inventory listing)."""
        doc = dataclasses.asdict(self)
        doc["macs"] = list(self.macs)
        return doc


@dataclasses.dataclass(frozen=True)
class EndpointInfo:
    """One listening address and the systems (uuids) behind it."""

    index: int
    address: str
    host: str
    port: int
    system_uuids: tuple[str, ...]
