"""The no-inspect interface refuses up front."""

from podium.common import context, exceptions
from podium.conductor import manager
from podium.db import api as db_api
from podium.tests import base


class NoInspectTest(base.DbTestCase):

    def setUp(self) -> None:
        super().setUp()
        self.node = db_api.create_node({
            'name': 'n1', 'driver': 'fake-hardware',
            'power_interface': 'fake', 'management_interface': 'fake',
            'inspect_interface': 'no-inspect',
            'provision_state': 'manageable'})
        self.manager = manager.ConductorManager('test-conductor')
        self.addCleanup(self.manager.pool.shutdown)
        self.context = context.get_admin_context()

    def test_inspect_refused_at_once_without_touching_node(self) -> None:
        exc = self.assertRaises(exceptions.UnsupportedDriverExtension,
                                self.manager.do_provisioning_action,
                                self.context, 'n1', 'inspect')
        self.assertEqual(400, exc.code)
        self.assertIn('n1', str(exc))
        node = db_api.get_node('n1')
        self.assertIsNone(node.reservation)
        self.assertIsNone(node.last_error)
        self.assertEqual('manageable', node.provision_state)

    def test_validate_reports_inspect_unusable(self) -> None:
        result = self.manager.validate_driver_interfaces(self.context, 'n1')
        self.assertFalse(result['inspect']['result'])
        self.assertIn('Inspection is not supported',
                      result['inspect']['reason'])
        self.assertTrue(result['power']['result'])
