"""Conductor registration, heartbeats and liveness; node history."""

import datetime

from podium.common import exceptions
from podium.db import api as db_api
from podium.db import engine as db_engine
from podium.db import models
from podium.tests import base
from podium.tests.unit.db.test_nodes import create_node


def _age_heartbeat(hostname: str, seconds: float) -> None:
    """Move a conductor's last heartbeat ``seconds`` into the past."""
    past = models.utcnow() - datetime.timedelta(seconds=seconds)
    with db_engine.session_scope(writer=True) as session:
        conductor = session.query(models.Conductor).filter_by(
            hostname=hostname).one()
        conductor.updated_at = past


class ConductorTest(base.DbTestCase):

    def test_register_and_get(self) -> None:
        registered = db_api.register_conductor('c1', ['fake-hardware'],
                                               conductor_group='rack')
        got = db_api.get_conductor('c1')
        self.assertEqual(registered.id, got.id)
        self.assertEqual(['fake-hardware'], got.drivers)
        self.assertEqual('rack', got.conductor_group)
        self.assertTrue(got.online)
        self.assertTrue(db_api.is_alive(got, timeout=60))

    def test_register_again_updates_the_row(self) -> None:
        first = db_api.register_conductor('c1', ['a'])
        db_api.unregister_conductor('c1')
        second = db_api.register_conductor('c1', ['a', 'b'])
        self.assertEqual(first.id, second.id)
        got = db_api.get_conductor('c1')
        self.assertEqual((['a', 'b'], True, ''),
                         (got.drivers, got.online, got.conductor_group))
        self.assertEqual(1, len(db_api.list_conductors()))

    def test_register_refuses_a_live_namesake(self) -> None:
        db_api.register_conductor('c1', ['a'])
        self.assertRaises(exceptions.ConductorAlreadyRegistered,
                          db_api.register_conductor, 'c1', ['a'],
                          refuse_alive_within=60)
        _age_heartbeat('c1', 120)
        db_api.register_conductor('c1', ['a'], refuse_alive_within=60)
        db_api.unregister_conductor('c1')
        db_api.register_conductor('c1', ['a'], refuse_alive_within=60)
        self.assertTrue(db_api.get_conductor('c1').online)

    def test_get_missing(self) -> None:
        self.assertRaises(exceptions.ConductorNotFound,
                          db_api.get_conductor, 'nobody')

    def test_touch_renews_heartbeat(self) -> None:
        db_api.register_conductor('c1', [])
        _age_heartbeat('c1', 120)
        self.assertFalse(db_api.is_alive(db_api.get_conductor('c1'), 60))
        db_api.touch_conductor('c1')
        self.assertTrue(db_api.is_alive(db_api.get_conductor('c1'), 60))

    def test_touch_missing(self) -> None:
        self.assertRaises(exceptions.ConductorNotFound,
                          db_api.touch_conductor, 'nobody')

    def test_unregister_marks_offline(self) -> None:
        db_api.register_conductor('c1', [])
        db_api.unregister_conductor('c1')
        got = db_api.get_conductor('c1')
        self.assertFalse(got.online)
        self.assertFalse(db_api.is_alive(got, timeout=60))
        # Unknown hosts are ignored: shutting down twice is harmless.
        db_api.unregister_conductor('nobody')

    def test_alive_conductors(self) -> None:
        for host in ('c3', 'c1', 'c2', 'c4'):
            db_api.register_conductor(host, [])
        _age_heartbeat('c2', 120)
        db_api.unregister_conductor('c4')
        self.assertEqual(['c1', 'c3'], [
            c.hostname for c in db_api.get_alive_conductors(timeout=60)])
        self.assertEqual(['c1', 'c2', 'c3'], [
            c.hostname for c in db_api.get_alive_conductors(timeout=600)])

    def test_list_pages_by_hostname(self) -> None:
        for host in ('c3', 'c1', 'c2'):
            db_api.register_conductor(host, [])
        self.assertEqual(['c1', 'c2', 'c3'],
                         [c.hostname for c in db_api.list_conductors()])
        self.assertEqual(['c2'], [c.hostname for c in
                                  db_api.list_conductors(limit=1,
                                                         marker='c1')])
        self.assertRaises(exceptions.MarkerNotFound,
                          db_api.list_conductors, marker='c9')


class NodeHistoryTest(base.DbTestCase):

    def test_add_and_list_in_order(self) -> None:
        node = create_node(name='n1')
        other = create_node(name='n2')
        db_api.add_node_history(node.id, 'first', 'power', 'INFO', 'c1')
        db_api.add_node_history_bulk(
            [(node.id, 'second', 'power', 'ERROR'),
             (other.id, 'elsewhere', 'maintenance', 'WARNING')],
            conductor='c2', user='admin')
        db_api.add_node_history_bulk([], conductor='c2')
        entries = db_api.list_node_history(node.id)
        self.assertEqual([('first', 'INFO', 'c1', None),
                          ('second', 'ERROR', 'c2', 'admin')],
                         [(e.event, e.severity, e.conductor, e.user)
                          for e in entries])
        self.assertEqual(2, len({e.uuid for e in entries}))
        self.assertEqual(datetime.UTC, entries[0].created_at.tzinfo)
        self.assertEqual(['elsewhere'],
                         [e.event for e in db_api.list_node_history(
                             other.id)])
