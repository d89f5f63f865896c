"""The IPMI simulator in a child process, driven like the in-process one.

pyghmi keeps its sessions, sockets and event loop at module level, and
the BMC side of :class:`~podium.simulator.ipmi.IpmiSimulator` is served
by that same loop. In the process of a pyghmi client (a test, the IPMI
driver's reactor) two threads would then drive one loop: either can
read the other's datagrams, and a client's command ends in "Session no
longer connected" now and then. :class:`IpmiSimulatorProcess` runs the
BMCs in a process of their own (started with ``spawn``, so nothing of
the parent's pyghmi state is copied) and offers the same methods, each
one a round trip over a pipe with a deadline, so a test can swap one for
the other.
"""

from __future__ import annotations

import multiprocessing
import threading
from multiprocessing.connection import Connection
from typing import Any

from podium.simulator.ipmi import IpmiBmcInfo, IpmiSimulator

#: Seconds a call may take, starting the BMCs included, before the
#: child counts as stuck.
CALL_TIMEOUT = 60.0

#: The methods of IpmiSimulator a parent may call.
_METHODS = frozenset({"bmcs", "inventory", "get_power", "set_power",
                      "get_boot", "set_boot", "set_sensors",
                      "set_behaviour", "stats"})


class SimulatorProcessError(RuntimeError):
    """The child failed, died or did not answer in time."""


def _serve(conn: Connection, kwargs: dict[str, Any]) -> None:
    """The child: start the BMCs, then answer calls until told to stop
    or until the parent's end of the pipe closes."""
    try:
        sim = IpmiSimulator(**kwargs).start()
    except BaseException as exc:  # reported to the parent, then exit
        conn.send(("error", exc))
        return
    conn.send(("ok", None))
    try:
        while True:
            try:
                name, args, call_kwargs = conn.recv()
            except (EOFError, OSError):
                return  # the parent is gone
            if name == "stop":
                return
            try:
                attribute = getattr(sim, name)
                result = (attribute(*args, **call_kwargs)
                          if callable(attribute) else attribute)
            except Exception as exc:
                conn.send(("error", exc))
            else:
                conn.send(("ok", result))
    finally:
        sim.stop()
        conn.close()


class IpmiSimulatorProcess:
    """:class:`IpmiSimulator` (same arguments) in a child process."""

    def __init__(self, count: int = 1, **kwargs: Any) -> None:
        self._kwargs = dict(kwargs, count=count)
        self._process: Any = None
        self._conn: Connection | None = None
        #: One call at a time on the pipe.
        self._lock = threading.Lock()

    def start(self) -> IpmiSimulatorProcess:
        """Start the child and wait until its BMCs listen."""
        if self._process is not None:
            raise RuntimeError("IPMI simulator process already started")
        context = multiprocessing.get_context("spawn")
        parent, child = context.Pipe()
        self._process = context.Process(
            target=_serve, args=(child, self._kwargs), daemon=True,
            name="podium-ipmi-simulator")
        self._process.start()
        child.close()
        self._conn = parent
        try:
            self._receive()
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """Stop the child's BMCs and wait for it to exit (killed when it
        does not within a few seconds)."""
        process, conn = self._process, self._conn
        self._process = self._conn = None
        if conn is not None:
            try:
                conn.send(("stop", (), {}))
            except (OSError, ValueError):
                pass
            conn.close()
        if process is not None:
            process.join(10)
            if process.is_alive():
                process.kill()
                process.join(5)

    def __enter__(self) -> IpmiSimulatorProcess:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def bmcs(self) -> list[IpmiBmcInfo]:
        """Every BMC's address, port and credentials."""
        result: list[IpmiBmcInfo] = self._call("bmcs")
        return result

    def __getattr__(self, name: str) -> Any:
        if name not in _METHODS:
            raise AttributeError(name)

        def call(*args: Any, **kwargs: Any) -> Any:
            return self._call(name, *args, **kwargs)

        call.__name__ = name
        return call

    def _call(self, name: str, *args: Any, **kwargs: Any) -> Any:
        with self._lock:
            if self._conn is None:
                raise SimulatorProcessError(
                    "the IPMI simulator process is not running")
            self._conn.send((name, args, kwargs))
            return self._receive()

    def _receive(self) -> Any:
        assert self._conn is not None
        if not self._conn.poll(CALL_TIMEOUT):
            raise SimulatorProcessError(
                f"the IPMI simulator process did not answer within "
                f"{CALL_TIMEOUT:.0f} s")
        try:
            status, value = self._conn.recv()
        except (EOFError, OSError) as exc:
            raise SimulatorProcessError(
                f"the IPMI simulator process died: {exc}") from None
        if status == "error":
            raise value
        return value
