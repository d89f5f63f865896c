"""Virtual media through the redfish management interface against
sushy-tools' emulator (fake systems driver, static virtual media
driver: it downloads the image, so a local HTTP server serves one)."""

import functools
import http.server
import threading

import fixtures

from podium.common import exceptions
from podium.drivers.modules.redfish import management
from podium.tests import base
from podium.tests.functional.drivers import emulators


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass


class TestSushyToolsVirtualMedia(base.TestCase):

    def serve_image(self) -> str:
        """A local http URL of a small image file."""
        directory = self.useFixture(fixtures.TempDir()).path
        with open(f'{directory}/boot.iso', 'wb') as handle:
            handle.write(b'\0' * 4096)
        server = http.server.ThreadingHTTPServer(
            ('127.0.0.1', 0), functools.partial(_Quiet,
                                                directory=directory))
        thread = threading.Thread(target=server.serve_forever,
                                  kwargs={'poll_interval': 0.1},
                                  daemon=True)
        thread.start()
        self.addCleanup(thread.join, 10)
        self.addCleanup(server.server_close)
        self.addCleanup(server.shutdown)
        return f'http://127.0.0.1:{server.server_address[1]}/boot.iso'

    def test_attach_detach(self) -> None:
        emulator, task = emulators.one_system_task(
            self, request_timeout=10, timeout=60.0)
        image = self.serve_image()
        mgmt = management.RedfishManagement()

        mgmt.attach_virtual_media(task, 'cdrom', image)
        cd = self._device(emulator, 'Cd')
        self.assertEqual((True, image), (cd['Inserted'], cd['Image']))
        # Attaching the same image again leaves it; another conflicts.
        mgmt.attach_virtual_media(task, 'cdrom', image)
        self.assertRaises(exceptions.Conflict, mgmt.attach_virtual_media,
                          task, 'cdrom', image + '?other')

        mgmt.detach_virtual_media(task, ['floppy'])
        self.assertTrue(self._device(emulator, 'Cd')['Inserted'])
        mgmt.detach_virtual_media(task)
        self.assertFalse(self._device(emulator, 'Cd')['Inserted'])

    def _device(self, emulator: emulators.SushyEmulator,
                ident: str) -> dict:
        managers = emulator.get('/redfish/v1/Managers')['Members']
        manager = emulator.get(managers[0]['@odata.id'])
        collection = emulator.get(manager['VirtualMedia']['@odata.id'])
        for member in collection['Members']:
            doc = emulator.get(member['@odata.id'])
            if doc['Id'] == ident:
                return doc
        raise AssertionError(f'no virtual media {ident}')
