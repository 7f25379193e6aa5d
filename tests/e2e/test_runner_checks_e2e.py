"""`cxpipe run`'s check after each DAG run, against real Airflow (one tiny ingest DAG run).

Airflow records a DAG run for a logical date before the DAG's start date as "success"
with no task instance. The runner reads the run back and fails, naming DAG, date and
reason; with the schedule window the runner gives Airflow, the same date really runs.
"""

from __future__ import annotations

import shutil
import sqlite3
from datetime import date
from pathlib import Path

import pytest
from conftest import settings_for

from cxpipe.demo import DemoSpec, generate
from cxpipe.runner import RunError, airflow_env, run_dags

EARLY = date(2025, 3, 1)


def _migrated_home(airflow_db: Path, home: Path) -> Path:
    """An Airflow home holding a copy of the session's migrated metadata database (its default place)."""
    home.mkdir()
    shutil.copyfile(airflow_db, home / "airflow.db")
    return home


def test_a_run_before_the_start_date_is_an_error_and_the_runner_window_runs_it(
    dbt_manifest: Path, airflow_db: Path, tmp_path: Path
) -> None:
    settings = settings_for(tmp_path)
    generate(settings.landing_dir, DemoSpec(start=EARLY, days=1, history_days=3, customers=20, orders_per_day=2))
    home = _migrated_home(airflow_db, tmp_path / "airflow")
    as_configured = {**airflow_env(settings, home), "CX_START_DATE": "2026-11-01"}

    with pytest.raises(RunError) as caught:
        run_dags([("cx_ingest_sales", EARLY), ("cx_ingest_crm", EARLY)], as_configured, settings.project_dir)
    assert str(caught.value) == (
        "cx_ingest_sales for 2025-03-01: the DAG run scheduled no task, so nothing was loaded or published "
        "(logical date 2025-03-01 is before the DAG's start date 2026-11-01; set CX_START_DATE=2025-03-01 (or earlier))"
    )
    assert not (settings.lake_dir / "_load_audit" / "sales").exists()
    with sqlite3.connect(home / "airflow.db") as db:  # the first run stopped the list: crm never ran
        assert [r[0] for r in db.execute("select dag_id from dag_run")] == ["cx_ingest_sales"]

    widened = {**airflow_env(settings, home, [EARLY]), "CX_PII_KEY": settings.pii_key}
    assert widened["CX_START_DATE"] == "2025-03-01"
    (ran,) = run_dags([("cx_ingest_sales", EARLY)], widened, settings.project_dir)
    assert (ran["dag_id"], ran["date"]) == ("cx_ingest_sales", EARLY.isoformat())
    assert ran["cpu_s"] > 0 and ran["wall_s"] > 0 and {t["state"] for t in ran["states"]} <= {"success", "skipped"}
    assert (settings.lake_dir / "_load_audit" / "sales" / "load_date=2025-03-01" / "part-0.parquet").exists()


def test_an_unknown_dag_or_a_crash_of_airflow_is_an_error_naming_the_dag(airflow_db: Path, tmp_path: Path) -> None:
    settings = settings_for(tmp_path)
    env = airflow_env(settings, _migrated_home(airflow_db, tmp_path / "airflow"))
    with pytest.raises(RunError) as caught:
        run_dags([("cx_ingest_nowhere", EARLY)], env, settings.project_dir)
    assert str(caught.value).startswith("cx_ingest_nowhere: no such DAG in ")
    assert "cx_ingest_sales" in str(caught.value) and "cx_transform_publish" in str(caught.value)

    no_database = {**env, "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{tmp_path / 'missing' / 'airflow.db'}"}
    stopped = r"^cx_ingest_sales for 2025-03-01: Airflow stopped with exit code \d+ after 0 of 1"
    with pytest.raises(RunError, match=stopped):
        run_dags([("cx_ingest_sales", EARLY)], no_database, settings.project_dir)
