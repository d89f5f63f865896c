"""Move log I/O off worker threads.

Worker threads that log a line should not wait on a slow disk, a full
pipe or a syslog socket. After oslo.log has configured the handlers,
:func:`install` replaces them on the root logger with one
``QueueHandler``; a single ``QueueListener`` thread feeds the original
handlers. The queue is bounded: when it is full the record is dropped
and counted rather than blocking the worker that logs, and as soon as
the queue has room again (or at the latest when logging stops) a
warning says how many records were lost, so a gap in the log never
goes unexplained. The listener is
flushed at interpreter exit, so the last lines of a process that ends
with ``sys.exit`` still reach the log.
"""

import atexit
import logging
import logging.handlers
import queue
import threading
from typing import Any

_QUEUE_SIZE = 100_000

_listener: logging.handlers.QueueListener | None = None
_lock = threading.Lock()
_atexit_registered = False


class _DroppingQueueHandler(logging.handlers.QueueHandler):
    """Enqueues without blocking; counts what a full queue drops and
    says so in the log."""

    #: Records dropped by every handler of this process, ever.
    dropped = 0

    def __init__(self, log_queue: 'queue.Queue[logging.LogRecord]') -> None:
        super().__init__(log_queue)
        self._log_queue = log_queue
        self._drop_lock = threading.Lock()
        self._unreported = 0

    def enqueue(self, record: logging.LogRecord) -> None:
        if self._unreported:
            self.report_drops()
        try:
            self.queue.put_nowait(record)
        except queue.Full:
            with self._drop_lock:
                type(self).dropped += 1
                self._unreported += 1

    def report_drops(self, wait: float = 0.0) -> None:
        """Queue one warning counting the records dropped since the last
        one; waits up to ``wait`` seconds for room."""
        with self._drop_lock:
            count = self._unreported
            if not count:
                return
            warning = logging.LogRecord(
                __name__, logging.WARNING, __file__, 0,
                f'{count} log record(s) were dropped: the log queue was '
                f'full because the log destination is slower than the '
                f'service logs', None, None)
            try:
                self._log_queue.put(warning, block=wait > 0,
                               timeout=wait if wait > 0 else None)
            except queue.Full:
                return
            self._unreported -= count

    def prepare(self, record: logging.LogRecord) -> Any:
        # Format the message in the calling thread: its arguments may
        # change after the call (node objects are reused).
        record.msg = record.getMessage()
        record.args = None
        if record.exc_info:
            formatter = self.formatter or logging.Formatter()
            record.exc_text = formatter.formatException(record.exc_info)
            record.exc_info = None
        return record


class _Listener(logging.handlers.QueueListener):
    """Stops after the records already queued, even from a full queue."""

    def enqueue_sentinel(self) -> None:
        # The stock listener puts its stop marker without waiting, which
        # raises queue.Full when a burst filled the queue at shutdown.
        self.queue.put(self._sentinel)  # type: ignore[attr-defined]


def install() -> None:
    """Route the root logger's handlers through one listener thread."""
    global _listener, _atexit_registered
    with _lock:
        if _listener is not None:
            return
        if not _atexit_registered:
            # The listener thread is a daemon: without this, records still
            # queued when the process exits would be lost.
            atexit.register(uninstall)
            _atexit_registered = True
        root = logging.getLogger()
        handlers = list(root.handlers)
        if not handlers:
            return
        log_queue: queue.Queue[logging.LogRecord] = queue.Queue(_QUEUE_SIZE)
        for handler in handlers:
            root.removeHandler(handler)
        root.addHandler(_DroppingQueueHandler(log_queue))
        _listener = _Listener(
            log_queue, *handlers, respect_handler_level=True)
        _listener.start()


def uninstall() -> None:
    """Flush the queue and restore the original handlers."""
    global _listener
    with _lock:
        if _listener is None:
            return
        root = logging.getLogger()
        for handler in root.handlers:
            if isinstance(handler, _DroppingQueueHandler):
                handler.report_drops(wait=5.0)
        _listener.stop()
        for handler in list(root.handlers):
            if isinstance(handler, _DroppingQueueHandler):
                root.removeHandler(handler)
        for handler in _listener.handlers:
            root.addHandler(handler)
        _listener = None
