"""Listing nodes: filters, sorting and marker pagination.

Pagination must give every node exactly once, in the order of the
unpaged list, for every sort key and direction, including ties (broken
by id) and NULLs (first ascending, last descending, on every backend).
"""

import datetime
from typing import Any

from oslo_utils import uuidutils

from podium.common import exceptions
from podium.db import api as db_api
from podium.db import models
from podium.tests import base
from podium.tests.unit.db.test_nodes import create_node

_T0 = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)

#: Values chosen so that every sort key has ties, and the nullable ones
#: NULLs; strings are lower-case letters so collations agree on order.
_FLEET: list[dict[str, Any]] = [
    dict(name='alpha', driver='redfish', power_state='power on',
         provision_state='manageable', maintenance=False,
         conductor_group='', created_at=_T0, updated_at=None),
    dict(name=None, driver='fake-hardware', power_state=None,
         provision_state='enroll', maintenance=True,
         conductor_group='rack', created_at=_T0,
         updated_at=_T0 + datetime.timedelta(minutes=5)),
    dict(name='delta', driver='ipmi', power_state='power off',
         provision_state='enroll', maintenance=False,
         conductor_group='rack', created_at=_T0 + datetime.timedelta(
             microseconds=1), updated_at=None),
    dict(name=None, driver='redfish', power_state='power on',
         provision_state='available', maintenance=True,
         conductor_group='', created_at=_T0 + datetime.timedelta(hours=1),
         updated_at=_T0 + datetime.timedelta(minutes=5)),
    dict(name='bravo', driver='fake-hardware', power_state=None,
         provision_state='manageable', maintenance=False,
         conductor_group='zone', created_at=_T0, updated_at=_T0),
    dict(name='charlie', driver='ipmi', power_state='power off',
         provision_state='available', maintenance=False,
         conductor_group='zone', created_at=_T0 + datetime.timedelta(
             hours=1), updated_at=None),
    dict(name=None, driver='fake-hardware', power_state='power on',
         provision_state='enroll', maintenance=False,
         conductor_group='rack', created_at=_T0, updated_at=_T0),
]


def _expected_order(nodes: list[models.Node], key: str,
                     direction: str) -> list[str]:
    """UUIDs in the documented order: NULLs first ascending, ties by id."""
    def sort_key(node: models.Node) -> tuple[Any, ...]:
        value = getattr(node, key)
        return (value is not None, value if value is not None else 0,
                node.id)
    ordered = sorted(nodes, key=sort_key, reverse=direction == 'desc')
    return [n.uuid for n in ordered]


class NodeFilterTest(base.DbTestCase):

    def setUp(self) -> None:
        super().setUp()
        self.a = create_node(name='a', maintenance=True, driver='redfish',
                             provision_state='available',
                             conductor_group='Rack1',
                             instance_uuid=uuidutils.generate_uuid(),
                             resource_class='gpu', owner='team1',
                             fault='power failure', power_state='power on')
        self.b = create_node(name='b', power_state='power off')
        self.c = create_node(name='c', owner='team2')
        db_api.reserve_node('host-a', self.c.id)

    def _names(self, **filters: Any) -> list[str | None]:
        return [n.name for n in db_api.list_nodes(filters)]

    def test_each_filter(self) -> None:
        cases: list[tuple[dict[str, Any], list[str]]] = [
            ({'maintenance': True}, ['a']),
            ({'maintenance': False}, ['b', 'c']),
            ({'driver': 'fake-hardware'}, ['b', 'c']),
            ({'provision_state': 'available'}, ['a']),
            # Conductor groups match case-insensitively, as in Ironic.
            ({'conductor_group': 'rack1'}, ['a']),
            ({'conductor_group': ''}, ['b', 'c']),
            ({'associated': True}, ['a']),
            ({'associated': False}, ['b', 'c']),
            ({'resource_class': 'gpu'}, ['a']),
            ({'owner': 'team2'}, ['c']),
            ({'fault': 'power failure'}, ['a']),
            ({'power_state': 'power off'}, ['b']),
            ({'reserved': True}, ['c']),
            ({'reserved': False}, ['a', 'b']),
            ({'uuid_in': [self.a.uuid, self.c.uuid]}, ['a', 'c']),
            ({'name_in': ['b', 'zzz']}, ['b']),
            ({'id_in': [self.b.id]}, ['b']),
            ({'uuid_in': []}, []),
            # None means "not filtered".
            ({'owner': None}, ['a', 'b', 'c']),
            ({'driver': 'fake-hardware', 'reserved': False}, ['b']),
        ]
        for filters, expected in cases:
            self.assertEqual(expected, self._names(**filters), str(filters))
            self.assertEqual(len(expected), db_api.count_nodes(filters),
                             str(filters))

    def test_every_documented_filter_is_understood(self) -> None:
        boolean = ('maintenance', 'associated', 'reserved')
        for key in db_api.NODE_FILTERS:
            value: Any = (True if key in boolean else
                          [1] if key == 'id_in' else
                          ['x'] if key.endswith('_in') else 'x')
            db_api.list_nodes({key: value})

    def test_unknown_filter(self) -> None:
        exc = self.assertRaises(exceptions.InvalidParameterValue,
                                db_api.list_nodes, {'colour': 'red'})
        self.assertIn('colour', str(exc))

    def test_node_rows(self) -> None:
        rows = db_api.list_node_rows(('id', 'name', 'reservation'),
                                     {'driver': 'fake-hardware'})
        self.assertEqual([(self.b.id, 'b', None),
                          (self.c.id, 'c', 'host-a')],
                         [tuple(row) for row in rows])
        self.assertEqual('host-a', rows[1].reservation)
        default_rows = db_api.list_node_rows()
        self.assertEqual(db_api.SYNC_COLUMNS, tuple(default_rows[0]._fields))
        self.assertEqual(['a', 'b', 'c'],
                         [row.name for row in default_rows])


