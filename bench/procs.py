"""Child processes of a benchmark, and what they cost.

Benchmarks run the system under test (a conductor, ``podium serve``) and
the BMC simulator as separate processes so the CPU, memory and threads of
each are measured on its own, from ``/proc``, without instrumenting it.
Every child is started in a context manager that always stops it (SIGTERM,
then SIGKILL after a grace period), so a crashed benchmark leaves nothing
running.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from typing import Any

_TICKS = os.sysconf('SC_CLK_TCK')
#: The interpreter benchmarks use for their children (the same venv).
PYTHON = sys.executable
#: The ``podium`` command installed with that interpreter.
PODIUM = os.path.join(os.path.dirname(sys.executable), 'podium')
#: The repository root, so ``-m bench.x`` works from any working dir.
REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class BenchError(RuntimeError):
    """A benchmark could not set up or run what it measures."""


def cpu_seconds(pid: int) -> float:
    """User plus system CPU seconds of process ``pid`` (all threads)."""
    with open(f'/proc/{pid}/stat', encoding='ascii') as handle:
        # The command name may hold spaces; fields start after its ')'.
        fields = handle.read().rsplit(')', 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _TICKS


def family(pid: int) -> list[int]:
    """``pid`` and every live descendant of it.

    Services that fork workers (Ironic's all-in-one process serves its
    API from a forked child) must be measured as the whole family.
    """
    children: dict[int, list[int]] = {}
    for entry in os.listdir('/proc'):
        if not entry.isdigit():
            continue
        try:
            with open(f'/proc/{entry}/stat', encoding='ascii') as handle:
                ppid = int(handle.read().rsplit(')', 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        children.setdefault(ppid, []).append(int(entry))
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo.extend(children.get(current, []))
    return found


def family_cpu_seconds(pid: int) -> float:
    """CPU seconds of ``pid`` and its live descendants."""
    total = 0.0
    for member in family(pid):
        with contextlib.suppress(OSError):
            total += cpu_seconds(member)
    return total


def family_pss_kb(pid: int) -> int:
    """Proportional set size (KiB) of ``pid`` and its descendants: pages
    shared between forked processes are counted once in all."""
    total = 0
    for member in family(pid):
        with contextlib.suppress(OSError), open(
                f'/proc/{member}/smaps_rollup', encoding='ascii') as handle:
            for line in handle:
                if line.startswith('Pss:'):
                    total += int(line.split()[1])
    return total


def status(pid: int) -> dict[str, int]:
    """Current and peak RSS (KiB) and thread count of ``pid``."""
    wanted = {'VmRSS': 'rss_kb', 'VmHWM': 'peak_rss_kb',
              'Threads': 'threads'}
    result = {}
    with open(f'/proc/{pid}/status', encoding='ascii') as handle:
        for line in handle:
            key, _, value = line.partition(':')
            if key in wanted:
                result[wanted[key]] = int(value.split()[0])
    return result


class Sampler:
    """Tracks the peak thread count of a process in the background.

    Peak RSS comes for free from ``VmHWM``; the thread count has no
    high-water mark in ``/proc``, so it is sampled.
    """

    def __init__(self, pid: int, interval: float = 0.2) -> None:
        self.pid = pid
        self.interval = interval
        self.peak_threads = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True,
                                        name=f'sampler-{pid}')

    def _run(self) -> None:
        while not self._stop.is_set():
            with contextlib.suppress(OSError):
                self.peak_threads = max(self.peak_threads,
                                        status(self.pid)['threads'])
            self._stop.wait(self.interval)

    def __enter__(self) -> Sampler:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._thread.join()


def free_port(host: str = '127.0.0.1') -> int:
    """A TCP port nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def wait_until(predicate: Callable[[], Any], timeout: float,
               what: str, interval: float = 0.05,
               proc: subprocess.Popen[bytes] | None = None) -> Any:
    """Poll ``predicate`` until it returns something truthy.

    :raises BenchError: after ``timeout`` seconds, or as soon as ``proc``
        (the process expected to make it true) has exited.
    """
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if result:
            return result
        if proc is not None and proc.poll() is not None:
            raise BenchError(f'{what}: the process exited with '
                             f'{proc.returncode}')
        if time.monotonic() > deadline:
            raise BenchError(f'{what}: not done after {timeout:.0f} s')
        time.sleep(interval)


def http_ok(url: str) -> bool:
    """Whether ``url`` answers with a 2xx right now."""
    try:
        with urllib.request.urlopen(url, timeout=2) as resp:  # noqa: S310
            return 200 <= resp.status < 300
    except (OSError, urllib.error.URLError):
        return False


@contextlib.contextmanager
def child(argv: Sequence[str], log_path: str,
          env: dict[str, str] | None = None,
          stop_timeout: float = 15.0) -> Iterator[subprocess.Popen[bytes]]:
    """Run ``argv`` for the duration of the block, output to ``log_path``.

    The child is stopped with SIGTERM at the end (SIGKILL if it does not
    exit within ``stop_timeout``), whether the block succeeded or not.
    """
    child_env = dict(os.environ, **(env or {}))
    child_env['PYTHONPATH'] = os.pathsep.join(
        p for p in (REPO_ROOT, child_env.get('PYTHONPATH', '')) if p)
    with open(log_path, 'ab') as log:
        proc = subprocess.Popen(list(argv), stdout=log,
                                stderr=subprocess.STDOUT, env=child_env,
                                cwd=REPO_ROOT)
    try:
        yield proc
    finally:
        stop(proc, stop_timeout)


def stop(proc: subprocess.Popen[bytes], timeout: float = 15.0) -> None:
    """SIGTERM ``proc`` and wait; SIGKILL it if it lingers."""
    if proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(10)


def tail(path: str, lines: int = 30) -> str:
    """The last ``lines`` lines of a log, to explain a failure."""
    try:
        with open(path, encoding='utf-8', errors='replace') as handle:
            return ''.join(handle.readlines()[-lines:])
    except OSError:
        return ''
