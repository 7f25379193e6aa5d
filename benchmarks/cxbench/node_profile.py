"""CPU of each dbt node's query, replayed in one DuckDB process: where a build's SQL time goes.

``python -m cxbench.node_profile <dbt target folder> <warehouse copy> <result.json> [--threads N]``

dbt's ``run_results.json`` gives each node's wall time, which on a shared machine mixes in the
other processes' load, and which for a model also holds dbt's own work around the query (the
table's DDL and index, the merge of an incremental model, the commit, the column comments). This
replays, in the order dbt ran them, the compiled SQL dbt kept for each node against a copy of the
warehouse the build left (opened read-write, so pass a copy, under the warehouse's file name:
DuckDB names the catalog the SQL refers to after it): a model's select into a temporary
table, dropped again; a data test's query, fetched. It records the process CPU time
(:func:`time.process_time`, every DuckDB thread included) and the wall time of each. The
difference between the two accounts is what a node costs beyond its query.

An incremental model's compiled select holds the filter of the run that compiled it, resolved
against the table as that run found it; replayed on the warehouse after the build it reads the
same window as long as the build added no newer landing date than the one it read. Python models
(the complaint text analysis) and nodes without compiled SQL (seeds, snapshots) are listed as
skipped.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

import duckdb


def nodes(run_results: Path) -> list[dict[str, Any]]:
    """The models and data tests of a dbt run, in run order, with the compiled SQL and dbt's time."""
    results = json.loads(run_results.read_text(encoding="utf-8"))["results"]
    out = []
    for result in results:
        kind = result["unique_id"].split(".", 1)[0]
        if kind not in ("model", "test"):
            continue
        out.append(
            {
                "node": result["unique_id"],
                "kind": kind,
                "sql": result.get("compiled_code") or "",
                "dbt_execution_s": round(float(result.get("execution_time") or 0.0), 3),
            }
        )
    return out


def _database_name(con: duckdb.DuckDBPyConnection) -> str:
    row = con.execute("select current_database()").fetchone()
    return str(row[0]) if row else ""


def replay(warehouse: Path, run_results: Path, threads: int = 2) -> dict[str, Any]:
    """Each node's query on ``warehouse``: CPU-s and wall seconds, sorted by CPU; the totals by kind."""
    profiled: list[dict[str, Any]] = []
    with duckdb.connect(str(warehouse)) as con:
        con.execute(f"set threads = {int(threads)}")
        database = _database_name(con)
        for node in nodes(run_results):
            record = {k: node[k] for k in ("node", "kind", "dbt_execution_s")}
            sql = node["sql"].strip().rstrip(";")
            if not sql or "def model(" in sql:
                profiled.append({**record, "skipped": "no compiled SQL (seed, snapshot or Python model)"})
                continue
            cpu, wall = time.process_time(), time.perf_counter()
            try:
                if node["kind"] == "model":
                    con.execute(f"create or replace temporary table _node_profile as {sql}")
                    con.execute("drop table _node_profile")
                else:
                    con.execute(sql).fetchall()
            except duckdb.Error as exc:
                profiled.append({**record, "skipped": f"{type(exc).__name__}: {str(exc)[:200]}"})
                continue
            finally:
                con.execute(f"use {database}")  # a node's SQL may switch the default schema
            profiled.append(
                {
                    **record,
                    "cpu_s": round(time.process_time() - cpu, 3),
                    "wall_s": round(time.perf_counter() - wall, 3),
                }
            )
    timed = [p for p in profiled if "cpu_s" in p]
    totals = {kind: round(sum(p["cpu_s"] for p in timed if p["kind"] == kind), 3) for kind in ("model", "test")}
    return {
        "threads": threads,
        "cpu_s_by_kind": totals,
        "cpu_s": round(sum(totals.values()), 3),
        "nodes": sorted(timed, key=lambda p: -p["cpu_s"]) + [p for p in profiled if "cpu_s" not in p],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("target", type=Path, help="dbt target folder of the build (holds run_results.json)")
    parser.add_argument("warehouse", type=Path, help="a copy of the warehouse the build left (written to)")
    parser.add_argument("result", type=Path, help="where to write the profile (JSON)")
    parser.add_argument("--threads", type=int, default=2, help="DuckDB threads, as the build's connection had")
    args = parser.parse_args(argv)
    profile = replay(args.warehouse, args.target / "run_results.json", args.threads)
    args.result.write_text(json.dumps(profile, indent=1) + "\n", encoding="utf-8")
    print(f"{profile['cpu_s']:.1f} CPU-s of queries: {profile['cpu_s_by_kind']}")
    for node in profile["nodes"][:15]:
        if "cpu_s" in node:
            print(f"{node['cpu_s']:7.2f} {node['wall_s']:7.2f} {node['node']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
