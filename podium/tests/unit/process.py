"""Run Podium code in a child Python process, as an operator would.

Start-up failures end the process with ``sys.exit``; only a real
process shows what the operator sees (stderr and exit status) and
proves no traceback escapes.
"""

import os
import subprocess
import sys

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
