"""A loopback TCP proxy that injects the faults real BMCs show.

Emulators answer promptly or not at all; a real BMC also accepts a
connection and then never answers, answers late, or resets the
connection. :class:`FaultProxy` sits between a client and a server on
127.0.0.1 and does one of these, switchable at any time:

``pass``   forward both ways (after ``delay`` seconds per connection);
``hang``   accept the connection, read the request, never answer;
``reset``  accept the connection and reset it (RST) at once.

Each accepted connection runs in its own daemon thread; :meth:`cut`
drops the connections made so far (a server going away) and
:meth:`stop` closes every socket, which also releases the hung ones.
"""

import socket
import struct
import threading
import time

import fixtures

MODES = ('pass', 'hang', 'reset')
_CHUNK = 65536


class FaultProxy(fixtures.Fixture):
    """Proxy 127.0.0.1:<port> to ``target`` with injectable faults."""

    def __init__(self, target: tuple[str, int], mode: str = 'pass',
                 delay: float = 0.0) -> None:
        super().__init__()
        self.target = target
        self.set_mode(mode, delay)
        self.connections = 0
        self._sockets: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._stopped = threading.Event()

    def set_mode(self, mode: str, delay: float = 0.0) -> None:
        if mode not in MODES:
            raise ValueError(f'mode must be one of {MODES}')
        self.mode = mode
        self.delay = delay

    @property
    def address(self) -> str:
        return f'http://127.0.0.1:{self.port}'

    def _setUp(self) -> None:
        self._listener = socket.create_server(('127.0.0.1', 0))
        self.port = self._listener.getsockname()[1]
        self._track(self._listener)
        threading.Thread(target=self._accept, daemon=True).start()
        self.addCleanup(self.stop)

    def stop(self) -> None:
        self._stopped.set()
        with self._lock:
            sockets, self._sockets = list(self._sockets), set()
        for sock in sockets:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            sock.close()

    def cut(self) -> None:
        """Close every connection made so far (both ends), as a broker
        or database that goes away does; the proxy keeps listening, and
        what new connections meet is up to the mode."""
        with self._lock:
            sockets = [sock for sock in self._sockets
                       if sock is not self._listener]
            self._sockets -= set(sockets)
        for sock in sockets:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            sock.close()

    def _track(self, sock: socket.socket) -> None:
        with self._lock:
            self._sockets.add(sock)

    def _accept(self) -> None:
        while not self._stopped.is_set():
            try:
                client, _addr = self._listener.accept()
            except OSError:
                return
            self.connections += 1
            self._track(client)
            threading.Thread(target=self._handle, args=(client,),
                             daemon=True).start()

    def _handle(self, client: socket.socket) -> None:
        mode, delay = self.mode, self.delay
        if mode == 'reset':
            # SO_LINGER with a zero timeout makes close() send a RST.
            client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                              struct.pack('ii', 1, 0))
            client.close()
            return
        if mode == 'hang':
            while not self._stopped.is_set():
                try:
                    if not client.recv(_CHUNK):
                        return
                except OSError:
                    return
            return
        if delay:
            time.sleep(delay)
        try:
            upstream = socket.create_connection(self.target, timeout=5)
        except OSError:
            client.close()
            return
        upstream.settimeout(None)
        self._track(upstream)
        threading.Thread(target=self._pipe, args=(upstream, client),
                         daemon=True).start()
        self._pipe(client, upstream)

    @staticmethod
    def _pipe(source: socket.socket, sink: socket.socket) -> None:
        try:
            while True:
                data = source.recv(_CHUNK)
                if not data:
                    break
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (source, sink):
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
