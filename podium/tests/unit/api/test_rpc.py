"""The conductor RPC client and server over oslo.messaging's in-process
fake driver, and the local transport."""

from typing import Any

import fixtures
import oslo_messaging as messaging

from podium.common import context as podium_context
from podium.common import exceptions, rpc
from podium.conductor import rpc_server, rpcapi
from podium.db import api as db_api
from podium.tests import base


class _StubManager:
    """Records calls; what a ConductorManager would answer."""

    def __init__(self, host: str) -> None:
        self.host = host
        self.calls: list[tuple[str, Any, dict[str, Any]]] = []

    def get_boot_device(self, context: Any, node_id: str) -> dict[str, Any]:
        self.calls.append(('get_boot_device', context, {'node_id': node_id}))
        return {'boot_device': 'pxe', 'persistent': False}

    def change_node_power_state(self, context: Any, node_id: str,
                                new_state: str,
                                timeout: int | None = None) -> None:
        raise exceptions.NodeLocked(node=node_id, host='elsewhere')

    def change_nodes_power_state(self, context: Any, node_ids: list[str],
                                 new_state: str,
                                 timeout: int | None = None
                                 ) -> dict[str, Any]:
        self.calls.append(('change_nodes_power_state', context,
                           {'node_ids': node_ids, 'new_state': new_state,
                            'timeout': timeout}))
        return {node_ids[0]: None,
                node_ids[1]: ['NodeLocked', 'Node x is locked']}

    def set_maintenance(self, context: Any, node_id: str, maintenance: bool,
                        reason: str | None = None) -> None:
        raise RuntimeError('a conductor bug')

    def get_metrics(self, context: Any) -> str:
        self.calls.append(('get_metrics', context, {}))
        return f'podium_conductor_pool_idle{{host="{self.host}"}} 3.0\n'

    def stop(self) -> None:
        raise AssertionError('must not be reachable over RPC')


