"""Ingest throughput and peak memory at a scale factor, against a plain pandas baseline.

Usage::

    .venv/bin/python benchmarks/ingest_benchmark.py --scale 10 [--workdir /tmp/cxbench] [--keep]

Generates demo landing files at the scale factor (one landing date holding all
history), then, each in a fresh process so peak memory is its own:

* ``cxpipe``: :func:`cxpipe.ingest.ingest_source` for the four sources (decode,
  parse with line numbers, validate, deduplicate, pseudonymise, quarantine,
  audit, write-then-rename);
* ``baseline``: ``pandas.read_csv(dtype=str)`` / ``pandas.read_json(lines=True)``
  and ``DataFrame.to_parquet`` of the same files, with no checks at all.

Writes ``benchmarks/results/ingest_sf<scale>.json`` and ``.md``. Not a test: the
numbers depend on the machine and its load.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
DAY = date(2026, 11, 1)


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _run_cxpipe(data_dir: Path) -> dict[str, object]:
    from cxpipe.contracts import SOURCES
    from cxpipe.ingest import ingest_source
    from cxpipe.settings import Settings

    settings = Settings(
        project_dir=HERE.parent,
        data_dir=data_dir,
        dbt_project_dir=HERE.parent / "dbt_project",
        gx_dir=HERE.parent / "expectations",
        pii_key="benchmark-key",
    )
    started = time.perf_counter()
    rows_in = rows_loaded = rows_quarantined = 0
    per_source: dict[str, float] = {}
    for source in SOURCES:
        t0 = time.perf_counter()
        for result in ingest_source(settings, source, DAY):
            rows_in += result.rows_in
            rows_loaded += result.rows_loaded
            rows_quarantined += result.rows_quarantined
        per_source[source] = round(time.perf_counter() - t0, 2)
    seconds = time.perf_counter() - started
    return {
        "rows": rows_in,
        "rows_loaded": rows_loaded,
        "rows_quarantined": rows_quarantined,
        "seconds": round(seconds, 2),
        "seconds_per_source": per_source,
        "peak_rss_mb": round(_peak_rss_mb(), 1),
    }


def _run_baseline(data_dir: Path) -> dict[str, object]:
    import pandas as pd

    out = data_dir / "baseline"
    started = time.perf_counter()
    rows = 0
    for path in sorted((data_dir / "landing").rglob("*.*")):
        if path.suffix == ".csv":
            frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
        else:
            frame = pd.read_json(path, lines=True, dtype=False)
        rows += len(frame)
        target = out / path.relative_to(data_dir / "landing").with_suffix(".parquet")
        target.parent.mkdir(parents=True, exist_ok=True)
        frame.to_parquet(target, index=False)
    seconds = time.perf_counter() - started
    return {"rows": rows, "seconds": round(seconds, 2), "peak_rss_mb": round(_peak_rss_mb(), 1)}


def _child(mode: str, data_dir: Path) -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, __file__, "--child", mode, "--workdir", str(data_dir)],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONPATH": str(HERE.parent / "plugins")},
    )
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=float, default=10.0)
    parser.add_argument("--history-days", type=int, default=120)
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument("--keep", action="store_true", help="keep the generated files")
    parser.add_argument("--child", choices=("cxpipe", "baseline"), help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.child:
        run = _run_cxpipe if args.child == "cxpipe" else _run_baseline
        print(json.dumps(run(args.workdir)))
        return 0

    sys.path.insert(0, str(HERE.parent / "plugins"))
    from cxpipe.demo import DemoSpec, generate

    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="cxbench-"))
    data_dir = workdir / "data"
    shutil.rmtree(data_dir, ignore_errors=True)
    spec = DemoSpec.at_scale(args.scale, start=DAY, history_days=args.history_days)
    t0 = time.perf_counter()
    counts = generate(data_dir / "landing", spec)
    generate_seconds = time.perf_counter() - t0
    landing_bytes = sum(p.stat().st_size for p in (data_dir / "landing").rglob("*") if p.is_file())
    print(f"generated SF {args.scale:g}: {sum(counts.values())} rows in {generate_seconds:.1f} s", flush=True)

    baseline = _child("baseline", data_dir)
    print(f"baseline: {baseline}", flush=True)
    cxpipe = _child("cxpipe", data_dir)
    print(f"cxpipe:   {cxpipe}", flush=True)

    def rate(run: dict[str, object]) -> int:
        return round(float(str(run["rows"])) / float(str(run["seconds"])))

    result = {
        "scale": args.scale,
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}",
        "landing_rows": counts,
        "landing_mb": round(landing_bytes / 2**20, 1),
        "generate_seconds": round(generate_seconds, 1),
        "baseline": {**baseline, "rows_per_second": rate(baseline)},
        "cxpipe": {**cxpipe, "rows_per_second": rate(cxpipe)},
    }
    results = HERE / "results"
    results.mkdir(exist_ok=True)
    stem = f"ingest_sf{args.scale:g}"
    (results / f"{stem}.json").write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    base, cx = result["baseline"], result["cxpipe"]
    lines = [
        f"# Ingest benchmark, SF {args.scale:g}",
        "",
        f"Measured {result['measured_at']} on {result['machine']} "
        f"with `benchmarks/ingest_benchmark.py --scale {args.scale:g}`.",
        f"Landing files: {sum(counts.values()):,} rows, {result['landing_mb']} MB, "
        f"generated in {result['generate_seconds']} s.",
        "",
        "| run | rows | seconds | rows/s | peak RSS (MB) |",
        "|---|---:|---:|---:|---:|",
        f"| pandas read + to_parquet (no checks) | {base['rows']:,} | {base['seconds']} | "
        f"{base['rows_per_second']:,} | {base['peak_rss_mb']} |",
        f"| cxpipe ingest (all checks) | {cx['rows']:,} | {cx['seconds']} | "
        f"{cx['rows_per_second']:,} | {cx['peak_rss_mb']} |",
        "",
        f"cxpipe loaded {cx['rows_loaded']:,} rows and quarantined {cx['rows_quarantined']:,}; "
        f"seconds per source: {cx['seconds_per_source']}.",
        "",
    ]
    (results / f"{stem}.md").write_text("\n".join(lines), encoding="utf-8")
    print("\n".join(lines))
    if not args.keep and args.workdir is None:
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
