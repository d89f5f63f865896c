"""The committed sample configuration matches the registered options.

Operators read ``etc/podium/podium.conf.sample`` to learn the options;
a sample that lags behind the code documents options that do not exist
or hides new ones. The test regenerates it with the same generator
configuration ``tox -e genconfig`` uses.
"""

import difflib
import os

from oslo_config import generator

from podium.conf import CONF, validation
from podium.conf import messaging as messaging_conf
from podium.tests import base
from podium.tests.unit import process

_REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.dirname(os.path.dirname(os.path.abspath(__file__))))))
GENERATOR_CONF = os.path.join(_REPO_ROOT, 'etc', 'podium',
                              'podium-config-generator.conf')
SAMPLE = os.path.join(_REPO_ROOT, 'etc', 'podium', 'podium.conf.sample')

#: Enough of the diff to see which options changed.
_DIFF_LINES = 60


def _read(path: str) -> list[str]:
    with open(path, encoding='utf-8') as handle:
        return handle.readlines()


class SampleConfigTest(base.TestCase):

    def test_sample_is_current(self) -> None:
        fresh = os.path.join(self.state_dir, 'podium.conf.sample')
        generator.main(['--config-file', GENERATOR_CONF,
                        '--output-file', fresh])
        diff = list(difflib.unified_diff(
            _read(SAMPLE), _read(fresh),
            'etc/podium/podium.conf.sample (committed)',
            'regenerated from the options'))
        if diff:
            self.fail('etc/podium/podium.conf.sample is stale; run '
                      '"tox -e genconfig" and commit the result.\n'
                      + ''.join(diff[:_DIFF_LINES]))

    def test_unused_messaging_groups_left_out_but_accepted(self) -> None:
        sections = {line.strip() for line in _read(SAMPLE)
                    if line.startswith('[')}
        self.assertIn('[oslo_messaging_rabbit]', sections)
        for group in messaging_conf.UNUSED_DRIVER_GROUPS:
            self.assertNotIn(f'[{group}]', sections)
        # Left out of the sample, not refused: an existing file that
        # sets them still passes the start-up check.
        path = process.write_config(
            self.state_dir, '[oslo_messaging_kafka]\n'
                            'producer_batch_size = 16\n'
                            '[oslo_messaging_notifications]\n'
                            'driver = noop\n')
        messaging_conf.register_opts(CONF)
        CONF(['--config-file', path], project='podium',
             default_config_files=[])
        validation.check_unknown_options(CONF)
