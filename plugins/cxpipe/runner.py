"""Run the pipeline through Airflow itself, for ``make run`` and the end-to-end test.

The DAG runs of a ``cxpipe run`` (each ingest DAG per date, then the transform DAG) are
run by Airflow in one process, :mod:`cxpipe.dag_runs`: what ``airflow dags test`` does for
one run (parse the DAG files, execute the real tasks - ingest, every Cosmos dbt task, gate,
publish - recording the run in the metadata database), with one start-up for all of them.
The scheduler-driven path (catchup, Assets, backfills) is ``airflow standalone`` or the
docker-compose deployment; see docs/orchestration.md.

Nothing here succeeds silently: the dates and landing folders are checked before
Airflow starts, the Airflow process gets a schedule that includes every date run
(``CX_START_DATE``/``CX_END_DATE`` widened when needed), and after each DAG run its
task instances are read back: a DAG run that scheduled no task, or whose tasks did not
all succeed, is an error naming the DAG, the date and the reason, and stops the run.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from cxpipe.ingest import landing_ready
from cxpipe.locks import LockHeldError, hold
from cxpipe.settings import DBT_PROFILE, DBT_TARGET, PiiKeyError, Settings

log = logging.getLogger(__name__)

TRANSFORM_DAG = "cx_transform_publish"

#: Task states of a finished DAG run that count as done (``announce_complete`` skips until a date is complete).
DONE_STATES = frozenset({"success", "skipped"})
#: At most this many dates in one ``cxpipe run`` (as for a manual run's Params).
MAX_DAYS = 366


class RunError(RuntimeError):
    """``cxpipe run`` cannot do what it was asked; the message says why and what to change."""


def run_dates(start: date, days: int) -> list[date]:
    """The landing dates of ``cxpipe run --start <start> --days <days>``; a bad ``--days`` fails at once."""
    if not 1 <= days <= MAX_DAYS:
        raise RunError(
            f"--days {days}: give the number of landing dates to run from --start {start}, between 1 and {MAX_DAYS}"
        )
    return [start + timedelta(days=n) for n in range(days)]


def check_landing(settings: Settings, load_dates: Sequence[date]) -> None:
    """Fail before Airflow starts when a date's landing folder is missing (or, under ``wait``, incomplete).

    Only the deployment's sources (``CX_SOURCES``) are checked. A source whose missing-file policy
    is ``skip`` loads nothing for a missing folder, so it
    needs none; under ``fail`` the ingest task would fail, under ``wait`` it would wait
    ``CX_LANDING_WAIT_HOURS`` inside ``airflow dags test``.
    """
    problems: list[str] = []
    for day in load_dates:
        for source in settings.ingest.sources:
            policy = settings.ingest.missing_file_policy_for(source)
            if policy == "skip":
                continue
            folder = settings.landing_dir / source / day.isoformat()
            if not folder.is_dir():
                problems.append(f"{folder} (missing)")
            elif policy == "wait" and not landing_ready(settings, source, day):
                problems.append(f"{folder} (not every {source} file is there; its policy `wait` would wait for them)")
    if problems:
        shown = "\n  ".join(problems[:20]) + (f"\n  … and {len(problems) - 20} more" if len(problems) > 20 else "")
        raise RunError(
            f"no landing files to run for {len(problems)} source date(s):\n  {shown}\n"
            "Deliver the files there (or `cxpipe demo --start <date> --days <n>` for demo data), run fewer "
            "--days, or set CX_MISSING_FILE_POLICY_<SOURCE>=skip to run without that source's files."
        )


def schedule_env(settings: Settings, load_dates: Sequence[date]) -> dict[str, str]:
    """``CX_START_DATE``/``CX_END_DATE`` for the Airflow processes, widened to include every date run.

    Airflow schedules no task for a logical date before a DAG's ``start_date`` (or after its
    ``end_date``): ``airflow dags test`` would record an empty "successful" run. The DAGs
    read these settings, so the runner gives them a window that holds ``load_dates``.
    """
    schedule = settings.schedule
    if not load_dates:
        return {}
    first, last = min(load_dates), max(load_dates)
    env = {"CX_START_DATE": min(schedule.start_date, first).isoformat()}
    if schedule.end_date is not None:
        env["CX_END_DATE"] = max(schedule.end_date, last).isoformat()
    return env


def airflow_env(settings: Settings, airflow_home: Path, load_dates: Sequence[date] = ()) -> dict[str, str]:
    """Environment for Airflow commands: a home inside the project, cxpipe's DAGs, no examples.

    With ``load_dates``, the DAGs' schedule window includes them (:func:`schedule_env`).
    """
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
    env.update(schedule_env(settings, load_dates))
    env.update(settings.dbt_env())
    return env


def _run(cmd: list[str], env: dict[str, str], cwd: Path) -> None:
    started = time.monotonic()
    log.info("$ %s", " ".join(cmd))
    print(f"$ {' '.join(cmd)}", flush=True)
    completed = subprocess.run(cmd, env=env, cwd=cwd, check=False)
    if completed.returncode != 0:
        raise RunError(f"command failed with exit code {completed.returncode}: {' '.join(cmd)}")
    print(f"  done in {time.monotonic() - started:.1f} s", flush=True)


def dbt_parse(settings: Settings, env: dict[str, str]) -> None:
    """Write dbt's manifest, which Cosmos reads to render one task per model, and the partial parse the
    first dbt task starts from (with the profile and target the tasks name, see :data:`DBT_TARGET`)."""
    dbt = str(Path(sys.executable).parent / "dbt")
    project = str(settings.dbt_project_dir)
    _run(
        [
            dbt,
            "parse",
            "--project-dir",
            project,
            "--profiles-dir",
            project,
            "--profile",
            DBT_PROFILE,
            "--target",
            DBT_TARGET,
        ],
        env,
        settings.dbt_project_dir,
    )


def no_task_reason(logical_date: date, env: dict[str, str]) -> str:
    """Why a DAG run for ``logical_date`` may have scheduled no task, from the settings its DAGs read."""
    start, end = env.get("CX_START_DATE"), env.get("CX_END_DATE")
    if start and logical_date < date.fromisoformat(start):
        return (
            f"logical date {logical_date} is before the DAG's start date {start}; "
            f"set CX_START_DATE={logical_date.isoformat()} (or earlier)"
        )
    if end and logical_date > date.fromisoformat(end):
        return f"logical date {logical_date} is after the DAG's end date {end}; set CX_END_DATE={logical_date} or unset"
    return "no task was due for that date; see `airflow dags list-import-errors` and the DAG's start and end dates"


def check_dag_run(dag_id: str, logical_date: date, task_states: list[dict[str, Any]], env: dict[str, str]) -> None:
    """Raise :class:`RunError` unless the DAG run ran tasks and every one succeeded (or was skipped)."""
    if not task_states:
        raise RunError(
            f"{dag_id} for {logical_date}: the DAG run scheduled no task, so nothing was loaded or published "
            f"({no_task_reason(logical_date, env)})"
        )
    not_done = sorted(f"{t['task_id']}={t['state'] or 'none'}" for t in task_states if t["state"] not in DONE_STATES)
    if not_done:
        raise RunError(f"{dag_id} for {logical_date}: not every task succeeded: {', '.join(not_done)}")


def run_dags(runs: Sequence[tuple[str, date]], env: dict[str, str], cwd: Path) -> list[dict[str, Any]]:
    """Run ``runs`` (DAG id, logical date) in order through Airflow in one process (:mod:`cxpipe.dag_runs`:
    the DAG files parsed once, each run ``DAG.test()``, its tasks read back and checked); raise
    :class:`RunError` naming the DAG, the date and the reason at the first run that does not succeed.
    Return each run's record (DAG id, date, task states, wall and CPU seconds)."""
    if not runs:
        return []
    with tempfile.TemporaryDirectory(prefix="cxpipe-dag-runs-") as scratch:
        result = Path(scratch) / "result.json"
        cmd = [sys.executable, "-m", "cxpipe.dag_runs", str(result), *(f"{d}={day.isoformat()}" for d, day in runs)]
        log.info("$ %s", " ".join(cmd))
        print(f"$ {' '.join(cmd)}", flush=True)
        completed = subprocess.run(cmd, env=env, cwd=cwd, check=False)
        report = json.loads(result.read_text()) if result.exists() else {"done": [], "error": None}
    if report["error"]:
        raise RunError(report["error"])
    for ran in report["done"]:
        check_dag_run(ran["dag_id"], date.fromisoformat(ran["date"]), ran["states"], env)
    if completed.returncode != 0 or len(report["done"]) < len(runs):
        done = len(report["done"])
        dag_id, day = runs[min(done, len(runs) - 1)]
        raise RunError(
            f"{dag_id} for {day}: Airflow stopped with exit code {completed.returncode} "
            f"after {done} of {len(runs)} DAG run(s); its output above says why"
        )
    return list(report["done"])


