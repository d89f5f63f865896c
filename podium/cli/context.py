"""What a command handler gets: parsed arguments, streams, a lazy client.

The API client (and with it ``requests``) is built on first use, so
commands that never talk to the API (``--help``, ``serve``, ``demo``)
do not pay for it.
"""

import argparse
import os
import sys
from collections.abc import Mapping
from typing import TYPE_CHECKING, TextIO

from podium.cli import settings
from podium.cli.output import Printer

if TYPE_CHECKING:
    from podium.cli.client import ApiClient


class Context:
    """Per-invocation state shared by every command handler."""

    def __init__(self, args: argparse.Namespace,
                 environ: Mapping[str, str] | None = None,
                 stdout: TextIO | None = None,
                 stderr: TextIO | None = None) -> None:
        self.args = args
        self.environ = os.environ if environ is None else environ
        self.stdout = stdout or sys.stdout
        self.stderr = stderr or sys.stderr
        self._client: ApiClient | None = None

    @property
    def settings(self) -> settings.Settings:
        flags = {key: getattr(self.args, key, None)
                 for key in ('url', 'user', 'password', 'cacert',
                             'insecure')}
        return settings.resolve(flags, self.environ)

    @property
    def client(self) -> 'ApiClient':
        if self._client is None:
            from podium.cli.client import ApiClient

            pool = getattr(self.args, 'concurrency', None) or 10
            self._client = ApiClient(self.settings, pool_size=pool)
        return self._client

    @property
    def printer(self) -> Printer:
        return Printer(getattr(self.args, 'format', 'table'),
                       getattr(self.args, 'columns', None) or (),
                       self.stdout)

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
