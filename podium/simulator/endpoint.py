"""One simulated BMC endpoint: a listening address fronting some systems.

The :class:`Endpoint` is the request handler behind every
:class:`~podium.simulator.http.HttpConnection` of its address. Per request
it applies, in order: the concurrency cap (503 past it), the behaviour of
the system addressed (or of the endpoint for other paths) -- hang, latency,
injected errors -- then authentication and the Redfish route itself.

Latency is a ``loop.call_later``: a slow request is a timer, not a thread
or a task, so thousands of them cost nothing.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import itertools
import logging
import random
import uuid as uuidlib
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from podium.simulator import bios as sim_bios
from podium.simulator import replies
from podium.simulator import resources as rf
from podium.simulator import sensors as sim_sensors
from podium.simulator import vmedia as sim_vmedia
from podium.simulator.behaviour import NO_LATENCY, Behaviour
from podium.simulator.http import HttpConnection, Request, Response
from podium.simulator.state import (
    BOOT_ENABLED,
    BOOT_MODES,
    BOOT_TARGETS,
    POWER_OFF,
    POWER_ON,
    EndpointCounters,
    SimSystem,
)

if TYPE_CHECKING:
    from podium.simulator.control import ControlApi

LOG = logging.getLogger(__name__)

MAX_SESSIONS = 1000
_SYSTEMS_PREFIX = rf.SYSTEMS + "/"
_EXPAND_VALUES = (".", "*", "~")
_BOOT_FIELDS: dict[str, tuple[str, tuple[str, ...]]] = {
    "BootSourceOverrideTarget": ("target", BOOT_TARGETS),
    "BootSourceOverrideEnabled": ("enabled", BOOT_ENABLED),
    "BootSourceOverrideMode": ("mode", BOOT_MODES),
}
_RESET_TARGETS: dict[str, str | None] = {
    "On": POWER_ON,
    "ForceOff": POWER_OFF,
    "GracefulShutdown": POWER_OFF,
    "GracefulRestart": POWER_ON,
    "ForceRestart": POWER_ON,
    "PushPowerButton": "toggle",
    "Nmi": None,
}
_RESTARTS = ("GracefulRestart", "ForceRestart")


class Endpoint:
    """A listening address and the systems behind it."""

    def __init__(self, index: int, host: str, port: int,
                 systems: Sequence[SimSystem], username: str, password: str,
                 behaviour: Behaviour, max_concurrency: int | None,
                 rng: random.Random, control: ControlApi) -> None:
        self.index = index
        self.host = host
        self.port = port
        self.systems = list(systems)
        self.by_uuid = {s.uuid: s for s in self.systems}
        self.username = username
        self.password = password
        self.behaviour = behaviour
        self.max_concurrency = max_concurrency
        self.rng = rng
        self.control = control
        self.counters = EndpointCounters()
        #: Seconds the BMC answers nothing after a Manager.Reset.
        self.reset_seconds = 0.0
        #: Loop time until which it is restarting; Manager.Reset count.
        self.restarting_until = 0.0
        self.resets = 0
        self.connections: set[HttpConnection] = set()
        self.server: asyncio.Server | None = None
        self.loop: asyncio.AbstractEventLoop | None = None
        # token -> session id, and session id -> (token, user)
        self._tokens: dict[str, str] = {}
        self._sessions: dict[str, tuple[str, str]] = {}
        self._session_ids = itertools.count(1)
        self._basic = "Basic " + base64.b64encode(
            f"{username}:{password}".encode()).decode()
        self._uuid = str(uuidlib.UUID(int=rng.getrandbits(128), version=4))
        # Documents that never change, encoded once.
        self._static = {
            "/redfish": rf.dumps(rf.version_document()),
            "/redfish/v1": rf.dumps(rf.service_root(self._uuid)),
            "/redfish/v1/SessionService": rf.dumps(rf.session_service()),
            rf.SYSTEMS: rf.dumps(rf.systems_collection(self.systems)),
            rf.ROOT + "/Managers": rf.dumps(rf.managers_collection()),
            f"{rf.ROOT}/Managers/{rf.MANAGER_ID}": rf.dumps(
                rf.manager(self.systems)),
            rf.ROOT + "/Chassis": rf.dumps(
                rf.chassis_collection(self.systems)),
            **sim_bios.static_documents(),
        }

    @property
    def address(self) -> str:
        """Base URL, e.g. ``http://127.0.0.1:20000``."""
        return f"http://{self.host}:{self.port}"

    async def start(self, loop: asyncio.AbstractEventLoop) -> None:
        """Bind and start listening; a port of 0 gets an ephemeral one."""
        self.loop = loop
        self.server = await loop.create_server(
            lambda: HttpConnection(self), self.host, self.port,
            reuse_address=True, backlog=1024)
        self.port = self.server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        """Stop listening and drop every client connection."""
        if self.server is not None:
            self.server.close()
        for conn in list(self.connections):
            conn.close()
        if self.server is not None:
            await self.server.wait_closed()
            self.server = None

    def set_behaviour(self, behaviour: Behaviour) -> None:
        """Replace the endpoint behaviour and rebase its systems on it."""
        self.behaviour = behaviour
        for system in self.systems:
            system.rebase(behaviour)

    # HttpConnection callbacks

    def connection_made(self, conn: HttpConnection) -> None:
        self.connections.add(conn)
        self.counters.connections += 1
        self.counters.connections_total += 1

    def connection_lost(self, conn: HttpConnection) -> None:
        self.connections.discard(conn)
        self.counters.connections -= 1
        if conn.hung:
            # The hung request leaves the BMC only when the client gives up.
            self.counters.in_flight -= 1

    def handle(self, conn: HttpConnection, req: Request) -> None:
        """Admit, delay or fault ``req``, then serve it."""
        if req.path.startswith("/simulator/"):
            self._send(conn, self.control.handle(self, req), count=False)
            return
        if self.restarting():
            # A restarting BMC has no web server: the connection drops.
            conn.close()
            return
        counters = self.counters
        counters.requests += 1
        cap = self.max_concurrency
        if cap is not None and counters.in_flight >= cap:
            counters.refused += 1
            self._send(conn, replies.OVERLOADED)
            return
        counters.in_flight += 1
        if counters.in_flight > counters.max_in_flight:
            counters.max_in_flight = counters.in_flight
        system = None
        if req.path.startswith(_SYSTEMS_PREFIX):
            system = self.by_uuid.get(
                req.path[len(_SYSTEMS_PREFIX):].split("/", 1)[0])
        if system is not None:
            system.requests += 1
            behaviour = system.behaviour
        else:
            behaviour = self.behaviour
        if behaviour.hang:
            counters.hung += 1
            conn.hang()
            return
        if behaviour.latency is not NO_LATENCY:
            delay = behaviour.latency.sample(self.rng)
            if delay > 0 and self.loop is not None:
                self.loop.call_later(delay, self._complete, conn, req,
                                     system, behaviour)
                return
        self._complete(conn, req, system, behaviour)

    # serving

    def _complete(self, conn: HttpConnection, req: Request,
                  system: SimSystem | None, behaviour: Behaviour) -> None:
        self.counters.in_flight -= 1
        if (behaviour.error_fraction
                and self.rng.random() < behaviour.error_fraction):
            self.counters.errors += 1
            self._send(conn, replies.INJECTED[behaviour.error_status])
            return
        try:
            response = self._dispatch(req, system, behaviour)
        except Exception:
            LOG.exception("Simulator failed to serve %s %s",
                          req.method, req.path)
            response = replies.error_response(
                500, "Simulator bug; see its log.", "Base.1.8.InternalError")
        self._send(conn, response)

    def _send(self, conn: HttpConnection, response: Response,
              count: bool = True) -> None:
        if count:
            codes = self.counters.status_counts
            codes[response.status] = codes.get(response.status, 0) + 1
        conn.respond(response)

    def _dispatch(self, req: Request, system: SimSystem | None,
                  behaviour: Behaviour) -> Response:
        path = req.path.rstrip("/") or "/"
        method = req.method
        if path in ("/redfish", "/redfish/v1"):
            # The service root is readable without credentials (DSP0266).
            if method != "GET":
                return replies.not_allowed("GET")
            return Response(200, self._static[path])
        if path == rf.SESSIONS and method == "POST":
            return self._create_session(req)
        if not self._authorised(req):
            return replies.UNAUTHORIZED
        if system is not None:
            return self._system_route(req, path, system, behaviour)
        if path.startswith(rf.SESSIONS):
            return self._session_route(req, path)
        if path.startswith(_SYSTEMS_PREFIX):
            return replies.error_response(404, f"No system at {path}.",
                                          replies.NOT_FOUND_ID)
        if path == rf.SYSTEMS and method == "GET" and req.query:
            return self._systems_query(req.query)
        if path == rf.MANAGER_RESET:
            return self._reset_manager(req)
        if (path == rf.MANAGER_VMEDIA or path.startswith(
                rf.MANAGER_VMEDIA + "/")) and len(self.systems) == 1:
            only = self.systems[0]
            return _vmedia_route(req, rf.MANAGER_VMEDIA,
                                 path[len(rf.MANAGER_VMEDIA) + 1:], only)
        static = self._static.get(path)
        if static is not None:
            return Response(200, static) if method == "GET" \
                else replies.not_allowed("GET")
        chassis_prefix = rf.ROOT + "/Chassis/"
        if path.startswith(chassis_prefix):
            ident, _, rest = path[len(chassis_prefix):].partition("/")
            target = self.by_uuid.get(ident)
            if target is not None:
                if method != "GET":
                    return replies.not_allowed("GET")
                doc = (sim_sensors.chassis_document(target, rest, req.query)
                       if rest else rf.chassis(target))
                if doc is not None:
                    return replies.json_response(200, doc)
        return replies.error_response(404, f"No resource at {path}.",
                                      replies.NOT_FOUND_ID)

    def _authorised(self, req: Request) -> bool:
        headers = req.headers
        token = headers.get("x-auth-token")
        if token is not None:
            return token in self._tokens
        auth = headers.get("authorization")
        if auth is None:
            return False
        if auth == self._basic:
            return True
        scheme, _, encoded = auth.partition(" ")
        if scheme.lower() != "basic":
            return False
        try:
            decoded = base64.b64decode(encoded.strip(), validate=True)
            user, _, password = decoded.decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return False
        return user == self.username and password == self.password

    def _systems_query(self, query: str) -> Response:
        for param in unquote(query).split("&"):
            name, _, value = param.partition("=")
            if name != "$expand":
                continue
            if not value.startswith(_EXPAND_VALUES):
                return replies.error_response(
                    400, f"Unsupported $expand value {value!r}.",
                    "Base.1.8.QueryParameterValueFormatError")
            return Response(200, rf.expanded_systems(self.systems))
        return Response(200, self._static[rf.SYSTEMS])

    # sessions

    def _create_session(self, req: Request) -> Response:
        body = replies.json_object(req.body)
        if body is None:
            return replies.error_response(400, "Body must be a JSON object.",
                                          "Base.1.8.MalformedJSON")
        if (body.get("UserName") != self.username
                or body.get("Password") != self.password):
            return replies.UNAUTHORIZED
        if len(self._sessions) >= MAX_SESSIONS:
            # Evict the oldest, as a BMC with a full session table would
            # otherwise lock every new client out.
            oldest = next(iter(self._sessions))
            self._delete_session(oldest)
        session_id = str(next(self._session_ids))
        token = self.rng.getrandbits(128).to_bytes(16, "big").hex()
        self._tokens[token] = session_id
        self._sessions[session_id] = (token, self.username)
        location = f"{rf.SESSIONS}/{session_id}"
        return replies.json_response(
            201, rf.session(session_id, self.username),
            headers=(("X-Auth-Token", token), ("Location", location)))

    def _delete_session(self, session_id: str) -> None:
        token, _ = self._sessions.pop(session_id)
        self._tokens.pop(token, None)

    def _session_route(self, req: Request, path: str) -> Response:
        if path == rf.SESSIONS:
            if req.method != "GET":
                return replies.not_allowed("GET, POST")
            return replies.json_response(200, rf.sessions_collection(
                list(self._sessions)))
        session_id = path[len(rf.SESSIONS) + 1:]
        entry = self._sessions.get(session_id)
        if entry is None or "/" in session_id:
            return replies.error_response(404, f"No session at {path}.",
                                          replies.NOT_FOUND_ID)
        if req.method == "GET":
            return replies.json_response(200, rf.session(session_id, entry[1]))
        if req.method == "DELETE":
            self._delete_session(session_id)
            return replies.NO_CONTENT
        return replies.not_allowed("GET, DELETE")

    # systems

    def _system_route(self, req: Request, path: str, system: SimSystem,
                      behaviour: Behaviour) -> Response:
        rest = path[len(system.path) + 1:]
        method = req.method
        if rest == "":
            if method == "GET":
                return Response(200, rf.system_bytes(system))
            if method == "PATCH":
                return self._patch_system(req, system)
            return replies.not_allowed("GET, PATCH")
        if rest == "Actions/ComputerSystem.Reset":
            if method != "POST":
                return replies.not_allowed("POST")
            return self._reset(req, system, behaviour)
        if rest == "Bios" or rest.startswith("Bios/"):
            return _bios_route(req, rest, system)
        collection = sim_vmedia.COLLECTION
        if rest == collection or rest.startswith(collection + "/"):
            return _vmedia_route(req, f"{system.path}/{collection}",
                                 rest[len(collection) + 1:], system)
        if method != "GET":
            return replies.not_allowed("GET")
        doc = _sub_resource(system, rest)
        if doc is None:
            return replies.error_response(404, f"No resource at {path}.",
                                          replies.NOT_FOUND_ID)
        return replies.json_response(200, doc)

    def _patch_system(self, req: Request, system: SimSystem) -> Response:
        body = replies.json_object(req.body)
        if body is None:
            return replies.error_response(400, "Body must be a JSON object.",
                                          "Base.1.8.MalformedJSON")
        unknown = set(body) - {"Boot"}
        if unknown:
            return replies.error_response(
                400, f"Properties not writable: {sorted(unknown)}.",
                "Base.1.8.PropertyNotWritable")
        boot = body.get("Boot")
        if not isinstance(boot, dict):
            return replies.error_response(400, "Boot must be an object.",
                                          "Base.1.8.PropertyValueTypeError")
        changes: dict[str, str] = {}
        for key, value in boot.items():
            if key == "BootOrder":
                continue  # applied below, with the rest or not at all
            field = _BOOT_FIELDS.get(key)
            if field is None:
                return replies.error_response(
                    400, f"Property Boot/{key} is not supported.",
                    "Base.1.8.PropertyUnknown")
            name, allowed = field
            if value not in allowed:
                return replies.error_response(
                    400, f"Value {value!r} of Boot/{key} is not one of "
                         f"{list(allowed)}.",
                    "Base.1.8.PropertyValueNotInList")
            changes[name] = value
        if "BootOrder" in boot:
            refused = system.boot_order.set_order(boot["BootOrder"])
            if refused:
                return replies.error_response(400, refused,
                                              "Base.1.8.PropertyValueNotInList")
        if system.boot_mode_not_kept:
            changes.pop("mode", None)  # accepted, and silently dropped
        system.set_boot(**changes)
        return replies.NO_CONTENT

    def restarting(self) -> bool:
        """Whether the BMC is restarting after a Manager.Reset."""
        return (self.loop is not None
                and self.loop.time() < self.restarting_until)

    def _reset_manager(self, req: Request) -> Response:
        """``Manager.Reset``: the BMC restarts. Faults injected into its
        systems (hang, errors) are cleared, as a restart clears a wedged
        BMC; sessions are lost; for ``reset_seconds`` every connection
        is dropped unanswered. The systems' power is not touched."""
        if req.method != "POST":
            return replies.not_allowed("POST")
        body = replies.json_object(req.body)
        reset_type = body.get("ResetType") if body is not None else None
        if reset_type not in rf.MANAGER_RESET_TYPES:
            return replies.error_response(
                400, f"ResetType {reset_type!r} is not one of "
                     f"{list(rf.MANAGER_RESET_TYPES)}.",
                "Base.1.8.ActionParameterValueNotInList")
        self.resets += 1
        if self.loop is not None:
            # After this answer is sent: the restart drops connections.
            self.loop.call_soon(self._restart)
        return replies.NO_CONTENT

    def _restart(self) -> None:
        for system in self.systems:
            for key in ("hang", "error_fraction"):
                system.overrides.pop(key, None)
            system.rebase(self.behaviour)
        self._tokens.clear()
        self._sessions.clear()
        assert self.loop is not None
        self.restarting_until = self.loop.time() + self.reset_seconds
        for conn in list(self.connections):
            conn.close()

    def _reset(self, req: Request, system: SimSystem,
               behaviour: Behaviour) -> Response:
        body = replies.json_object(req.body)
        reset_type = body.get("ResetType") if body is not None else None
        if reset_type not in _RESET_TARGETS:
            return replies.error_response(
                400, f"ResetType {reset_type!r} is not one of "
                     f"{list(rf.RESET_TYPES)}.",
                "Base.1.8.ActionParameterValueNotInList")
        target = _RESET_TARGETS[reset_type]
        if target is None:
            system.nmis += 1
            return replies.NO_CONTENT
        if target == "toggle":
            target = POWER_OFF if system.power_state == POWER_ON \
                else POWER_ON
        boots = target == POWER_ON and (
            reset_type in _RESTARTS or system.power_state == POWER_OFF)
        delay = behaviour.power_delay
        if delay <= 0 or self.loop is None:
            _finish_transition(system, target, boots)
            return replies.NO_CONTENT
        system.cancel_pending()
        if reset_type in _RESTARTS:
            # Make the reboot observable while it is in progress.
            system.power_state = POWER_OFF
            system.doc = None
        system.pending = self.loop.call_later(
            delay, _finish_transition, system, target, boots)
        return replies.NO_CONTENT


