"""``podium node sensors`` as a subprocess against a running all-in-one
Podium on fake-hardware: several nodes and a host list, a broken BMC
failing alone with exit status 1, --name, --kind and -f json/table."""

from podium.tests.functional.cli.test_cli import CliTestCase


class SensorsCommandTest(CliTestCase):

    def test_bulk_sensors(self) -> None:
        self.create('sn-1')
        self.create('sn-2')
        self.create('sn-bad', '--driver-info', 'fake_fail=BMC on fire')
        self.cli('node', 'power', 'on', 'sn-1', '--wait')
        rows = self.by_host(self.cli_json(
            'node', 'sensors', 'sn-1', 'sn-2', 'sn-bad', '--name',
            'CPU1 Temp', expect=1))
        self.assertEqual('SUCCESSFUL', rows['sn-1']['Result'])
        self.assertGreaterEqual(rows['sn-1']['Power (W)'], 180.0)
        self.assertTrue(rows['sn-1']['CPU1 Temp'].endswith(' Cel'))
        self.assertEqual([], rows['sn-1']['Critical'])
        # sn-2 is off: standby power, no CPU reading.
        self.assertEqual((8.0, None), (rows['sn-2']['Power (W)'],
                                       rows['sn-2']['CPU1 Temp']))
        self.assertEqual('FAILED', rows['sn-bad']['Result'])
        self.assertIn('BMC on fire', rows['sn-bad']['Reason'])

        host_list = self.write('sensor-hosts.txt', 'sn-1\n# off\nsn-2\n')
        rows = self.by_host(self.cli_json(
            'node', 'sensors', '--host-list', host_list, '--kind', 'fan',
            '--long', '--concurrency', '1'))
        self.assertEqual({'sn-1', 'sn-2'}, set(rows))
        self.assertEqual({'fan'}, {item['kind'] for row in rows.values()
                                   for item in row['Sensors']})
        _, out, err = self.cli('node', 'sensors', 'sn-1')
        self.assertIn('| sn-1 | sensors |', out)
        self.assertIn('SUCCESSFUL', out)
        self.assertIn('sn-1', err)  # host-prefixed progress
        _, _, err = self.cli('node', 'sensors', 'sn-1', '--kind', 'humidity',
                             expect=2)
        self.assertIn("invalid choice: 'humidity'", err)
