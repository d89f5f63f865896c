"""GET /v1/nodes/{id}/firmware (1.86): what inspection recorded, on
fake-hardware."""

from typing import Any

from podium.db import api as db_api
from podium.tests.unit.api import base

LATEST = {'X-OpenStack-Ironic-API-Version': 'latest'}


class FirmwareTest(base.APITestCase):

    def setUp(self) -> None:
        super().setUp()
        self.create_node(name='n1')

    def components(self) -> dict[str, dict[str, Any]]:
        body = self.client.get('/v1/nodes/n1/firmware',
                               headers=LATEST).json()
        return {item['component']: item for item in body['firmware']}

    def test_inspection_records_and_keeps_the_initial_version(self) -> None:
        self.assertEqual({}, self.components())
        self.move('manage', 'manageable')
        self.move('inspect', 'manageable')
        bios = self.components()['bios']
        self.assertEqual(('1.0.0', '1.0.0', None),
                         (bios['initial_version'], bios['current_version'],
                          bios['last_version_flashed']))
        self.assertEqual('2.0.0', self.components()['bmc']['current_version'])
        db_api.update_node('n1', {'driver_info': {
            'fake_bios_version': '1.2.0'}})
        self.move('inspect', 'manageable')
        bios = self.components()['bios']
        self.assertEqual(('1.0.0', '1.2.0'), (bios['initial_version'],
                                              bios['current_version']))
        self.assertIsNotNone(bios['updated_at'])
        node = self.client.get('/v1/nodes/n1', headers=LATEST).json()
        self.assertNotIn('firmware', node['properties'])

    def test_microversion_and_missing_node(self) -> None:
        self.assertEqual(404, self.client.get(
            '/v1/nodes/n1/firmware',
            headers={'X-OpenStack-Ironic-API-Version': '1.85'}).status_code)
        self.assertError(self.client.get('/v1/nodes/nx/firmware',
                                         headers=LATEST), 404, 'nx')
