"""`CX_ENGINE=spark` through real Airflow: the four ingest DAGs, then the transform DAG whose dbt build runs
on Apache Spark (local mode), the gate and publish; every reporting table is published.

That the Spark build's reporting tables equal the DuckDB build's is tests/integration/test_spark_build.py;
this module proves the setting carries the whole pipeline through Airflow on Spark.
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
from conftest import cxpipe_run_env

from cxpipe.contracts import REPORTING_TABLES
from cxpipe.runner import TRANSFORM_DAG
from cxpipe.settings import REPO_ROOT

# Spark's JVM and the Airflow run took under 4 minutes on 2 shared cores (load 3); a hang guard.
pytestmark = pytest.mark.timeout(30 * 60)


@pytest.fixture(scope="module")
def spark_run(tmp_path_factory: pytest.TempPathFactory, airflow_db: Path) -> Path:
    root = tmp_path_factory.mktemp("spark-e2e")
    env = {**cxpipe_run_env(root, airflow_db), "CX_ENGINE": "spark", "CX_SPARK_MASTER": "local[2]"}
    cxpipe = [sys.executable, "-m", "cxpipe"]
    subprocess.run(
        [*cxpipe, "demo", "--start", "2026-11-01", "--days", "1", "--history-days", "60", "--customers", "150"],
        env=env,
        cwd=REPO_ROOT,
        check=True,
    )
    run = subprocess.run(
        [*cxpipe, "run", "--start", "2026-11-01", "--days", "1"],
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
    statuses = [r["status"] for result in results for r in result["results"]]
    assert len(statuses) > 300 and "error" not in statuses and "fail" not in statuses


def test_every_reporting_table_is_published_after_a_passed_gate(spark_run: Path) -> None:
    reporting = spark_run / "data" / "warehouse" / "reporting.duckdb"
    with duckdb.connect(str(reporting), read_only=True) as con:
        for table in REPORTING_TABLES:
            row = con.execute(f"select count(*) from {table}").fetchone()
            assert row is not None and row[0] > 0, table
        log = con.execute("select gate_status, gate_checks from publication_log").fetchall()
    assert len(log) == 1 and log[0][0] == "passed" and log[0][1] > 0
