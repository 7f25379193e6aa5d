import shutil
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import pytest
from configured import configured

from cxpipe.cli import main
from cxpipe.contracts import SOURCES
from cxpipe.demo import DemoSpec, generate
from cxpipe.runner import (
    MAX_DAYS,
    RunError,
    airflow_env,
    check_dag_run,
    check_landing,
    run_dates,
    schedule_env,
)
from cxpipe.settings import Settings


def test_airflow_env_points_airflow_at_the_project_and_its_data(settings: Settings, tmp_path: Path) -> None:
    env = airflow_env(settings, tmp_path / "home")
    assert env["AIRFLOW_HOME"] == str(tmp_path / "home")
    assert env["AIRFLOW__CORE__DAGS_FOLDER"] == str(settings.project_dir / "dags")
    assert env["AIRFLOW__CORE__PLUGINS_FOLDER"] == str(settings.project_dir / "plugins")
    assert env["AIRFLOW__CORE__LOAD_EXAMPLES"] == "False"
    assert env["CX_DATA_DIR"] == str(settings.data_dir)
    assert env["CX_BUILD_DB"] == str(settings.build_db)
    assert Path(env["PATH"].split(":")[0], "airflow").exists()


def test_airflow_imports_cxpipe_from_its_plugins_folder_without_scanning_it_as_plugins(
    settings: Settings, tmp_path: Path
) -> None:
    """Airflow puts the plugins folder on sys.path; `.airflowignore` keeps its plugin scan out of cxpipe."""
    env = airflow_env(settings, tmp_path / "home")
    code = (
        "import sys; from airflow import settings, plugins_manager; "
        "plugins_manager.ensure_plugins_loaded(); "
        "print(settings.PLUGINS_FOLDER in sys.path, sorted(plugins_manager.get_import_errors()), "
        "[m for m in ('cli', 'runner', 'orchestration') if m in sys.modules])"
    )
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert done.stdout.split("\n")[-2] == "True [] []", done.stdout + done.stderr


# ------------------------------------------------------------------ checks before and after Airflow runs

# Task states of an ingest DAG run with CX_START_DATE=2025-03-01: every task ran (announce_complete
# skips until all sources loaded). A run before the DAG's start date has none: Airflow records it as
# "successful" although it scheduled no task.
STATES_OF_A_RUN = [
    {"task_id": "wait_for_landing", "state": "success"},
    {"task_id": "ingest_sales", "state": "success"},
    {"task_id": "announce_complete", "state": "skipped"},
]
EARLY = date(2025, 3, 1)


def test_a_dag_run_that_scheduled_no_task_is_an_error_naming_dag_date_and_reason() -> None:
    env = {"CX_START_DATE": "2026-11-01"}
    with pytest.raises(RunError) as caught:
        check_dag_run("cx_ingest_sales", EARLY, [], env)
    message = str(caught.value)
    assert message.startswith("cx_ingest_sales for 2025-03-01: the DAG run scheduled no task")
    assert "logical date 2025-03-01 is before the DAG's start date 2026-11-01; set CX_START_DATE=2025-03-01" in message
    after_end = {"CX_START_DATE": "2025-01-01", "CX_END_DATE": "2025-02-01"}
    with pytest.raises(RunError, match="after the DAG's end date 2025-02-01; set CX_END_DATE=2025-03-01"):
        check_dag_run("cx_ingest_crm", EARLY, [], after_end)
    with pytest.raises(RunError, match="no task was due for that date"):
        check_dag_run("cx_transform_publish", EARLY, [], {"CX_START_DATE": "2025-01-01"})


def test_a_dag_run_passes_when_every_task_succeeded_or_skipped_and_fails_naming_the_others() -> None:
    check_dag_run("cx_ingest_sales", EARLY, STATES_OF_A_RUN, {})
    states = [{"task_id": "check_lake", "state": "success"}, {"task_id": "publish", "state": "upstream_failed"}]
    with pytest.raises(RunError, match=r"cx_transform_publish for 2025-03-01: not every task succeeded: publish="):
        check_dag_run("cx_transform_publish", EARLY, states, {})


@pytest.mark.parametrize("days", [-1, 0, MAX_DAYS + 1])
def test_a_bad_days_count_fails_at_once_with_what_to_give(days: int) -> None:
    with pytest.raises(RunError, match=rf"--days {days}: give the number of landing dates to run from --start"):
        run_dates(EARLY, days)
    assert run_dates(EARLY, 2) == [EARLY, date(2025, 3, 2)]


