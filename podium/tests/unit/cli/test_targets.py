"""Host lists and how their entries are matched to nodes."""

import io
import os

import fixtures

from podium.cli import targets
from podium.cli.errors import CliError
from podium.tests import base

NODES = [
    {'uuid': '11111111-1111-1111-1111-111111111111', 'name': 'node-1',
     'driver_info': {'redfish_address': 'https://10.0.0.1:8443'}},
    {'uuid': '22222222-2222-2222-2222-222222222222', 'name': 'node-2',
     'driver_info': {'ipmi_address': '10.0.0.2'}},
    {'uuid': '33333333-3333-3333-3333-333333333333', 'name': None,
     'driver_info': {'redfish_address': 'http://10.0.0.3:8000',
                     'redfish_system_id': 'a'}},
    {'uuid': '44444444-4444-4444-4444-444444444444', 'name': 'node-4',
     'driver_info': {'redfish_address': 'http://10.0.0.3:8000',
                     'redfish_system_id': 'b'}},
]


class HostListTest(base.TestCase):

    def test_comments_blanks_and_spaces_are_dropped(self) -> None:
        text = ('# rack 7\n\nnode-1\n  node-2   # the noisy one\n'
                '\t\n10.0.0.5\n#node-3\n')
        self.assertEqual(['node-1', 'node-2', '10.0.0.5'],
                         targets.parse_host_list(io.StringIO(text)))

    def test_missing_file_is_a_cli_error(self) -> None:
        exc = self.assertRaises(CliError, targets.read_host_list,
                                '/nonexistent/hosts.txt')
        self.assertEqual('cannot read host list /nonexistent/hosts.txt: '
                         'No such file or directory', str(exc))

    def test_binary_file_is_a_cli_error(self) -> None:
        path = os.path.join(self.useFixture(fixtures.TempDir()).path, 'b')
        with open(path, 'wb') as handle:
            handle.write(b'\xff\xfe\x00garbage')
        self.assertRaises(CliError, targets.read_host_list, path)

    def test_standard_input(self) -> None:
        self.useFixture(fixtures.MonkeyPatch(
            'sys.stdin', io.StringIO('node-1\n# c\nnode-2\n')))
        self.assertEqual(['node-1', 'node-2'],
                         targets.read_host_list('-'))


class AddressTest(base.TestCase):

    def test_looks_like_address(self) -> None:
        for entry in ('10.0.0.5', 'bmc:623', 'https://bmc/redfish', '::1',
                      '[fe80::1]:8000'):
            self.assertTrue(targets.looks_like_address(entry), entry)
        for entry in ('node-1', 'rack7.u12', 'a_b~c'):
            self.assertFalse(targets.looks_like_address(entry), entry)

    def test_split_address(self) -> None:
        self.assertEqual(('10.0.0.1', 8443),
                         targets.split_address('https://10.0.0.1:8443/'))
        self.assertEqual(('bmc.example', None),
                         targets.split_address('BMC.example'))
        self.assertEqual(('fe80::1', 8000),
                         targets.split_address('[fe80::1]:8000'))


class NodeIndexTest(base.TestCase):

    def setUp(self) -> None:
        super().setUp()
        self.index = targets.NodeIndex(NODES)

    def test_by_name_and_uuid(self) -> None:
        self.assertEqual(targets.Target('node-1', NODES[0]['uuid']),
                         self.index.resolve('NODE-1'))
        self.assertEqual(targets.Target(NODES[2]['uuid'], NODES[2]['uuid']),
                         self.index.resolve(NODES[2]['uuid'].upper()))

    def test_by_bmc_address_with_or_without_scheme(self) -> None:
        for entry in ('10.0.0.1:8443', 'https://10.0.0.1:8443', '10.0.0.1'):
            self.assertEqual('node-1', self.index.resolve(entry).label)
        self.assertEqual('node-2', self.index.resolve('10.0.0.2').label)

    def test_unknown_and_ambiguous_entries_fail_with_reason(self) -> None:
        unknown = self.index.resolve('node-9')
        self.assertIsNone(unknown.ident)
        self.assertEqual('node-9', unknown.label)
        self.assertIn('no node has this name', unknown.error)
        shared = self.index.resolve('10.0.0.3:8000')
        self.assertIsNone(shared.ident)
        self.assertIn('matches 2 nodes', shared.error)


class ResolveTargetsTest(base.TestCase):

    def setUp(self) -> None:
        super().setUp()
        self.listings = 0

    def _list(self) -> list[dict]:
        self.listings += 1
        return NODES

    def test_plain_names_need_no_listing(self) -> None:
        result = targets.resolve_targets(['a', 'b', 'a'], None, self._list)
        self.assertEqual([targets.Target('a', 'a'), targets.Target('b', 'b')],
                         result)
        self.assertEqual(0, self.listings)

    def test_host_list_is_matched_against_one_listing(self) -> None:
        path = os.path.join(self.useFixture(fixtures.TempDir()).path, 'h')
        with open(path, 'w') as handle:
            handle.write('# rack\nnode-2\n10.0.0.1:8443\nnode-1\n'
                         'junk line here\n')
        entries = targets.gather_entries(['node-4'], path)
        result = targets.resolve_targets(entries, path, self._list)
        self.assertEqual(1, self.listings)
        self.assertEqual(['node-4', 'node-2', 'node-1', 'junk line here'],
                         [t.label for t in result])
        self.assertIsNone(result[-1].ident)

    def test_an_address_argument_triggers_the_listing(self) -> None:
        result = targets.resolve_targets(['10.0.0.2'], None, self._list)
        self.assertEqual([targets.Target('node-2', NODES[1]['uuid'])],
                         result)

    def test_nothing_given(self) -> None:
        error = self.assertRaises(CliError, targets.gather_entries, [], None)
        self.assertEqual(targets.NO_NODES, str(error))

    def test_empty_host_list_is_nothing_given(self) -> None:
        path = os.path.join(self.useFixture(fixtures.TempDir()).path, 'h')
        with open(path, 'w') as handle:
            handle.write('# only a comment\n\n')
        self.assertRaises(CliError, targets.gather_entries, [], path)
