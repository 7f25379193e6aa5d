"""The dbt build on DuckDB beside the same build on Apache Spark (local mode), at given scale factors.

``.venv/bin/python benchmarks/spark_vs_duckdb.py --sf 1 10`` writes
``benchmarks/results/spark/spark_sf<SF>.json``: the CPU and wall time of the full ``dbt build`` on
DuckDB and of :func:`cxpipe.warehouse.spark.build` (the same build on Spark, then the export of the
reporting tables into DuckDB), each in a fresh measured child process (:mod:`cxbench.measure`), on the
same lake. The whole harness (``make bench SPARK=1``) runs the Spark stage beside every other stage;
this runs only the two builds. docs/spark.md reports the figures.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from cxbench import portable_command
from cxbench.harness import BENCH_DIR, START, Bench, dbt_summary, machine


def run(bench: Bench, sf: float, spark_master: str) -> dict[str, object]:
    sf_dir = bench.workdir / f"sf{sf:g}"
    landing, _ = bench.generate(sf, sf_dir, days=1)
    data = bench.data_folder(sf_dir, landing)
    env = bench.env(data)
    meta = {"sf": sf, "repeat": 0}
    bench.measure(
        "ingest",
        bench.python("cxbench.stages", "ingest", sf_dir / "ingest.json", START.isoformat()),
        env,
        result=sf_dir / "ingest.json",
        **meta,
    )
    bench.untimed(bench.python("cxbench.stages", "prepare", sf_dir / "prepare.json", "full"), env)
    duck = bench.measure(
        "dbt build (full)", bench.dbt_build(data, sf_dir / "target_full"), env, cwd=bench.project, **meta
    )
    duck["result"] = dbt_summary(sf_dir / "target_full")
    bench.spark_master = spark_master
    spark = bench.spark_build(data, sf_dir, meta)
    return {"sf": sf, "duckdb": duck, "spark": spark}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sf", type=float, nargs="+", default=[1.0])
    parser.add_argument("--history-days", type=int, default=120)
    parser.add_argument("--spark-master", default="local[2]")
    parser.add_argument("--model-cache", type=Path, default=None)
    parser.add_argument("--results", type=Path, default=BENCH_DIR / "results" / "spark")
    args = parser.parse_args(argv)
    workdir = Path(tempfile.mkdtemp(prefix="cxbench-spark-"))
    bench = Bench(workdir, args.history_days, args.model_cache)
    bench.measure(
        "complaint model fitting (once)",
        bench.python("cxbench.stages", "warm", workdir / "warm.json"),
        bench.env(workdir),
        sf=0,
        repeat=0,
    )
    args.results.mkdir(parents=True, exist_ok=True)
    command = portable_command("benchmarks/spark_vs_duckdb.py", sys.argv[1:] if argv is None else argv)
    for sf in args.sf:
        result = {"command": command, "machine": machine(), **run(bench, sf, args.spark_master)}
        path = args.results / f"spark_sf{sf:g}.json"
        path.write_text(json.dumps(result, indent=1, default=str) + "\n", encoding="utf-8")
        print(f"results: {path}", flush=True)
    shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
