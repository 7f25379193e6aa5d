"""The real scheduler: Airflow schedules, catches up and backfills cxpipe on its own.

Each phase runs ``airflow standalone`` (scheduler, dag-processor, triggerer,
api-server; SQLite, LocalExecutor) on its own temporary Airflow home, data folder,
ports and Cosmos cache, with the same demo landing files:

* daily: the ingest DAGs start two days back (``CX_START_DATE``/``CX_END_DATE``), are
  unpaused and catch up day by day; the ingest run that completes a date triggers the
  transform DAG through the ``cx_lake_complete`` Asset, which publishes;
* backfill: catchup is off (``CX_CATCHUP=false``) and ``airflow backfill create`` asks
  for the same two days of every ingest DAG before they are unpaused, so only the
  backfill runs them; the reporting tables must equal those of the daily runs, row for row.
  The backfills are created before the instance starts (the DAGs serialized by ``airflow
  dags reserialize``): on SQLite, a backfill created beside the running scheduler fails
  with "database is locked" on a busy machine, whatever the retries (it reads, then writes
  in one transaction while the scheduler's heartbeats write every few seconds).

The two phases are independent instances and run at the same time: a phase is mostly
one task after another (the transform runs one task at a time), so two of them share
two cores well. They share what does not depend on the phase: one migrated metadata
database (copied), one dbt manifest and one set of demo landing files (copied).
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
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait
from contextlib import ExitStack, closing, contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest
from conftest import SMALL_DEMO, check_plugins_folder, copy_dbt_project, settings_for

from cxpipe.contracts import PUBLICATION_ID_COLUMN, REPORTING_TABLES, SOURCES
from cxpipe.demo import generate
from cxpipe.runner import TRANSFORM_DAG, airflow_env, dbt_parse

TODAY = datetime.now(UTC).date()
DAYS = [TODAY - timedelta(days=n) for n in (2, 1)]  # two finished daily intervals
# The dbt-tier fixtures' small demo data: every reporting table filled, the gate passes.
DEMO = replace(SMALL_DEMO, start=DAYS[0], days=len(DAYS))
# Both phases, side by side, took 16 minutes on 2 cores shared with other test sessions
# (load 3); this is a hang guard well above that, for a busier machine.
PHASES_TIMEOUT_S = 40 * 60
POLL_S = 2.0

pytestmark = pytest.mark.timeout(PHASES_TIMEOUT_S + 5 * 60)

#: What task processes import: Airflow's task runner and what parsing a DAG file needs, Cosmos
#: and dbt (each dbt task), DuckDB and Arrow (ingest), Great Expectations (the gate) and
#: cxpipe itself. With the ``forkserver`` start method the executor's workers fork from a
#: server that has imported these once, and each task process forks from its worker, so a
#: task inherits them instead of importing them again: some 3 CPU-seconds per task, of some
#: 230 tasks. A module that is not there (ImportError) is skipped by the fork server.
TASK_IMPORTS = (
    "airflow.executors.local_executor",
    "airflow.sdk.execution_time.supervisor",
    "airflow.sdk.execution_time.task_runner",
    "airflow.dag_processing.dagbag",
    "airflow.providers.standard.operators.python",
    "airflow.providers.standard.decorators.python",
    "airflow.sdk.definitions.decorators",
    "cosmos.converter",
    "cosmos.operators.local",
    "cosmos.plugin.airflow3",
    "dbt.cli.main",
    "dbt.adapters.duckdb",
    "dbt.task.build",
    "duckdb",
    "pyarrow",
    "great_expectations",
    "cxpipe.orchestration",
    "cxpipe.ingest",
    "cxpipe.gate",
    "cxpipe.publish",
)

#: Airflow settings for a short-lived test instance (the defaults suit a long-running one).
QUICK_AIRFLOW = {
    "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "True",
    "AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC": "2",
    "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "10",
    # The DAG files do not change during a test: parse each once at start-up, not every 30 s.
    "AIRFLOW__DAG_PROCESSOR__MIN_FILE_PROCESS_INTERVAL": "3600",
    # Four ingest tasks at most run at once; the default (32) starts 32 idle workers.
    "AIRFLOW__CORE__PARALLELISM": "4",
    "AIRFLOW__SCHEDULER__MP_START_METHOD": "forkserver",
    "AIRFLOW__SCHEDULER__MP_FORKSERVER_PRELOAD": ",".join(TASK_IMPORTS),
    "AIRFLOW__LOGGING__LOGGING_LEVEL": "INFO",
    # What is under test here is scheduling: catchup, the Asset trigger, backfill. dbt as one
    # task (test_e2e_airflow runs the default, a task per seed and model, through Airflow).
    "CX_DBT_TASKS": "build",
}


def _free_ports(count: int) -> list[int]:
    """``count`` distinct free local ports (all held open until all are chosen)."""
    with ExitStack() as stack:
        sockets = [stack.enter_context(socket.socket()) for _ in range(count)]
        for s in sockets:
            s.bind(("127.0.0.1", 0))
        return [int(s.getsockname()[1]) for s in sockets]


def _cli(name: str, env: dict[str, str], *args: str) -> str:
    """Run an Airflow command; retried when SQLite is locked by a running instance (SQLite only)."""
    for attempt in range(5):
        done = subprocess.run(["airflow", *args], env=env, capture_output=True, text=True, check=False)
        if done.returncode == 0 or "database is locked" not in done.stderr + done.stdout or attempt == 4:
            break
        time.sleep(3)
    command = f"{name}: airflow {' '.join(args)}"
    assert done.returncode == 0, f"{command}: {done.stdout[-3000:]}{done.stderr[-3000:]}"
    return done.stdout


@dataclass
class Airflow:
    name: str
    home: Path
    env: dict[str, str]
    data_dir: Path
    process: subprocess.Popen[bytes]
    stop: threading.Event

    def cli(self, *args: str) -> str:
        return _cli(self.name, self.env, *args)

    def query(self, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        with closing(sqlite3.connect(self.home / "airflow.db", timeout=60)) as db:
            return db.execute(sql, params).fetchall()

    def log_tail(self) -> str:
        return (self.home / "standalone.log").read_text(errors="replace")[-4000:]


@dataclass
class Outcome:
    """What a phase left behind, read once it has settled."""

    runs: list[tuple[Any, ...]] = field(default_factory=list)
    publications: list[tuple[Any, ...]] = field(default_factory=list)
    tables: dict[str, list[tuple[Any, ...]]] = field(default_factory=dict)
    seconds: float = 0.0


@dataclass(frozen=True)
class Shared:
    """Made once for both phases: a migrated Airflow database, the dbt project with its
    manifest (the transform DAG renders from it) and the demo landing files."""

    airflow_db: Path
    dbt_project_dir: Path
    landing_dir: Path


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
    name: str,
    shared: Shared,
    stop: threading.Event,
    extra_env: dict[str, str],
    before_start: Callable[[str, dict[str, str]], None] | None = None,
) -> Iterator[Airflow]:
    # Not under pytest's temporary root: that is pruned by other pytest sessions.
    root = Path(tempfile.mkdtemp(prefix=f"cxpipe-scheduler-{name}-"))
    settings = settings_for(root)
    shutil.copytree(shared.landing_dir, settings.landing_dir)
    home = root / "airflow"
    home.mkdir(parents=True)
    shutil.copyfile(shared.airflow_db, home / "airflow.db")
    api_port, worker_log_port, trigger_log_port = _free_ports(3)
    env = airflow_env(settings, home)
    env.update(
        {
            "CX_GX_DIR": str(settings.gx_dir),
            "CX_PII_KEY": settings.pii_key,
            "CX_START_DATE": DAYS[0].isoformat(),
            "CX_END_DATE": DAYS[-1].isoformat(),
            "CX_TASK_RETRIES": "0",
            "CX_DBT_PROJECT_DIR": str(shared.dbt_project_dir),
            # every port and cache of its own: the phases (and other test sessions) run side by side
            "AIRFLOW__API__PORT": str(api_port),
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://localhost:{api_port}/execution/",
            "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(worker_log_port),
            "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(trigger_log_port),
            "AIRFLOW__COSMOS__CACHE_DIR": str(root / "cosmos"),
            **QUICK_AIRFLOW,
            **extra_env,
        }
    )
    env.pop("CX_MISSING_FILE_POLICY", None)
    if before_start is not None:
        try:
            before_start(name, env)
        except BaseException:
            shutil.rmtree(root, ignore_errors=True)
            raise
    with (home / "standalone.log").open("wb") as log:
        process = subprocess.Popen(
            ["airflow", "standalone"], env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    running = Airflow(name, home, env, settings.data_dir, process, stop)
    try:
        _wait_for(running, lambda: len(running.query("select dag_id from dag where dag_id like 'cx_%'")) == 5, 600)
        running.cli("dags", "unpause", "--treat-dag-id-as-regex", "-y", "^cx_")
        yield running
    finally:
        _stop(process)
        shutil.rmtree(root, ignore_errors=True)


def _wait_for(airflow: Airflow, ready: Callable[[], bool], timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and not airflow.stop.is_set():
        assert airflow.process.poll() is None, f"{airflow.name}: airflow standalone exited:\n{airflow.log_tail()}"
        if ready():
            return
        time.sleep(POLL_S)
    runs = airflow.query("select dag_id, run_type, state from dag_run")
    why = "stopped: the other phase failed" if airflow.stop.is_set() else f"not done after {timeout_s:.0f} s"
    pytest.fail(f"{airflow.name}: {why}; runs: {runs}\n{airflow.log_tail()}")


def _failed_tasks(airflow: Airflow) -> str:
    """The failed task instances with the end of their logs ('' when none failed)."""
    failed = airflow.query("select dag_id, run_id, task_id, try_number from task_instance where state = 'failed'")
    reports = []
    for dag_id, run_id, task_id, attempt in failed:
        log = airflow.home / "logs" / f"dag_id={dag_id}" / f"run_id={run_id}" / f"task_id={task_id}"
        text = (log / f"attempt={attempt}.log").read_text(errors="replace") if log.exists() else "(no log)"
        reports.append(f"{airflow.name}: {dag_id} {run_id} {task_id}:\n{text[-3000:]}")
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


def _backfill_ingest(name: str, env: dict[str, str]) -> None:
    """The DAGs into the metadata database (paused), then a backfill of the two days for each ingest DAG."""
    _cli(name, env, "dags", "reserialize")
    for source in SOURCES:
        _cli(
            name,
            env,
            "backfill",
            "create",
            "--dag-id",
            f"cx_ingest_{source}",
            "--from-date",
            DAYS[0].isoformat(),
            "--to-date",
            DAYS[-1].isoformat(),
        )


def _daily(shared: Shared, stop: threading.Event) -> Outcome:
    started = time.monotonic()
    with _standalone("daily", shared, stop, {}) as airflow:
        _wait_for(airflow, lambda: _settled(airflow, "scheduled"), PHASES_TIMEOUT_S)
        return _outcome(airflow, started)


def _backfill(shared: Shared, stop: threading.Event) -> Outcome:
    started = time.monotonic()
    # Catchup off, backfills created while the DAGs are still paused: only the backfill runs the days.
    with _standalone("backfill", shared, stop, {"CX_CATCHUP": "false"}, before_start=_backfill_ingest) as airflow:
        _wait_for(airflow, lambda: _settled(airflow, "backfill"), PHASES_TIMEOUT_S)
        return _outcome(airflow, started)


@pytest.fixture(scope="module")
def shared(airflow_db: Path) -> Iterator[Shared]:
    """What both phases start from: the migrated Airflow database, one dbt parse of a private
    copy of the project, one set of demo landing files."""
    check_plugins_folder()
    root = Path(tempfile.mkdtemp(prefix="cxpipe-scheduler-shared-"))
    try:
        settings = replace(settings_for(root), dbt_project_dir=copy_dbt_project(root / "dbt_project"))
        dbt_parse(settings, {**os.environ, **settings.dbt_env(), "CX_BUILD_DB": ":memory:"})
        generate(settings.landing_dir, DEMO)
        yield Shared(airflow_db, settings.dbt_project_dir, settings.landing_dir)
    finally:
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="module")
def phases(shared: Shared) -> dict[str, Outcome]:
    """Both phases at once, each in a thread that starts, watches and stops its own instance."""
    stop = threading.Event()
    with ThreadPoolExecutor(max_workers=2) as pool:
        futures: dict[str, Future[Outcome]] = {
            "daily": pool.submit(_daily, shared, stop),
            "backfill": pool.submit(_backfill, shared, stop),
        }
        try:
            pending = set(futures.values())
            while pending:  # short waits: pytest-timeout's signal reaches this thread
                done, pending = wait(pending, timeout=POLL_S, return_when=FIRST_EXCEPTION)
                for future in done:
                    future.result()  # raises the phase's failure
        finally:
            stop.set()  # a failed phase (or a timeout here) stops the other one
    outcomes = {name: future.result() for name, future in futures.items()}
    for name, outcome in outcomes.items():
        print(f"\n{name}: {len(DAYS)} days published in {outcome.seconds:.0f} s")
    return outcomes


@pytest.fixture(scope="module")
def daily(phases: dict[str, Outcome]) -> Outcome:
    return phases["daily"]


@pytest.fixture(scope="module")
def backfilled(phases: dict[str, Outcome]) -> Outcome:
    return phases["backfill"]


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
