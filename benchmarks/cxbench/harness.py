"""The benchmark run: demo data at each scale factor, every stage beside its baseline, repeated.

``make bench SF="1 10" REPEATS=3`` (``benchmarks/harness.py --sf 1 10 --repeats 3``).

For each scale factor (SF 1 ≈ 100 k order lines, :meth:`cxpipe.demo.DemoSpec.at_scale`) the
demo writes two landing dates: the first holds the history (``--history-days``), the second
one new day. Then, per repeat, on a fresh data folder and the same landing files:

1. **ingest** of the first date ↔ the **ingest floor** (:mod:`cxbench.floor_ingest`);
2. **dbt build (full)** ↔ the **transform floor** (:mod:`cxbench.floor_transform`) ↔ the
   **pandas script** (:mod:`cxbench.pandas_team`); the floor's tables are checked equal to
   dbt's and the pandas tables to the marts (:mod:`cxbench.compare`);
3. **complaint text analysis** alone, **gate**, **publish**;
4. ingest of the new day (measured, not paired), then **dbt build (incremental)**;
5. the **whole pipeline through Airflow** (``cxpipe run`` of the first date) on a data folder of its own.

A stage and its baseline run back to back, in alternating order from one repeat to the
next (stage first in even repeats). Each runs in a fresh child process measured by
:mod:`cxbench.measure`. The complaint models are fitted once before anything is timed (the
cache every build reads; the fitting is reported on its own).

Raw results go to ``<results>/bench_sf<SF>.json`` (one file per scale factor, replaced when
that SF is run again); the report (``docs/benchmarks.md``) and the plot are then
regenerated from every ``bench_sf*.json`` in the results folder (:mod:`cxbench.report`).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
import traceback
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from cxbench import portable_command, report
from cxbench.compare import compare_databases, compare_frames
from cxbench.floor_transform import make_plan

BENCH_DIR = Path(__file__).resolve().parent.parent
REPO = BENCH_DIR.parent
BIN = Path(sys.executable).parent
START = date(2026, 11, 1)
MEASURE = Path(__file__).resolve().parent / "measure.py"

#: Absolute tolerance per float column of the two marts the pandas script computes: one unit
#: of the last decimal each is rounded to. Why a difference can reach it: the script rounds as
#: DuckDB does (``sql_round``), but pandas interpolates a median or 90th percentile as
#: b − (b − a)(1 − t) for t ≥ ½ and DuckDB's quantile_cont as a + (b − a)t; one ulp apart, the
#: two can land on either side of a rounding tie (x.xx5).
PANDAS_TOLERANCES = {
    "satisfaction_index": {
        **dict.fromkeys(
            [
                "csat",
                "nps",
                "nps_rolling_90d",
                "sentiment",
                "on_time_rate",
                "complaint_rate",
                "first_response_hours_median",
                "first_response_hours_p90",
                "resolution_hours_median",
                "resolution_hours_p90",
                "satisfaction_index",
            ],
            0.01,
        ),
        "ces": 0.001,
    },
    "complaint_root_causes": {"share_pct": 0.01, "cumulative_share_pct": 0.01, "change_vs_previous_month_pct": 0.1},
}
PANDAS_KEYS = {
    "satisfaction_index": ["month", "dimension", "dimension_value"],
    "complaint_root_causes": ["month", "dimension", "dimension_value", "root_cause"],
}
#: is_vital_few compares the cumulative share of the causes ranked above with 80 %: where those
#: causes hold exactly 80 % of the complaints, floating-point summation order decides the flag.
PANDAS_BOUNDARIES = {"complaint_root_causes": {"is_vital_few": "vital_few_at_boundary"}}


class Bench:
    """One harness run: the work folder, the environment of the children, the records."""

    def __init__(
        self, workdir: Path, history_days: int, model_cache: Path | None = None, airflow_db: Path | None = None
    ) -> None:
        self.workdir = workdir
        self.history_days = history_days
        self.logs = workdir / "logs"
        self.logs.mkdir(parents=True, exist_ok=True)
        self.project = workdir / "dbt_project"
        shutil.copytree(REPO / "dbt_project", self.project, ignore=shutil.ignore_patterns("target", "logs"))
        self.gx = workdir / "expectations"
        shutil.copytree(REPO / "expectations", self.gx, ignore=shutil.ignore_patterns("uncommitted"))
        self.models = model_cache or workdir / "models"
        self.records: list[dict[str, Any]] = []
        self.load_samples: list[float] = []
        self._airflow_db: Path | None = airflow_db
        #: where run_scale keeps the results of the repeats done so far (set by main)
        self.partial: Path | None = None
        self.model_fitting: dict[str, Any] = {}
        self.command = ""
        #: also build on Spark after the DuckDB build (``--spark``), with this master
        self.spark = False
        self.spark_master = "local[2]"

    # -------------------------------------------------------------- environment and measurement

    def env(self, data_dir: Path, **extra: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("CX_", "AIRFLOW", "DBT_"))}
        env.update(
            {
                "CX_DATA_DIR": str(data_dir),
                "CX_DEMO_MODE": "true",
                "CX_DBT_PROJECT_DIR": str(self.project),
                "CX_GX_DIR": str(self.gx),
                "CX_MODEL_CACHE_DIR": str(self.models),
                # as dbt's sources and profile read them (cxpipe.settings.Settings.dbt_env)
                "CX_LAKE_DIR": str(data_dir / "lake"),
                "CX_BUILD_DB": str(data_dir / "warehouse" / "cx.duckdb"),
                "CX_SOURCES": "sales,crm,surveys,social",
                "CX_REPORTING_CURRENCY": "EUR",
                # a production build, as cxpipe runs dbt (Settings.dbt_env): dbt's unit tests are left to CI
                "DBT_EXCLUDE_RESOURCE_TYPES": "unit_test",
                "GX_ANALYTICS_ENABLED": "false",
                "DO_NOT_TRACK": "true",
                "SCARF_ANALYTICS": "false",
                "PYTHONPATH": str(BENCH_DIR),
                "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
            }
        )
        env.update(extra)
        return env

    def measure(
        self,
        name: str,
        command: list[str],
        env: dict[str, str],
        cwd: Path | None = None,
        result: Path | None = None,
        **meta: Any,
    ) -> dict[str, Any]:
        """Run ``command`` in a measured child; record and return what it used (and its result file)."""
        out = self.workdir / "measure.json"
        log = self.logs / f"{len(self.records):03d}_{name.replace(' ', '_')}.log"
        load = os.getloadavg()[0]
        self.load_samples.append(load)
        started = datetime.now(UTC)
        print(f"[{started:%H:%M:%S}] {name} ...", end=" ", flush=True)
        subprocess.run(
            [sys.executable, str(MEASURE), str(out), str(log), "--", *command],
            env=env,
            cwd=cwd,
            check=True,
        )
        usage = json.loads(out.read_text(encoding="utf-8"))
        # the log relative to the work folder: the results keep no path of this machine
        relative_log = str(log.relative_to(self.workdir))
        record: dict[str, Any] = {"stage": name, **meta, **usage, "load_1m_before": round(load, 2), "log": relative_log}
        record["load_1m_after"] = round(os.getloadavg()[0], 2)
        self.load_samples.append(record["load_1m_after"])
        if result is not None and result.exists():
            record["result"] = json.loads(result.read_text(encoding="utf-8"))
        if usage["returncode"] != 0:
            tail = log.read_text(encoding="utf-8", errors="replace")[-3000:]
            record["error_tail"] = tail
            print(f"FAILED (exit {usage['returncode']}); see {log}", flush=True)
        else:
            print(
                f"{usage['cpu_s']:.1f} CPU-s, {usage['wall_s']:.1f} s, {usage['max_rss_mb']:.0f} MB (load {load:.1f})",
                flush=True,
            )
        self.records.append(record)
        return record

    def python(self, module: str, *args: str | Path) -> list[str]:
        return [sys.executable, "-m", module, *map(str, args)]

    def dbt_build(self, data_dir: Path, target: Path) -> list[str]:
        return [
            str(BIN / "dbt"),
            "build",
            "--project-dir",
            str(self.project),
            "--profiles-dir",
            str(self.project),
            "--target-path",
            str(target),
            "--log-path",
            str(data_dir / "dbt_logs"),
        ]

    def untimed(self, command: list[str], env: dict[str, str], cwd: Path | None = None) -> None:
        log = self.logs / "untimed.log"
        with log.open("ab") as out:
            subprocess.run(command, env=env, cwd=cwd, stdout=out, stderr=subprocess.STDOUT, check=True)

    def airflow_db(self) -> Path:
        """A migrated Airflow metadata database, made once; each Airflow run starts from a copy."""
        if self._airflow_db is None:
            home = self.workdir / "airflow_template"
            home.mkdir(exist_ok=True)
            env = self.env(self.workdir / "unused", AIRFLOW_HOME=str(home))
            self.untimed([str(BIN / "airflow"), "db", "migrate"], env)
            self._airflow_db = home / "airflow.db"
        return self._airflow_db

    def generate(self, sf: float, sf_dir: Path, days: int) -> tuple[Path, dict[str, Any]]:
        """Demo landing files at ``sf`` (``days`` landing dates, the first holding the history), measured.

        Returns the landing folder and the measurement record.
        """
        gen = sf_dir / "gen"
        command = [str(BIN / "cxpipe"), "demo", "--scale", f"{sf:g}", "--start", START.isoformat()]
        command += ["--days", str(days), "--history-days", str(self.history_days)]
        record = self.measure("generate", command, self.env(gen), sf=sf, repeat=0)
        return gen / "landing", record

    def data_folder(self, sf_dir: Path, landing: Path) -> Path:
        """An empty data folder for one run (``sf_dir/data``) whose landing is ``landing``, linked, not copied."""
        data = sf_dir / "data"
        shutil.rmtree(data, ignore_errors=True)
        data.mkdir(parents=True)
        (data / "landing").symlink_to(landing, target_is_directory=True)
        return data

    # -------------------------------------------------------------- one scale factor

    def run_scale(self, sf: float, repeats: int) -> dict[str, Any]:
        sf_dir = self.workdir / f"sf{sf:g}"
        started = datetime.now(UTC)
        first_record = len(self.records)
        load_from = len(self.load_samples)
        landing, generated = self.generate(sf, sf_dir, days=2)
        landing_rows = _generated_rows(self.workdir / generated["log"])
        plan_path = sf_dir / "floor_plan.json"
        checks: list[dict[str, Any]] = []
        for repeat in range(repeats):
            checks.append({"sf": sf, "repeat": repeat, **self.run_repeat(sf, repeat, sf_dir, landing, plan_path)})
            if self.partial is not None:  # what is done so far, in case a later repeat is interrupted
                self.partial.write_text(
                    json.dumps(
                        self._result(sf, repeats, landing, landing_rows, started, first_record, load_from, checks),
                        indent=1,
                        default=str,
                    )
                    + "\n",
                    encoding="utf-8",
                )

        return self._result(sf, repeats, landing, landing_rows, started, first_record, load_from, checks)

    def _result(
        self,
        sf: float,
        repeats: int,
        landing: Path,
        landing_rows: dict[str, int],
        started: datetime,
        first_record: int,
        load_from: int,
        checks: list[dict[str, Any]],
    ) -> dict[str, Any]:
        loads = self.load_samples[load_from:]
        return {
            "sf": sf,
            "repeats": repeats,
            "history_days": self.history_days,
            "started_at": started.isoformat(timespec="seconds"),
            "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "landing_rows": landing_rows,
            "landing_mb": round(sum(p.stat().st_size for p in landing.rglob("*") if p.is_file()) / 2**20, 1),
            "load_1m": {"min": min(loads), "median": float(pd.Series(loads).median()), "max": max(loads)},
            "machine": machine(),
            "model_fitting": self.model_fitting,
            "harness_command": self.command,
            "runs": self.records[first_record:],
            "checks": checks,
        }

    def run_repeat(self, sf: float, repeat: int, sf_dir: Path, landing: Path, plan_path: Path) -> dict[str, Any]:
        """One repeat at one scale factor: every stage and baseline on a fresh data folder; the checks."""
        day1, day2 = START.isoformat(), (START + timedelta(days=1)).isoformat()
        run_dir = sf_dir / f"run{repeat}"
        shutil.rmtree(run_dir, ignore_errors=True)
        run_dir.mkdir(parents=True)
        # one data folder per scale factor, emptied for every repeat: the SQL compiled in the first
        # repeat (the floor's plan) names the lake by its absolute path, which must be this repeat's lake
        data = self.data_folder(sf_dir, landing)
        env = self.env(data)
        meta = {"sf": sf, "repeat": repeat}
        stage_first = repeat % 2 == 0

        # 1. ingest <-> ingest floor
        ingest = (
            "ingest",
            self.python("cxbench.stages", "ingest", run_dir / "ingest.json", day1),
            run_dir / "ingest.json",
        )
        floor = (
            "ingest floor (DuckDB)",
            self.python("cxbench.floor_ingest", landing, day1, run_dir / "floor_lake", run_dir / "floor_ingest.json"),
            run_dir / "floor_ingest.json",
        )
        for name, command, result in [ingest, floor] if stage_first else [floor, ingest]:
            self.measure(name, command, env, result=result, **meta)

        # 2. dbt build (full) <-> transform floor <-> pandas script
        target_full = run_dir / "target_full"
        floor_db = run_dir / "floor" / "cx.duckdb"
        floor_db.parent.mkdir(parents=True)
        self.untimed(self.python("cxbench.stages", "prepare", run_dir / "prepare.json", "full"), env)

        def dbt_full() -> None:
            record = self.measure(
                "dbt build (full)",
                self.dbt_build(data, target_full),
                env,
                cwd=self.project,
                **meta,
            )
            record["result"] = dbt_summary(target_full)
            if not plan_path.exists() and record["result"].get("relations_built"):
                plan = make_plan(target_full, data / "warehouse" / "cx.duckdb", self.project)
                plan_path.write_text(json.dumps(plan, indent=1), encoding="utf-8")

        def transform_floor() -> None:
            self.measure(
                "transform floor (compiled SQL in DuckDB)",
                self.python("cxbench.floor_transform", plan_path, floor_db, run_dir / "floor_transform.json"),
                env,
                result=run_dir / "floor_transform.json",
                **meta,
            )

        def pandas_script() -> None:
            self.measure(
                "pandas script (2 marts)",
                self.python(
                    "cxbench.pandas_team",
                    data / "lake",
                    self.project / "seeds",
                    run_dir / "pandas_out",
                    run_dir / "pandas.json",
                ),
                env,
                result=run_dir / "pandas.json",
                **meta,
            )

        order = [dbt_full, transform_floor, pandas_script] if stage_first else [pandas_script, dbt_full]
        for step in order:
            step()
        if not stage_first:
            transform_floor()
        checks = self.check(data, floor_db, plan_path, run_dir)
        if self.spark:
            self.spark_build(data, run_dir, meta)

        # 3. text analysis, gate, publish
        self.measure(
            "complaint text analysis",
            self.python("cxbench.stages", "nlp", run_dir / "nlp.json"),
            env,
            result=run_dir / "nlp.json",
            **meta,
        )
        gate_env = self.env(data, CX_DBT_ARTIFACTS_DIR=str(target_full))
        gate = self.measure(
            "gate",
            self.python("cxbench.stages", "gate", run_dir / "gate.json", data / "warehouse" / "gate.json"),
            gate_env,
            result=run_dir / "gate.json",
            **meta,
        )
        verdict = gate.get("result", {})
        self.measure(
            "publish",
            self.python(
                "cxbench.stages",
                "publish",
                run_dir / "publish.json",
                "passed" if verdict.get("passed") else "failed",
                str(verdict.get("checks_run", 0)),
            ),
            env,
            result=run_dir / "publish.json",
            **meta,
        )

        # 4. one new day: ingest it, then the incremental build
        self.measure(
            "ingest (one new day)",
            self.python("cxbench.stages", "ingest", run_dir / "ingest_day2.json", day2),
            env,
            result=run_dir / "ingest_day2.json",
            **meta,
        )
        self.untimed(self.python("cxbench.stages", "prepare", run_dir / "prepare2.json", "incremental"), env)
        reuse_partial_parse(target_full, run_dir / "target_incremental")
        incremental = self.measure(
            "dbt build (incremental, one new day)",
            self.dbt_build(data, run_dir / "target_incremental"),
            env,
            cwd=self.project,
            **meta,
        )
        incremental["result"] = dbt_summary(run_dir / "target_incremental")

        # 5. the whole pipeline through Airflow, on its own data folder
        airflow_data = run_dir / "airflow_data"
        airflow_data.mkdir()
        (airflow_data / "landing").symlink_to(landing, target_is_directory=True)
        home = run_dir / "airflow_home"
        home.mkdir()
        shutil.copyfile(self.airflow_db(), home / "airflow.db")
        airflow_env = self.env(
            airflow_data,
            AIRFLOW_HOME=str(home),
            AIRFLOW__COSMOS__CACHE_DIR=str(run_dir / "cosmos_cache"),
        )
        self.measure(
            "whole pipeline through Airflow (cxpipe run)",
            self.python("cxbench.stages", "airflow", run_dir / "airflow.json", day1, "1"),
            airflow_env,
            result=run_dir / "airflow.json",
            **meta,
        )
        # keep the disk small: the next repeat starts from a fresh folder anyway
        for leftover in ("floor_lake", "pandas_out", "airflow_data", "cosmos_cache"):
            shutil.rmtree(run_dir / leftover, ignore_errors=True)
        return checks

    def spark_build(self, data: Path, run_dir: Path, meta: dict[str, Any]) -> dict[str, Any]:
        """The same full ``dbt build`` on Apache Spark (local mode) from the same lake, on a data folder of
        its own (its export writes a ``cx.duckdb``): ``--spark``, ``make bench SPARK=1``."""
        spark_data = run_dir / "spark_data"
        spark_data.mkdir(exist_ok=True)
        lake = spark_data / "lake"
        if not lake.exists():
            lake.symlink_to(data / "lake", target_is_directory=True)
        env = self.env(spark_data, CX_ENGINE="spark", CX_SPARK_MASTER=self.spark_master)
        return self.measure(
            "dbt build on Spark (full)",
            self.python("cxbench.stages", "spark", run_dir / "spark.json"),
            env,
            result=run_dir / "spark.json",
            **meta,
        )

    # -------------------------------------------------------------- equality checks

    def check(self, data: Path, floor_db: Path, plan_path: Path, run_dir: Path) -> dict[str, Any]:
        """The equality checks of one repeat; an error in a check is recorded as a failed check."""
        try:
            return self._check(data, floor_db, plan_path, run_dir)
        except Exception:  # noqa: BLE001 - the run goes on; the report shows the failed check
            error = traceback.format_exc()
            print(f"  equality checks raised: {error}", flush=True)
            return {"floor_vs_dbt": {"passed": False, "reason": error[-1500:]}}

    def _check(self, data: Path, floor_db: Path, plan_path: Path, run_dir: Path) -> dict[str, Any]:
        built = data / "warehouse" / "cx.duckdb"
        out: dict[str, Any] = {}
        if floor_db.exists() and plan_path.exists():
            relations = [s["relation"] for s in json.loads(plan_path.read_text(encoding="utf-8"))["steps"]]
            out["floor_vs_dbt"] = compare_databases(built, floor_db, relations)
        else:
            out["floor_vs_dbt"] = {"passed": False, "reason": "the transform floor did not build"}
        pandas_out = run_dir / "pandas_out"
        with duckdb.connect(str(built), read_only=True) as con:
            for table, keys in PANDAS_KEYS.items():
                path = pandas_out / f"{table}.parquet"
                if not path.exists():
                    out[f"pandas_vs_{table}"] = {"passed": False, "reason": "the pandas script wrote no table"}
                    continue
                mart = con.execute(f"select * from marts.{table}").df()
                out[f"pandas_vs_{table}"] = compare_frames(
                    mart, pd.read_parquet(path), keys, PANDAS_TOLERANCES[table], PANDAS_BOUNDARIES.get(table)
                )
        status = {k: v.get("passed") for k, v in out.items()}
        print(f"  equality checks: {status}", flush=True)
        return out


def reuse_partial_parse(previous: Path, target: Path) -> bool:
    """Give the next dbt command in ``target`` the parse state of the build in ``previous``. True if copied.

    A deployment's builds reuse dbt's parse state: Cosmos keeps ``partial_parse.msgpack`` in its
    cache and copies it into each run's project, so dbt only re-parses the files that changed.
    The incremental build of the benchmark writes to a target folder of its own; without the
    copy it would parse the whole project again, which no scheduled build does.
    """
    state = previous / "partial_parse.msgpack"
    if not state.exists():
        return False
    target.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(state, target / state.name)
    return True


def _generated_rows(log: Path) -> dict[str, int]:
    """Rows per entity over both landing dates, as ``cxpipe demo`` printed them."""
    rows = {}
    for line in log.read_text(encoding="utf-8", errors="replace").splitlines():
        if match := re.match(r"\s+(\w+/\w+)\s+(\d+) rows$", line):
            rows[match[1]] = int(match[2])
    return rows


def dbt_summary(target: Path) -> dict[str, Any]:
    """dbt's own account of a build (``run_results.json``): seconds per kind of node and the statuses."""
    path = target / "run_results.json"
    if not path.exists():
        return {}
    results = json.loads(path.read_text(encoding="utf-8"))["results"]
    manifest = target / "manifest.json"
    nodes = json.loads(manifest.read_text(encoding="utf-8"))["nodes"] if manifest.exists() else {}
    seconds: dict[str, float] = {}
    statuses: dict[str, int] = {}
    for result in results:
        kind = result["unique_id"].split(".")[0]
        if nodes.get(result["unique_id"], {}).get("language") == "python":
            kind = "python model"
        seconds[kind] = round(seconds.get(kind, 0.0) + float(result.get("execution_time") or 0.0), 2)
        statuses[str(result["status"])] = statuses.get(str(result["status"]), 0) + 1
    relations = [r for r in results if r["unique_id"].split(".")[0] in {"seed", "model", "snapshot"}]
    failed = [r["unique_id"] for r in results if str(r["status"]) in {"error", "fail", "skipped"}]
    return {
        "seconds_by_type": seconds,
        "statuses": statuses,
        "nodes": len(results),
        # every seed, model and snapshot built (a failed test leaves the tables there: the floor can be planned)
        "relations_built": bool(relations) and all(str(r["status"]) == "success" for r in relations),
        "failed_nodes": failed[:20],
    }