def _finish_transition(system: SimSystem, target: str,
                       boots: bool = False) -> None:
    system.pending = None
    system.set_power(target)
    if boots:
        system.boot()


def _bios_route(req: Request, rest: str, system: SimSystem) -> Response:
    """``Bios``, ``Bios/Settings`` and the ResetBios action."""
    bios = system.bios
    if rest == "Bios":
        if req.method != "GET":
            return replies.not_allowed("GET")
        return replies.json_response(200, bios.document(system.path))
    if rest == "Bios/Settings":
        if req.method == "GET":
            return replies.json_response(
                200, bios.settings_document(system.path))
        if req.method != "PATCH":
            return replies.not_allowed("GET, PATCH")
        body = replies.json_object(req.body)
        refused = bios.stage(body.get("Attributes") if body else None)
        if refused:
            return replies.error_response(400, refused,
                                          "Base.1.8.PropertyValueNotInList")
        return replies.NO_CONTENT
    if rest == "Bios/Actions/Bios.ResetBios":
        if req.method != "POST":
            return replies.not_allowed("POST")
        bios.reset()
        return replies.NO_CONTENT
    return replies.error_response(404, f"No resource at {system.path}/{rest}.",
                                  replies.NOT_FOUND_ID)


def _vmedia_route(req: Request, path: str, rest: str,
                  system: SimSystem) -> Response:
    """The system's virtual media, at ``path`` (:mod:`.vmedia`)."""
    answer = sim_vmedia.route(
        system.vmedia, req.method, path, rest,
        f"{system.path}/{sim_vmedia.COLLECTION}",
        replies.json_object(req.body))
    if answer.message is not None:
        headers = (("Allow", answer.allow),) if answer.allow else ()
        return replies.error_response(answer.status, answer.message,
                                      answer.message_id, headers=headers)
    if answer.doc is None:
        return replies.NO_CONTENT
    return replies.json_response(answer.status, answer.doc)


_SUB_RESOURCES: dict[str, Callable[[SimSystem], dict[str, Any]]] = {
    "EthernetInterfaces": rf.ethernet_interfaces,
    "SimpleStorage": rf.simple_storage_collection,
    "Processors": rf.processors,
    "BootOptions": lambda system: system.boot_order.collection(system.path),
}
_SUB_MEMBERS: dict[str, Callable[[SimSystem, str], dict[str, Any] | None]] = {
    "EthernetInterfaces": rf.ethernet_interface,
    "SimpleStorage": rf.simple_storage,
    "Processors": rf.processor,
    "BootOptions": lambda system, ref: system.boot_order.document(
        system.path, ref),
}


def _sub_resource(system: SimSystem, rest: str) -> dict[str, Any] | None:
    kind, _, ident = rest.partition("/")
    if not ident:
        collection = _SUB_RESOURCES.get(kind)
        return collection(system) if collection else None
    member = _SUB_MEMBERS.get(kind)
    return member(system, ident) if member else None
