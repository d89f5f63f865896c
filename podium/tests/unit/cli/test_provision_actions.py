"""Provision bulk actions against a scripted client."""

from podium.cli import actions, provision_actions
from podium.cli.bulk import Outcome
from podium.cli.commands import provision
from podium.cli.errors import CliError
from podium.tests import base
from podium.tests.unit.cli.test_actions import ScriptedClient, finish, note


def _node(state: str, target: str | None = None,
          error: str | None = None) -> dict[str, object]:
    return {'provision_state': state, 'target_provision_state': target,
            'last_error': error, 'reservation': None}


class ProvisionActionTest(base.TestCase):

    def test_wait_until_reached(self) -> None:
        client = ScriptedClient(None, _node('cleaning', 'available'),
                                _node('available'))
        _delays, outcome = finish(provision_actions.provision(
            client, 'provide', wait=True, timeout=10)('n1', note))
        self.assertEqual(Outcome(True, 'reached available',
                                 {'provision_state': 'available'}), outcome)
        self.assertEqual(('PUT', '/v1/nodes/n1/states/provision',
                          {'body': {'target': 'provide'}}), client.sent[0])

    def test_failure_state_and_fallback(self) -> None:
        client = ScriptedClient(None, _node('clean failed', 'available',
                                            'step broke'))
        _delays, outcome = finish(provision_actions.provision(
            client, 'provide', wait=True, timeout=10)('n1', note))
        self.assertEqual((False, 'step broke'),
                         (outcome.ok, outcome.reason))
        client = ScriptedClient(None, _node('enroll', None, 'bad BMC'))
        _delays, outcome = finish(provision_actions.provision(
            client, 'manage', wait=True, timeout=10)('n1', note))
        self.assertEqual((False, 'bad BMC'), (outcome.ok, outcome.reason))

    def test_instance_info_patched_first(self) -> None:
        client = ScriptedClient(None, None, _node('active'))
        _delays, outcome = finish(provision_actions.provision(
            client, 'active', wait=True, timeout=10,
            instance_info={'kickstart': 'rhel9.ks', 'a/b': 2})('n1', note))
        self.assertTrue(outcome.ok)
        self.assertEqual(('PATCH', '/v1/nodes/n1', {'body': [
            {'op': 'add', 'path': '/instance_info/kickstart',
             'value': 'rhel9.ks'},
            {'op': 'add', 'path': '/instance_info/a~1b', 'value': 2}]}),
            client.sent[0])
        self.assertEqual(('PUT', '/v1/nodes/n1/states/provision',
                          {'body': {'target': 'active'}}), client.sent[1])

    def test_clean_steps_sent(self) -> None:
        steps = [{'interface': 'power', 'step': 'power_off'}]
        client = ScriptedClient(None)
        _delays, outcome = finish(provision_actions.provision(
            client, 'clean', wait=False, timeout=10,
            clean_steps=steps)('n1', note))
        self.assertTrue(outcome.ok)
        self.assertEqual({'body': {'target': 'clean',
                                   'clean_steps': steps}}, client.sent[0][2])

    def test_enroll_creates_then_manages_then_provides(self) -> None:
        body = {'driver': 'fake-hardware', 'name': 'e1'}
        client = ScriptedClient({'uuid': 'u1'}, None, _node('manageable'),
                                None, _node('cleaning', 'available'),
                                _node('available'))
        action = provision_actions.enroll(
            client, actions.create(client, [body]), ['manage', 'provide'],
            timeout=10)
        _delays, outcome = finish(action('0', note))
        self.assertEqual(Outcome(True, 'created, reached manageable, '
                                       'reached available',
                                 {'uuid': 'u1',
                                  'provision_state': 'available'}),
                         outcome)
        self.assertEqual(
            [('POST', '/v1/nodes'), ('PUT', '/v1/nodes/u1/states/provision'),
             ('GET', '/v1/nodes/u1'),
             ('PUT', '/v1/nodes/u1/states/provision'),
             ('GET', '/v1/nodes/u1'), ('GET', '/v1/nodes/u1')],
            [(method, path) for method, path, _ in client.sent])
        self.assertEqual([{'target': 'manage'}, {'target': 'provide'}],
                         [kwargs['body'] for method, _, kwargs in client.sent
                          if method == 'PUT'])

    def test_enroll_stops_at_a_failed_verification(self) -> None:
        client = ScriptedClient({'uuid': 'u1'}, None,
                                _node('enroll', None, 'BMC refused login'))
        action = provision_actions.enroll(
            client, actions.create(client, [{'driver': 'redfish'}]),
            ['manage', 'provide'], timeout=10)
        _delays, outcome = finish(action('0', note))
        self.assertEqual(
            Outcome(False, 'created; manage failed: BMC refused login',
                    {'uuid': 'u1', 'provision_state': 'enroll'}), outcome)
        self.assertEqual(3, len(client.sent))  # no provide asked for

    def test_load_clean_steps(self) -> None:
        self.assertEqual([{'a': 1}], provision.load_clean_steps('[{"a": 1}]'))
        self.assertRaises(CliError, provision.load_clean_steps, '[oops')
        self.assertRaises(CliError, provision.load_clean_steps,
                          '/nonexistent/steps.json')
