"""SIGTERM, SIGINT and SIGHUP for processes that run a conductor.

``podium-conductor`` and the all-in-one ``podium`` install the same
handlers: SIGTERM/SIGINT stop the conductor gracefully (and then call
``on_stop``, for example to stop an HTTP server); SIGHUP reloads the
mutable options from the config files, log levels included.

A signal handler runs in the main thread between two bytecodes, possibly
while that thread holds a lock the work needs; the handlers therefore
only hand the work to a short-lived thread of its own.
"""

import signal
import threading
from collections.abc import Callable
from types import FrameType
from typing import Protocol

from oslo_log import log

from podium.conf import CONF

LOG = log.getLogger(__name__)


class Stoppable(Protocol):
    def stop(self, graceful: bool = True) -> None: ...

    def reload(self) -> None: ...


def _in_thread(name: str, func: Callable[[], None]) -> None:
    threading.Thread(target=func, name=name, daemon=False).start()


def install_signal_handlers(service: Stoppable,
                            on_stop: Callable[[], None] | None = None
                            ) -> None:
    """Route SIGTERM/SIGINT to a graceful stop and SIGHUP to a reload.

    Must be called from the main thread. A second stop signal while
    stopping is ignored: the first stop already bounds the wait.
    """
    stopping = threading.Event()

    def stop() -> None:
        try:
            service.stop(graceful=True)
        finally:
            if on_stop is not None:
                on_stop()

    def reload() -> None:
        try:
            CONF.mutate_config_files()
            service.reload()
        except Exception:
            LOG.exception('Reloading the configuration failed; the '
                          'previous values stay in effect')

    def on_stop_signal(signum: int, _frame: FrameType | None) -> None:
        if stopping.is_set():
            return
        stopping.set()
        _in_thread('podium-stop', stop)

    def on_reload_signal(signum: int, _frame: FrameType | None) -> None:
        _in_thread('podium-reload', reload)

    signal.signal(signal.SIGTERM, on_stop_signal)
    signal.signal(signal.SIGINT, on_stop_signal)
    signal.signal(signal.SIGHUP, on_reload_signal)
