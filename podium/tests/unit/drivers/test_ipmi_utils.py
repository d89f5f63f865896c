"""driver_info parsing of the IPMI interfaces and the pyghmi workarounds."""

import hashlib
import os
import socket
import types

from podium.common import exceptions, pyghmi_io
from podium.drivers.modules.ipmi import management, power, pyghmi_compat, utils
from podium.tests import base
from podium.tests.unit.drivers import helpers

GOOD = {'ipmi_address': '10.0.0.9', 'ipmi_username': 'admin',
        'ipmi_password': 'Ipmi-s3cret'}


def parse(**info: object) -> utils.IPMIInfo:
    return utils.parse(helpers.Node(dict(GOOD, **info), driver='ipmi'))


class ParseTestCase(base.TestCase):

    def test_defaults(self) -> None:
        info = parse()
        self.assertEqual(623, info.port)
        self.assertIsNone(info.bridge_request())
        self.assertNotIn('Ipmi-s3cret', repr(info))

    def test_errors_name_the_key(self) -> None:
        cases = [({'ipmi_port': 'x'}, 'ipmi_port'),
                 ({'ipmi_port': 70000}, 'ipmi_port'),
                 ({'ipmi_address': 'a b'}, 'ipmi_address'),
                 ({'ipmi_bridging': 'sometimes'}, 'ipmi_bridging'),
                 ({'ipmi_bridging': 'dual'}, 'dual bridging'),
                 ({'ipmi_transit_channel': 1}, 'dual bridging'),
                 ({'ipmi_bridging': 'single', 'ipmi_target_channel': 99,
                   'ipmi_target_address': 1}, 'ipmi_target_channel')]
        for overrides, expected in cases:
            exc = self.assertRaises(exceptions.InvalidParameterValue, parse,
                                    **overrides)
            self.assertIn(expected, str(exc))
        exc = self.assertRaises(exceptions.MissingParameterValue, parse,
                                ipmi_bridging='single')
        self.assertIn('ipmi_target_address', str(exc))
        exc = self.assertRaises(exceptions.MissingParameterValue,
                                utils.parse, helpers.Node({}))
        self.assertIn('ipmi_address', str(exc))

    def test_single_bridging(self) -> None:
        info = parse(ipmi_bridging='single', ipmi_target_channel='7',
                     ipmi_target_address='0x72')
        self.assertEqual({'channel': 7, 'addr': 0x72},
                         info.bridge_request())

    def test_session_key_hides_password(self) -> None:
        self.assertNotEqual(parse().session_key(),
                            parse(ipmi_password='x').session_key())
        self.assertNotIn('Ipmi-s3cret', repr(parse().session_key()))

    def test_interfaces_declare_properties(self) -> None:
        for iface in (power.IPMIPower(), management.IPMIManagement()):
            self.assertTrue(iface.get_properties()['ipmi_address'].required)
            iface.validate(helpers.Node(dict(GOOD)))


class PyghmiCompatTestCase(base.TestCase):

    def test_poll_select_handles_fds_above_1024(self) -> None:
        sender = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        low = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        low.bind(('127.0.0.1', 0))
        high = socket.socket(fileno=os.dup2(low.fileno(), 1400))
        low.close()
        self.addCleanup(sender.close)
        self.addCleanup(high.close)
        self.assertEqual(([], [], []),
                         pyghmi_compat._poll_select([high], (), (), 0))
        sender.sendto(b'ping', high.getsockname())
        ready, _, _ = pyghmi_compat._poll_select([high], (), (), 5)
        self.assertEqual([high], ready)
        self.assertEqual(b'ping', pyghmi_io.recvfrom(high, 100)[0])
        self.assertIsNone(pyghmi_io.recvfrom(high, 100))  # no block

    def test_follows_the_cipher_suite_the_bmc_accepted(self) -> None:
        seen = []
        patched = pyghmi_compat._follow_accepted_cipher(
            lambda session, data: seen.append(session.currhashlib))
        session = types.SimpleNamespace(attemptedhash=256,
                                        currhashlib=hashlib.sha256,
                                        currhashlen=16)
        answer = bytearray(40)
        answer[16] = 1  # RAKP-HMAC-SHA1: cipher suite 3
        patched(session, answer)
        self.assertEqual([hashlib.sha1], seen)
        self.assertEqual(12, session.currhashlen)
        session = types.SimpleNamespace(attemptedhash=256,
                                        currhashlib=hashlib.sha256,
                                        currhashlen=16)
        answer[16] = 3  # the BMC took suite 17: nothing to change
        patched(session, answer)
        self.assertIs(hashlib.sha256, session.currhashlib)
