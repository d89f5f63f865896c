"""BIOS settings through the API: the cache (GET /v1/nodes/{id}/bios,
1.40, registry fields at 1.74) and changes through the manual clean
steps bios.apply_configuration and bios.factory_reset, on fake-hardware.
"""

from typing import Any

from podium.db import api as db_api
from podium.db import bios as db_bios
from podium.tests.unit.api import base

LATEST = {'X-OpenStack-Ironic-API-Version': 'latest'}
REGISTRY_FIELDS = {'attribute_type', 'allowable_values', 'lower_bound',
                   'upper_bound', 'min_length', 'max_length', 'read_only',
                   'reset_required', 'unique'}


def _version(version: str) -> dict[str, str]:
    return {'X-OpenStack-Ironic-API-Version': version}


class BiosTestBase(base.APITestCase):

    def setUp(self) -> None:
        super().setUp()
        self.create_node(name='n1')

    def apply(self, *settings: tuple[str, Any]) -> Any:
        return self.provision('clean', clean_steps=[{
            'interface': 'bios', 'step': 'apply_configuration',
            'args': {'settings': [{'name': name, 'value': value}
                                  for name, value in settings]}}])

    def settings(self) -> dict[str, str]:
        body = self.client.get('/v1/nodes/n1/bios', headers=LATEST).json()
        return {item['name']: item['value'] for item in body['bios']}


class BiosCacheTest(BiosTestBase):

    def test_inspection_fills_the_cache(self) -> None:
        self.assertEqual({'bios': []}, self.client.get(
            '/v1/nodes/n1/bios', headers=LATEST).json())
        self.move('manage', 'manageable')
        self.move('inspect', 'manageable')
        body = self.client.get('/v1/nodes/n1/bios',
                               headers=_version('1.40')).json()
        names = [item['name'] for item in body['bios']]
        self.assertEqual(sorted(names), names)
        self.assertIn('ProcTurboMode', names)
        turbo = next(item for item in body['bios']
                     if item['name'] == 'ProcTurboMode')
        self.assertEqual({'name', 'value', 'created_at', 'updated_at',
                          'links'}, set(turbo))
        self.assertEqual('Enabled', turbo['value'])
        uuid = self.client.get('/v1/nodes/n1').json()['uuid']
        self.assertEqual(f'{base.BASE}/v1/nodes/{uuid}/bios/ProcTurboMode',
                         turbo['links'][0]['href'])
        self.assertEqual('fake', self.client.get(
            '/v1/nodes/n1', headers=LATEST).json()['bios_interface'])

    def test_microversions(self) -> None:
        self.move('manage', 'manageable')
        self.move('inspect', 'manageable')
        self.assertEqual(404, self.client.get(
            '/v1/nodes/n1/bios', headers=_version('1.39')).status_code)
        self.assertEqual(404, self.client.get(
            '/v1/nodes/n1/bios/ProcTurboMode',
            headers=_version('1.39')).status_code)
        self.assertError(self.client.get(
            '/v1/nodes/n1/bios?detail=True', headers=_version('1.73')),
            406, '1.74')
        # A single setting shows the registry from 1.74 on.
        old = self.client.get('/v1/nodes/n1/bios/NumaNodesPerSocket',
                              headers=_version('1.73')).json()
        self.assertFalse(REGISTRY_FIELDS & set(old['NumaNodesPerSocket']))
        new = self.client.get('/v1/nodes/n1/bios/NumaNodesPerSocket',
                              headers=_version('1.74')).json()
        numa = new['NumaNodesPerSocket']
        self.assertLessEqual(REGISTRY_FIELDS, set(numa))
        self.assertEqual(('Integer', 1, 4, '1'),
                         (numa['attribute_type'], numa['lower_bound'],
                          numa['upper_bound'], numa['value']))

    def test_detail_and_fields(self) -> None:
        self.move('manage', 'manageable')
        self.move('inspect', 'manageable')
        detail = self.client.get('/v1/nodes/n1/bios?detail=True',
                                 headers=LATEST).json()['bios']
        turbo = next(item for item in detail
                     if item['name'] == 'ProcTurboMode')
        self.assertEqual(['Enabled', 'Disabled'], turbo['allowable_values'])
        self.assertEqual('Enumeration', turbo['attribute_type'])
        self.assertIs(False, turbo['read_only'])
        fields = self.client.get('/v1/nodes/n1/bios?fields=name,read_only',
                                 headers=LATEST).json()['bios']
        self.assertEqual({'name', 'read_only', 'links'}, set(fields[0]))
        self.assertError(self.client.get(
            '/v1/nodes/n1/bios?fields=name&detail=True', headers=LATEST),
            400, 'detail')
        self.assertError(self.client.get(
            '/v1/nodes/n1/bios?fields=colour', headers=LATEST), 400,
            'colour')

    def test_not_found(self) -> None:
        self.assertError(self.client.get('/v1/nodes/n1/bios/Nope',
                                         headers=LATEST), 404, 'Nope')
        self.assertError(self.client.get('/v1/nodes/nx/bios',
                                         headers=LATEST), 404, 'nx')


