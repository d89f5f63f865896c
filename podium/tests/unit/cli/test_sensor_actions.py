"""The ``node sensors`` bulk action against a scripted client."""

from podium.cli import sensor_actions
from podium.cli.client import ApiError
from podium.tests import base
from podium.tests.unit.cli.test_actions import ScriptedClient, finish, note

SENSORS = {'sensors': [
    {'name': 'System Power', 'kind': 'power', 'reading': 181.0,
     'units': 'W', 'health': 'OK', 'state': 'Enabled',
     'thresholds': {'upper_critical': 450.0}, 'context': 'PowerControl'},
    {'name': 'CPU1 Temp', 'kind': 'temperature', 'reading': 97.0,
     'units': 'Cel', 'health': 'Critical', 'state': 'Enabled',
     'thresholds': {'upper_critical': 95.0}, 'context': 'CPU'},
    {'name': 'Inlet Temp', 'kind': 'temperature', 'reading': 22.0,
     'units': 'Cel', 'health': 'OK', 'state': 'Enabled',
     'thresholds': {}, 'context': 'Intake'},
    {'name': 'Fan1', 'kind': 'fan', 'reading': None, 'units': 'RPM',
     'health': None, 'state': 'StandbyOffline', 'thresholds': {},
     'context': 'Fan'},
]}


class SensorsActionTest(base.TestCase):

    def test_summary_names_and_kinds(self) -> None:
        client = ScriptedClient(ApiError(503, 'busy'), SENSORS)
        delays, outcome = finish(sensor_actions.sensors_show(
            client, ['temperature', 'power'], ['Inlet Temp', 'Fan1'])(
            'n1', note))
        self.assertEqual(1, len(delays))  # the 503 was retried
        self.assertTrue(outcome.ok)
        self.assertEqual('4 readings; critical: CPU1 Temp', outcome.reason)
        data = outcome.data
        self.assertEqual((181.0, 97.0, ['CPU1 Temp']),
                         (data['power_watts'], data['max_temperature'],
                          data['critical']))
        self.assertEqual(('22 Cel', None), (data['Inlet Temp'],
                                            data['Fan1']))
        self.assertEqual(SENSORS['sensors'], data['sensors'])
        self.assertEqual(('GET', '/v1/nodes/n1/sensors',
                          {'params': {'kind': 'temperature,power'}}),
                         client.sent[-1])

    def test_missing_name_fails(self) -> None:
        _delays, outcome = finish(sensor_actions.sensors_show(
            ScriptedClient(SENSORS), (), ['PSU2'])('n1', note))
        self.assertEqual((False, 'no sensor PSU2'),
                         (outcome.ok, outcome.reason))
        client = ScriptedClient({'sensors': []})
        _delays, outcome = finish(sensor_actions.sensors_show(client)(
            'n1', note))
        self.assertEqual((True, '0 readings', None, None),
                         (outcome.ok, outcome.reason,
                          outcome.data['power_watts'],
                          outcome.data['max_temperature']))
        self.assertEqual({'params': None}, client.sent[-1][2])
