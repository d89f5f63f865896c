"""Node show on the event loop thread: when it is, and that it shows the
same document as a worker thread does."""

import asyncio
from typing import Any
from unittest import mock

import fixtures

from podium.api.routes import bmcs
from podium.common import hash_ring
from podium.db import node_reads
from podium.tests.unit.api import base


def _on_event_loop() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


class TestNodeShowOnTheLoop(base.APITestCase):

    def setUp(self) -> None:
        super().setUp()
        bmcs.reset_cache()
        self.addCleanup(bmcs.reset_cache)
        self.create_node(name='n1', driver_info={'fake_bmc': 'bmc-1:623'},
                         extra={'rack': 'r1'})
        self.reads: list[bool] = []
        read = node_reads._read

        def recording_read(*args: Any) -> Any:
            self.reads.append(_on_event_loop())
            return read(*args)

        self.useFixture(fixtures.MockPatchObject(node_reads, '_read',
                                                 recording_read))

    def show(self, path: str = '/v1/nodes/n1') -> Any:
        response = self.client.get(path)
        self.assertEqual(200, response.status_code, response.text)
        return response.json()

    def test_a_worker_first_then_the_loop_same_document(self) -> None:
        on_worker = self.show()
        on_loop = self.show()
        self.assertEqual([False, True], self.reads)
        self.assertEqual(on_worker, on_loop)
        self.assertEqual({'rack': 'r1'}, on_loop['extra'])
        self.assertEqual('test-conductor', on_loop['conductor'])
        self.assertIn('intended_settings', on_loop)
        self.assertNotIn('id', on_loop)

    def test_fields_and_unknown_nodes_on_the_loop(self) -> None:
        self.show()
        shown = self.show('/v1/nodes/n1?fields=name,conductor')
        self.assertEqual({'name', 'conductor', 'links'}, set(shown))
        self.assertEqual('test-conductor', shown['conductor'])
        self.assertError(self.client.get('/v1/nodes/nope'), 404)
        self.assertEqual([False, True, True], self.reads)

    def test_stale_bmc_health_is_fetched_on_a_worker(self) -> None:
        self.show()
        rpcapi = self.client.app.state.rpcapi  # type: ignore[attr-defined]
        with mock.patch.object(rpcapi, 'get_bmc_health',
                               wraps=rpcapi.get_bmc_health) as asked:
            self.show()
            self.assertEqual(0, asked.call_count)
            with mock.patch.object(bmcs, 'CACHE_SECONDS', 0.0):
                self.show()
            self.assertEqual(1, asked.call_count)
        # The third show read the row on the loop, found the records
        # stale and went to a worker, which read it again and fetched.
        self.assertEqual([False, True, True, False], self.reads)

    def test_a_stale_hash_ring_is_rebuilt_on_a_worker(self) -> None:
        self.show()
        self.show()
        hash_ring.HashRingManager.reset()
        self.show()
        self.show()
        self.assertEqual([False, True, False, True], self.reads)