def machine() -> dict[str, Any]:
    import psutil

    model = ""
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    versions = {}
    for package in ("duckdb", "dbt-core", "dbt-duckdb", "apache-airflow", "astronomer-cosmos", "pandas"):
        try:
            from importlib.metadata import version

            versions[package] = version(package)
        except Exception:  # noqa: BLE001 - a missing package is just not listed
            continue
    return {
        "cpu_model": model,
        "logical_cpus": os.cpu_count(),
        "physical_cores": psutil.cpu_count(logical=False),
        "ram_gb": round(psutil.virtual_memory().total / 2**30, 1),
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "versions": versions,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sf", type=float, nargs="+", default=[1.0], help="scale factors (SF 1 ≈ 100 k order lines)")
    parser.add_argument("--repeats", type=int, default=3, help="paired runs per scale factor")
    parser.add_argument("--history-days", type=int, default=120, help="days of history in the first landing date")
    parser.add_argument("--workdir", type=Path, default=None, help="work folder (default: a new temporary one)")
    parser.add_argument("--keep", action="store_true", help="keep the work folder")
    parser.add_argument("--results", type=Path, default=BENCH_DIR / "results", help="raw JSON results folder")
    parser.add_argument("--doc", type=Path, default=REPO / "docs" / "benchmarks.md", help="the report to write")
    parser.add_argument("--plot", type=Path, default=REPO / "docs" / "benchmarks.png", help="the plot to write")
    parser.add_argument(
        "--model-cache", type=Path, default=None, help="fitted complaint models to reuse (default: fit them anew)"
    )
    parser.add_argument(
        "--airflow-db", type=Path, default=None, help="a migrated Airflow database to copy (default: migrate one)"
    )
    parser.add_argument(
        "--spark", action="store_true", help="also build on Apache Spark after each DuckDB build (docs/spark.md)"
    )
    parser.add_argument("--spark-master", default="local[2]", help="Spark master of the Spark build")
    args = parser.parse_args(argv)
    if args.repeats < 1:
        parser.error("--repeats must be at least 1")

    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="cxbench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    bench = Bench(workdir, args.history_days, args.model_cache, args.airflow_db)
    bench.spark, bench.spark_master = args.spark, args.spark_master
    print(f"work folder: {workdir}", flush=True)
    warm = bench.measure(
        "complaint model fitting (once)",
        bench.python("cxbench.stages", "warm", workdir / "warm.json"),
        bench.env(workdir),
        sf=0,
        repeat=0,
    )
    bench.model_fitting = {k: warm[k] for k in ("cpu_s", "wall_s", "max_rss_mb")}
    bench.command = portable_command("benchmarks/harness.py", sys.argv[1:] if argv is None else argv)
    args.results.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    for sf in args.sf:
        bench.partial = args.results / f"bench_sf{sf:g}.partial.json"
        result = bench.run_scale(sf, args.repeats)
        bench.partial.unlink(missing_ok=True)
        path = args.results / f"bench_sf{sf:g}.json"
        path.write_text(json.dumps(result, indent=1, default=str) + "\n", encoding="utf-8")
        print(f"results: {path}", flush=True)
    report.write(args.results, args.doc, args.plot)
    print(f"report: {args.doc}, plot: {args.plot} ({time.perf_counter() - started:.0f} s)", flush=True)
    if args.workdir is None and not args.keep:
        shutil.rmtree(workdir, ignore_errors=True)
    return 0
