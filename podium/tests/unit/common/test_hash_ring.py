"""The consistent hash ring and its manager."""

import collections
import datetime
import time
from unittest import mock

import sqlalchemy as sa

from podium.common import exceptions, hash_ring
from podium.db import api as db_api
from podium.db import engine, models
from podium.tests import base

KEYS = [f'0b6f6c2e-0000-4000-8000-{index:012d}' for index in range(2000)]


def assignment(ring: hash_ring.HashRing) -> dict[str, str]:
    return {key: ring.get_host(key) for key in KEYS}


class TestHashRing(base.TestCase):

    def test_same_key_same_host(self) -> None:
        ring = hash_ring.HashRing(['a', 'b', 'c'], 64)
        again = hash_ring.HashRing(['c', 'a', 'b'], 64)
        self.assertEqual(assignment(ring), assignment(again))

    def test_keys_spread_over_hosts(self) -> None:
        hosts = ['c1', 'c2', 'c3', 'c4']
        counts = collections.Counter(
            assignment(hash_ring.HashRing(hosts, 64)).values())
        mean = len(KEYS) / len(hosts)
        self.assertEqual(set(hosts), set(counts))
        for host, count in counts.items():
            self.assertTrue(0.6 * mean < count < 1.4 * mean,
                            f'{host} got {count} of {len(KEYS)} keys')

    def test_joining_host_takes_only_its_share(self) -> None:
        before = assignment(hash_ring.HashRing(['c1', 'c2', 'c3'], 64))
        after = assignment(hash_ring.HashRing(['c1', 'c2', 'c3', 'c4'], 64))
        moved = [key for key in KEYS if before[key] != after[key]]
        # Every key that moved went to the new host, none between others.
        self.assertEqual({'c4'}, {after[key] for key in moved})
        self.assertLess(len(moved), 0.4 * len(KEYS))
        self.assertGreater(len(moved), 0.1 * len(KEYS))

    def test_leaving_host_gives_away_only_its_keys(self) -> None:
        before = assignment(hash_ring.HashRing(['c1', 'c2', 'c3'], 64))
        after = assignment(hash_ring.HashRing(['c1', 'c3'], 64))
        for key in KEYS:
            if before[key] != 'c2':
                self.assertEqual(before[key], after[key])
            else:
                self.assertIn(after[key], ('c1', 'c3'))

    def test_empty_ring(self) -> None:
        ring = hash_ring.HashRing([], 8)
        self.assertRaises(exceptions.NoValidHost, ring.get_host, KEYS[0])

    def test_partitions_must_be_positive(self) -> None:
        self.assertRaises(ValueError, hash_ring.HashRing, ['a'], 0)


class TestHashRingManager(base.DbTestCase):

    def setUp(self) -> None:
        super().setUp()
        hash_ring.HashRingManager.reset()
        self.addCleanup(hash_ring.HashRingManager.reset)
        self.manager = hash_ring.HashRingManager()

    def register(self, hostname: str, group: str = '') -> None:
        db_api.register_conductor(hostname, ['fake-hardware'], group)

    def test_no_conductor(self) -> None:
        error = self.assertRaises(exceptions.NoValidHost,
                                  self.manager.get_conductor, KEYS[0])
        self.assertIn(KEYS[0], str(error))

    def test_nodes_map_to_alive_conductors(self) -> None:
        self.register('c1')
        self.register('c2')
        hosts = {self.manager.get_conductor(key) for key in KEYS[:200]}
        self.assertEqual({'c1', 'c2'}, hosts)
        for key in KEYS[:50]:
            owner = self.manager.get_conductor(key)
            self.assertTrue(self.manager.owns(owner, key))
            other = 'c2' if owner == 'c1' else 'c1'
            self.assertFalse(self.manager.owns(other, key))

    def test_dead_and_offline_conductors_are_left_out(self) -> None:
        self.register('alive')
        self.register('offline')
        db_api.unregister_conductor('offline')
        self.register('dead')
        stale = models.utcnow() - datetime.timedelta(hours=1)
        with engine.session_scope(writer=True) as session:
            session.execute(sa.update(models.Conductor)
                            .where(models.Conductor.hostname == 'dead')
                            .values(updated_at=stale))
        hosts = {self.manager.get_conductor(key) for key in KEYS[:100]}
        self.assertEqual({'alive'}, hosts)

    def test_conductor_groups(self) -> None:
        self.register('plain')
        self.register('rack1-a', 'Rack1')
        self.register('rack1-b', 'rack1')
        in_rack = {self.manager.get_conductor(key, 'RACK1')
                   for key in KEYS[:100]}
        self.assertEqual({'rack1-a', 'rack1-b'}, in_rack)
        self.assertEqual({'plain'}, {self.manager.get_conductor(key)
                                     for key in KEYS[:100]})
        self.assertRaises(exceptions.NoValidHost,
                          self.manager.get_conductor, KEYS[0], 'rack2')
        self.assertFalse(self.manager.owns('plain', KEYS[0], 'rack1'))

    def test_owned_filters_rows(self) -> None:
        self.register('c1')
        self.register('c2')
        row = collections.namedtuple('row', 'uuid conductor_group')
        rows = [row(key, '') for key in KEYS[:100]] + [row(KEYS[0], 'x')]
        mine = self.manager.owned('c1', rows)
        theirs = self.manager.owned('c2', rows)
        self.assertEqual(100, len(mine) + len(theirs))
        self.assertEqual(
            [r for r in rows if r.conductor_group == ''
             and self.manager.get_conductor(r.uuid) == 'c1'], mine)

    def test_ring_cached_until_reset(self) -> None:
        self.register('c1')
        self.assertEqual('c1', self.manager.get_conductor(KEYS[0]))
        db_api.unregister_conductor('c1')
        self.register('c2')
        # Within the refresh period the ring is not rebuilt...
        self.assertEqual('c1', self.manager.get_conductor(KEYS[0]))
        hash_ring.HashRingManager.reset()
        # ...and after a reset it is.
        self.assertEqual('c2', self.manager.get_conductor(KEYS[0]))

    def test_ring_rebuilt_once_stale(self) -> None:
        self.register('c1')
        self.assertEqual('c1', self.manager.get_conductor(KEYS[0]))
        db_api.unregister_conductor('c1')
        self.register('c2')
        # Lookups while the rings are fresh skip the lock; once the
        # refresh period is over they must still rebuild them.
        later = time.monotonic() + hash_ring.RING_REFRESH_SECONDS + 1
        clock = mock.Mock(monotonic=mock.Mock(return_value=later))
        with mock.patch.object(hash_ring, 'time', clock):
            self.assertEqual('c2', self.manager.get_conductor(KEYS[0]))
