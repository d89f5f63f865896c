"""Concurrent PATCHes of one node: no update is lost."""

from typing import Any
from unittest import mock

from podium.api.routes import nodes as nodes_route
from podium.db import api as db_api
from podium.tests.unit.api import base


class TestConcurrentPatch(base.APITestCase):

    def setUp(self) -> None:
        super().setUp()
        self.node = self.create_node(name='n1', driver_info={'a': 1})
        self.real_get_node = db_api.get_node

    def add_key(self, key: str, value: Any) -> Any:
        return self.client.patch('/v1/nodes/n1', json=[
            {'op': 'add', 'path': f'/driver_info/{key}', 'value': value}])

    def test_patch_reapplied_over_a_concurrent_one(self) -> None:
        raced = []

        def get_then_race(ident: Any) -> Any:
            node = self.real_get_node(ident)
            if not raced:
                # Another PATCH stores its key after this one has read.
                raced.append(True)
                stored = self.real_get_node(ident)
                db_api.update_node(stored.id, {'driver_info': dict(
                    stored.driver_info, b=2)})
            return node

        with mock.patch.object(nodes_route.db_api, 'get_node',
                               get_then_race):
            response = self.add_key('c', 3)
        self.assertEqual(200, response.status_code, response.text)
        self.assertEqual({'a': 1, 'b': 2, 'c': 3},
                         self.real_get_node('n1').driver_info)

    def test_gives_up_with_409_when_always_raced(self) -> None:
        counter = iter(range(100))

        def get_then_race(ident: Any) -> Any:
            node = self.real_get_node(ident)
            stored = self.real_get_node(ident)
            db_api.update_node(stored.id, {'driver_info': dict(
                stored.driver_info, other=next(counter))})
            return node

        with mock.patch.object(nodes_route.db_api, 'get_node',
                               get_then_race):
            response = self.add_key('c', 3)
        self.assertEqual(409, response.status_code, response.text)
        self.assertIn('changed by another request', response.text)
        self.assertNotIn('c', self.real_get_node('n1').driver_info)
        self.assertEqual(nodes_route.PATCH_ATTEMPTS,
                         self.real_get_node('n1').driver_info['other'] + 1)