def run_through_airflow(settings: Settings, airflow_home: Path, load_dates: list[date]) -> None:
    """Check the dates and landing folders, migrate Airflow's database, then run every ingest DAG per date
    and the transform DAG; raise :class:`RunError` naming the DAG and date when one does not succeed.

    One run at a time per data folder: a second ``cxpipe run`` on the same folder is refused at once,
    naming the run that holds it (:mod:`cxpipe.locks`).
    """
    if not load_dates:
        raise RunError("no landing date to run; give --days 1 or more")
    try:
        settings.pseudonymisation_key()  # before anything starts, not in the first ingest task
    except PiiKeyError as exc:
        raise RunError(str(exc)) from None
    dates = f"{load_dates[0]}..{load_dates[-1]}"
    try:
        with hold(settings.data_dir, "run", f"cxpipe run {dates}, Airflow home {airflow_home}"):
            _run_dates(settings, airflow_home, load_dates)
    except LockHeldError as exc:
        raise RunError(str(exc)) from None


def _run_dates(settings: Settings, airflow_home: Path, load_dates: list[date]) -> None:
    check_landing(settings, load_dates)
    env = airflow_env(settings, airflow_home, load_dates)
    configured = {"CX_START_DATE": settings.schedule.start_date, "CX_END_DATE": settings.schedule.end_date}
    for name, value in schedule_env(settings, load_dates).items():
        if value != str(configured[name]):
            print(f"note: the DAGs run with {name}={value} (configured: {configured[name]}) to cover every date run")
    airflow = shutil.which("airflow", path=env["PATH"]) or "airflow"
    airflow_home.mkdir(parents=True, exist_ok=True)
    settings.warehouse_dir.mkdir(parents=True, exist_ok=True)
    _run([airflow, "db", "migrate"], env, settings.project_dir)
    dbt_parse(settings, env)
    runs = [(f"cx_ingest_{source}", day) for day in load_dates for source in settings.ingest.sources]
    run_dags([*runs, (TRANSFORM_DAG, load_dates[-1])], env, settings.project_dir)
