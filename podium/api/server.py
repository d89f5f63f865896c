"""Serving the API application with uvicorn (httptools, one process).

:class:`Server` prints one line on stdout once it listens, with the
address actually bound (port 0 picks a free port), so that tests and
scripts wait for that line instead of polling:

    Podium API listening on http://127.0.0.1:6385
"""

import gc
import socket
import sys
from typing import Any

import uvicorn

from podium.common import exceptions
from podium.conf import CONF

READY_PREFIX = 'Podium API listening on '


def _url(host: str, port: int) -> str:
    if ':' in host:
        host = f'[{host}]'
    scheme = 'https' if CONF.api.ssl_cert_file else 'http'
    return f'{scheme}://{host}:{port}'


def tls_options() -> dict[str, str]:
    """uvicorn's TLS options from ``[api]``; empty for plain HTTP.

    :raises ConfigInvalid: when only one of the two files is set or a
        file cannot be read.
    """
    cert, key = CONF.api.ssl_cert_file, CONF.api.ssl_key_file
    if not cert and not key:
        return {}
    if not (cert and key):
        raise exceptions.ConfigInvalid(
            reason='[api] ssl_cert_file and ssl_key_file must be set '
                   'together')
    for name, path in (('ssl_cert_file', cert), ('ssl_key_file', key)):
        try:
            with open(path, 'rb'):
                pass
        except OSError as exc:
            raise exceptions.ConfigInvalid(
                reason=f'[api] {name} {path}: {exc.strerror}') from None
    return {'ssl_certfile': cert, 'ssl_keyfile': key}


class Server(uvicorn.Server):
    """uvicorn's server, announcing readiness on stdout."""

    async def startup(self, sockets: list[socket.socket] | None = None
                      ) -> None:
        await super().startup(sockets)
        if not self.started:
            return
        bound = [sock.getsockname() for server in self.servers
                 for sock in server.sockets]
        host, port = bound[0][:2] if bound else (self.config.host,
                                                 self.config.port)
        # One write call: log lines go to the same stdout from another
        # thread, and print() would write the newline separately.
        sys.stdout.write(f'{READY_PREFIX}{_url(host, port)}\n')
        sys.stdout.flush()


def uvicorn_options() -> dict[str, Any]:
    """What both API commands pass to uvicorn, from ``[api]``."""
    return {
        'host': CONF.api.host_ip,
        'port': CONF.api.port,
        'http': 'httptools',
        'lifespan': 'off',
        # oslo.log owns logging; uvicorn must not reconfigure it.
        'log_config': None,
        'access_log': False,
        'server_header': False,
        'timeout_graceful_shutdown': CONF.conductor.graceful_shutdown_timeout,
        **tls_options(),
    }


def bind() -> socket.socket:
    """The API's socket, bound to ``[api] host_ip`` and ``port`` now.

    ``podium serve`` binds before its conductor registers, so a second
    instance pointed at a busy port stops before it touches the
    conductor registry (the live one's entry, or the hash ring).

    :raises ConfigInvalid: when the address cannot be bound.
    """
    host, port = CONF.api.host_ip, CONF.api.port
    family = socket.AF_INET6 if ':' in host else socket.AF_INET
    # IPPROTO_TCP spelled out: asyncio sets TCP_NODELAY only on sockets
    # whose proto says TCP, and accepted sockets inherit it. With proto 0
    # a keep-alive response written in two parts (headers, body) waited
    # for the client's delayed ACK: ~40 ms per request.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise exceptions.ConfigInvalid(
            reason=f'[api] cannot listen on {_url(host, port)}: '
                   f'{exc.strerror or exc}') from None
    return sock


def freeze_startup_objects() -> None:
    """Take what the process built to start (modules, configuration,
    the application, the conductor's tables) out of the garbage
    collector's sight, after collecting what of it is garbage.

    Those objects live as long as the process, yet every full collection
    walked all of them (some 160,000): a detailed list of 1,000 nodes
    allocates enough to set off collections that cost about half of its
    CPU. Objects created later are collected as before.
    """
    gc.collect()
    gc.freeze()


def serve(app: Any, sock: socket.socket | None = None) -> bool:
    """Serve ``app`` until SIGTERM/SIGINT, on ``sock`` if given (see
    :func:`bind`); False if it never listened."""
    server = Server(uvicorn.Config(app, **uvicorn_options()))
    freeze_startup_objects()
    try:
        server.run(sockets=None if sock is None else [sock])
    except SystemExit:
        # uvicorn exits when it cannot bind; the caller reports it.
        pass
    if not server.started:
        print(f'podium: cannot listen on '
              f'{_url(CONF.api.host_ip, CONF.api.port)}', file=sys.stderr)
    return server.started
