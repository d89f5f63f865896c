"""SIGTERM, SIGINT and SIGHUP for processes that run a conductor.

``podium-conductor`` and the all-in-one ``podium`` install the same
handlers: SIGTERM/SIGINT stop the conductor gracefully (and then call
``on_stop``, for example to stop an HTTP server); SIGHUP reloads the
mutable options from the config files, log levels included.

A signal handler runs in the main thread between two bytecodes, possibly
while that thread holds a lock the work needs; the handlers therefore
only hand the work to a short-lived thread of its own.

Shutdown always ends: a second SIGTERM or SIGINT exits at once, and a
stop still running ``graceful_shutdown_timeout`` plus
:data:`EXIT_MARGIN` seconds after the first signal ends the process
(:func:`arm_exit_watchdog`). A stop that finished while work was still
running (a thread stuck in a library, which no timeout can interrupt)
also ends it, through :func:`exit_if_stuck`: the interpreter's exit
would join such a thread forever (``concurrent.futures`` and futurist
join their workers at exit). Either way the process exits with
:data:`EXIT_FORCED` after one log line naming what was still running.
"""

import logging
import os
import signal
import sys
import threading
import traceback
from collections.abc import Callable
from types import FrameType
from typing import NoReturn, Protocol

from oslo_log import log

from podium.conf import CONF

LOG = log.getLogger(__name__)

#: Exit status of a process that had to abandon running work.
EXIT_FORCED = 1
#: Seconds a stop may take beyond ``graceful_shutdown_timeout`` (releasing
#: locks, unregistering) before the watchdog ends the process.
EXIT_MARGIN = 5.0
#: Seconds the threads left after a stop get to end on their own.
_SETTLE = 2.0


class Stoppable(Protocol):
    def stop(self, graceful: bool = True) -> None: ...

    def reload(self) -> None: ...


def _in_thread(name: str, func: Callable[[], None]) -> None:
    # A daemon: a stop stuck behind a stuck worker must not hold the
    # process up at exit, the watchdog ends it anyway.
    threading.Thread(target=func, name=name, daemon=True).start()


def still_running() -> list[str]:
    """Each live non-daemon thread but the caller's, with where it is."""
    frames = sys._current_frames()
    current = threading.current_thread()
    running = []
    for thread in threading.enumerate():
        if (thread.daemon or thread is current
                or thread is threading.main_thread()):
            continue
        frame = frames.get(thread.ident or -1)
        where = ''
        if frame is not None:
            last = traceback.extract_stack(frame, limit=1)[-1]
            where = (f' in {last.name} '
                     f'({os.path.basename(last.filename)}:{last.lineno})')
        running.append(f'{thread.name}{where}')
    return sorted(running)


def force_exit(reason: str) -> NoReturn:
    """Log ``reason`` and what still runs, then end the process now."""
    running = still_running()
    LOG.error('%s; exiting with status %d; still running: %s', reason,
              EXIT_FORCED, '; '.join(running) or 'nothing')
    logging.shutdown()
    os._exit(EXIT_FORCED)


def arm_exit_watchdog(seconds: float | None = None) -> threading.Timer:
    """End the process if it is still alive ``seconds`` from now
    (default: ``graceful_shutdown_timeout`` + :data:`EXIT_MARGIN`)."""
    if seconds is None:
        seconds = CONF.conductor.graceful_shutdown_timeout + EXIT_MARGIN
    timer = threading.Timer(seconds, force_exit, args=(
        f'Shutdown did not finish within {seconds:g}s',))
    timer.daemon = True
    timer.name = 'podium-exit-watchdog'
    timer.start()
    return timer


def exit_if_stuck(settle: float = _SETTLE) -> None:
    """After a stop: end the process now if work threads are still alive.

    Threads that were merely finishing get ``settle`` seconds. Returns
    when none is left, so that the caller exits normally.
    """
    deadline = threading.Event()
    timer = threading.Timer(settle, deadline.set)
    timer.daemon = True
    timer.start()
    try:
        for thread in threading.enumerate():
            if (thread.daemon or thread is threading.current_thread()
                    or thread is threading.main_thread()):
                continue
            while thread.is_alive() and not deadline.is_set():
                thread.join(0.05)
    finally:
        timer.cancel()
    if still_running():
        force_exit('Work was still running after the graceful shutdown '
                   'timeout')


def install_signal_handlers(service: Stoppable,
                            on_stop: Callable[[], None] | None = None
                            ) -> Callable[[], None]:
    """Route SIGTERM/SIGINT to a graceful stop and SIGHUP to a reload.

    Must be called from the main thread. The first stop signal arms
    :func:`arm_exit_watchdog`; a second one exits at once. Returns
    ``begin_stop``, for a caller that learns of the stop another way
    (uvicorn handles the first signal while it serves): it arms the
    watchdog, and from then on a stop signal exits at once.
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

    def begin_stop() -> None:
        if not stopping.is_set():
            stopping.set()
            arm_exit_watchdog()

    def on_stop_signal(signum: int, _frame: FrameType | None) -> None:
        if stopping.is_set():
            force_exit(f'{signal.Signals(signum).name} while stopping')
        begin_stop()
        _in_thread('podium-stop', stop)

    def on_reload_signal(signum: int, _frame: FrameType | None) -> None:
        _in_thread('podium-reload', reload)

    signal.signal(signal.SIGTERM, on_stop_signal)
    signal.signal(signal.SIGINT, on_stop_signal)
    signal.signal(signal.SIGHUP, on_reload_signal)
    return begin_stop
