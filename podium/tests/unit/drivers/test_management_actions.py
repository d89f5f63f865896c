"""Boot order, NMI and BMC reset of the management interfaces: the
shared reordering rules, Redfish against the BMC simulator and
fake-hardware (IPMI against the IPMI simulator is a functional test:
pyghmi's process-wide session state is shared with the simulator's own
unit tests)."""

from typing import Any
from unittest import mock

from podium.common import exceptions, states
from podium.db import api as db_api
from podium.drivers import boot_order
from podium.drivers.modules import fake
from podium.drivers.modules.redfish import inspect, management, transport
from podium.tests import base
from podium.tests.unit.drivers import helpers
from podium.tests.unit.drivers.test_redfish_driver import SimulatorTestCase

Option = boot_order.BootOption
MAC_A, MAC_B = '52:54:00:00:00:0a', '52:54:00:00:00:0b'
OPTIONS = [Option('Boot0000', 'Disk', 'disk'),
           Option('Boot0001', 'NIC A', 'pxe', MAC_A),
           Option('Boot0002', 'NIC B', 'pxe', MAC_B),
           Option('Boot0003', 'CD', 'cdrom')]


def refs(options: list[Option]) -> list[str]:
    return [option.ref for option in options]


class OrderRulesTest(base.TestCase):

    def order(self, **request: Any) -> list[str]:
        return refs(boot_order.reorder(
            OPTIONS, boot_order.OrderRequest.from_dict(request), 'n1'))

    def test_devices_first_in_the_order_given(self) -> None:
        self.assertEqual(['Boot0001', 'Boot0002', 'Boot0000', 'Boot0003'],
                         self.order(devices=['pxe']))
        self.assertEqual(['Boot0003', 'Boot0001', 'Boot0002', 'Boot0000'],
                         self.order(devices='cdrom, pxe'))
        # An option reference, and a kind after it, each option once.
        self.assertEqual(['Boot0002', 'Boot0001', 'Boot0000', 'Boot0003'],
                         self.order(devices=['boot0002', 'pxe']))

    def test_mac_first(self) -> None:
        self.assertEqual(['Boot0002', 'Boot0000', 'Boot0001', 'Boot0003'],
                         self.order(mac=MAC_B.upper()))

    def test_unknown_device_or_mac_names_what_is_there(self) -> None:
        exc = self.assertRaises(exceptions.InvalidParameterValue,
                                self.order, devices=['usb'])
        self.assertIn('no boot option for usb', str(exc))
        self.assertIn('cdrom, disk, pxe', str(exc))
        exc = self.assertRaises(exceptions.InvalidParameterValue,
                                self.order, mac='52:54:00:00:00:ff')
        self.assertIn(MAC_A, str(exc))

    def test_malformed_requests(self) -> None:
        for bad, fragment in (({}, 'Give either devices'),
                              ({'devices': ['pxe'], 'mac': MAC_A},
                               'not both'),
                              ({'devices': []}, 'non-empty list'),
                              ({'devices': [1]}, 'non-empty list'),
                              ({'devices': ['pxe', 'pxe']}, 'more than once'),
                              ({'mac': 'nope'}, 'not a MAC'),
                              ({'order': ['pxe']}, 'Unknown boot order')):
            exc = self.assertRaises(exceptions.InvalidParameterValue,
                                    boot_order.OrderRequest.from_dict, bad)
            self.assertIn(fragment, str(exc))

    def test_check(self) -> None:
        request = boot_order.OrderRequest(devices=('disk',))
        self.assertTrue(boot_order.check(OPTIONS, request).matches)
        result = boot_order.check(OPTIONS, boot_order.OrderRequest(
            mac=MAC_B))
        self.assertFalse(result.matches)
        self.assertEqual('Boot0002', result.expected[0])
        self.assertEqual(refs(OPTIONS), result.actual)

    def test_device_kinds_and_macs_from_redfish_fields(self) -> None:
        self.assertEqual('pxe', boot_order.device_of(
            None, 'NIC in Slot 2 Port 1',
            'PciRoot(0x0)/Pci(0x3,0x0)/MAC(B8599F000001,0x1)/IPv4(0.0.0.0)'))
        self.assertEqual('b8:59:9f:00:00:01', boot_order.mac_in(
            'PciRoot(0x0)/MAC(B8599F000001,0x1)'))
        self.assertEqual('aa:bb:cc:dd:ee:ff', boot_order.mac_in(
            'PXE Device 1: AA-BB-CC-DD-EE-FF'))
        self.assertEqual('disk', boot_order.device_of(
            None, 'Integrated RAID Controller 1: Ubuntu'))
        self.assertEqual('cdrom', boot_order.device_of(
            'Cd', 'Virtual', 'PciRoot(0x0)/USB(0x0,0x0)/CDROM(0x1)'))
        self.assertIsNone(boot_order.device_of(None, 'Mystery'))


