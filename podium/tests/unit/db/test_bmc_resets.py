"""The group-wide BMC reset limit: one winner per conductor group and
interval, also when conductors race for it."""

import datetime
import threading

from podium.db import bmc_resets, models
from podium.db import engine as db_engine
from podium.tests import base, threads

#: Contenders in the race tests: more than the cores, fewer than the
#: database connection pool.
_RACERS = 20


def age_last_reset(group: str, seconds: float) -> None:
    """Move ``group``'s last reset ``seconds`` into the past."""
    with db_engine.session_scope(writer=True) as session:
        row = session.query(models.BmcReset).filter_by(
            conductor_group=group.lower()).one()
        row.last_reset = row.last_reset - datetime.timedelta(
            seconds=seconds)


class BmcResetTest(base.DbTestCase):

    def test_first_reset_of_a_group_is_allowed_and_recorded(self) -> None:
        self.assertIsNone(bmc_resets.last_reset('rack-1'))
        before = models.utcnow()
        self.assertIsNone(bmc_resets.claim_reset('rack-1', 300))
        last = bmc_resets.last_reset('rack-1')
        self.assertIsNotNone(last)
        assert last is not None
        self.assertLessEqual(before, last)

    def test_limited_until_the_interval_passed(self) -> None:
        self.assertIsNone(bmc_resets.claim_reset('rack-1', 300))
        ago = bmc_resets.claim_reset('rack-1', 300)
        self.assertIsNotNone(ago)
        assert ago is not None
        self.assertLess(ago, 60)
        age_last_reset('rack-1', 200)
        ago = bmc_resets.claim_reset('rack-1', 300)
        assert ago is not None
        self.assertGreaterEqual(ago, 200)
        age_last_reset('rack-1', 101)
        self.assertIsNone(bmc_resets.claim_reset('rack-1', 300))
        # The allowed reset starts a new interval.
        self.assertIsNotNone(bmc_resets.claim_reset('rack-1', 300))

    def test_groups_do_not_limit_each_other(self) -> None:
        self.assertIsNone(bmc_resets.claim_reset('rack-1', 300))
        self.assertIsNone(bmc_resets.claim_reset('rack-2', 300))
        self.assertIsNone(bmc_resets.claim_reset('', 300))
        self.assertIsNotNone(bmc_resets.claim_reset('rack-2', 300))

    def test_groups_compare_lower_cased(self) -> None:
        # As the hash ring compares them (and MariaDB's collation would).
        self.assertIsNone(bmc_resets.claim_reset('Rack-1', 300))
        self.assertIsNotNone(bmc_resets.claim_reset('rack-1', 300))

    def test_zero_interval_never_limits(self) -> None:
        self.assertIsNone(bmc_resets.claim_reset('rack-1', 0))
        self.assertIsNone(bmc_resets.claim_reset('rack-1', 0))

    def _race(self, group: str) -> int:
        """All racers claim a reset of ``group`` at once: the winners."""
        start = threading.Barrier(_RACERS)

        def contend(_index: int) -> bool:
            start.wait(timeout=30)
            return bmc_resets.claim_reset(group, 300) is None

        with threads.executor(_RACERS) as executor:
            return sum(executor.map(contend, range(_RACERS)))

    def test_race_for_a_new_group_has_one_winner(self) -> None:
        # No row yet: the racers insert it.
        self.assertEqual(1, self._race('rack-1'))

    def test_race_for_an_old_reset_has_one_winner(self) -> None:
        # A row past its interval: the racers update it.
        self.assertIsNone(bmc_resets.claim_reset('rack-1', 300))
        age_last_reset('rack-1', 301)
        self.assertEqual(1, self._race('rack-1'))
        self.assertEqual(0, self._race('rack-1'))
