"""What every benchmark's command line has in common.

Each benchmark is a module with ``main(argv)``, runnable as ``python -m
bench.<name>``; :data:`SMOKE` holds the arguments that shrink it to a
few seconds for ``python -m bench.smoke``.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable

from bench import procs


def base_parser(description: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description=description,
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument('--results-dir', default=None,
                        help='where the JSON result goes (default: '
                             'bench/results)')
    parser.add_argument('--keep', action='store_true',
                        help='keep the deployment directories and logs')
    return parser


def int_list(text: str) -> list[int]:
    """``"100,1000"`` -> ``[100, 1000]`` for list-valued arguments."""
    return [int(x) for x in text.split(',') if x]


def float_list(text: str) -> list[float]:
    return [float(x) for x in text.split(',') if x]


def run_main(body: Callable[[], object]) -> int:
    """Run a benchmark body: exit status 1 with a one-line reason when
    the benchmark could not do its job, a traceback only for a bug."""
    start = time.monotonic()
    try:
        body()
    except procs.BenchError as exc:
        print(f'benchmark failed: {exc}', file=sys.stderr)
        return 1
    print(f'(took {time.monotonic() - start:.1f} s)')
    return 0
