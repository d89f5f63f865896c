"""Secret masking: keys by pattern at any depth, free text, log records."""

import io
import logging

import testtools

from podium.common import exceptions, masking

MASK = masking.MASK

#: driver_info holding a secret in every shape the issue names.
SECRETS_EVERY_SHAPE = {
    'redfish_address': 'https://10.0.0.1',
    'redfish_username': 'admin',
    'redfish_password': 'pw-top-level',
    'bmc': {'password': 'pw-nested', 'host': 'bmc-1',
            'deeper': [{'secret': 'pw-in-list'}]},
    'ipmi_kg': 'kg-value-1',
    'redfish_auth_token': 'token-value-1',
    'snmp_auth_key': 'snmp-auth-1',
    'snmp_priv_key': 'snmp-priv-1',
    'snmp_community': 'community-1',
    'ipmi_port': 623,
}


class KeyTest(testtools.TestCase):

    def test_secret_keys(self) -> None:
        for key in ('password', 'ipmi_password', 'Redfish_Password', 'ipmi_kg',
                    'redfish_auth_token', 'snmp_auth_key', 'snmp_priv_key',
                    'snmp_community', 'secret', 'api-key', 'ipmi_pass',
                    'private_key', 'credentials'):
            self.assertTrue(masking.is_secret_key(key), key)

    def test_ordinary_keys(self) -> None:
        for key in ('redfish_address', 'ipmi_username', 'deploy_kernel',
                    'monkey', 'keyboard', 'ipmi_port', 'redfish_verify_ca',
                    'passthrough', 'host'):
            self.assertFalse(masking.is_secret_key(key), key)

    def test_extra_keys_and_non_strings(self) -> None:
        self.assertTrue(masking.is_secret_key('bmc_pin', {'bmc_pin'}))
        self.assertFalse(masking.is_secret_key(7))


class MaskTest(testtools.TestCase):

    def test_every_shape_masked_and_nothing_else(self) -> None:
        masked = masking.mask(SECRETS_EVERY_SHAPE)
        self.assertEqual({
            'redfish_address': 'https://10.0.0.1',
            'redfish_username': 'admin',
            'redfish_password': MASK,
            'bmc': {'password': MASK, 'host': 'bmc-1',
                    'deeper': [{'secret': MASK}]},
            'ipmi_kg': MASK, 'redfish_auth_token': MASK,
            'snmp_auth_key': MASK, 'snmp_priv_key': MASK,
            'snmp_community': MASK, 'ipmi_port': 623,
        }, masked)
        # The input is left alone: it is what the driver uses.
        self.assertEqual('pw-top-level',
                         SECRETS_EVERY_SHAPE['redfish_password'])

    def test_secret_values_any_depth(self) -> None:
        self.assertEqual(
            {'pw-top-level', 'pw-nested', 'pw-in-list', 'kg-value-1',
             'token-value-1', 'snmp-auth-1', 'snmp-priv-1', 'community-1'},
            masking.secret_values(SECRETS_EVERY_SHAPE))

    def test_a_whole_secret_subtree_is_masked(self) -> None:
        self.assertEqual({'credentials': MASK},
                         masking.mask({'credentials': {'user': 'u',
                                                       'pass': 'p'}}))


class TextTest(testtools.TestCase):

    def test_pairs_in_text(self) -> None:
        text = ("driver_info {'ipmi_kg': 'kg-1', 'password': 'pw-1'} "
                'ipmi_kg=kg-2 snmp_auth_key: "a b" token=tok-1')
        masked = masking.mask_text(text)
        for secret in ('kg-1', 'pw-1', 'kg-2', 'a b', 'tok-1'):
            self.assertNotIn(secret, masked)
        self.assertIn("'ipmi_kg': '******'", masked)

    def test_url_credentials(self) -> None:
        self.assertEqual(
            'cannot reach https://admin:******@10.0.0.1/redfish/v1',
            masking.mask_text(
                'cannot reach https://admin:hunter22@10.0.0.1/redfish/v1'))

    def test_known_values_replaced_anywhere(self) -> None:
        self.assertEqual(
            'BMC said: bad login ****** for admin',
            masking.mask_text('BMC said: bad login hunter22 for admin',
                              {'hunter22', 'x'}))

    def test_error_wording_never_masked(self) -> None:
        # A password that is also a word of Podium's own message hides
        # only where the BMC's text quotes it.
        error = exceptions.DriverError(reason='no BMC; Driver rejected')
        self.assertEqual('Driver error: no BMC; ****** rejected',
                         masking.mask_error(error, {'Driver'}))
        # Anything else: every occurrence.
        self.assertEqual('****** said ******',
                         masking.mask_error(RuntimeError('hunter22 said '
                                                         'hunter22'),
                                            {'hunter22'}))

    def test_plain_text_unchanged(self) -> None:
        text = 'Timed out after 10 s reading the power state of keyboard-1'
        self.assertIs(text, masking.mask_text(text))


class LogFilterTest(testtools.TestCase):

    def test_records_and_tracebacks_masked(self) -> None:
        stream = io.StringIO()
        logger = logging.getLogger('podium.tests.masking')
        logger.propagate = False
        handler = logging.StreamHandler(stream)
        logger.addHandler(handler)
        self.addCleanup(logger.removeHandler, handler)
        masking.install_log_filter(logger)
        masking.install_log_filter(logger)  # idempotent
        self.assertEqual(1, len(handler.filters))
        logger.warning('enrolling %s', SECRETS_EVERY_SHAPE)
        try:
            raise RuntimeError("login failed: {'ipmi_kg': 'kg-value-1'}")
        except RuntimeError:
            logger.exception('driver said')
        output = stream.getvalue()
        for secret in masking.secret_values(SECRETS_EVERY_SHAPE):
            self.assertNotIn(secret, output)
        self.assertIn('RuntimeError', output)
        self.assertIn('10.0.0.1', output)
