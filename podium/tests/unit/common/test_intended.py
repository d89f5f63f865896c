"""Intended settings and drift entries: validation and comparison."""

import testtools

from podium.common import intended, states


class TestNormalise(testtools.TestCase):

    def test_empty_is_none(self) -> None:
        for value in (None, {}, {'bios': {}}, {'boot_mode': None}):
            self.assertIsNone(intended.normalise(value))

    def test_kept(self) -> None:
        value = {'boot_mode': 'bios', 'bios': {'A': 1, 'B': 'x'}}
        self.assertEqual(value, intended.normalise(value))

    def test_refused(self) -> None:
        for value in ({'boot_mode': 'UEFI'}, {'other': 1},
                      {'bios': {'A': None}}, {'bios': ['A']}, [],
                      {'boot_order': ['pxe']},
                      {'boot_order': {'devices': []}},
                      {'boot_order': {'devices': ['pxe', 'pxe']}},
                      {'boot_order': {'devices': ['pxe'], 'mac': 'x'}},
                      {'boot_order': {'mac': 'not-a-mac'}}):
            self.assertRaises(ValueError, intended.normalise, value)

    def test_boot_order(self) -> None:
        self.assertEqual(
            {'boot_order': {'devices': ['pxe', 'disk']}},
            intended.normalise({'boot_order': {'devices': [' pxe', 'disk']}}))
        self.assertEqual(
            {'boot_order': {'mac': '52:54:00:aa:bb:cc'}},
            intended.normalise({'boot_order': {'mac': '52-54-00-AA-BB-CC'}}))
        order = {'devices': ['pxe']}
        self.assertEqual({'boot_order': order},
                         intended.flatten({'boot_order': order}))


class TestSame(testtools.TestCase):

    def test_values(self) -> None:
        self.assertTrue(intended.same('Enabled', 'Enabled'))
        self.assertFalse(intended.same('Enabled', 'enabled'))
        self.assertTrue(intended.same(5, '5'))
        self.assertTrue(intended.same(True, 'true'))
        self.assertFalse(intended.same(True, 1))
        self.assertFalse(intended.same(False, None))
        self.assertFalse(intended.same('uefi', None))


class TestCompare(testtools.TestCase):

    def test_new_same_changed_cleared(self) -> None:
        wanted = {'boot_mode': 'uefi', 'bios': {'A': 'on'}}
        found = intended.compare(wanted, {'boot_mode': 'bios'}, None)
        self.assertEqual(['boot_mode'], [e['setting'] for e in found.drift])
        self.assertEqual(states.WARNING, found.events[0][1])
        drift = found.drift
        # Seen again: nothing new; the BIOS (not observed) is not judged.
        again = intended.compare(wanted, {'boot_mode': 'bios'}, drift)
        self.assertEqual(drift, again.drift)
        self.assertEqual([], again.events)
        # The BIOS drifts too; the entries are sorted by setting.
        more = intended.compare(wanted, {'bios:A': 'off'}, drift)
        self.assertEqual(['bios:A', 'boot_mode'],
                         [e['setting'] for e in more.drift])
        # Back as intended: cleared with an INFO event.
        cleared = intended.compare(wanted, {'boot_mode': 'uefi',
                                            'bios:A': 'on'}, more.drift)
        self.assertIsNone(cleared.drift)
        self.assertEqual([states.INFO, states.INFO],
                         [severity for _, severity in cleared.events])

    def test_intent_changed_drops_the_entry(self) -> None:
        drift = intended.compare({'boot_mode': 'uefi'},
                                 {'boot_mode': 'bios'}, None).drift
        self.assertIsNone(intended.prune(drift, {'boot_mode': 'bios'}))
        self.assertIsNone(intended.prune(drift, None))
        self.assertEqual(drift, intended.prune(drift, {'boot_mode': 'uefi'}))

    def test_applied(self) -> None:
        self.assertEqual({'boot_mode': 'uefi', 'bios': {'A': 1, 'B': 2}},
                         intended.with_applied({'bios': {'A': 0, 'B': 2}},
                                               boot_mode='uefi',
                                               bios={'A': 1}))
        self.assertEqual({'boot_mode': 'uefi'}, intended.without_bios(
            {'boot_mode': 'uefi', 'bios': {'A': 1}}))
