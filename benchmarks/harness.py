"""Command line of cxpipe's benchmark harness: ``make bench SF="1 10" REPEATS=3``.

``.venv/bin/python benchmarks/harness.py --sf 1 10 --repeats 3`` — see :mod:`cxbench.harness`.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from cxbench.harness import main

if __name__ == "__main__":
    raise SystemExit(main())
