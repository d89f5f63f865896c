"""Per-node actions against a scripted client."""

from typing import Any

from podium.cli import actions
from podium.cli.errors import ApiError
from podium.tests import base
from podium.tests.unit.cli import test_steps


class ScriptedClient:
    """Answers requests from a list; records what was asked."""

    def __init__(self, *answers: Any) -> None:
        self.answers = list(answers)
        self.sent: list[tuple[str, str, dict]] = []

    def request(self, method: str, path: str, **kwargs: Any) -> Any:
        self.sent.append((method, path, kwargs))
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer


#: Run an action's steps to the end: the delays it asked for, its
#: outcome.
finish = test_steps.drain


def note(message: str) -> None:
    pass


class PowerTest(base.TestCase):

    def test_request_only(self) -> None:
        client = ScriptedClient(ApiError(409, 'locked'), None)
        delays, outcome = finish(actions.power(
            client, 'power on', wait=False, timeout=10)('n1', note))
        self.assertEqual(actions.Outcome(True, 'power on requested'),
                         outcome)
        self.assertEqual(1, len(delays))
        self.assertEqual(('PUT', '/v1/nodes/n1/states/power',
                          {'body': {'target': 'power on'}}),
                         client.sent[-1])

    def test_wait_until_reached(self) -> None:
        client = ScriptedClient(
            None,
            {'power_state': 'power off', 'target_power_state': 'power on'},
            {'power_state': 'power on', 'target_power_state': None})
        notes: list[str] = []
        delays, outcome = finish(actions.power(
            client, 'rebooting', wait=True, timeout=10)('n1', notes.append))
        self.assertEqual(actions.Outcome(True, 'reached power on',
                                         {'power_state': 'power on'}),
                         outcome)
        self.assertEqual(['rebooting requested'], notes)
        self.assertEqual(1, len(delays))

    def test_wait_reports_last_error(self) -> None:
        client = ScriptedClient(
            {'power_state': 'power off', 'target_power_state': None,
             'last_error': 'BMC did not answer within 2 seconds'})
        _, outcome = finish(actions.wait_for_power(
            client, 'n1', 'power on', 10))
        self.assertFalse(outcome.ok)
        self.assertEqual('BMC did not answer within 2 seconds',
                         outcome.reason)

    def test_wait_times_out(self) -> None:
        client = ScriptedClient(
            {'power_state': 'power off', 'target_power_state': 'power on'})
        _, outcome = finish(actions.wait_for_power(
            client, 'n1', 'power on', 0.000001))
        self.assertFalse(outcome.ok)
        self.assertEqual('timed out after 1e-06s waiting for power on '
                         '(power state: power off)', outcome.reason)


class OtherActionsTest(base.TestCase):

    def test_validation_outcome(self) -> None:
        outcome = actions.validation_outcome({
            'power': {'result': True, 'reason': None},
            'management': {'result': False, 'reason': 'missing address'},
            'inspect': {'result': None, 'reason': 'not supported'}})
        self.assertFalse(outcome.ok)
        self.assertEqual('management: missing address', outcome.reason)
        self.assertEqual({'power': 'valid', 'management': 'invalid',
                          'inspect': 'not used'}, outcome.data)
        self.assertTrue(actions.validation_outcome(
            {'power': {'result': True}}).ok)

    def test_show_drops_links(self) -> None:
        client = ScriptedClient({'uuid': 'u', 'links': []})
        _, outcome = finish(actions.show(client)('n/1', note))
        self.assertEqual({'uuid': 'u'}, outcome.data)
        self.assertEqual('/v1/nodes/n%2F1', client.sent[0][1])

    def test_create_does_not_retry_conflicts(self) -> None:
        client = ScriptedClient(ApiError(409, 'duplicate name'))
        self.assertRaises(ApiError, finish, actions.create(
            client, [{'driver': 'fake-hardware'}])('0', note))

    def test_boot_device_and_maintenance(self) -> None:
        client = ScriptedClient(None, None, None,
                                {'boot_device': 'pxe', 'persistent': True})
        _, outcome = finish(actions.boot_device_set(
            client, 'pxe', True)('n1', note))
        self.assertEqual('boot device set to pxe (persistent)',
                         outcome.reason)
        finish(actions.maintenance(client, True, 'swap')('n1', note))
        finish(actions.maintenance(client, False)('n1', note))
        _, outcome = finish(actions.boot_device_show(client)('n1', note))
        self.assertEqual({'boot_device': 'pxe', 'persistent': True},
                         outcome.data)
        self.assertEqual([
            ('PUT', '/v1/nodes/n1/management/boot_device',
             {'body': {'boot_device': 'pxe', 'persistent': True}}),
            ('PUT', '/v1/nodes/n1/maintenance', {'body': {'reason': 'swap'}}),
            ('DELETE', '/v1/nodes/n1/maintenance', {}),
            ('GET', '/v1/nodes/n1/management/boot_device', {})],
            client.sent)
