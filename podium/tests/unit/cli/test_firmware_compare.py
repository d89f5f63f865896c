"""The firmware comparison table and the firmware show action."""

from podium.cli import hardware_actions
from podium.cli.bulk import Result
from podium.cli.commands import firmware
from podium.tests import base
from podium.tests.unit.cli.test_actions import ScriptedClient, finish, note


def _result(host: str, versions: dict[str, str] | None) -> Result:
    return Result(host, 'firmware compare', versions is not None,
                  '' if versions is not None else 'HTTP 404', 0.1,
                  {'firmware': versions or {}})


class CompareTest(base.TestCase):

    def test_odd_versions_marked(self) -> None:
        rows, cols = firmware.comparison([
            _result('a', {'bios': '1.0', 'bmc': '2.0'}),
            _result('b', {'bios': '1.0', 'bmc': '2.1'}),
            _result('c', {'bios': '1.0', 'bmc': '2.0'}),
            _result('gone', None)])
        self.assertEqual(['Component', 'a', 'b', 'c', 'Differs'],
                         [col.header for col in cols])
        self.assertEqual([
            {'component': 'bios', 'a': '1.0', 'b': '1.0', 'c': '1.0',
             'differs': False},
            {'component': 'bmc', 'a': '2.0', 'b': '2.1 *', 'c': '2.0',
             'differs': True}], rows)

    def test_missing_component_differs(self) -> None:
        rows, _cols = firmware.comparison([
            _result('a', {'bios': '1.0', 'nic': '7'}),
            _result('b', {'bios': '1.0'}),
            _result('c', {'bios': '1.0'})])
        self.assertEqual({'component': 'nic', 'a': '7 *', 'b': None,
                          'c': None, 'differs': True}, rows[1])

    def test_show_action(self) -> None:
        client = ScriptedClient({'firmware': [
            {'component': 'bios', 'current_version': '1.0'}]},
            {'firmware': []})
        _d, outcome = finish(hardware_actions.firmware_show(client)('n', note))
        self.assertEqual((True, {'firmware': {'bios': '1.0'}}),
                         (outcome.ok, outcome.data))
        _d, outcome = finish(hardware_actions.firmware_show(client)('n', note))
        self.assertFalse(outcome.ok)
        self.assertIn('inspect the node', outcome.reason)
