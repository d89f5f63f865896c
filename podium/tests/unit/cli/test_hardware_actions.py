"""BIOS, boot mode and virtual media bulk actions against a scripted
client."""

from podium.cli import hardware_actions
from podium.cli.bulk import Outcome
from podium.cli.client import ApiError
from podium.tests import base
from podium.tests.unit.cli.test_actions import ScriptedClient, finish, note

BIOS = {'bios': [{'name': 'A', 'value': '1'}, {'name': 'B', 'value': 'x'}]}


class BiosActionsTest(base.TestCase):

    def test_show_with_names(self) -> None:
        client = ScriptedClient(BIOS)
        _delays, outcome = finish(hardware_actions.bios_show(
            client, ['B'])('n1', note))
        self.assertEqual(Outcome(True, '2 settings', {
            'bios': {'A': '1', 'B': 'x'}, 'B': 'x'}), outcome)
        self.assertEqual(('GET', '/v1/nodes/n1/bios'), client.sent[0][:2])

    def test_show_fails_without_settings_or_name(self) -> None:
        _delays, outcome = finish(hardware_actions.bios_show(
            ScriptedClient({'bios': []}))('n1', note))
        self.assertFalse(outcome.ok)
        self.assertIn('inspect or clean', outcome.reason)
        _delays, outcome = finish(hardware_actions.bios_show(
            ScriptedClient(BIOS), ['C'])('n1', note))
        self.assertEqual((False, 'no BIOS setting C'),
                         (outcome.ok, outcome.reason))

    def test_apply_and_reset_are_manual_cleaning(self) -> None:
        client = ScriptedClient(None, None)
        finish(hardware_actions.bios_apply(
            client, {'A': 2, 'B': 'y'}, wait=False, timeout=5)('n1', note))
        finish(hardware_actions.bios_reset(client, wait=False,
                                           timeout=5)('n1', note))
        self.assertEqual(
            [{'target': 'clean', 'clean_steps': [{
                'interface': 'bios', 'step': 'apply_configuration',
                'args': {'settings': [{'name': 'A', 'value': 2},
                                      {'name': 'B', 'value': 'y'}]}}]},
             {'target': 'clean', 'clean_steps': [
                 {'interface': 'bios', 'step': 'factory_reset'}]}],
            [kwargs['body'] for _m, _p, kwargs in client.sent])

    def test_boot_mode_retries_busy_then_sets(self) -> None:
        client = ScriptedClient(ApiError(409, 'locked'), None)
        delays, outcome = finish(hardware_actions.boot_mode_set(
            client, 'uefi')('n1', note))
        self.assertEqual(Outcome(True, 'boot mode set to uefi',
                                 {'boot_mode': 'uefi'}), outcome)
        self.assertEqual(1, len(delays))
        self.assertEqual(('PUT', '/v1/nodes/n1/states/boot_mode',
                          {'body': {'target': 'uefi'}}), client.sent[-1])

    def test_vmedia_attach_and_detach(self) -> None:
        client = ScriptedClient(ApiError(409, 'locked'), None, None, None)
        delays, outcome = finish(hardware_actions.vmedia_attach(
            client, 'cdrom', 'http://h/x.iso')('n1', note))
        self.assertEqual(Outcome(True, 'cdrom attached', {
            'device_type': 'cdrom', 'image': 'http://h/x.iso'}), outcome)
        self.assertEqual(1, len(delays))
        self.assertEqual(('POST', '/v1/nodes/n1/vmedia', {'body': {
            'device_type': 'cdrom', 'image_url': 'http://h/x.iso'}}),
            client.sent[-1])
        _delays, outcome = finish(hardware_actions.vmedia_detach(
            client, ['cdrom', 'disk'])('n1', note))
        self.assertEqual((True, 'cdrom,disk detached'),
                         (outcome.ok, outcome.reason))
        self.assertEqual(('DELETE', '/v1/nodes/n1/vmedia', {
            'params': {'device_types': 'cdrom,disk'}}), client.sent[-1])
        _delays, outcome = finish(hardware_actions.vmedia_detach(
            client)('n1', note))
        self.assertEqual(('DELETE', '/v1/nodes/n1/vmedia',
                          {'params': None}), client.sent[-1])
