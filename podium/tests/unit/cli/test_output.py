"""Output formats and column selection."""

import io
import json

import yaml

from podium.cli import output
from podium.cli.errors import CliError
from podium.tests import base

COLUMNS = output.columns(('UUID', 'uuid'), ('Power State', 'power_state'))
ROWS = [{'uuid': 'u1', 'power_state': 'power on', 'extra': {'a': 1}},
        {'uuid': 'u2', 'power_state': None, 'extra': {}}]


def render(fmt: str, wanted: list[str], rows: list = ROWS,
           record: dict | None = None) -> str:
    stream = io.StringIO()
    printer = output.Printer(fmt, wanted, stream)
    if record is not None:
        printer.print_record(record)
    else:
        printer.print_list(rows, COLUMNS, ['extra'])
    return stream.getvalue()


class ListTest(base.TestCase):

    def test_table(self) -> None:
        text = render('table', [])
        self.assertIn('| UUID | Power State |', text)
        self.assertIn('| u1   | power on    |', text)

    def test_json_and_yaml_use_headers_and_raw_values(self) -> None:
        expected = [{'UUID': 'u1', 'Power State': 'power on'},
                    {'UUID': 'u2', 'Power State': None}]
        self.assertEqual(expected, json.loads(render('json', [])))
        self.assertEqual(expected, yaml.safe_load(render('yaml', [])))

    def test_value_and_column_selection_by_header_or_key(self) -> None:
        self.assertEqual('power on u1\n u2\n',
                         render('value', ['power_state', 'uuid']))
        self.assertEqual('power on\n\n', render('value', ['POWER STATE']))

    def test_selectable_column_not_shown_by_default(self) -> None:
        self.assertNotIn('extra', render('table', []))
        self.assertEqual('{"a": 1}\n{}\n', render('value', ['extra']))

    def test_unknown_column(self) -> None:
        exc = self.assertRaises(CliError, render, 'table', ['bogus'])
        self.assertIn("unknown column 'bogus'; choose from: UUID, Power "
                      "State", str(exc))


class RecordTest(base.TestCase):
    RECORD = {'name': 'n1', 'uuid': 'u1', 'maintenance': False,
              'traits': ['a', 'b']}

    def test_table_is_sorted_field_value(self) -> None:
        lines = render('table', [], record=self.RECORD).splitlines()
        self.assertIn('| Field       | Value |', lines)
        fields = [line.split('|')[1].strip() for line in lines[3:-1]]
        self.assertEqual(['maintenance', 'name', 'traits', 'uuid'], fields)

    def test_selected_fields_in_asked_order(self) -> None:
        self.assertEqual({'uuid': 'u1', 'name': 'n1'}, json.loads(
            render('json', ['uuid', 'name'], record=self.RECORD)))
        self.assertEqual('u1\na, b\n', render('value', ['uuid', 'traits'],
                                              record=self.RECORD))


class CellTest(base.TestCase):

    def test_cells(self) -> None:
        self.assertEqual('', output.cell(None))
        self.assertEqual('False', output.cell(False))
        self.assertEqual('a, b', output.cell(['a', 'b']))
        self.assertEqual('{"a": 1, "b": [1]}',
                         output.cell({'b': [1], 'a': 1}))

    def test_long_cells_wrap_in_tables(self) -> None:
        text = render('table', [], rows=[{'uuid': 'x' * 200}])
        self.assertTrue(all(len(line) < 120 for line in text.splitlines()))
