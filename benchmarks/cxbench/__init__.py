"""cxpipe's benchmark harness (issue #16): every stage beside its floor, on the same data, in one run.

``make bench SF="1 10" REPEATS=3`` runs :mod:`cxbench.harness`; ``benchmarks/harness.py`` is its
command line. Each stage and each baseline runs in a fresh child process under
:mod:`cxbench.measure`, which reports the CPU time (user + system) and peak memory of that
child's whole process tree. The numbers depend on the machine and its load: no test asserts them.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def portable_command(script: str, argv: Sequence[str]) -> str:
    """The command line as the results record it, free of this machine's paths: an absolute path
    beside the repository (``../shared/corpora``) relative to it, any other (a scratch folder) by
    its name alone."""
    words = [script]
    for word in argv:
        if Path(word).is_absolute():
            path = Path(word).resolve()
            word = os.path.relpath(path, REPO) if path.is_relative_to(REPO.parent) else f"<{path.name}>"
        words.append(word)
    return " ".join(words)
