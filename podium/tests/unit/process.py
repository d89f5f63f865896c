"""Run Podium code in a child Python process, as an operator would.

Start-up failures end the process with ``sys.exit``; only a real
process shows what the operator sees (stderr and exit status) and
proves no traceback escapes.
"""

import os
import subprocess
import sys

import fixtures

#: Generous: a cold interpreter importing oslo.* takes about a second,
#: more on a loaded two-core machine.
TIMEOUT = 60


def write_config(directory: str, text: str,
                 name: str = 'podium.conf') -> str:
    """Write ``text`` to ``directory/name`` and return the path."""
    path = os.path.join(directory, name)
    with open(path, 'w', encoding='utf-8') as handle:
        handle.write(text)
    return path


def run_python(*args: str) -> subprocess.CompletedProcess[str]:
    """``python args...`` in a child process, output captured as text."""
    return subprocess.run([sys.executable, *args], capture_output=True,
                          text=True, timeout=TIMEOUT, check=False)


def prepare_service_code(check_database: bool = False) -> str:
    """Code for ``python -c`` that prepares the service from argv."""
    return ('import sys\n'
            'from podium.common import service\n'
            'service.prepare_service(sys.argv[1:], '
            f'check_database={check_database!r})\n'
            'print("prepared")\n')


class ConductorProcess(fixtures.Fixture):
    """``podium-conductor`` running ``config`` (the text of its config
    file, written to ``directory``) in the background, its output in
    ``directory/conductor.log``; killed at clean-up if still running.
    """

    def __init__(self, directory: str, config: str) -> None:
        super().__init__()
        self.directory = directory
        self.config = config

    def _setUp(self) -> None:
        path = write_config(self.directory, self.config)
        self.log_path = os.path.join(self.directory, 'conductor.log')
        log_file = open(self.log_path, 'w+', encoding='utf-8')
        self.addCleanup(log_file.close)
        self.child = subprocess.Popen(
            [sys.executable, '-m', 'podium.cmd.conductor',
             '--config-file', path],
            stdout=log_file, stderr=subprocess.STDOUT, text=True)
        self.addCleanup(self._reap)

    def _reap(self) -> None:
        if self.child.poll() is None:
            self.child.kill()
            self.child.wait(10)

    def output(self) -> str:
        """What the conductor logged so far."""
        with open(self.log_path, encoding='utf-8') as handle:
            return handle.read()