class NodePaginationTest(base.DbTestCase):

    def setUp(self) -> None:
        super().setUp()
        self.nodes = [create_node(**values) for values in _FLEET]

    def _pages(self, limit: int, **kwargs: Any) -> list[list[str]]:
        pages: list[list[str]] = []
        marker = None
        while True:
            page = [n.uuid for n in db_api.list_nodes(
                limit=limit, marker=marker, **kwargs)]
            if not page:
                return pages
            pages.append(page)
            marker = page[-1]

    def test_every_sort_key_and_direction(self) -> None:
        for key in db_api.SORT_KEYS:
            for direction in ('asc', 'desc'):
                what = f'sort_key={key} sort_dir={direction}'
                full = [n.uuid for n in db_api.list_nodes(
                    sort_key=key, sort_dir=direction)]
                self.assertEqual(
                    _expected_order(self.nodes, key, direction), full, what)
                for limit in (1, 2, 3):
                    pages = self._pages(limit, sort_key=key,
                                        sort_dir=direction)
                    self.assertEqual(full, sum(pages, []),
                                     f'{what} limit={limit}')
                    self.assertTrue(all(len(p) <= limit for p in pages))

    def test_pagination_with_filter(self) -> None:
        filters = {'driver': 'fake-hardware'}
        full = [n.uuid for n in db_api.list_nodes(filters, sort_key='name')]
        self.assertEqual(3, len(full))
        self.assertEqual(full, sum(self._pages(1, filters=filters,
                                               sort_key='name'), []))

    def test_page_rows_match_nodes(self) -> None:
        rows = db_api.list_node_page_rows(('uuid', 'name'), limit=2,
                                          marker=self.nodes[0].uuid,
                                          sort_key='name', sort_dir='desc')
        nodes = db_api.list_nodes(limit=2, marker=self.nodes[0].uuid,
                                  sort_key='name', sort_dir='desc')
        self.assertEqual([(n.uuid, n.name) for n in nodes],
                         [tuple(row) for row in rows])

    def test_unknown_marker(self) -> None:
        marker = uuidutils.generate_uuid()
        exc = self.assertRaises(exceptions.MarkerNotFound,
                                db_api.list_nodes, marker=marker)
        self.assertIn(marker, str(exc))

    def test_bad_sort_key_and_direction(self) -> None:
        exc = self.assertRaises(exceptions.InvalidParameterValue,
                                db_api.list_nodes, sort_key='driver_info')
        self.assertIn('driver_info', str(exc))
        exc = self.assertRaises(exceptions.InvalidParameterValue,
                                db_api.list_nodes, sort_dir='up')
        self.assertIn('up', str(exc))
