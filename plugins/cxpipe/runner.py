"""Run the pipeline through Airflow itself, for ``make run`` and the end-to-end test.

Each DAG runs with ``airflow dags test``: Airflow parses the DAG file and executes
its real tasks (ingest, every Cosmos dbt task, gate, publish) in one process,
recording the run in its metadata database. The scheduler-driven path (catchup, Assets,
backfills) is ``airflow standalone`` or the docker-compose deployment; see
docs/orchestration.md.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

from cxpipe.contracts import SOURCES
from cxpipe.settings import Settings

log = logging.getLogger(__name__)

TRANSFORM_DAG = "cx_transform_publish"


def airflow_env(settings: Settings, airflow_home: Path) -> dict[str, str]:
    """Environment for Airflow commands: a home inside the project, cxpipe's DAGs, no examples."""
    bin_dir = str(Path(sys.executable).parent)
    env = dict(os.environ)
    env.update(
        {
            "AIRFLOW_HOME": str(airflow_home),
            "AIRFLOW__CORE__DAGS_FOLDER": str(settings.project_dir / "dags"),
            # Airflow puts its plugins folder on sys.path: the cxpipe package lives there
            "AIRFLOW__CORE__PLUGINS_FOLDER": str(settings.project_dir / "plugins"),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__DAGBAG_IMPORT_TIMEOUT": "300",
            "AIRFLOW__LOGGING__LOGGING_LEVEL": env.get("AIRFLOW__LOGGING__LOGGING_LEVEL", "WARNING"),
            "GX_ANALYTICS_ENABLED": "false",
            "DO_NOT_TRACK": "true",
            "SCARF_ANALYTICS": "false",
            "CX_PROJECT_DIR": str(settings.project_dir),
            "CX_DATA_DIR": str(settings.data_dir),
            "CX_DBT_PROJECT_DIR": str(settings.dbt_project_dir),
            "CX_GX_DIR": str(settings.gx_dir),
            "PATH": bin_dir + os.pathsep + env.get("PATH", ""),
        }
    )
    env.update(settings.dbt_env())
    return env


def _run(cmd: list[str], env: dict[str, str], cwd: Path) -> None:
    started = time.monotonic()
    log.info("$ %s", " ".join(cmd))
    print(f"$ {' '.join(cmd)}", flush=True)
    completed = subprocess.run(cmd, env=env, cwd=cwd, check=False)
    if completed.returncode != 0:
        raise RuntimeError(f"command failed with exit code {completed.returncode}: {' '.join(cmd)}")
    print(f"  done in {time.monotonic() - started:.1f} s", flush=True)


def dbt_parse(settings: Settings, env: dict[str, str]) -> None:
    """Write dbt's manifest, which Cosmos reads to render one task per model."""
    dbt = str(Path(sys.executable).parent / "dbt")
    _run(
        [dbt, "parse", "--project-dir", str(settings.dbt_project_dir), "--profiles-dir", str(settings.dbt_project_dir)],
        env,
        settings.dbt_project_dir,
    )


def run_through_airflow(settings: Settings, airflow_home: Path, load_dates: list[date]) -> None:
    """Migrate Airflow's database, then run every ingest DAG per date and the transform DAG."""
    env = airflow_env(settings, airflow_home)
    airflow = shutil.which("airflow", path=env["PATH"]) or "airflow"
    airflow_home.mkdir(parents=True, exist_ok=True)
    settings.warehouse_dir.mkdir(parents=True, exist_ok=True)
    _run([airflow, "db", "migrate"], env, settings.project_dir)
    dbt_parse(settings, env)
    for load_date in load_dates:
        for source in SOURCES:
            _run([airflow, "dags", "test", f"cx_ingest_{source}", load_date.isoformat()], env, settings.project_dir)
    _run([airflow, "dags", "test", TRANSFORM_DAG, load_dates[-1].isoformat()], env, settings.project_dir)
