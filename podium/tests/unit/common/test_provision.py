"""The provision state machine: every transition, legal or not.

The expectations are generated from the machine itself and checked
against an independent statement of Ironic's rules below, so a
transition added to or dropped from the machine fails here.
"""

import itertools

from podium.common import exceptions, provision
from podium.common import states as s
from podium.tests import base

#: Ironic's transitions, written out independently of the machine.
IRONIC = {
    (s.ENROLL, 'manage'): s.VERIFYING,
    (s.VERIFYING, 'done'): s.MANAGEABLE,
    (s.VERIFYING, 'fail'): s.ENROLL,
    (s.MANAGEABLE, 'inspect'): s.INSPECTING,
    (s.MANAGEABLE, 'provide'): s.CLEANING,
    (s.MANAGEABLE, 'clean'): s.CLEANING,
    (s.MANAGEABLE, 'adopt'): s.ADOPTING,
    (s.INSPECTING, 'done'): s.MANAGEABLE,
    (s.INSPECTING, 'fail'): s.INSPECTFAIL,
    (s.INSPECTING, 'wait'): s.INSPECTWAIT,
    (s.INSPECTWAIT, 'done'): s.MANAGEABLE,
    (s.INSPECTWAIT, 'fail'): s.INSPECTFAIL,
    (s.INSPECTWAIT, 'abort'): s.INSPECTFAIL,
    (s.INSPECTWAIT, 'resume'): s.INSPECTING,
    (s.INSPECTFAIL, 'manage'): s.MANAGEABLE,
    (s.INSPECTFAIL, 'inspect'): s.INSPECTING,
    (s.CLEANING, 'done'): s.AVAILABLE,
    (s.CLEANING, 'manage'): s.MANAGEABLE,
    (s.CLEANING, 'fail'): s.CLEANFAIL,
    (s.CLEANING, 'wait'): s.CLEANWAIT,
    (s.CLEANWAIT, 'resume'): s.CLEANING,
    (s.CLEANWAIT, 'fail'): s.CLEANFAIL,
    (s.CLEANWAIT, 'abort'): s.CLEANFAIL,
    (s.CLEANFAIL, 'manage'): s.MANAGEABLE,
    (s.AVAILABLE, 'manage'): s.MANAGEABLE,
    (s.AVAILABLE, 'deploy'): s.DEPLOYING,
    (s.DEPLOYING, 'done'): s.ACTIVE,
    (s.DEPLOYING, 'fail'): s.DEPLOYFAIL,
    (s.DEPLOYING, 'wait'): s.DEPLOYWAIT,
    (s.DEPLOYWAIT, 'resume'): s.DEPLOYING,
    (s.DEPLOYWAIT, 'fail'): s.DEPLOYFAIL,
    (s.DEPLOYWAIT, 'delete'): s.DELETING,
    # Podium's addition: a deploy waiting for its installer may be
    # aborted, as a clean or inspection waiting for its call-back may.
    (s.DEPLOYWAIT, 'abort'): s.DEPLOYFAIL,
    (s.DEPLOYFAIL, 'rebuild'): s.DEPLOYING,
    (s.DEPLOYFAIL, 'deploy'): s.DEPLOYING,
    (s.DEPLOYFAIL, 'delete'): s.DELETING,
    (s.ACTIVE, 'rebuild'): s.DEPLOYING,
    (s.ACTIVE, 'delete'): s.DELETING,
    (s.ERROR, 'rebuild'): s.DEPLOYING,
    (s.ERROR, 'delete'): s.DELETING,
    (s.DELETING, 'clean'): s.CLEANING,
    (s.DELETING, 'fail'): s.ERROR,
    (s.ADOPTING, 'done'): s.ACTIVE,
    (s.ADOPTING, 'fail'): s.ADOPTFAIL,
    (s.ADOPTFAIL, 'adopt'): s.ADOPTING,
    (s.ADOPTFAIL, 'manage'): s.MANAGEABLE,
}

EVENTS = sorted({event for _start, event, _end in provision.MACHINE}
                | set(provision.VERBS.values()))


class MachineTest(base.TestCase):

    def test_machine_is_ironics(self) -> None:
        machine = {(start, event): end
                   for start, event, end in provision.MACHINE}
        self.assertEqual(IRONIC, machine)

    def test_every_state_and_event(self) -> None:
        for state, event in itertools.product(
                sorted(provision.ALL_STATES), EVENTS):
            expected = IRONIC.get((state, event))
            with self.subTest(state=state, event=event):
                if expected is not None:
                    self.assertEqual(expected, provision.next_state(
                        'node-1', state, event))
                    continue
                error = self.assertRaises(
                    exceptions.InvalidStateRequested,
                    provision.next_state, 'node-1', state, event)
                self.assertEqual(400, error.code)
                self.assertEqual(
                    f'The requested action "{event}" can not be performed '
                    f'on node "node-1" while it is in state "{state}".',
                    str(error))

    def test_states_are_ironics_spelling(self) -> None:
        self.assertEqual(
            {'enroll', 'verifying', 'manageable', 'inspecting',
             'inspect wait', 'inspect failed', 'cleaning', 'clean wait',
             'clean failed', 'available', 'deploying', 'wait call-back',
             'deploy failed', 'active', 'deleting', 'error', 'adopting',
             'adopt failed'}, set(provision.ALL_STATES))
        self.assertEqual(set(provision.ALL_STATES),
                         set(s.STABLE_STATES) | set(s.TRANSIENT_STATES)
                         | set(s.FAILURE_STATES))

    def test_targets(self) -> None:
        self.assertIsNone(provision.target_of(s.ACTIVE))
        self.assertEqual(s.ACTIVE, provision.target_of(s.DEPLOYFAIL))
        self.assertEqual(s.AVAILABLE, provision.target_of(s.CLEANING))
        self.assertEqual(s.MANAGEABLE,
                         provision.target_of(s.CLEANING, manual_clean=True))
        for state in s.TRANSIENT_STATES + s.FAILURE_STATES:
            self.assertIsNotNone(provision.target_of(state), state)

    def test_api_targets(self) -> None:
        self.assertEqual('deploy', provision.event_for_target(
            'n', s.AVAILABLE, 'active'))
        self.assertEqual('delete', provision.event_for_target(
            'n', s.ACTIVE, 'undeploy'))
        error = self.assertRaises(exceptions.InvalidStateRequested,
                                  provision.event_for_target, 'n',
                                  s.ENROLL, 'explode')
        self.assertIn('"explode"', str(error))
        self.assertIn('"enroll"', str(error))
