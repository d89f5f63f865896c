"""Files only the service's user may read: state directory, database,
logs, generated configuration.

The SQLite database holds every BMC credential and the logs name every
BMC; neither is anybody else's business on a shared host. The state
directory is made 0700 and those files 0600 whether Podium creates them
or finds them too open (then it says so once in the log). SQLite gives
its ``-wal`` and ``-shm`` files the database file's mode, so they follow.
"""

import logging
import os
import stat
from typing import IO

LOG = logging.getLogger(__name__)

DIR_MODE = 0o700
FILE_MODE = 0o600
#: The process umask of the services: what they create is private too.
SERVICE_UMASK = 0o077


def _tighten(path: str, mode: int, what: str) -> None:
    current = stat.S_IMODE(os.stat(path).st_mode)
    if current & ~mode:
        os.chmod(path, mode)
        LOG.warning('%s %s was accessible to other users (mode %o); '
                    'changed to %o.', what, path, current, mode)


def private_dir(path: str) -> str:
    """Create ``path`` (and parents) as 0700, or make it 0700."""
    os.makedirs(path, mode=DIR_MODE, exist_ok=True)
    _tighten(path, DIR_MODE, 'Directory')
    return path


def private_file(path: str) -> str:
    """Create an empty ``path`` as 0600 if missing, else make it 0600."""
    try:
        os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY,
                         FILE_MODE))
    except FileExistsError:
        _tighten(path, FILE_MODE, 'File')
    return path


def open_private(path: str, mode: str = 'w') -> IO[str]:
    """``open(path, mode)`` for text, the file created or made 0600 first
    so that no other user can open it in between."""
    private_file(path)
    return open(path, mode, encoding='utf-8')  # noqa: SIM115


def restrict_log_files(logger: logging.Logger | None = None) -> None:
    """Make the files the handlers of ``logger`` (root by default) write
    0600; a log names every BMC and every failure."""
    logger = logger or logging.getLogger()
    for handler in logger.handlers:
        filename = getattr(handler, 'baseFilename', None)
        if filename and os.path.exists(filename):
            _tighten(filename, FILE_MODE, 'Log file')


def restrict_umask() -> None:
    """Files and directories the process creates from now on are the
    user's alone (rotated logs, a new SQLite journal)."""
    os.umask(SERVICE_UMASK)
