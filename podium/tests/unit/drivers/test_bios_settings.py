"""The BIOS settings value type, request checks and the cache writes."""

from podium.common import exceptions
from podium.db import bios as db_bios
from podium.drivers import bios_settings
from podium.drivers.bios_settings import BiosSetting
from podium.tests import base
from podium.tests.unit.conductor import utils

ENUM = BiosSetting('Mode', 'A', attribute_type='Enumeration',
                   allowable_values=('A', 'B'))
FREE = BiosSetting('Free', 'x')


class CheckChangesTest(base.TestCase):

    def test_value_without_registry_is_accepted(self) -> None:
        bios_settings.check_changes('n', {'Free': 'anything'}, [FREE])

    def test_text_forms_of_values(self) -> None:
        self.assertEqual(('true', '3', None), (
            bios_settings.as_text(True), bios_settings.as_text(3),
            bios_settings.as_text(None)))
        self.assertEqual(['Mode'], bios_settings.not_kept(
            {'Mode': 'B', 'Free': 'x'}, [ENUM, FREE]))

    def test_duplicate_name_refused(self) -> None:
        exc = self.assertRaises(
            exceptions.InvalidParameterValue,
            bios_settings.normalise_request, 'n',
            [{'name': 'Mode', 'value': 'A'}, {'name': 'Mode', 'value': 'B'}])
        self.assertIn('Mode is given more than once', str(exc))


class CacheTest(utils.ConductorTestCase):

    def test_replace_writes_only_changes(self) -> None:
        node = self.create_node('n1')
        self.assertEqual((2, 0, 0), db_bios.replace_settings(
            node.id, [ENUM, FREE]))
        first = {row.name: row for row in db_bios.list_settings(node.id)}
        self.assertEqual(['A', 'B'], first['Mode'].allowable_values)
        self.assertEqual((0, 0, 0), db_bios.replace_settings(
            node.id, [ENUM, FREE]))
        changed = BiosSetting('Mode', 'B', attribute_type='Enumeration',
                              allowable_values=('A', 'B'))
        self.assertEqual((1, 1, 1), db_bios.replace_settings(
            node.id, [changed, BiosSetting('New', '1')]))
        rows = {row.name: row for row in db_bios.list_settings(node.id)}
        self.assertEqual({'Mode', 'New'}, set(rows))
        self.assertEqual('B', rows['Mode'].value)
        self.assertEqual(first['Mode'].created_at, rows['Mode'].created_at)
        self.assertEqual([changed, BiosSetting('New', '1')],
                         db_bios.as_settings(list(rows.values())))
