"""The simulator's own HTTP control API, under ``/simulator/`` on every
endpoint.

It lets an out-of-process test or benchmark flip power behind the
conductor's back, change behaviour at run time and read counters. Control
requests need no credentials and bypass behaviour, the concurrency cap and
the counters, so observing the simulator never perturbs what it measures.

Routes (JSON bodies):

- ``GET /simulator/stats[?systems=1]``, ``POST /simulator/stats/reset``
- ``GET /simulator/systems`` (this endpoint's systems)
- ``GET|PATCH /simulator/systems/<uuid or name>`` with
  ``{"power_state": "On", "boot": {"target": "Pxe", "enabled": "Once"},
  "behaviour": {"latency": "uniform:0.1,0.3", "hang": true,
  "error_fraction": 0.2, "error_status": 503, "power_delay": 2},
  "sensors": {"style": "sensors", "readings": {"CPU1 Temp": 99}}}``;
  ``boot`` may also hold ``"mode_not_kept": true`` (the BMC accepts a
  new boot mode and keeps the old one), and ``{"bios": {"attributes":
  {...}}}`` changes BIOS values out of band, ``{"bios": {"not_kept":
  [...]}}`` names attributes whose pending values are dropped at boot;
  a behaviour field set to ``null`` inherits the endpoint's value again,
  a sensor reading set to ``null`` follows the power state again
- ``GET|PATCH /simulator/endpoint`` (the one addressed) and
  ``/simulator/endpoints/<index>`` with ``{"behaviour": {...},
  "max_concurrency": 4}`` (``null`` removes the cap)
- ``GET /simulator/endpoints``
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

from podium.simulator import fleet_stats
from podium.simulator import resources as rf
from podium.simulator.http import Request, Response

if TYPE_CHECKING:
    from podium.simulator.endpoint import Endpoint
    from podium.simulator.redfish import Simulator

PREFIX = "/simulator/"


class ControlError(Exception):
    """A control request that cannot be honoured; carries the status."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class ControlApi:
    """Serves ``/simulator/...`` for every endpoint of a simulator."""

    def __init__(self, simulator: Simulator) -> None:
        self.sim = simulator

    def handle(self, endpoint: Endpoint, req: Request) -> Response:
        """Serve one control request (on the event loop thread)."""
        try:
            doc = self._route(endpoint, req)
        except ControlError as exc:
            return _reply(exc.status, {"error": str(exc)})
        except (KeyError, LookupError) as exc:
            return _reply(404, {"error": f"not found: {exc}"})
        except (TypeError, ValueError) as exc:
            return _reply(400, {"error": str(exc)})
        return _reply(200, doc)

    def _route(self, endpoint: Endpoint, req: Request) -> Any:
        parts = req.path[len(PREFIX):].strip("/").split("/")
        method = req.method
        head = parts[0]
        if head == "stats":
            if len(parts) == 1 and method == "GET":
                detail = parse_qs(req.query).get("systems", ["0"])[0]
                return self.sim._stats_in_loop(
                    systems=detail not in ("0", "false", ""))
            if parts[1:] == ["reset"] and method == "POST":
                self.sim._reset_stats_in_loop()
                return {"reset": True}
        elif head == "systems":
            if len(parts) == 1 and method == "GET":
                return [s.describe() for s in endpoint.systems]
            if len(parts) == 2:
                return self._system(parts[1], req)
        elif head == "endpoint" and len(parts) == 1:
            return self._endpoint(endpoint, req)
        elif head == "endpoints":
            if len(parts) == 1 and method == "GET":
                return [fleet_stats.describe_endpoint(e)
                        for e in self.sim._endpoints]
            if len(parts) == 2:
                try:
                    index = int(parts[1])
                except ValueError:
                    raise ControlError(404, "endpoint index must be an "
                                            "integer") from None
                return self._endpoint(self.sim._endpoint(index), req)
        raise ControlError(404, f"no control route {req.method} {req.path}")

    def _system(self, ref: str, req: Request) -> Any:
        system = self.sim._system(ref)
        if req.method == "PATCH":
            body = _body(req)
            unknown = set(body) - {"power_state", "boot", "behaviour",
                                   "sensors", "bios"}
            if unknown:
                raise ValueError(f"unknown fields {sorted(unknown)}")
            if "sensors" in body:
                system.sensors.configure(_mapping(body["sensors"],
                                                  "sensors"))
            if "behaviour" in body:
                self.sim._set_system_behaviour_in_loop(
                    system, _mapping(body["behaviour"], "behaviour"))
            if "boot" in body:
                boot = _mapping(body["boot"], "boot")
                system.set_boot(**{k: boot.get(k)
                                   for k in ("target", "enabled", "mode")})
                if "mode_not_kept" in boot:
                    system.boot_mode_not_kept = bool(boot["mode_not_kept"])
            if "bios" in body:
                bios = _mapping(body["bios"], "bios")
                if "attributes" in bios:
                    system.bios.set_current(
                        _mapping(bios["attributes"], "bios.attributes"))
                if "not_kept" in bios:
                    system.bios.not_kept = set(bios["not_kept"])
            if "power_state" in body:
                system.set_power(body["power_state"])
        elif req.method != "GET":
            raise ControlError(405, "use GET or PATCH")
        return system.describe()

    def _endpoint(self, endpoint: Endpoint, req: Request) -> Any:
        if req.method == "PATCH":
            body = _body(req)
            unknown = set(body) - {"behaviour", "max_concurrency"}
            if unknown:
                raise ValueError(f"unknown fields {sorted(unknown)}")
            if "behaviour" in body:
                self.sim._set_endpoint_behaviour_in_loop(
                    endpoint, _mapping(body["behaviour"], "behaviour"))
            if "max_concurrency" in body:
                self.sim._set_max_concurrency_in_loop(
                    endpoint, body["max_concurrency"])
        elif req.method != "GET":
            raise ControlError(405, "use GET or PATCH")
        return fleet_stats.describe_endpoint(endpoint)


def _reply(status: int, doc: Any) -> Response:
    return Response(status, rf.dumps(doc))


def _body(req: Request) -> dict[str, Any]:
    try:
        doc = json.loads(req.body or b"{}")
    except ValueError:
        raise ValueError("body is not JSON") from None
    return _mapping(doc, "body")


def _mapping(value: Any, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ValueError(f"{what} must be a JSON object")
    return value
