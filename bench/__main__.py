"""``python -m bench``: every benchmark, a table (or ``--json``) on stdout, progress on stderr."""

import sys

from bench.runner import main

if __name__ == "__main__":
    sys.exit(main())
