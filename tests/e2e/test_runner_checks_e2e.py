"""`cxpipe run`'s check after `airflow dags test`, against real Airflow (one tiny ingest DAG run).

Airflow records a DAG run for a logical date before the DAG's start date as "success"
with no task instance. The runner reads the run back and fails, naming DAG, date and
reason; with the schedule window the runner gives Airflow, the same date really runs.
"""

from __future__ import annotations

import shutil
import subprocess
from datetime import date
from pathlib import Path

import pytest
from conftest import settings_for

from cxpipe.demo import DemoSpec, generate
from cxpipe.runner import RunError, airflow_env, run_dag

EARLY = date(2025, 3, 1)


def test_a_run_before_the_start_date_is_an_error_and_the_runner_window_runs_it(
    dbt_manifest: Path, tmp_path: Path
) -> None:
    settings = settings_for(tmp_path)
    generate(settings.landing_dir, DemoSpec(start=EARLY, days=1, history_days=3, customers=20, orders_per_day=2))
    home = tmp_path / "airflow"
    as_configured = {**airflow_env(settings, home), "CX_START_DATE": "2026-11-01"}
    airflow = shutil.which("airflow", path=as_configured["PATH"]) or "airflow"
    subprocess.run([airflow, "db", "migrate"], env=as_configured, check=True, capture_output=True)

    with pytest.raises(RunError) as caught:
        run_dag(airflow, "cx_ingest_sales", EARLY, as_configured, settings.project_dir)
    assert str(caught.value) == (
        "cx_ingest_sales for 2025-03-01: the DAG run scheduled no task, so nothing was loaded or published "
        "(logical date 2025-03-01 is before the DAG's start date 2026-11-01; set CX_START_DATE=2025-03-01 (or earlier))"
    )
    assert not (settings.lake_dir / "_load_audit" / "sales").exists()

    widened = {**airflow_env(settings, home, [EARLY]), "CX_PII_KEY": settings.pii_key}
    assert widened["CX_START_DATE"] == "2025-03-01"
    run_dag(airflow, "cx_ingest_sales", EARLY, widened, settings.project_dir)
    assert (settings.lake_dir / "_load_audit" / "sales" / "load_date=2025-03-01" / "part-0.parquet").exists()
