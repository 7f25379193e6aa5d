"""End to end through real Airflow: every task is executed by Airflow (`airflow dags test`).

Demo data -> four ingest DAGs -> transform DAG (Cosmos dbt tasks, quality gate,
publish) on a temporary Airflow home and data folder; then a second run whose
gate fails must leave the publication byte-identical (with dbt as one task, the default CX_DBT_TASKS=build).
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import duckdb
import pytest
from conftest import cxpipe_run_env

from cxpipe.contracts import REPORTING_TABLES
from cxpipe.runner import TRANSFORM_DAG, airflow_env
from cxpipe.settings import load_settings
from cxpipe.warehouse import ops_db

# The Airflow runs of this module took under 5 minutes on 2 cores shared with other test
# sessions (load 3); this is a hang guard well above that, for a busier machine.
pytestmark = pytest.mark.timeout(30 * 60)


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory: pytest.TempPathFactory, airflow_db: Path) -> dict[str, object]:
    root = tmp_path_factory.mktemp("e2e")
    # one Cosmos task per dbt node (CX_DBT_TASKS=node) in this run; the default, one `dbt build` task,
    # runs in the failing-gate run below and in the scheduler and profile tests
    env = {**cxpipe_run_env(root, airflow_db), "CX_DBT_TASKS": "node"}
    cxpipe = [sys.executable, "-m", "cxpipe"]
    subprocess.run([*cxpipe, "demo", "--history-days", "60", "--customers", "150"], env=env, check=True)
    run = subprocess.run([*cxpipe, "run"], env=env, capture_output=True, text=True, check=False)
    assert run.returncode == 0, run.stdout[-5000:] + run.stderr[-5000:]
    return {"root": root, "env": env, "stdout": run.stdout}


def _dag_runs(root: Path) -> dict[str, str]:
    with sqlite3.connect(root / "airflow" / "airflow.db") as db:
        rows = db.execute("select dag_id, state from dag_run order by id").fetchall()
    return {dag_id: state for dag_id, state in rows}


def test_airflow_ran_every_dag_successfully(pipeline: dict[str, object]) -> None:
    runs = _dag_runs(Path(str(pipeline["root"])))
    assert runs == {
        "cx_ingest_sales": "success",
        "cx_ingest_crm": "success",
        "cx_ingest_surveys": "success",
        "cx_ingest_social": "success",
        TRANSFORM_DAG: "success",
    }


def test_reporting_warehouse_holds_every_table_with_rows(pipeline: dict[str, object]) -> None:
    reporting = Path(str(pipeline["root"])) / "data" / "warehouse" / "reporting.duckdb"
    with duckdb.connect(str(reporting), read_only=True) as con:
        for table in REPORTING_TABLES:
            row = con.execute(f"select count(*) from {table}").fetchone()
            assert row is not None and row[0] > 0, table
        log = con.execute("select gate_status, gate_checks, run_id from publication_log").fetchall()
    assert len(log) == 1 and log[0][0] == "passed" and log[0][1] > 0 and log[0][2].startswith("manual__")
    stdout = str(pipeline["stdout"])
    assert str(reporting) in stdout and "customer_segments" in stdout and "Open it with" in stdout


def test_the_transform_dag_wrote_the_report_of_its_publication(pipeline: dict[str, object]) -> None:
    reports = Path(str(pipeline["root"])) / "data" / "reports"
    assert sorted(p.name for p in reports.glob("*.html")) == ["report-1.html", "report.html"]
    page = (reports / "report.html").read_text(encoding="utf-8")
    assert "publication 1" in page and page.count('class="plotly-graph-div') == 9
    assert f"Report (opens offline): {reports / 'report.html'}" in str(pipeline["stdout"])


def test_the_gate_in_airflow_read_the_dbt_test_results_of_the_cosmos_tasks(pipeline: dict[str, object]) -> None:
    warehouse = Path(str(pipeline["root"])) / "data" / "warehouse"
    with duckdb.connect(str(ops_db(warehouse)), read_only=True) as con:
        row = con.execute("select checks from gate_runs where passed order by finished_at limit 1").fetchone()
    assert row is not None
    dbt_checks = [c for c in json.loads(row[0]) if c["source"] == "dbt"]
    # every dbt test upstream of the reporting tables, each run by its own Cosmos task
    assert len(dbt_checks) > 20 and all(c["passed"] for c in dbt_checks if c["severity"] == "error")


def test_a_failing_gate_in_airflow_blocks_publication(pipeline: dict[str, object]) -> None:
    root = Path(str(pipeline["root"]))
    env = dict(pipeline["env"])  # type: ignore[call-overload]
    suite_file = Path(env["CX_GX_DIR"]) / "gx" / "expectations" / "satisfaction_index.json"
    suite = json.loads(suite_file.read_text())
    suite["expectations"].append(
        {"type": "expect_table_row_count_to_be_between", "kwargs": {"max_value": 1}, "meta": {}, "severity": "critical"}
    )
    suite_file.write_text(json.dumps(suite))
    reporting = root / "data" / "warehouse" / "reporting.duckdb"
    before = hashlib.sha256(reporting.read_bytes()).hexdigest()

    settings = replace(
        load_settings(),
        data_dir=root / "data",
        gx_dir=Path(env["CX_GX_DIR"]),
        dbt_project_dir=Path(env["CX_DBT_PROJECT_DIR"]),
    )
    # dbt as one task (CX_DBT_TASKS=build) this time: the first run has shown the per-model tasks,
    # and one `dbt build` gives the gate this run's own results in a fraction of the time
    airflow = {**airflow_env(settings, root / "airflow"), "CX_DBT_TASKS": "build"}
    failed = subprocess.run(
        ["airflow", "dags", "test", TRANSFORM_DAG, "2026-11-02"],
        env=airflow,
        capture_output=True,
        text=True,
        check=False,
    )
    assert failed.returncode != 0
    assert hashlib.sha256(reporting.read_bytes()).hexdigest() == before
    alerts = [json.loads(line) for line in (root / "data" / "alerts" / "alerts.jsonl").read_text().splitlines()]
    assert alerts[-1]["task_id"] == "quality_gate"
    assert "satisfaction_index: expect_table_row_count_to_be_between failed" in alerts[-1]["error"]
    assert "did not run" not in alerts[-1]["error"]  # only the changed expectation blocks
    with sqlite3.connect(root / "airflow" / "airflow.db") as db:
        states = dict(
            db.execute(
                "select task_id, state from task_instance where dag_id = ? and run_id = "
                "(select run_id from dag_run where dag_id = ? order by id desc limit 1)",
                (TRANSFORM_DAG, TRANSFORM_DAG),
            ).fetchall()
        )
    assert states["quality_gate"] == "failed"
    assert states["publish"] == "upstream_failed"
