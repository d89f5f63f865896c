"""Redfish virtual media against Podium's BMC simulator: the management
interface's attach/detach and eject_vmedia step, the simulator's
VirtualMedia resources as sushy and a plain HTTP client use them, and a
boot from an inserted CD."""

import requests
import sushy
from sushy import auth as sushy_auth

from podium.common import exceptions, states
from podium.drivers.modules.redfish import management, power
from podium.tests.unit.drivers import test_redfish_driver as rf_base

ISO = 'http://images.example.com/boot.iso'


class SharedManagerTest(rf_base.SimulatorTestCase):
    """Four systems per BMC: each system's own VirtualMedia."""

    def setUp(self) -> None:
        super().setUp()
        self.mgmt = management.RedfishManagement()

    def images(self, index: int) -> dict[str, str]:
        return dict(self.sim.get_vmedia(self.sim.systems[index])['images'])

    def test_attach_detach_per_system(self) -> None:
        self.mgmt.attach_virtual_media(self.task(0), 'cdrom', ISO)
        self.mgmt.attach_virtual_media(self.task(1), 'disk', ISO + '.img')
        self.assertEqual({'Cd': ISO}, self.images(0))
        self.assertEqual({'Usb': ISO + '.img'}, self.images(1))
        # The same image again is left alone; another is a conflict.
        self.mgmt.attach_virtual_media(self.task(0), 'cdrom', ISO)
        self.assertRaises(exceptions.Conflict,
                          self.mgmt.attach_virtual_media, self.task(0),
                          'cdrom', ISO + '2')
        # The simulated BMC has no floppy drive.
        self.assertRaises(exceptions.InvalidParameterValue,
                          self.mgmt.attach_virtual_media, self.task(0),
                          'floppy', ISO)
        self.mgmt.detach_virtual_media(self.task(1), ['cdrom'])
        self.assertEqual({'Usb': ISO + '.img'}, self.images(1))
        self.mgmt.detach_virtual_media(self.task(1))
        self.assertEqual({}, self.images(1))
        # The clean step takes Podium's short names.
        self.mgmt.eject_vmedia(self.task(0), boot_device='cd')
        self.assertEqual({}, self.images(0))

    def test_boot_from_the_cd(self) -> None:
        task = self.task(0)
        self.mgmt.attach_virtual_media(task, 'cdrom', ISO)
        self.mgmt.set_boot_device(task, states.BOOT_DEVICE_CDROM)
        power.RedfishPower().set_power_state(task, states.POWER_ON)
        system = self.sim.systems[0]
        self.assertEqual(ISO, self.sim.get_vmedia(system)['booted_image'])
        # The one-time override is spent by the boot, as on a BMC.
        self.assertEqual('Disabled', self.sim.get_boot(system)['enabled'])
        # A boot without the override boots the disk.
        power.RedfishPower().reboot(task)
        self.assertIsNone(self.sim.get_vmedia(system)['booted_image'])


class OwnManagerTest(rf_base.SimulatorTestCase):
    """One system per BMC: the manager serves its VirtualMedia too."""

    systems_per_endpoint = 1

    def connect(self) -> sushy.Sushy:
        """Basic auth: a session client would delete its session when
        collected, maybe in a later test, from a simulator long gone
        (or one now listening on the same port), and block that test."""
        info = self.sim.systems[0]
        return sushy.Sushy(
            info.address, auth=sushy_auth.BasicAuth(info.username,
                                                    info.password),
            read_timeout=2, connect_timeout=2, server_side_retries=0)

    def test_sushy_through_the_manager(self) -> None:
        root = self.connect()
        manager = root.get_manager_collection().get_members()[0]
        media = {m.identity: m for m in manager.virtual_media.get_members()}
        self.assertEqual(['Cd', 'Usb'], sorted(media))
        cd = media['Cd']
        self.assertEqual([sushy.VirtualMediaType.CD,
                          sushy.VirtualMediaType.DVD], cd.media_types)
        self.assertFalse(cd.inserted)
        cd.insert_media(ISO)
        cd.refresh()
        self.assertEqual((True, ISO, 'boot.iso'),
                         (cd.inserted, cd.image, cd.image_name))
        # The system's collection shows the same device.
        system = root.get_system(self.sim.systems[0].system_id)
        same = system.virtual_media.get_member(cd.path)
        self.assertEqual(ISO, same.image)
        cd.eject_media()
        cd.refresh()
        self.assertFalse(cd.inserted)
        self.assertIsNone(cd.image)

    def test_patch_and_refusals(self) -> None:
        info = self.sim.systems[0]
        http = requests.Session()
        http.auth = (info.username, info.password)
        self.addCleanup(http.close)
        usb = f'{info.address}/redfish/v1/Managers/BMC/VirtualMedia/Usb'
        self.assertEqual(204, http.patch(usb, json={
            'Image': ISO, 'Inserted': True}).status_code)
        self.assertEqual({'Usb': ISO},
                         self.sim.get_vmedia(info)['images'])
        self.assertEqual(204, http.patch(usb, json={
            'Image': None, 'Inserted': False}).status_code)
        self.assertEqual({}, self.sim.get_vmedia(info)['images'])
        insert = f'{usb}/Actions/VirtualMedia.InsertMedia'
        refused = http.post(insert, json={'Image': 'nfs://h/x.iso'})
        self.assertEqual(400, refused.status_code)
        self.assertIn('not an http(s) URL',
                      refused.json()['error']['message'])
        self.assertEqual(405, http.get(insert).status_code)
        self.assertEqual(404, http.get(
            f'{info.address}/redfish/v1/Managers/BMC/VirtualMedia/Tape'
        ).status_code)
        self.assertEqual(400, http.patch(usb, json={
            'Colour': 'red'}).status_code)
