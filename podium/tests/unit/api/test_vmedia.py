"""POST and DELETE /v1/nodes/{id}/vmedia (1.89), on fake-hardware."""

from typing import Any

from podium.db import api as db_api
from podium.tests.unit.api import base

URL = '/v1/nodes/n1/vmedia'
ISO = 'http://images.example.com/boot.iso'


class VmediaTest(base.APITestCase):

    def setUp(self) -> None:
        super().setUp()
        self.create_node(name='n1')

    def headers(self, version: str = 'latest') -> dict[str, str]:
        return {'X-OpenStack-Ironic-API-Version': version}

    def attach(self, body: Any, version: str = 'latest') -> Any:
        return self.client.post(URL, json=body,
                                headers=self.headers(version))

    def detach(self, version: str = 'latest', **kwargs: Any) -> Any:
        return self.client.request('DELETE', URL,
                                   headers=self.headers(version), **kwargs)

    def inserted(self) -> dict[str, str]:
        return dict(db_api.get_node('n1').driver_internal_info.get(
            'fake_vmedia') or {})

    def test_attach_and_detach(self) -> None:
        response = self.attach({'device_type': 'cdrom', 'image_url': ISO})
        self.assertEqual(204, response.status_code, response.text)
        self.assertEqual(b'', response.content)
        # Podium's short name for a USB stick is Ironic's disk.
        self.assertEqual(204, self.attach({
            'device_type': 'usb', 'image_url': 'https://h/x.img',
            'image_download_source': 'http'}).status_code)
        self.assertEqual({'cdrom': ISO, 'disk': 'https://h/x.img'},
                         self.inserted())
        # The same image again is a no-op; another one is a conflict.
        self.assertEqual(204, self.attach({'device_type': 'cdrom',
                                           'image_url': ISO}).status_code)
        self.assertError(self.attach({'device_type': 'cdrom',
                                      'image_url': ISO + '2'}), 409,
                         'detach it first')
        # Detach one type (openstacksdk sends a JSON body), then all.
        self.assertEqual(204, self.detach(
            json={'device_types': 'disk'}).status_code)
        self.assertEqual({'cdrom': ISO}, self.inserted())
        self.assertEqual(204, self.detach().status_code)
        self.assertEqual({}, self.inserted())
        history = [entry.event for entry in db_api.list_node_history(
            db_api.get_node('n1').id)]
        self.assertIn(f'Virtual media cdrom attached: {ISO}.', history)
        self.assertIn('Virtual media detached: disk.', history)

    def test_detach_by_query_parameter(self) -> None:
        self.attach({'device_type': 'cdrom', 'image_url': ISO})
        self.attach({'device_type': 'floppy', 'image_url': ISO})
        response = self.client.delete(URL + '?device_types=floppy,cd',
                                      headers=self.headers())
        self.assertEqual(204, response.status_code, response.text)
        self.assertEqual({}, self.inserted())

    def test_bad_input_is_400_before_the_bmc(self) -> None:
        # A BMC that fails every call: a 400 shows no call was made.
        db_api.update_node('n1', {'driver_info': {'fake_fail': 'BMC!'}})
        cases = [
            ({'device_type': 'cdrom', 'image_url': 'ftp://h/boot.iso'},
             'image_url must be an http or https URL'),
            ({'device_type': 'cdrom', 'image_url': 'boot.iso'},
             'image_url must be an http or https URL'),
            ({'device_type': 'tape', 'image_url': ISO},
             "Unknown virtual media device type 'tape'"),
            ({'device_type': 'cdrom', 'image_url': ISO,
              'image_download_source': 'local'}, 'not supported'),
            ({'device_type': 'cdrom', 'image_url': ISO,
              'image_download_source': 'ftp'},
             'Unknown image_download_source'),
            ({'device_type': 'cdrom'}, 'image_url'),
            ({'image_url': ISO}, 'device_type'),
            ({'device_type': 'cdrom', 'image_url': ISO, 'colour': 1},
             'colour'),
        ]
        for body, fragment in cases:
            self.assertError(self.attach(body), 400, fragment)
        self.assertError(self.detach(json={'device_types': 'cd,tape'}),
                         400, "'tape'")
        self.assertError(self.detach(json={'what': 'cd'}), 400,
                         'only hold device_types')
        self.assertIsNone(db_api.get_node('n1').last_error)
        self.assertEqual({}, self.inserted())

    def test_bmc_failure(self) -> None:
        db_api.update_node('n1', {'driver_info': {'fake_fail': 'no BMC'}})
        self.assertError(self.attach({'device_type': 'cdrom',
                                      'image_url': ISO}), 500, 'no BMC')

    def test_locked_and_missing_nodes_and_versions(self) -> None:
        db_api.reserve_node('other-host', 'n1')
        self.assertError(self.attach({'device_type': 'cdrom',
                                      'image_url': ISO}), 409, 'locked')
        self.assertError(self.detach(), 409, 'locked')
        self.assertError(self.client.post(
            '/v1/nodes/nx/vmedia', json={'device_type': 'cdrom',
                                         'image_url': ISO},
            headers=self.headers()), 404, 'nx')
        self.assertEqual(404, self.attach({'device_type': 'cdrom',
                                           'image_url': ISO},
                                          '1.88').status_code)
        self.assertEqual(404, self.detach('1.88').status_code)
