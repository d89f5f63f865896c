"""The per-thread deadline."""

import threading

from podium.common import exceptions
from podium.drivers.modules import deadline
from podium.tests import base


class DeadlineTestCase(base.TestCase):

    def test_outside_any_block(self) -> None:
        self.assertIsNone(deadline.remaining())
        self.assertIsNone(deadline.check('x'))
        self.assertEqual(5, deadline.cap(5))

    def test_nesting_keeps_the_earliest(self) -> None:
        with deadline.bounded(10):
            with deadline.bounded(100):
                self.assertLessEqual(deadline.remaining(), 10)
                self.assertEqual(10, deadline.budget())
            with deadline.bounded(1):
                self.assertLessEqual(deadline.cap(5), 1)
                self.assertEqual(1, deadline.budget())
        self.assertIsNone(deadline.remaining())

    def test_expired_raises_bmc_timeout(self) -> None:
        with deadline.bounded(0):
            exc = self.assertRaises(exceptions.BMCTimeout, deadline.check,
                                    'reading')
            self.assertIn('within 0 seconds: reading', str(exc))

    def test_lifted_restores_the_same_stack(self) -> None:
        with deadline.bounded(0):
            with deadline.lifted():
                self.assertIsNone(deadline.remaining())
            self.assertEqual(0, deadline.budget())
        self.assertIsNone(deadline.remaining())

    def test_per_thread(self) -> None:
        seen = []
        with deadline.bounded(1):
            thread = threading.Thread(
                target=lambda: seen.append(deadline.remaining()))
            thread.start()
            thread.join()
        self.assertEqual([None], seen)
