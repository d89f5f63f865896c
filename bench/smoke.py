"""``python -m bench.smoke``: every benchmark at a tiny size, so none rots.

The same as ``python -m bench.run --smoke``: seconds per benchmark, no
timing assertions, a non-zero exit status if any benchmark crashes.
"""

import sys

from bench import run

if __name__ == '__main__':
    sys.exit(run.main(['--smoke', *sys.argv[1:]]))
