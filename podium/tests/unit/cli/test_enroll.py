"""Enrollment files: parsing and checking every row before any write."""

import io
import os

import fixtures

from podium.cli import enroll
from podium.cli.errors import CliError
from podium.tests import base

GOOD_YAML = """
- name: r1
  driver: redfish
  driver_info: {redfish_address: 'https://10.0.0.1', redfish_password: '1'}
  properties: {cpus: 32}
- driver: fake-hardware
"""

GOOD_CSV = """\
name,driver,driver_info/redfish_address,properties/cpus,extra/rack
r1,redfish,https://10.0.0.1,32,7
# a comment row
,fake-hardware,,,

r3,redfish,https://10.0.0.3,,
"""

DRIVERS = ['redfish', 'fake-hardware']


def messages(problems: list[enroll.Problem]) -> list[str]:
    return [str(p) for p in problems]


class YamlTest(base.TestCase):

    def test_good_rows(self) -> None:
        rows = enroll.yaml_rows(GOOD_YAML)
        self.assertEqual([], enroll.check_rows(rows, DRIVERS))
        self.assertEqual({'name': 'r1', 'driver': 'redfish',
                          'driver_info': {
                              'redfish_address': 'https://10.0.0.1',
                              'redfish_password': '1'},
                          'properties': {'cpus': 32}}, rows[0].body)
        self.assertEqual(['r1', 'row 2'], [r.label for r in rows])

    def test_nodes_key_is_accepted(self) -> None:
        rows = enroll.yaml_rows('nodes:\n  - driver: redfish\n')
        self.assertEqual([{'driver': 'redfish'}], [r.body for r in rows])

    def test_every_problem_of_every_row_is_reported(self) -> None:
        text = """
- name: ok
  driver: redfish
- name: bad name
  driver_info: [1, 2]
- just a string
- name: ok
  driver: ipmi
  uuid: not-a-uuid
  colour: blue
- name: 42
  driver: redfish
"""
        problems = enroll.check_rows(enroll.yaml_rows(text), DRIVERS,
                                     names=['taken'])
        self.assertEqual([
            'row 2: driver: is required',
            'row 2: driver_info: must be a mapping',
            'row 2: name: "bad name" is not a valid node name: use 1 to '
            '255 letters, digits and . _ ~ -',
            'row 3: -: must be a mapping of node fields',
            'row 4: colour: unknown field',
            "row 4: uuid: 'not-a-uuid' is not a UUID",
            "row 4: driver: unknown driver 'ipmi'; enabled: redfish, "
            "fake-hardware",
            "row 4: name: 'ok' repeats row 1",
            'row 5: name: must be a string, got 42',
        ], messages(problems))

    def test_existing_names_and_uuids(self) -> None:
        text = ('- {driver: redfish, name: Taken}\n'
                '- {driver: redfish, uuid: '
                '11111111-1111-1111-1111-111111111111}\n')
        problems = enroll.check_rows(
            enroll.yaml_rows(text), DRIVERS, names=['taken'],
            uuids=['11111111-1111-1111-1111-111111111111'])
        self.assertEqual([
            "row 1: name: a node with name 'Taken' already exists",
            "row 2: uuid: a node with uuid "
            "'11111111-1111-1111-1111-111111111111' already exists"],
            messages(problems))

    def test_not_a_list(self) -> None:
        self.assertRaises(CliError, enroll.yaml_rows, 'driver: redfish')
        self.assertRaises(CliError, enroll.yaml_rows, '- [unclosed')


class CsvTest(base.TestCase):

    def test_good_rows_nested_and_typed(self) -> None:
        rows = enroll.csv_rows(io.StringIO(GOOD_CSV))
        self.assertEqual([], enroll.check_rows(rows, DRIVERS))
        self.assertEqual([2, 4, 6], [r.number for r in rows])
        self.assertEqual({'name': 'r1', 'driver': 'redfish',
                          'driver_info': {
                              'redfish_address': 'https://10.0.0.1'},
                          'properties': {'cpus': 32},
                          'extra': {'rack': 7}}, rows[0].body)
        self.assertEqual({'driver': 'fake-hardware'}, rows[1].body)

    def test_driver_info_stays_text(self) -> None:
        rows = enroll.csv_rows(io.StringIO(
            'driver,driver_info/ipmi_password\nipmi,0123\n'))
        self.assertEqual({'ipmi_password': '0123'},
                         rows[0].body['driver_info'])

    def test_bad_header_and_rows(self) -> None:
        text = ('name,driver,colour,driver_info,properties/,bogus/x\n'
                'a,redfish,,,,\n'
                'b,,,,,,extra-cell\n')
        problems = enroll.check_rows(enroll.csv_rows(io.StringIO(text)),
                                     DRIVERS)
        self.assertEqual([
            'row 1: colour: unknown column; expected one of driver, name, '
            'uuid, description, resource_class, conductor_group, owner, '
            'power_interface, management_interface, inspect_interface or '
            'FIELD/KEY',
            'row 1: driver_info: give driver_info keys as driver_info/KEY '
            'columns',
            'row 1: properties/: a nested column is FIELD/KEY with one '
            'non-empty KEY',
            'row 1: bogus/x: unknown column; nested columns start with one '
            'of driver_info, properties, extra',
            'row 3: -: has 7 cells but the header has 6',
            'row 3: driver: is required',
        ], messages(problems))


class ReadRowsTest(base.TestCase):

    def setUp(self) -> None:
        super().setUp()
        self.dir = self.useFixture(fixtures.TempDir()).path

    def _write(self, name: str, text: str) -> str:
        path = os.path.join(self.dir, name)
        with open(path, 'w') as handle:
            handle.write(text)
        return path

    def test_format_by_extension(self) -> None:
        self.assertEqual(2, len(enroll.read_rows(
            self._write('n.yml', GOOD_YAML))))
        self.assertEqual(3, len(enroll.read_rows(
            self._write('n.CSV', GOOD_CSV))))
        self.assertEqual(1, len(enroll.read_rows(
            self._write('n.json', '[{"driver": "redfish"}]'))))

    def test_unknown_extension_and_missing_file(self) -> None:
        exc = self.assertRaises(CliError, enroll.read_rows,
                                self._write('n.txt', ''))
        self.assertIn('cannot tell the format', str(exc))
        exc = self.assertRaises(CliError, enroll.read_rows,
                                os.path.join(self.dir, 'missing.csv'))
        self.assertIn('No such file or directory', str(exc))

    def test_error_lists_every_problem(self) -> None:
        problems = [enroll.Problem(2, 'driver', 'is required'),
                    enroll.Problem(2, 'name', 'bad'),
                    enroll.Problem(5, 'uuid', 'bad')]
        text = str(enroll.EnrollmentError('n.csv', problems))
        self.assertEqual('n.csv: 2 invalid row(s), nothing was created:\n'
                         '  row 2: driver: is required\n'
                         '  row 2: name: bad\n'
                         '  row 5: uuid: bad', text)
