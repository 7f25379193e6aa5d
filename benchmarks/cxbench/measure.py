"""Run one command and report what its process tree used: ``python measure.py OUT.json LOG -- cmd ...``.

A fresh process per measured command, because ``getrusage(RUSAGE_CHILDREN)`` only grows:
in this wrapper it covers exactly the one command (and every descendant it waited for).

Written to ``OUT.json``:

* ``cpu_s`` = ``user_s`` + ``sys_s``: CPU time of the command's process tree;
* ``wall_s``: elapsed time;
* ``max_rss_mb``: ``ru_maxrss`` of the children, i.e. the peak RSS of the *largest single
  process* of the tree;
* ``tree_peak_rss_mb``: the peak of the *sum* of RSS over the live tree, sampled every
  0.2 s with psutil (catches processes running side by side; may miss a peak shorter than a
  sample);
* ``returncode``.

The command's output goes to ``LOG``. This wrapper's own CPU (a few psutil samples a second)
is not counted.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import time
from pathlib import Path

import psutil

SAMPLE_SECONDS = 0.2


def _tree_rss(process: psutil.Process) -> int:
    total = 0
    try:
        members = [process, *process.children(recursive=True)]
    except psutil.Error:
        return 0
    for member in members:
        try:
            total += member.memory_info().rss
        except psutil.Error:
            continue
    return total


def measure(command: list[str], log: Path) -> dict[str, float | int]:
    started = time.perf_counter()
    with log.open("ab") as out:
        child = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
        watched = psutil.Process(child.pid)
        peak = 0
        while True:
            peak = max(peak, _tree_rss(watched))
            try:
                child.wait(timeout=SAMPLE_SECONDS)
                break
            except subprocess.TimeoutExpired:
                continue
    wall = time.perf_counter() - started
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return {
        "returncode": child.returncode,
        "wall_s": round(wall, 3),
        "user_s": round(usage.ru_utime, 3),
        "sys_s": round(usage.ru_stime, 3),
        "cpu_s": round(usage.ru_utime + usage.ru_stime, 3),
        "max_rss_mb": round(usage.ru_maxrss / 1024, 1),
        "tree_peak_rss_mb": round(peak / 2**20, 1),
    }


def main(argv: list[str]) -> int:
    if len(argv) < 4 or argv[2] != "--":
        print(__doc__, file=sys.stderr)
        return 2
    result = measure(argv[3:], Path(argv[1]))
    Path(argv[0]).write_text(json.dumps(result), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
