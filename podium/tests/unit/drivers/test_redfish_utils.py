"""driver_info parsing and validation of the Redfish interfaces."""

from podium.common import exceptions
from podium.drivers.modules.redfish import inspect, management, power, utils
from podium.tests import base
from podium.tests.unit.drivers import helpers

GOOD = {'redfish_address': 'https://10.0.0.1', 'redfish_username': 'u',
        'redfish_password': 'p4ss-secret'}


def parse(**info: object) -> utils.RedfishInfo:
    return utils.parse(helpers.Node(dict(GOOD, **info)))


class ParseTestCase(base.TestCase):

    def test_address_forms(self) -> None:
        cases = {
            '10.0.0.1': 'https://10.0.0.1:443',
            '10.0.0.1:8000': 'https://10.0.0.1:8000',
            'http://bmc.example.com': 'http://bmc.example.com:80',
            'https://bmc:8443/': 'https://bmc:8443',
            '[fd00::1]:8443': 'https://[fd00::1]:8443',
        }
        for given, expected in cases.items():
            self.assertEqual(expected, parse(redfish_address=given).address)

    def test_bad_addresses_name_the_key(self) -> None:
        for bad in ('ftp://x', 'https://x/redfish/v1', 'https://a:b@x',
                    'https://x:99999', 'bad host'):
            exc = self.assertRaises(exceptions.InvalidParameterValue, parse,
                                    redfish_address=bad)
            self.assertIn('redfish_address', str(exc))

    def test_missing_address(self) -> None:
        exc = self.assertRaises(exceptions.MissingParameterValue,
                                utils.parse, helpers.Node({}))
        self.assertIn('redfish_address', str(exc))

    def test_system_id(self) -> None:
        self.assertIsNone(parse().system_path)
        self.assertEqual('/redfish/v1/Systems/1',
                         parse(redfish_system_id='/redfish/v1/Systems/1/')
                         .system_path)
        self.assertEqual('/redfish/v1/Systems/abc',
                         parse(redfish_system_id='abc').system_path)
        self.assertRaises(exceptions.InvalidParameterValue, parse,
                          redfish_system_id='a b')

    def test_verify_ca(self) -> None:
        self.assertIs(True, parse().verify)
        self.assertIs(False, parse(redfish_verify_ca='no').verify)
        self.assertEqual(self.state_dir,
                         parse(redfish_verify_ca=self.state_dir).verify)
        exc = self.assertRaises(exceptions.InvalidParameterValue, parse,
                                redfish_verify_ca='/does/not/exist')
        self.assertIn('redfish_verify_ca', str(exc))

    def test_auth_type(self) -> None:
        self.assertEqual('auto', parse().auth_type)
        self.config(auth_type='basic', group='redfish')
        self.assertEqual('basic', parse().auth_type)
        self.assertEqual('session',
                         parse(redfish_auth_type='session').auth_type)
        exc = self.assertRaises(exceptions.InvalidParameterValue, parse,
                                redfish_auth_type='digest')
        self.assertIn('redfish_auth_type', str(exc))

    def test_password_needs_username_and_is_hidden(self) -> None:
        exc = self.assertRaises(exceptions.MissingParameterValue, parse,
                                redfish_username='')
        self.assertNotIn('p4ss-secret', str(exc))
        self.assertNotIn('p4ss-secret', repr(parse()))
        exc = self.assertRaises(exceptions.InvalidParameterValue, parse,
                                redfish_password=12345)
        self.assertNotIn('12345', str(exc))

    def test_connection_key(self) -> None:
        self.assertEqual(parse().connection_key(), parse().connection_key())
        self.assertNotEqual(parse().connection_key(),
                            parse(redfish_password='other').connection_key())
        self.assertNotIn(b'p4ss-secret', parse().connection_key()
                         .password_digest)

    def test_interfaces_validate_and_declare_properties(self) -> None:
        for iface in (power.RedfishPower(), management.RedfishManagement(),
                      inspect.RedfishInspect()):
            props = iface.get_properties()
            self.assertTrue(props['redfish_address'].required)
            self.assertFalse(props['redfish_system_id'].required)
            iface.validate(helpers.Node(dict(GOOD)))
            self.assertRaises(exceptions.InvalidParameterValue,
                              iface.validate, helpers.Node(
                                  dict(GOOD, redfish_address='ftp://x')))

    def test_batch_key(self) -> None:
        iface = power.RedfishPower()
        node = helpers.Node(dict(GOOD, redfish_system_id='/a'))
        other = helpers.Node(dict(GOOD, redfish_system_id='/b'))
        self.assertEqual(iface.batch_key(node), iface.batch_key(other))
        self.assertIsNone(iface.batch_key(helpers.Node({})))
