"""Clean step declaration, collection, ordering and validation."""

from podium.common import exceptions
from podium.drivers import steps
from podium.drivers.modules import fake
from podium.tests import base

INTERFACES = [('power', fake.FakePower()),
              ('management', fake.FakeManagement()),
              ('inspect', fake.FakeInspect())]


class StepsTest(base.TestCase):

    def test_collected_in_run_order(self) -> None:
        declared = steps.get_clean_steps(INTERFACES)
        self.assertEqual(
            [('management', 'eject_vmedia', 70),
             ('management', 'clear_boot_override', 60),
             ('power', 'power_off', 10)],
            [(s['interface'], s['step'], s['priority']) for s in declared])
        self.assertEqual({'boot_device'}, set(declared[0]['argsinfo']))
        self.assertEqual(
            ['eject_vmedia', 'clear_boot_override', 'power_off'],
            [s['step'] for s in steps.automated_steps(declared)])

    def test_manual_steps_validated(self) -> None:
        declared = steps.get_clean_steps(INTERFACES)
        good = steps.validate_manual_steps(
            'n1', [{'interface': 'power', 'step': 'power_off'}], declared)
        self.assertEqual([{'interface': 'power', 'step': 'power_off',
                           'args': {}}], good)
        error = self.assertRaises(
            exceptions.InvalidCleanSteps, steps.validate_manual_steps, 'n1',
            [{'interface': 'power', 'step': 'reboot'},
             {'interface': 'management', 'step': 'eject_vmedia',
              'args': {'device': 'cd'}},
             {'interface': 'bios', 'step': 'x', 'colour': 1}], declared)
        self.assertEqual(400, error.code)
        message = str(error)
        self.assertIn('Node n1', message)
        self.assertIn('no power interface step named "reboot"', message)
        self.assertIn('does not take argument(s) device', message)
        self.assertIn('unknown key(s) colour', message)

    def test_only_declared_steps_run(self) -> None:
        class Task:
            class node:
                name = 'n1'
                uuid = 'u'
        error = self.assertRaises(
            exceptions.InvalidCleanSteps, steps.run_step,
            dict(INTERFACES), Task(), {'interface': 'power',
                                       'step': 'set_power_state'})
        self.assertIn('is not a clean step', str(error))

    def test_negative_priority_refused(self) -> None:
        self.assertRaises(ValueError, steps.clean_step, -1)
