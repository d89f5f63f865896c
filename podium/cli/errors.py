"""Errors the CLI reports as one line on stderr, never as a traceback."""


class CliError(Exception):
    """A failure the user can act on; ``str()`` is the whole message."""


class ApiError(CliError):
    """The API answered with an error status.

    ``status`` lets callers tell a retryable 409/503 (node locked,
    conductor busy) from a permanent failure.
    """

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f'{message} (HTTP {status})')
        self.status = status
        self.message = message
