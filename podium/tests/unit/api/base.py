"""Test base for the API: the app with an in-process conductor.

Every test gets a fresh SQLite database, a conductor service started
with ``rpc_transport = local`` on fake-hardware, and a TestClient.
"""

import json
import time
import warnings
from typing import Any

with warnings.catch_warnings():
    # Starlette asks for its own httpx fork; the TestClient works the
    # same on httpx, and the warning, printed by every test worker, is
    # noise that hides real failures.
    warnings.filterwarnings('ignore', message='.*httpx.*deprecated')
    from starlette.testclient import TestClient

from podium.api import app as api_app
from podium.conductor import service as conductor_service
from podium.tests import base

BASE = 'http://testserver'


class APITestCase(base.DbTestCase):
    """Drives the API through a TestClient against a local conductor."""

    def setUp(self) -> None:
        super().setUp()
        self.use_fake_drivers(rpc_transport='local')
        self.config(sync_power_state_interval=0, group='conductor')
        self.conductor = conductor_service.ConductorService()
        self.conductor.start()
        self.addCleanup(self.conductor.wait, 10)
        self.addCleanup(self.conductor.stop)
        self.client = self.make_client()

    #: The microversion every request sends; None sends no header (the
    #: minimum version).
    api_version: str | None = 'latest'

    def make_client(self) -> TestClient:
        headers = ({'X-OpenStack-Ironic-API-Version': self.api_version}
                   if self.api_version is not None else None)
        client = TestClient(api_app.create_app(), base_url=BASE,
                            raise_server_exceptions=False, headers=headers)
        self.addCleanup(client.close)
        return client

    def create_node(self, **values: Any) -> dict[str, Any]:
        body = {'driver': 'fake-hardware', **values}
        response = self.client.post('/v1/nodes', json=body)
        self.assertEqual(201, response.status_code, response.text)
        return response.json()

    def node(self, name: str = 'n1') -> dict[str, Any]:
        return dict(self.client.get(f'/v1/nodes/{name}').json())

    def provision(self, target: str, node: str = 'n1',
                  **body: Any) -> Any:
        """Ask for provision ``target`` (with ``body``) on ``node``."""
        return self.client.put(f'/v1/nodes/{node}/states/provision',
                               json={'target': target, **body})

    def settle(self, state: str, node: str = 'n1') -> dict[str, Any]:
        """Wait for ``node`` to reach provision state ``state`` and for
        the worker to let its lock go; the node then."""
        self.wait_for(f'/v1/nodes/{node}', 'provision_state', state)
        return self.wait_for(f'/v1/nodes/{node}', 'reservation', None)

    def move(self, target: str, expected: str, node: str = 'n1',
             **body: Any) -> dict[str, Any]:
        """:meth:`provision`, accepted, then :meth:`settle` in
        ``expected``."""
        response = self.provision(target, node, **body)
        self.assertEqual(202, response.status_code, response.text)
        return self.settle(expected, node)

    def assertError(self, response: Any, status: int,
                    *fragments: str) -> str:
        """Check Ironic's error body; returns the faultstring."""
        self.assertEqual(status, response.status_code, response.text)
        self.assertIn('application/json', response.headers['content-type'])
        body = response.json()
        self.assertEqual(['error_message'], list(body))
        self.assertIsInstance(body['error_message'], str)
        fault = json.loads(body['error_message'])
        self.assertEqual({'faultcode', 'faultstring', 'debuginfo'},
                         set(fault))
        self.assertEqual('Client' if status < 500 else 'Server',
                         fault['faultcode'])
        for fragment in fragments:
            self.assertIn(fragment, fault['faultstring'])
        return str(fault['faultstring'])

    def wait_for(self, path: str, key: str, expected: Any,
                 timeout: float = 10.0) -> dict[str, Any]:
        """Poll ``path`` until ``key`` equals ``expected``."""
        deadline = time.monotonic() + timeout
        while True:
            body = self.client.get(path).json()
            if body.get(key) == expected:
                return body
            if time.monotonic() > deadline:
                self.fail(f'{path}: {key} is {body.get(key)!r}, expected '
                          f'{expected!r}')
            time.sleep(0.02)
