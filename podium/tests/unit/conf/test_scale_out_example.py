"""The shipped scale-out example configuration stays valid."""

import os

from podium.tests import base
from podium.tests.unit import process

EXAMPLE = os.path.join(os.path.dirname(__file__), '..', '..', '..', '..',
                       'etc', 'podium', 'podium-scale-out.conf.example')


class ScaleOutExampleTest(base.TestCase):

    def test_every_option_exists_and_is_valid(self) -> None:
        # Parsed and checked as podium-api and podium-conductor do it,
        # in a child process (the checks end a bad one with sys.exit).
        result = process.run_python('-c', process.prepare_service_code(),
                                    '--config-file', os.path.abspath(EXAMPLE))
        self.assertEqual(0, result.returncode, result.stderr)
        self.assertIn('prepared', result.stdout)
