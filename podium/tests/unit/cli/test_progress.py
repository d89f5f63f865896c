"""Progress on stderr: a bar on a terminal, host-prefixed lines otherwise."""

import io

from podium.cli import progress
from podium.tests import base


class TtyStream(io.StringIO):
    def isatty(self) -> bool:
        return True


class ProgressTest(base.TestCase):

    def test_line_reporter(self) -> None:
        stream = io.StringIO()
        reporter = progress.LineReporter(stream)
        reporter.start(2)
        reporter.note('node-7', 'power on requested')
        reporter.finished('node-7', True, 'reached power on', 2.14)
        reporter.finished('node-8', False, 'timed out', 5.0)
        reporter.finished('node-9', True, '', 0.0)
        reporter.close()
        self.assertEqual('node-7: power on requested\n'
                         'node-7: reached power on in 2.1s\n'
                         'node-8: FAILED: timed out in 5.0s\n'
                         'node-9: done in 0.0s\n', stream.getvalue())

    def test_bar_reporter(self) -> None:
        stream = TtyStream()
        reporter = progress.make_reporter(stream, 'power on')
        self.assertIsInstance(reporter, progress.BarReporter)
        reporter.start(2)
        reporter.note('node-1', 'not shown on a bar')
        reporter.finished('node-1', True, 'ok', 0.1)
        reporter.finished('node-2', False, 'bad', 0.1)
        reporter.close()
        text = stream.getvalue()
        self.assertNotIn('not shown', text)
        last = text.rstrip('\n').split('\r')[-1]
        self.assertTrue(last.startswith('power on [' + '#' * 30 + '] 2/2  '
                                        'ok 1  failed 1'), last)
        self.assertTrue(text.endswith('\n'))

    def test_lines_when_not_a_terminal(self) -> None:
        self.assertIsInstance(progress.make_reporter(io.StringIO(), 'x'),
                              progress.LineReporter)