class RedfishManagementActionsTest(SimulatorTestCase):

    systems_per_endpoint = 1

    def setUp(self) -> None:
        super().setUp()
        self.mgmt = management.RedfishManagement()

    def system(self, index: int = 0) -> dict[str, Any]:
        return self.sim.describe_system(index)

    def test_options_carry_the_macs_of_the_ethernet_interfaces(self) -> None:
        task = self.task(0)
        options = self.mgmt.get_boot_order(task)
        macs = inspect.RedfishInspect().inspect_hardware(task)['macs']
        self.assertEqual(sorted(macs),
                         sorted(o.mac for o in options if o.mac))
        self.assertEqual(['disk', 'pxe', 'pxe', 'cdrom'],
                         [o.device for o in options])
        self.assertTrue(all(o.device == 'pxe' for o in options if o.mac))

    def test_set_by_devices_and_by_mac(self) -> None:
        task = self.task(0)
        options = self.mgmt.get_boot_order(task)
        second_nic = [o for o in options if o.mac][1]
        now = self.mgmt.set_boot_order(
            task, boot_order.OrderRequest(devices=('pxe', 'disk')))
        self.assertEqual(['pxe', 'pxe', 'disk', 'cdrom'],
                         [o.device for o in now])
        self.assertEqual(refs(now), self.system()['boot_order']['order'])
        now = self.mgmt.set_boot_order(
            task, boot_order.OrderRequest(mac=second_nic.mac))
        self.assertEqual(second_nic, now[0])
        self.assertTrue(self.mgmt.check_boot_order(
            task, boot_order.OrderRequest(mac=second_nic.mac)).matches)
        self.assertFalse(self.mgmt.check_boot_order(
            task, boot_order.OrderRequest(devices=('cdrom',))).matches)

    def test_unknown_mac_is_refused_before_any_change(self) -> None:
        task = self.task(0)
        self.mgmt.get_boot_order(task)
        before = self.system()['boot_order']['order']
        patches = self.sim.stats()['status_counts'].get('204', 0)
        self.assertRaises(exceptions.InvalidParameterValue,
                          self.mgmt.set_boot_order, task,
                          boot_order.OrderRequest(mac='02:00:00:00:00:01'))
        self.assertRaises(exceptions.InvalidParameterValue,
                          self.mgmt.set_boot_order, task,
                          boot_order.OrderRequest(devices=('usb',)))
        self.assertEqual(before, self.system()['boot_order']['order'])
        self.assertEqual(patches,
                         self.sim.stats()['status_counts'].get('204', 0))

    def test_patch_carries_the_system_etag(self) -> None:
        real_op = transport.BoundedConnector._op
        patched: list[dict[str, Any]] = []

        def op(conn: Any, method: str, path: str = '', data: Any = None,
               headers: dict[str, Any] | None = None, **kwargs: Any) -> Any:
            response = real_op(conn, method, path, data=data,
                               headers=headers, **kwargs)
            if method == 'GET':
                response.headers['ETag'] = 'W/"42"'
            elif method == 'PATCH':
                patched.append(dict(headers or {}))
            return response

        with mock.patch.object(transport.BoundedConnector, '_op', op):
            self.mgmt.set_boot_order(self.task(0), boot_order.OrderRequest(
                devices=('cdrom',)))
        self.assertEqual(['W/"42"'], [h.get('If-Match') for h in patched])

    def test_inject_nmi(self) -> None:
        self.mgmt.inject_nmi(self.task(0))
        self.mgmt.inject_nmi(self.task(0))
        self.assertEqual(2, self.system()['nmis'])


class FakeManagementActionsTest(base.DbTestCase):

    def test_boot_order_and_nmi(self) -> None:
        node = db_api.create_node({
            'name': 'fake-1', 'driver': 'fake-hardware',
            'driver_info': {'fake_macs': f'{MAC_A},{MAC_B}'}})
        task = helpers.Task(node)  # type: ignore[arg-type]
        mgmt = fake.FakeManagement()
        self.assertEqual(['pxe', 'pxe', 'disk', 'cdrom'],
                         [o.device for o in mgmt.get_boot_order(task)])
        now = mgmt.set_boot_order(task, boot_order.OrderRequest(
            devices=('disk', 'cdrom')))
        self.assertEqual(['disk', 'cdrom', 'pxe', 'pxe'],
                         [o.device for o in now])
        self.assertEqual(now, mgmt.get_boot_order(task))
        self.assertEqual(MAC_B, mgmt.set_boot_order(
            task, boot_order.OrderRequest(mac=MAC_B))[0].mac)
        mgmt.inject_nmi(task)
        self.assertEqual(1, task.node.driver_internal_info['fake_nmi_count'])
        self.assertEqual(states.BOOT_DEVICE_PXE,
                         mgmt.get_boot_order(task)[0].device)
