"""Progress of a bulk run on stderr: a bar on a terminal, lines otherwise.

On a terminal one redrawn line is all an operator wants to watch while
a thousand nodes power on; in a log file or CI output a bar is noise, so
each host's events are written as ``host: message`` lines instead.
"""

import threading
import time
from typing import Protocol, TextIO


class Reporter(Protocol):
    """What the bulk runner tells about a run in progress."""

    def start(self, total: int) -> None: ...

    def note(self, host: str, message: str) -> None: ...

    def finished(self, host: str, ok: bool, message: str,
                 duration: float) -> None: ...

    def close(self) -> None: ...


class LineReporter:
    """Host-prefixed log lines: ``node-7: reached power on in 2.1s``."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self._lock = threading.Lock()

    def start(self, total: int) -> None:
        pass

    def note(self, host: str, message: str) -> None:
        self._write(f'{host}: {message}')

    def finished(self, host: str, ok: bool, message: str,
                 duration: float) -> None:
        status = '' if ok else 'FAILED: '
        self._write(f'{host}: {status}{message or "done"} in '
                    f'{duration:.1f}s')

    def close(self) -> None:
        pass

    def _write(self, line: str) -> None:
        with self._lock:
            self._stream.write(line + '\n')
            self._stream.flush()


class BarReporter:
    """One redrawn line: ``power on [#####.....] 5/10 ok 4 failed 1``."""

    WIDTH = 30
    #: Redraw at most this often; a terminal cannot show more anyway.
    INTERVAL = 0.1

    def __init__(self, stream: TextIO, label: str) -> None:
        self._stream = stream
        self._label = label
        self._lock = threading.Lock()
        self._total = 0
        self._ok = 0
        self._failed = 0
        self._started = time.monotonic()
        self._drawn_at = 0.0

    def start(self, total: int) -> None:
        self._total = total
        self._started = time.monotonic()
        self._draw(force=True)

    def note(self, host: str, message: str) -> None:
        pass

    def finished(self, host: str, ok: bool, message: str,
                 duration: float) -> None:
        with self._lock:
            if ok:
                self._ok += 1
            else:
                self._failed += 1
        self._draw(force=self._ok + self._failed == self._total)

    def close(self) -> None:
        self._draw(force=True)
        self._stream.write('\n')
        self._stream.flush()

    def _draw(self, force: bool = False) -> None:
        with self._lock:
            now = time.monotonic()
            if not force and now - self._drawn_at < self.INTERVAL:
                return
            self._drawn_at = now
            done = self._ok + self._failed
            filled = (self.WIDTH * done // self._total
                      if self._total else self.WIDTH)
            bar = '#' * filled + '.' * (self.WIDTH - filled)
            self._stream.write(
                f'\r{self._label} [{bar}] {done}/{self._total}  '
                f'ok {self._ok}  failed {self._failed}  '
                f'{now - self._started:.1f}s')
            self._stream.flush()


def make_reporter(stream: TextIO, label: str) -> Reporter:
    """A bar when ``stream`` is a terminal, log lines otherwise."""
    isatty = getattr(stream, 'isatty', None)
    if isatty is not None and isatty():
        return BarReporter(stream, label)
    return LineReporter(stream)
