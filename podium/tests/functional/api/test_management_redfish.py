"""Boot order, NMI and BMC reset end to end on Redfish: ``podium
serve`` with the real ``redfish`` management interface against Podium's
Redfish simulator, through the API (vendor passthru,
``management/inject_nmi``, ``bmc_reset``): what the simulated BMC ends up
with, and that bad input leaves it untouched."""

from typing import Any

from podium.tests.functional import redfish_serve


class TestRedfishManagementActions(redfish_serve.RedfishServeTestCase):

    def setUp(self) -> None:
        super().setUp()
        self.sim = self.start_simulator(systems_per_endpoint=1, seed=21,
                                        password='Mgmt-sim-Pw7')
        info = self.sim.systems[0]
        self.macs = list(info.macs)
        self.enrol('rf-1', info)

    def passthru(self, method: str, verb: str = 'GET', status: int = 200,
                 **kwargs: Any) -> Any:
        return self.request(verb, '/v1/nodes/rf-1/vendor_passthru', status,
                            params={'method': method}, **kwargs)

    def test_boot_order_nmi_and_bmc_reset(self) -> None:
        order = self.passthru('get_boot_order')['boot_order']
        self.assertEqual(self.macs, [o['mac'] for o in order if o['mac']])
        self.assertEqual('disk', order[0]['device'])
        nic = next(o for o in order if o['mac'] == self.macs[-1])
        result = self.passthru('set_boot_order', 'POST',
                               json={'mac': self.macs[-1]})
        self.assertEqual(nic['ref'], result['boot_order'][0]['ref'])
        sim_order = self.sim.describe_system(0)['boot_order']['order']
        self.assertEqual([o['ref'] for o in result['boot_order']], sim_order)
        # Refused before any change: a kind and a MAC the BMC lacks.
        self.passthru('set_boot_order', 'POST', 400, json={'devices': ['usb']})
        self.passthru('set_boot_order', 'POST', 400,
                      json={'mac': '02:00:00:00:00:99'})
        self.assertEqual(sim_order,
                         self.sim.describe_system(0)['boot_order']['order'])
        self.assertTrue(self.passthru('check_boot_order', 'POST', json={
            'mac': self.macs[-1]})['matches'])

        self.request('PUT', '/v1/nodes/rf-1/management/inject_nmi', 202)
        self.assertEqual(1, self.sim.describe_system(0)['nmis'])

        self.request('POST', '/v1/nodes/rf-1/bmc_reset', 202)
        self.assertEqual(1, self.sim.stats()['endpoints'][0]['bmc_resets'])
        events = [entry['event'] for entry in self.request(
            'GET', '/v1/nodes/rf-1/history', 200)['history']]
        self.assertIn('NMI injected.', events)
        self.assertIn('BMC reset requested by an operator.', events)
        self.assertEqual(0, self.podium.stop())
