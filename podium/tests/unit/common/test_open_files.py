"""Raising the open files limit (conductors and simulators)."""

import resource

from podium.common import open_files
from podium.tests import base


class RaiseLimitTest(base.TestCase):

    def test_soft_limit_raised_to_the_hard_one(self) -> None:
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        self.addCleanup(resource.setrlimit, resource.RLIMIT_NOFILE,
                        (soft, hard))
        lowered = min(soft, 512)
        resource.setrlimit(resource.RLIMIT_NOFILE, (lowered, hard))
        expected = hard if hard != resource.RLIM_INFINITY else \
            open_files.UNLIMITED_TARGET
        self.assertEqual(expected, open_files.raise_limit())
        self.assertEqual(expected,
                         resource.getrlimit(resource.RLIMIT_NOFILE)[0])
