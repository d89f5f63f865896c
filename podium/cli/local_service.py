"""A throw-away all-in-one Podium in a child process, for the demo.

Writes a config file into a state directory, runs ``podium serve`` (as
``python -m podium.cmd.serve``) on a free loopback port and waits for
its ready line, which carries the address actually bound. The child's
logs go to ``podium.log`` in the state directory, where the demo tells
the user to look: the child logs there itself (``log_file``), and
whatever else it prints, on stdout before its logging is set up or on
stderr, is appended there too. A child process rather than threads in
this one: the service keeps its own configuration and signal handling,
and stopping it is a plain SIGTERM, as for any deployment.
"""

import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping
from typing import IO, Any

from podium.cli.errors import CliError
from podium.common import private_files

#: The line ``podium serve`` prints once it listens (the contract of
#: ``podium.api.server.READY_PREFIX``; importing that module would pull
#: the server stack and its warnings into the CLI process).
READY_PREFIX = 'Podium API listening on '


def render_config(options: Mapping[str, Mapping[str, Any]]) -> str:
    """An ini file from ``{group: {option: value}}``."""
    lines = []
    for group, values in options.items():
        lines.append(f'[{group}]')
        lines += [f'{key} = {_ini_value(value)}'
                  for key, value in values.items()]
        lines.append('')
    return '\n'.join(lines)


def _ini_value(value: Any) -> str:
    if isinstance(value, list | tuple):
        return ','.join(map(str, value))
    return str(value)


class LocalService:
    """``podium serve`` on ``127.0.0.1:<free port>`` with its own state."""

    def __init__(self, state_dir: str,
                 options: Mapping[str, Mapping[str, Any]]) -> None:
        self.state_dir = state_dir
        self.log_path = os.path.join(state_dir, 'podium.log')
        self.config_path = os.path.join(state_dir, 'podium.conf')
        merged: dict[str, dict[str, Any]] = {
            'DEFAULT': {'state_path': state_dir,
                        'log_file': self.log_path},
            'api': {'host_ip': '127.0.0.1', 'port': 0}}
        for group, values in options.items():
            merged.setdefault(group, {}).update(values)
        self._config = render_config(merged)
        self._process: subprocess.Popen[str] | None = None
        self._log: IO[str] | None = None
        self.url: str | None = None

    def start(self, timeout: float = 60.0) -> str:
        """Start the service; return its URL once it listens."""
        private_files.private_dir(self.state_dir)
        with private_files.open_private(self.config_path) as handle:
            handle.write(self._config)
        self._log = private_files.open_private(self.log_path, 'a')
        self._process = subprocess.Popen(  # noqa: S603
            [sys.executable, '-m', 'podium.cmd.serve',
             '--config-file', self.config_path],
            stdout=subprocess.PIPE, stderr=self._log, text=True,
            start_new_session=True)
        ready = threading.Event()
        url: list[str] = []

        process, log = self._process, self._log

        def read_stdout() -> None:
            assert process.stdout is not None
            for line in process.stdout:
                if line.startswith(READY_PREFIX) and not url:
                    url.append(line[len(READY_PREFIX):].strip())
                    ready.set()
                else:
                    # Not thrown away: the log is where the user looks.
                    try:
                        log.write(line)
                        log.flush()
                    except ValueError:
                        return  # stopped: the log is closed
            ready.set()

        threading.Thread(target=read_stdout, daemon=True,
                         name='podium-serve-stdout').start()
        if not ready.wait(timeout) or not url:
            self.stop()
            raise CliError(f'the Podium service did not start; see '
                           f'{self.log_path}:\n{self._log_tail()}')
        self.url = url[0]
        return self.url

    def stop(self, timeout: float = 30.0) -> None:
        """SIGTERM the service and wait (SIGKILL after ``timeout``)."""
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if self._log is not None:
            self._log.close()
            self._log = None

    def _log_tail(self, lines: int = 5) -> str:
        try:
            with open(self.log_path, encoding='utf-8') as handle:
                return ''.join(handle.readlines()[-lines:]).rstrip()
        except OSError:
            return ''

    def __enter__(self) -> 'LocalService':
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def wait_until(predicate: Callable[[], bool], timeout: float,
               interval: float = 0.25) -> bool:
    """Poll ``predicate()`` until it is true or ``timeout`` passed."""
    deadline = time.monotonic() + timeout
    while True:
        if predicate():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(interval)
