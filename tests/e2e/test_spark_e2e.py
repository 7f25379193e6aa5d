"""`CX_ENGINE=spark` through real Airflow, and the Spark build's reporting tables against the DuckDB build's.

One Airflow run (``cxpipe run``): the four ingest DAGs, then the transform DAG whose dbt build runs on Apache
Spark (local mode, one task ``dbt.build``: models, seeds, snapshot and data tests), the gate and publish. Its
landing files are the suite's demo data (``SMALL_DEMO``) pseudonymised with the key of the shared DuckDB build
(``built_warehouse``), and both ingest the same landing day, so the run's lake holds what the DuckDB build's
holds: the Spark build's ``marts.*``, which the transform exported into the run's ``cx.duckdb``, are compared
with the DuckDB build's row by row. Text, whole numbers, dates, timestamps and booleans must be equal; DOUBLE
columns within :data:`REL_TOLERANCE` / :data:`ABS_TOLERANCE` (sums of doubles depend on the order an engine adds
them in), and a figure the marts round to d decimals within one unit of its last decimal (10^-d): the two
engines' last bits can put a value such as 22.075 on either side of the rounding (docs/spark.md, "Equal results").

One Spark build serves the whole module: the run itself checks the gate and publish on it, and only the second
snapshot run starts a SparkSession of its own (in this process, on a copy of the run's lake).
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest
from conftest import DEMO_DATE, MODEL_CACHE, SMALL_DEMO, TEST_PII_KEY, copy_gx_context, cxpipe_run_env

from cxpipe.contracts import REPORTING_TABLES, SEMANTIC_LAYER_TABLES
from cxpipe.demo import generate
from cxpipe.runner import TRANSFORM_DAG
from cxpipe.settings import REPO_ROOT, EngineSettings, Settings
from cxpipe.warehouse import spark

#: DOUBLE columns: |spark - duckdb| <= ABS_TOLERANCE + REL_TOLERANCE * |duckdb|.
REL_TOLERANCE = 1e-9
ABS_TOLERANCE = 1e-9

# Spark's JVM and the Airflow run took under 4 minutes on 2 shared cores (load 3); a hang guard.
pytestmark = pytest.mark.timeout(30 * 60)


@pytest.fixture(scope="module")
def spark_run(tmp_path_factory: pytest.TempPathFactory, airflow_db: Path) -> Path:
    """The Airflow run on Spark, of the landing files and with the PII key of ``built_warehouse`` (which
    another worker may build meanwhile)."""
    root = tmp_path_factory.mktemp("spark-e2e")
    env = {
        **cxpipe_run_env(root, airflow_db),
        "CX_ENGINE": "spark",
        "CX_SPARK_MASTER": "local[2]",
        "CX_PII_KEY": TEST_PII_KEY,
    }
    generate(root / "data" / "landing", SMALL_DEMO)
    run = subprocess.run(
        [sys.executable, "-m", "cxpipe", "run", "--start", DEMO_DATE.isoformat(), "--days", "1"],
        env=env,
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 0, run.stdout[-5000:] + run.stderr[-5000:]
    return root


def test_every_dag_succeeds(spark_run: Path) -> None:
    with sqlite3.connect(spark_run / "airflow" / "airflow.db") as db:
        states = dict(db.execute("select dag_id, state from dag_run").fetchall())
    assert states == {
        "cx_ingest_sales": "success",
        "cx_ingest_crm": "success",
        "cx_ingest_surveys": "success",
        "cx_ingest_social": "success",
        TRANSFORM_DAG: "success",
    }


def test_the_transform_built_on_spark_and_the_gate_read_its_results(spark_run: Path) -> None:
    kept = list((spark_run / "data" / "warehouse" / "dbt_results").glob("*/manifest.json"))
    assert len(kept) == 1, kept
    manifest = json.loads(kept[0].read_text(encoding="utf-8"))
    assert manifest["metadata"]["adapter_type"] == "spark"
    results = [json.loads(p.read_text(encoding="utf-8")) for p in kept[0].parent.glob("run_results*.json")]
    ran = {r["unique_id"]: r["status"] for result in results for r in result["results"]}
    kinds = ("model", "seed", "snapshot", "test")
    built = {uid for uid, node in manifest["nodes"].items() if node["resource_type"] in kinds}
    # every model, seed, snapshot and data test of the project ran on Spark, and none failed
    assert {uid for uid in ran if uid.split(".")[0] in kinds} == built
    assert len(built) > 100 and "error" not in ran.values() and "fail" not in ran.values()


def test_every_reporting_table_is_published_after_a_passed_gate(spark_run: Path) -> None:
    reporting = spark_run / "data" / "warehouse" / "reporting.duckdb"
    with duckdb.connect(str(reporting), read_only=True) as con:
        for table in REPORTING_TABLES:
            row = con.execute(f"select count(*) from {table}").fetchone()
            assert row is not None and row[0] > 0, table
        log = con.execute("select gate_status, gate_checks from publication_log").fetchall()
    assert len(log) == 1 and log[0][0] == "passed" and log[0][1] > 0


def _table(path: Path, table: str) -> tuple[pd.DataFrame, dict[str, str]]:
    with duckdb.connect(str(path), read_only=True) as con:
        types = dict(
            con.execute(
                "select column_name, data_type from information_schema.columns "
                "where table_schema = 'marts' and table_name = ? order by ordinal_position",
                [table],
            ).fetchall()
        )
        return con.execute(f"select * from marts.{table}").df(), types


def rounded_to(values: np.ndarray) -> int | None:
    """The decimals a column's values are rounded to (at most 6), or None when they are not rounded."""
    finite = values[np.isfinite(values)]
    for decimals in range(7):
        if np.allclose(finite, np.round(finite, decimals), rtol=0, atol=1e-12):
            return decimals
    return None