class BiosApplyTest(BiosTestBase):

    def setUp(self) -> None:
        super().setUp()
        self.move('manage', 'manageable')
        self.move('inspect', 'manageable')

    def test_apply_and_reset(self) -> None:
        before = self.client.get('/v1/nodes/n1/bios/ProcTurboMode',
                                 headers=LATEST).json()['ProcTurboMode']
        response = self.apply(('ProcTurboMode', 'Disabled'),
                              ('NumaNodesPerSocket', 2),
                              ('SriovGlobalEnable', True))
        self.assertEqual(202, response.status_code, response.text)
        node = self.wait_for('/v1/nodes/n1', 'provision_state',
                             'manageable')
        node = self.wait_for('/v1/nodes/n1', 'reservation', None)
        self.assertIsNone(node['last_error'])
        settings = self.settings()
        self.assertEqual(('Disabled', '2', 'true'),
                         (settings['ProcTurboMode'],
                          settings['NumaNodesPerSocket'],
                          settings['SriovGlobalEnable']))
        after = self.client.get('/v1/nodes/n1/bios/ProcTurboMode',
                                headers=LATEST).json()['ProcTurboMode']
        self.assertEqual(before['created_at'], after['created_at'])
        self.assertIsNotNone(after['updated_at'])
        # Applied through Podium: now intended (intended settings page).
        self.assertEqual({'bios': {'ProcTurboMode': 'Disabled',
                                   'NumaNodesPerSocket': 2,
                                   'SriovGlobalEnable': True}},
                         node['intended_settings'])
        node = self.move('clean', 'manageable', clean_steps=[
            {'interface': 'bios', 'step': 'factory_reset'}])
        self.assertEqual('Enabled', self.settings()['ProcTurboMode'])
        self.assertIsNone(node['intended_settings'])
        self.assertEqual('1', self.settings()['NumaNodesPerSocket'])

    def test_bad_settings_are_refused_before_the_bmc(self) -> None:
        cases = [
            ((('Turbo', 'Enabled'),), 'unknown attribute Turbo'),
            ((('ProcTurboMode', 'Fast'),),
             "ProcTurboMode='Fast' is not one of Enabled, Disabled"),
            ((('NumaNodesPerSocket', 9),), 'NumaNodesPerSocket=9 is above 4'),
            ((('NumaNodesPerSocket', 'x'),), 'is not an integer'),
            ((('SystemModelName', 'x'),), 'SystemModelName is read-only'),
            ((('AssetTag', 'x' * 17),), 'longer than 16'),
            ((('SriovGlobalEnable', 'maybe'),), 'is not a boolean'),
        ]
        for settings, message in cases:
            with self.subTest(message=message):
                self.assertError(self.apply(*settings), 400, message)
        # Every problem of one request is named at once.
        self.assertError(self.apply(('Turbo', 1), ('ProcTurboMode', 'x')),
                         400, 'unknown attribute Turbo',
                         "ProcTurboMode='x'")
        for args in ({'settings': []}, {'settings': [{'name': 'x'}]},
                     {'settings': 'ProcTurboMode=Disabled'}):
            with self.subTest(args=args):
                self.assertError(self.provision('clean', clean_steps=[{
                    'interface': 'bios', 'step': 'apply_configuration',
                    'args': args}]), 400, 'BIOS setting')
        self.assertError(self.provision('clean', clean_steps=[{
            'interface': 'bios', 'step': 'apply_configuration'}]), 400,
            'missing required argument(s) settings')
        node = self.client.get('/v1/nodes/n1', headers=LATEST).json()
        self.assertEqual('manageable', node['provision_state'])
        self.assertEqual({}, db_api.get_node('n1').driver_internal_info.get(
            'fake_bios', {}))

    def test_uncached_node_is_refused(self) -> None:
        node = db_api.get_node('n1')
        db_bios.replace_settings(node.id, [])
        self.assertError(self.apply(('ProcTurboMode', 'Disabled')), 400,
                         'BIOS settings are not known yet')

    def test_setting_not_kept_fails_the_step(self) -> None:
        db_api.update_node('n1', {'driver_info': {
            'fake_bios_not_kept': 'ProcTurboMode'}})
        response = self.apply(('ProcTurboMode', 'Disabled'),
                              ('LogicalProc', 'Disabled'))
        self.assertEqual(202, response.status_code, response.text)
        self.wait_for('/v1/nodes/n1', 'provision_state', 'clean failed')
        node = self.wait_for('/v1/nodes/n1', 'reservation', None)
        self.assertIn('Failed to run clean step bios.apply_configuration',
                      node['last_error'])
        self.assertIn('accepted the BIOS setting(s) ProcTurboMode but did '
                      'not keep them', node['last_error'])

    def test_no_bios_interface_has_no_steps(self) -> None:
        response = self.client.patch('/v1/nodes/n1', json=[
            {'op': 'replace', 'path': '/bios_interface',
             'value': 'no-bios'}], headers=LATEST)
        self.assertEqual(200, response.status_code, response.text)
        self.assertError(self.apply(('ProcTurboMode', 'Disabled')), 400,
                         'no bios interface step named '
                         '"apply_configuration"')
        steps = self.client.get('/v1/nodes/n1/validate',
                                headers=LATEST).json()
        self.assertEqual({'result': True, 'reason': None}, steps['bios'])