@pytest.mark.parametrize("days", ["-1", "0"])
def test_cxpipe_run_with_a_bad_days_count_exits_before_starting_anything(
    days: str, capsys: pytest.CaptureFixture[str]
) -> None:
    started = time.monotonic()
    assert main(["run", "--start", "2025-03-01", "--days", days]) == 1
    assert f"cxpipe run: --days {days}: give the number of landing dates" in capsys.readouterr().err
    assert time.monotonic() - started < 5


def test_cxpipe_run_names_the_missing_landing_folders_before_starting_airflow(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    home = tmp_path / "airflow-home"
    monkeypatch.setenv("AIRFLOW_HOME", str(home))
    assert main(["run", "--start", "2025-03-01"]) == 1
    err = capsys.readouterr().err
    for source in SOURCES:
        assert f"{settings.landing_dir / source / '2025-03-01'} (missing)" in err
    assert "cxpipe demo --start <date>" in err
    assert not home.exists()  # Airflow never started


def test_a_second_cxpipe_run_on_the_same_data_folder_is_refused_naming_the_first(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    holder = (
        "import sys, time; from pathlib import Path; from cxpipe.locks import hold\n"
        "with hold(Path(sys.argv[1]), 'run', 'cxpipe run 2025-03-01..2025-03-01'):\n"
        "    print('held', flush=True); time.sleep(60)\n"
    )
    first = subprocess.Popen([sys.executable, "-c", holder, str(settings.data_dir)], stdout=subprocess.PIPE, text=True)
    try:
        assert first.stdout is not None and first.stdout.readline().strip() == "held"
        home = tmp_path / "airflow-home"
        monkeypatch.setenv("AIRFLOW_HOME", str(home))
        assert main(["run", "--start", "2025-03-01"]) == 1
        err = capsys.readouterr().err
        assert f"another run holds the lock on {settings.data_dir}: pid {first.pid}" in err
        assert "cxpipe run 2025-03-01..2025-03-01" in err and "(missing)" not in err
        assert not home.exists()  # nothing of the second run started
    finally:
        first.kill()
        first.wait()


def test_landing_folders_are_checked_per_source_policy(settings: Settings) -> None:
    generate(settings.landing_dir, DemoSpec(start=EARLY, days=1, history_days=3, customers=20, orders_per_day=2))
    check_landing(settings, [EARLY])
    with pytest.raises(RunError, match=r"for 4 source date\(s\)") as caught:
        check_landing(settings, [EARLY, date(2025, 3, 2)])
    assert f"{settings.landing_dir / 'sales' / '2025-03-02'} (missing)" in str(caught.value)

    shutil.rmtree(settings.landing_dir / "social" / "2025-03-01")
    check_landing(configured(settings, CX_MISSING_FILE_POLICY_SOCIAL="skip"), [EARLY])  # skip needs no folder
    with pytest.raises(RunError, match="social/2025-03-01 \\(missing\\)"):
        check_landing(settings, [EARLY])

    next(f for f in (settings.landing_dir / "crm" / "2025-03-01").iterdir() if f.is_file()).unlink()
    waiting = configured(settings, CX_MISSING_FILE_POLICY="wait", CX_MISSING_FILE_POLICY_SOCIAL="skip")
    with pytest.raises(RunError, match="crm/2025-03-01 \\(not every crm file is there; its policy `wait`"):
        check_landing(waiting, [EARLY])


def test_airflow_gets_a_schedule_window_that_holds_every_date_run(settings: Settings, tmp_path: Path) -> None:
    default = configured(settings)  # CX_START_DATE 2026-11-01, no end date
    assert schedule_env(default, [EARLY, date(2025, 3, 2)]) == {"CX_START_DATE": "2025-03-01"}
    assert airflow_env(default, tmp_path, [EARLY])["CX_START_DATE"] == "2025-03-01"
    assert schedule_env(default, [date(2026, 11, 2)]) == {"CX_START_DATE": "2026-11-01"}  # already inside
    bounded = configured(settings, CX_START_DATE="2025-01-01", CX_END_DATE="2025-02-01")
    assert schedule_env(bounded, [EARLY]) == {"CX_START_DATE": "2025-01-01", "CX_END_DATE": "2025-03-01"}
    assert schedule_env(bounded, []) == {}
