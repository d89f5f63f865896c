"""Print the closing line of the last stestr run and judge it.

    python tools/stestr_summary.py --label unit REPOSITORY

prints ``unit: N passed, N failed, N skipped`` (the plain form CI readers
understand, unlike stestr's own "Totals" block), before it one
``unit: FAILED <test id>: <last line of its traceback>`` line per failed
test (a CI log is often read from its tail only, where the tracebacks
are long gone), and exits non-zero when
a test failed or when the run executed no test at all: a run whose
discovery found nothing must not look like a pass. tox points stestr at
a repository in the environment's temporary directory, which tox empties
at the start of every run, so a run that never started is reported as
such instead of repeating the previous run's result.
"""

import argparse
import collections
import os
import sys
from typing import Any

import subunit
import testtools
from stestr.repository import util as repo_util

_PASSED = ('success', 'xfail')
_FAILED = ('fail', 'uxsuccess')


def _last_line(details: dict[str, Any]) -> str:
    """The last non-blank line of a test's traceback, or ''."""
    content = details.get('traceback')
    if content is None:
        return ''
    text = b''.join(bytes(chunk) for chunk in content.iter_bytes()).decode(
        'utf-8', 'replace')
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1][:300] if lines else ''


def read_outcomes(
        repository: str) -> tuple[collections.Counter[str], list[str]]:
    """Final status of each test of the repository's latest run, and a
    ``<test id>: <reason>`` line for each test that did not pass."""
    counts: collections.Counter[str] = collections.Counter()
    failures: list[str] = []
    if not os.path.isdir(repository):
        return counts, failures
    repo = repo_util.get_repo_open(repo_url=repository)
    try:
        stream = repo.get_latest_run().get_subunit_stream()
    except KeyError:  # the repository holds no run
        return counts, failures

    def on_test(test: Any) -> None:
        status = test['status']
        counts[status] += 1
        if status not in _PASSED + ('skip',):
            failures.append(
                f"{test['id']} ({status}): {_last_line(test['details'])}")

    result = testtools.StreamToDict(on_test)
    result.startTestRun()
    try:
        subunit.ByteStreamToStreamResult(
            stream, non_subunit_name='stdout').run(result)
    finally:
        result.stopTestRun()
    return counts, sorted(failures)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--label', required=True,
                        help='Word before the counts, e.g. "unit".')
    parser.add_argument('repository', help='The stestr repository.')
    args = parser.parse_args(argv)

    counts, failures = read_outcomes(args.repository)
    for failure in failures:
        print(f'{args.label}: FAILED {failure}')
    passed = sum(counts[s] for s in _PASSED)
    failed = sum(counts[s] for s in _FAILED)
    skipped = counts['skip']
    # Anything else (a test that started and never ended: a crashed
    # worker) is a failure too.
    failed += sum(n for s, n in counts.items()
                  if s not in _PASSED + _FAILED + ('skip',))
    print(f'{args.label}: {passed} passed, {failed} failed, '
          f'{skipped} skipped')
    if passed + failed == 0:
        print(f'{args.label}: no test ran', file=sys.stderr)
        return 1
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