class TestOsloTransport(base.DbTestCase):

    def setUp(self) -> None:
        super().setUp()
        self.config(rpc_transport='oslo', transport_url='fake:/',
                    rpc_response_timeout=1)
        self.addCleanup(rpc.cleanup)
        db_api.register_conductor('cond-1', ['fake-hardware'])
        self.node = db_api.create_node({'driver': 'fake-hardware',
                                        'name': 'n1'})
        self.manager = _StubManager('cond-1')
        self.server = rpc_server.RPCServer(self.manager)
        self.server.start()
        self.addCleanup(self.server.wait)
        self.addCleanup(self.server.stop)
        self.api = rpcapi.ConductorAPI()
        self.context = podium_context.RequestContext(request_id='req-1')

    def test_call_routed_by_hash_ring(self) -> None:
        self.assertEqual('cond-1', self.api.get_topic_for(self.node))
        result = self.api.get_boot_device(self.context, 'n1')
        self.assertEqual({'boot_device': 'pxe', 'persistent': False},
                         result)
        name, context, kwargs = self.manager.calls[0]
        self.assertIsInstance(context, podium_context.RequestContext)
        self.assertEqual('req-1', context.request_id)
        self.assertEqual({'node_id': 'n1'}, kwargs)

    def test_remote_exception_keeps_class_and_message(self) -> None:
        error = self.assertRaises(
            exceptions.NodeLocked, self.api.change_node_power_state,
            self.context, 'n1', 'power on', topic='cond-1')
        self.assertIs(exceptions.NodeLocked, type(error))
        self.assertEqual(409, error.code)
        self.assertIn('elsewhere', str(error))
        self.assertNotIn('Traceback', str(error))

    def test_unexpected_remote_error(self) -> None:
        error = self.assertRaises(
            exceptions.PodiumException, self.api.set_maintenance,
            self.context, 'n1', True, topic='cond-1')
        self.assertIn('RuntimeError', str(error))

    def test_gone_conductor_is_unreachable(self) -> None:
        error = self.assertRaises(
            exceptions.ConductorUnreachable, self.api.get_boot_device,
            self.context, 'n1', topic='cond-gone')
        self.assertEqual(503, error.code)
        self.assertIn('cond-gone', str(error))

    def test_metrics_of_a_host(self) -> None:
        # Addressed by host, not by node: the dashboard's relay.
        self.assertEqual('podium_conductor_pool_idle{host="cond-1"} 3.0\n',
                         self.api.get_metrics(self.context, 'cond-1'))
        self.assertEqual('get_metrics', self.manager.calls[-1][0])
        self.assertRaises(exceptions.ConductorUnreachable,
                          self.api.get_metrics, self.context, 'cond-gone')

    def old_conductor(self, version: str) -> None:
        """Serve conductor ``cond-old`` at RPC ``version`` (a conductor
        not yet upgraded) for the test."""
        self.useFixture(fixtures.MockPatchObject(
            rpc_server._Endpoint, 'target',
            messaging.Target(version=version)))
        old = rpc_server.RPCServer(_StubManager('cond-old'))
        old.start()
        self.addCleanup(old.wait)
        self.addCleanup(old.stop)

    def test_conductor_at_rpc_1_0(self) -> None:
        """A conductor not yet upgraded: node calls still reach it, the
        metrics relay (1.1) is refused as unreachable, not as a bug."""
        self.old_conductor('1.0')
        self.assertEqual('pxe', self.api.get_boot_device(
            self.context, 'n1', topic='cond-old')['boot_device'])
        error = self.assertRaises(exceptions.ConductorUnreachable,
                                  self.api.get_metrics, self.context,
                                  'cond-old')
        self.assertIn('cond-old', str(error))
        self.assertIn('does not support RPC version 1.1', str(error))

    def test_chunk_of_nodes_in_one_call(self) -> None:
        self.assertEqual(
            {'a': None, 'b': ['NodeLocked', 'Node x is locked']},
            self.api.change_nodes_power_state(
                self.context, ['a', 'b'], 'power off', 30, 'cond-1'))
        self.assertEqual({'node_ids': ['a', 'b'], 'new_state': 'power off',
                          'timeout': 30}, self.manager.calls[-1][2])

    def test_chunk_call_to_an_older_conductor(self) -> None:
        """A conductor of the release before chunked power actions
        (1.8): told apart from a dead one, so a batch can fall back to
        one call per node."""
        self.old_conductor('1.8')
        error = self.assertRaises(
            exceptions.RPCVersionUnsupported,
            self.api.change_nodes_power_state, self.context, ['a'],
            'power off', None, 'cond-old')
        self.assertIn('1.9', str(error))

    def test_only_rpc_methods_exposed(self) -> None:
        endpoint = rpc_server._Endpoint(self.manager)
        self.assertRaises(AttributeError, getattr, endpoint, 'stop')
        self.assertEqual(self.manager.get_boot_device,
                         endpoint.get_boot_device)


class TestLocalTransport(base.TestCase):

    def setUp(self) -> None:
        super().setUp()
        self.config(rpc_transport='local')
        self.addCleanup(rpcapi.unregister_local_manager)
        self.context = podium_context.RequestContext()

    def test_no_manager(self) -> None:
        rpcapi.unregister_local_manager()
        self.assertRaises(exceptions.ConductorUnreachable,
                          rpcapi.ConductorAPI().get_boot_device,
                          self.context, 'n1')

    def test_direct_call_in_caller_thread(self) -> None:
        manager = _StubManager('here')
        rpcapi.register_local_manager(manager)
        api = rpcapi.ConductorAPI()
        self.assertEqual('test-conductor', api.get_topic_for(object()))
        api.get_boot_device(self.context, 'n1')
        self.assertIs(self.context, manager.calls[0][1])
        self.assertRaises(exceptions.NodeLocked,
                          api.change_node_power_state, self.context, 'n1',
                          'power on')

    def test_metrics_only_of_this_process(self) -> None:
        rpcapi.register_local_manager(_StubManager('test-conductor'))
        api = rpcapi.ConductorAPI()
        self.assertIn('host="test-conductor"',
                      api.get_metrics(self.context, 'test-conductor'))
        self.assertRaises(exceptions.ConductorUnreachable,
                          api.get_metrics, self.context, 'elsewhere')
