"""A tiny in-test HTTP server that answers like Podium's API.

Routes map ``(method, path)`` to a function of the request returning
``(status, headers, body)``; every request is recorded, so a test can
check what the client sent (headers, query, body).
"""

import http.server
import json
import threading
import urllib.parse
from collections.abc import Callable
from typing import Any

import fixtures

Reply = tuple[int, dict[str, str], Any]
Route = Callable[['Request'], Reply]

VERSION_HEADERS = {'X-OpenStack-Ironic-API-Minimum-Version': '1.1',
                   'X-OpenStack-Ironic-API-Maximum-Version': '1.99'}


class Request:
    def __init__(self, method: str, target: str, headers: Any,
                 body: bytes) -> None:
        parts = urllib.parse.urlsplit(target)
        self.method = method
        self.path = parts.path
        self.query = dict(urllib.parse.parse_qsl(parts.query))
        self.headers = headers
        self.body = json.loads(body) if body else None


def json_reply(status: int, doc: Any) -> Reply:
    return status, {'Content-Type': 'application/json'}, doc


def ironic_error(status: int, message: str) -> Reply:
    inner = json.dumps({'faultcode': 'Client', 'faultstring': message,
                        'debuginfo': None})
    return json_reply(status, {'error_message': inner})


class FakeApi(fixtures.Fixture):
    """The server; ``routes`` may be changed while it runs."""

    def __init__(self) -> None:
        super().__init__()
        self.routes: dict[tuple[str, str], Route] = {
            ('GET', '/v1'): lambda req: json_reply(200, {'id': 'v1'})}
        self.requests: list[Request] = []

    def _setUp(self) -> None:
        fake = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def _handle(self) -> None:
                length = int(self.headers.get('Content-Length') or 0)
                req = Request(self.command, self.path, self.headers,
                              self.rfile.read(length))
                fake.requests.append(req)
                route = fake.routes.get((req.method, req.path))
                status, headers, body = route(req) if route else \
                    ironic_error(404, f'No route {req.path}')
                data = b'' if body is None else json.dumps(body).encode()
                self.send_response(status)
                for key, value in {**VERSION_HEADERS, **headers}.items():
                    self.send_header(key, value)
                self.send_header('Content-Length', str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_PUT = do_POST = do_DELETE = do_PATCH = _handle

            def log_message(self, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(('127.0.0.1', 0),
                                                      Handler)
        self.server.daemon_threads = True
        thread = threading.Thread(target=self.server.serve_forever,
                                  args=(0.05,), daemon=True)
        thread.start()
        self.addCleanup(thread.join, 5)
        self.addCleanup(self.server.server_close)
        self.addCleanup(self.server.shutdown)
        self.url = f'http://127.0.0.1:{self.server.server_address[1]}'

    def list_nodes(self, *names: str) -> None:
        """Serve ``GET /v1/nodes`` (what bulk commands match their nodes
        against) listing the nodes ``names``, of UUID ``u-<name>``."""
        nodes = [{'uuid': f'u-{name}', 'name': name, 'driver_info': {}}
                 for name in names]
        self.routes[('GET', '/v1/nodes')] = \
            lambda req: json_reply(200, {'nodes': nodes})

    def api_requests(self) -> list[Request]:
        """Requests other than the version probe."""
        return [r for r in self.requests if r.path != '/v1']
