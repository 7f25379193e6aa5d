"""The real scheduler: Airflow schedules, catches up and backfills cxpipe on its own.

Each phase runs ``airflow standalone`` (scheduler, dag-processor, triggerer,
api-server; SQLite, LocalExecutor) on a temporary Airflow home and data folder with
the same demo landing files:

* daily: the ingest DAGs start two days back (``CX_START_DATE``/``CX_END_DATE``), are
  unpaused and catch up day by day; the ingest run that completes a date triggers the
  transform DAG through the ``cx_lake_complete`` Asset, which publishes;
* backfill: catchup is off (``CX_CATCHUP=false``) and ``airflow backfill create`` asks
  for the same two days of every ingest DAG before they are unpaused, so only the
  backfill runs them; the reporting tables must equal those of the daily runs, row for row.

Processes run in their own process group and are stopped by its id.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest
from conftest import settings_for

from cxpipe.contracts import PUBLICATION_ID_COLUMN, REPORTING_TABLES, SOURCES
from cxpipe.demo import DemoSpec, generate
from cxpipe.runner import TRANSFORM_DAG, airflow_env, dbt_parse

TODAY = datetime.now(UTC).date()
DAYS = [TODAY - timedelta(days=n) for n in (2, 1)]  # two finished daily intervals
# A real scheduler runs every Cosmos task as its own process: on a busy 2-core machine one phase
# (two days, ~50 tasks per transform run) can take well over the suite's default 15 minutes.
PHASE_TIMEOUT_S = 40 * 60
pytestmark = pytest.mark.timeout(PHASE_TIMEOUT_S + 10 * 60)  # the phase runs inside the first test's fixture


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Airflow:
    home: Path
    env: dict[str, str]
    data_dir: Path
    process: subprocess.Popen[bytes]

    def cli(self, *args: str) -> str:
        """Run an Airflow command; retried when SQLite is locked by the running scheduler (SQLite only)."""
        for attempt in range(5):
            done = subprocess.run(["airflow", *args], env=self.env, capture_output=True, text=True, check=False)
            if done.returncode == 0 or "database is locked" not in done.stderr + done.stdout or attempt == 4:
                break
            time.sleep(3)
        assert done.returncode == 0, f"airflow {' '.join(args)}: {done.stdout[-3000:]}{done.stderr[-3000:]}"
        return done.stdout

    def query(self, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        with sqlite3.connect(self.home / "airflow.db", timeout=60) as db:
            return db.execute(sql, params).fetchall()

    def log_tail(self) -> str:
        return (self.home / "standalone.log").read_text(errors="replace")[-4000:]


@dataclass
class Outcome:
    """What a phase left behind, read after its Airflow has stopped."""

    runs: list[tuple[Any, ...]] = field(default_factory=list)
    publications: list[tuple[Any, ...]] = field(default_factory=list)
    tables: dict[str, list[tuple[Any, ...]]] = field(default_factory=dict)
    seconds: float = 0.0


def _stop(process: subprocess.Popen[bytes]) -> None:
    """Stop the standalone process group by its id: TERM, then KILL after 30 s."""
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=30)


@contextmanager
def _standalone(
    extra_env: dict[str, str], before_unpause: Callable[[Airflow], None] | None = None
) -> Iterator[Airflow]:
    # Not under pytest's temporary root: that is pruned by other pytest sessions.
    root = Path(tempfile.mkdtemp(prefix="cxpipe-scheduler-"))
    settings = settings_for(root)
    generate(settings.landing_dir, DemoSpec(start=DAYS[0], days=len(DAYS), history_days=60, customers=150))
    home = root / "airflow"
    port = _free_port()
    env = airflow_env(settings, home)
    env.update(
        {
            "CX_GX_DIR": str(settings.gx_dir),
            "CX_PII_KEY": settings.pii_key,
            "CX_START_DATE": DAYS[0].isoformat(),
            "CX_END_DATE": DAYS[-1].isoformat(),
            "CX_TASK_RETRIES": "0",
            "AIRFLOW__API__PORT": str(port),
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://localhost:{port}/execution/",
            "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "True",
            "AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC": "2",
            "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "10",
            "AIRFLOW__LOGGING__LOGGING_LEVEL": "INFO",
            **extra_env,
        }
    )
    env.pop("CX_MISSING_FILE_POLICY", None)
    home.mkdir(parents=True)
    dbt_parse(settings, {**env, "CX_BUILD_DB": ":memory:"})
    subprocess.run(["airflow", "db", "migrate"], env=env, check=True, capture_output=True)
    with (home / "standalone.log").open("wb") as log:
        process = subprocess.Popen(
            ["airflow", "standalone"], env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    running = Airflow(home, env, settings.data_dir, process)
    try:
        _wait_for(running, lambda: len(running.query("select dag_id from dag where dag_id like 'cx_%'")) == 5, 300)
        if before_unpause is not None:
            before_unpause(running)
        running.cli("dags", "unpause", "--treat-dag-id-as-regex", "-y", "^cx_")
        yield running
    finally:
        _stop(process)
        shutil.rmtree(root, ignore_errors=True)


def _wait_for(airflow: Airflow, ready: Callable[[], bool], timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        assert airflow.process.poll() is None, f"airflow standalone exited:\n{airflow.log_tail()}"
        if ready():
            return
        time.sleep(5)
    runs = airflow.query("select dag_id, run_type, state from dag_run")
    pytest.fail(f"not done after {timeout_s:.0f} s; runs: {runs}")


def _failed_tasks(airflow: Airflow) -> str:
    """The failed task instances with the end of their logs ('' when none failed)."""
    failed = airflow.query("select dag_id, run_id, task_id, try_number from task_instance where state = 'failed'")
    reports = []
    for dag_id, run_id, task_id, attempt in failed:
        log = airflow.home / "logs" / f"dag_id={dag_id}" / f"run_id={run_id}" / f"task_id={task_id}"
        text = (log / f"attempt={attempt}.log").read_text(errors="replace") if log.exists() else "(no log)"
        reports.append(f"{dag_id} {run_id} {task_id}:\n{text[-3000:]}")
    return "\n".join(reports)


def _settled(airflow: Airflow, run_type: str) -> bool:
    """Every ingest run of ``run_type`` succeeded and the transform has served the last trigger.

    The last completion Asset event is recorded with the task that emitted it, before its
    ingest run is marked successful; it stays in the Asset queue until the scheduler has
    created the transform run it triggers, so an empty queue and no queued or running
    transform run mean the last trigger has been served.
    """
    failed = _failed_tasks(airflow)
    assert not failed, failed
    ingest = airflow.query("select state from dag_run where dag_id like 'cx_ingest_%' and run_type = ?", run_type)
    if len(ingest) < len(SOURCES) * len(DAYS) or any(state != "success" for (state,) in ingest):
        return False
    transform = [state for (state,) in airflow.query("select state from dag_run where dag_id = ?", TRANSFORM_DAG)]
    if any(state in ("queued", "running") for state in transform):
        return False
    if airflow.query("select count(*) from asset_dag_run_queue")[0][0]:
        return False
    return "success" in transform


def _outcome(airflow: Airflow, started: float) -> Outcome:
    reporting = airflow.data_dir / "warehouse" / "reporting.duckdb"
    with duckdb.connect(str(reporting), read_only=True) as con:
        # publication ids count publications (one per completed date or per run), not data
        tables = {
            t: con.execute(f"select * exclude ({PUBLICATION_ID_COLUMN}) from main.{t} order by all").fetchall()
            for t in REPORTING_TABLES
        }
        publications = con.execute(
            "select run_id, gate_status, data_interval_start, data_interval_end from publication_log "
            "order by publication_id"
        ).fetchall()
    runs = airflow.query("select dag_id, run_type, state, logical_date from dag_run order by id")
    return Outcome(runs, publications, tables, time.monotonic() - started)


@pytest.fixture(scope="module")
def daily() -> Outcome:
    started = time.monotonic()
    with _standalone({}) as airflow:
        _wait_for(airflow, lambda: _settled(airflow, "scheduled"), PHASE_TIMEOUT_S)
        outcome = _outcome(airflow, started)
    print(f"\ndaily catch-up of {len(DAYS)} days published in {outcome.seconds:.0f} s")
    return outcome


def _backfill_ingest(airflow: Airflow) -> None:
    for source in SOURCES:
        airflow.cli(
            "backfill",
            "create",
            "--dag-id",
            f"cx_ingest_{source}",
            "--from-date",
            DAYS[0].isoformat(),
            "--to-date",
            DAYS[-1].isoformat(),
        )


@pytest.fixture(scope="module")
def backfilled() -> Outcome:
    started = time.monotonic()
    # Catchup off, backfills created while the DAGs are still paused: only the backfill runs the days.
    with _standalone({"CX_CATCHUP": "false"}, before_unpause=_backfill_ingest) as airflow:
        _wait_for(airflow, lambda: _settled(airflow, "backfill"), PHASE_TIMEOUT_S)
        outcome = _outcome(airflow, started)
    print(f"\nbackfill of {len(DAYS)} days published in {outcome.seconds:.0f} s")
    return outcome


def _ingest_dates(outcome: Outcome, run_type: str) -> list[tuple[str, str]]:
    return sorted(
        (dag_id, str(logical)[:10])
        for dag_id, kind, _, logical in outcome.runs
        if dag_id.startswith("cx_ingest_")
        if kind == run_type
    )


def test_scheduler_catches_up_daily_runs_and_the_asset_triggers_publication(daily: Outcome) -> None:
    expected = sorted((f"cx_ingest_{s}", d.isoformat()) for s in SOURCES for d in DAYS)
    assert _ingest_dates(daily, "scheduled") == expected
    transform = [(kind, state) for dag_id, kind, state, _ in daily.runs if dag_id == TRANSFORM_DAG]
    assert transform and all(r == ("asset_triggered", "success") for r in transform), transform
    assert len(daily.publications) == len(transform)
    run_id, gate, start, end = daily.publications[-1]
    assert run_id.startswith("asset_triggered__") and gate == "passed"
    assert (start.date(), end.date()) == (DAYS[0], DAYS[-1] + timedelta(days=1))
    assert all(len(rows) > 0 for rows in daily.tables.values()), {t: len(r) for t, r in daily.tables.items()}


def test_backfill_of_the_same_days_builds_the_same_reporting_tables(daily: Outcome, backfilled: Outcome) -> None:
    expected = sorted((f"cx_ingest_{s}", d.isoformat()) for s in SOURCES for d in DAYS)
    assert _ingest_dates(backfilled, "backfill") == expected
    assert _ingest_dates(backfilled, "scheduled") == []  # catchup off: only the backfill ran them
    _, gate, start, end = backfilled.publications[-1]
    assert gate == "passed" and (start.date(), end.date()) == (DAYS[0], DAYS[-1] + timedelta(days=1))
    assert backfilled.tables.keys() == daily.tables.keys()
    for table, rows in daily.tables.items():
        assert backfilled.tables[table] == rows, table