def _sorted(frame: pd.DataFrame, doubles: list[str]) -> pd.DataFrame:
    """Rows in one order for both builds: by every column, doubles rounded to 6 decimals for the sort."""
    key = frame.assign(**{c: frame[c].round(6) for c in doubles}).astype("string").fillna("<null>")
    return frame.loc[key.sort_values(list(frame.columns)).index].reset_index(drop=True)


def table_differences(duckdb_build: Path, spark_build: Path, table: str) -> list[str]:
    """What differs between ``marts.<table>`` of two build files: columns and types, row count, values."""
    expected, expected_types = _table(duckdb_build, table)
    actual, actual_types = _table(spark_build, table)
    if expected_types != actual_types:
        return [f"columns and types: DuckDB {expected_types} vs Spark {actual_types}"]
    if len(expected) != len(actual):
        return [f"{len(expected)} rows on DuckDB vs {len(actual)} on Spark"]
    doubles = [c for c, t in expected_types.items() if t in ("DOUBLE", "FLOAT")]
    expected, actual = _sorted(expected, doubles), _sorted(actual, doubles)
    problems = []
    for column in expected.columns:
        if column in doubles:
            a, b = actual[column].to_numpy(dtype=float), expected[column].to_numpy(dtype=float)
            decimals = rounded_to(b)
            atol = ABS_TOLERANCE if decimals is None else 10.0**-decimals * (1 + 1e-6)
            bad = ~np.isclose(a, b, rtol=REL_TOLERANCE, atol=atol, equal_nan=True)
        else:
            a = actual[column].astype("string").fillna("<null>").to_numpy()
            b = expected[column].astype("string").fillna("<null>").to_numpy()
            bad = a != b
        if bad.any():
            first = int(np.flatnonzero(bad)[0])
            problems.append(f"{column}: {int(bad.sum())} rows differ, e.g. Spark {a[first]!r} vs DuckDB {b[first]!r}")
    return problems


@pytest.mark.parametrize("table", [*REPORTING_TABLES, *SEMANTIC_LAYER_TABLES])
def test_every_reporting_table_equals_the_duckdb_build(built_warehouse: Settings, spark_run: Path, table: str) -> None:
    spark_build = spark_run / "data" / "warehouse" / "cx.duckdb"
    with duckdb.connect(str(spark_build), read_only=True) as con:
        rows = con.execute(f"select count(*) from marts.{table}").fetchone()
    assert rows is not None and rows[0] > 0, f"{table} is empty: the comparison would prove nothing"
    assert table_differences(built_warehouse.build_db, spark_build, table) == []


def test_rounded_figures_may_differ_by_one_unit_of_their_last_decimal_and_no_more() -> None:
    assert rounded_to(np.array([22.07, 1.5, np.nan])) == 2
    assert rounded_to(np.array([1 / 3])) is None
    values = np.array([22.07, 3.5])
    assert np.isclose(22.08, values[0], rtol=REL_TOLERANCE, atol=10.0**-2 * (1 + 1e-6))
    assert not np.isclose(22.09, values[0], rtol=REL_TOLERANCE, atol=10.0**-2 * (1 + 1e-6))


def test_the_comparison_sees_a_changed_value(built_warehouse: Settings, spark_run: Path, tmp_path: Path) -> None:
    changed = tmp_path / "changed.duckdb"
    shutil.copyfile(spark_run / "data" / "warehouse" / "cx.duckdb", changed)
    with duckdb.connect(str(changed)) as con:
        con.execute(
            "update marts.segment_summary set revenue = revenue + 0.05 "
            "where month = (select min(month) from marts.segment_summary)"
        )
    problems = table_differences(built_warehouse.build_db, changed, "segment_summary")
    assert problems and problems[0].startswith("revenue:")


def test_a_second_snapshot_run_keeps_the_history(spark_run: Path, built_warehouse: Settings, tmp_path: Path) -> None:
    """The snapshot and what it selects from built on Spark in this process (the run's catalog was its
    task's own), then ``dbt snapshot`` again in the same session: no version added, none closed."""
    (tmp_path / "data").mkdir()
    shutil.copytree(spark_run / "data" / "lake", tmp_path / "data" / "lake")
    settings = Settings(
        project_dir=REPO_ROOT,
        data_dir=tmp_path / "data",
        dbt_project_dir=built_warehouse.dbt_project_dir,
        gx_dir=copy_gx_context(tmp_path / "expectations"),
        pii_key=built_warehouse.pii_key,
        model_cache_dir=MODEL_CACHE,
        engine=EngineSettings(name="spark", spark_master="local[2]", spark_driver_memory="1g"),
    )
    try:
        # cautious: no data test that also reads a model left out (a model of the marts, say)
        upstream = ("--select", "+crm_customers_snapshot", "--indirect-selection", "cautious")
        built = spark.build(settings, upstream, export=False)
        assert built.success, "\n".join(built.failures)
        session = spark.spark_session(settings)
        query = (
            "select customer_key, membership_tier, dbt_valid_from, dbt_valid_to from snapshots.crm_customers_snapshot"
        )
        before = sorted(map(tuple, session.sql(query).collect()))
        again = spark.run_dbt(settings, ("snapshot",))
        assert again.success, "\n".join(again.failures)
        after = sorted(map(tuple, session.sql(query).collect()))
    finally:
        spark.stop_session()
    assert before and after == before
