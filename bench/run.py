"""Run several benchmarks, each in its own process, with a time bound.

    python -m bench.run                      # every benchmark, full size
    python -m bench.run power_sync api_load  # some of them
    python -m bench.run --smoke              # all, tiny: seconds each

``--smoke`` shrinks every benchmark to a few seconds (each module's
``SMOKE`` arguments), writes its JSON to a temporary directory instead of
``bench/results`` and exits non-zero if any benchmark crashed or failed:
a check that the benchmarks still run, not a measurement (it asserts no
timing).
"""

from __future__ import annotations

import argparse
import importlib
import subprocess
import sys
import tempfile
import time

from bench import procs

#: Every benchmark module, in the order they run.
BENCHMARKS = ('power_sync', 'aio_client', 'isolation', 'api_load', 'bulk',
              'batch', 'seed_problem', 'compare_ironic', 'deploy_fleet')


def smoke_args(name: str) -> list[str]:
    module = importlib.import_module(f'bench.{name}')
    return list(module.SMOKE)


def run_one(name: str, extra: list[str], timeout: float) -> tuple[bool, str]:
    """Run ``python -m bench.<name> <extra>``; (passed, reason)."""
    argv = [procs.PYTHON, '-m', f'bench.{name}', *extra]
    print(f'--- {name}: {" ".join(argv[1:])}', flush=True)
    try:
        code = subprocess.call(argv, cwd=procs.REPO_ROOT, timeout=timeout)
    except subprocess.TimeoutExpired:
        return False, f'took over {timeout:.0f} s'
    return code == 0, f'exit status {code}'


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('names', nargs='*', metavar='BENCHMARK',
                        help=f'any of {", ".join(BENCHMARKS)} (default: '
                             f'all)')
    parser.add_argument('--smoke', action='store_true',
                        help='tiny sizes, results to a temporary '
                             'directory, non-zero exit on any failure')
    parser.add_argument('--timeout', type=float, default=None,
                        help='seconds each benchmark may take (default: '
                             '180 with --smoke, 3600 otherwise)')
    args = parser.parse_args(argv)
    unknown = set(args.names) - set(BENCHMARKS)
    if unknown:
        parser.error(f'unknown benchmark(s): {", ".join(sorted(unknown))}')
    names = args.names or list(BENCHMARKS)
    timeout = args.timeout or (180.0 if args.smoke else 3600.0)
    failures = []
    with tempfile.TemporaryDirectory(prefix='podium-bench-smoke-') as tmp:
        for name in names:
            extra = ([*smoke_args(name), '--results-dir', tmp]
                     if args.smoke else [])
            start = time.monotonic()
            passed, reason = run_one(name, extra, timeout)
            status = 'ok' if passed else f'FAILED ({reason})'
            print(f'--- {name}: {status} in {time.monotonic() - start:.1f} s',
                  flush=True)
            if not passed:
                failures.append(name)
    if failures:
        print(f'benchmarks failed: {", ".join(failures)}', file=sys.stderr)
        return 1
    print(f'all {len(names)} benchmark(s) ran')
    return 0


if __name__ == '__main__':
    sys.exit(main())
