"""Node history routes: list, detail, one event, paging, versions."""

from typing import Any
from urllib.parse import parse_qs, urlparse

from podium.common import states
from podium.db import api as db_api
from podium.tests.unit.api import base

VERSION = 'X-OpenStack-Ironic-API-Version'


class HistoryTestCase(base.APITestCase):

    def setUp(self) -> None:
        super().setUp()
        self.node = self.create_node(name='n1')
        self.node_id = db_api.get_node('n1').id
        for i in range(3):
            db_api.add_node_history(self.node_id, f'event {i}', 'power',
                                    states.INFO, 'cond-1', user='alice')

    def history(self, path: str = '', version: str | None = None) -> Any:
        headers = {VERSION: version} if version else None
        return self.client.get(f'/v1/nodes/n1/history{path}',
                               headers=headers)


class TestList(HistoryTestCase):

    def test_list_standard_fields(self) -> None:
        events = self.history().json()['history']
        self.assertEqual(['event 0', 'event 1', 'event 2'],
                         [e['event'] for e in events])
        self.assertEqual({'uuid', 'created_at', 'severity', 'event',
                          'links'}, set(events[0]))
        self.assertEqual(
            f'{base.BASE}/v1/nodes/{self.node["uuid"]}/history/'
            f'{events[0]["uuid"]}', events[0]['links'][0]['href'])

    def test_detail(self) -> None:
        db_api.update_node_by_id(self.node_id, {
            'provision_state': states.MANAGEABLE})
        db_api.add_node_history(self.node_id, 'managed', 'provision',
                                states.INFO, 'cond-1', user='bob',
                                duration_seconds=7)
        event = self.history('?detail=True').json()['history'][-1]
        self.assertEqual(
            {'uuid', 'created_at', 'severity', 'event_type', 'event',
             'conductor', 'user', 'project', 'state',
             'target_provision_state', 'duration_seconds', 'links'},
            set(event))
        self.assertEqual(('provision', 'cond-1', 'bob', 'manageable', None,
                          7),
                         (event['event_type'], event['conductor'],
                          event['user'], event['state'],
                          event['target_provision_state'],
                          event['duration_seconds']))

    def test_long_event_cut_in_list_only(self) -> None:
        text = 'x' * 300
        db_api.add_node_history(self.node_id, text, 'power', states.ERROR,
                                None)
        listed = self.history().json()['history'][-1]
        self.assertEqual('x' * 251 + '...', listed['event'])
        self.assertEqual(text, self.history(
            '?detail=True').json()['history'][-1]['event'])
        self.assertEqual(text, self.history(
            f'/{listed["uuid"]}').json()['event'])

    def test_paging_and_order(self) -> None:
        body = self.history('?limit=2').json()
        self.assertEqual(['event 0', 'event 1'],
                         [e['event'] for e in body['history']])
        query = parse_qs(urlparse(body['next']).query)
        self.assertEqual(['created_at'], query['sort_key'])
        rest = self.client.get(body['next']).json()
        self.assertEqual(['event 2'], [e['event'] for e in rest['history']])
        newest = self.history('?sort_dir=desc&limit=1').json()['history']
        self.assertEqual(['event 2'], [e['event'] for e in newest])
        self.assertError(self.history('?marker=nope'), 404, 'nope')
        self.assertError(self.history('?limit=0'), 400, 'Limit')
        self.assertError(self.history('?sort_key=event'), 400, 'sort_key')

    def test_maintenance_records_who_asked(self) -> None:
        self.client.put('/v1/nodes/n1/maintenance', json={'reason': 'fan'})
        event = self.history('?detail=True').json()['history'][-1]
        self.assertEqual(('Maintenance set: fan', 'maintenance'),
                         (event['event'], event['event_type']))

    def test_unknown_node(self) -> None:
        self.assertError(self.client.get('/v1/nodes/nope/history'), 404,
                         'Node nope could not be found.')


class TestEvent(HistoryTestCase):

    def test_show(self) -> None:
        listed = self.history().json()['history'][1]
        event = self.history(f'/{listed["uuid"]}').json()
        self.assertEqual(('event 1', 'power', 'alice', 'cond-1'),
                         (event['event'], event['event_type'],
                          event['user'], event['conductor']))

    def test_missing_or_other_nodes_event(self) -> None:
        self.create_node(name='n2')
        db_api.add_node_history(db_api.get_node('n2').id, 'other', 'power',
                                states.INFO, None)
        other = self.client.get('/v1/nodes/n2/history').json()['history']
        self.assertError(self.history(f'/{other[0]["uuid"]}'), 404,
                         f'Node history record {other[0]["uuid"]} could '
                         f'not be found.')
        self.assertError(self.history('/nope'), 404, 'nope')


class TestVersions(HistoryTestCase):

    def test_needs_1_78(self) -> None:
        event = self.history(version='1.78').json()['history'][0]
        for version in ('1.77', '1.1'):
            self.assertError(self.history(version=version), 404,
                             'could not be found')
            self.assertError(self.history(f'/{event["uuid"]}',
                                          version=version), 404)

    def test_newer_fields_hidden(self) -> None:
        def fields(version: str) -> set[str]:
            event = self.history('?detail=True',
                                 version=version).json()['history'][0]
            return set(event)

        self.assertNotIn('project', fields('1.112'))
        self.assertIn('project', fields('1.113'))
        self.assertNotIn('state', fields('1.114'))
        self.assertIn('duration_seconds', fields('1.115'))
