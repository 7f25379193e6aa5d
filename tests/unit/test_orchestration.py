import json
import subprocess
import sys
import tempfile
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest
from airflow.sdk.exceptions import AirflowFailException

from cxpipe.contracts import ContractError
from cxpipe.gate import GateBlockedError, GateResult
from cxpipe.ingest import RowBalanceError
from cxpipe.lake import LakeIncompleteError
from cxpipe.orchestration import (
    dates_to_load,
    dbt_cache_dir,
    dbt_data_failures,
    default_args,
    fail_at_once_on_data_errors,
    fail_dbt_data_errors,
    interval_bounds,
    lake_asset,
    lake_complete_asset,
    reporting_asset,
)
from cxpipe.settings import Settings, load_settings

D1 = date(2026, 11, 1)


def test_assets_have_stable_names_and_point_at_the_data(settings: Settings) -> None:
    assert lake_asset(settings, "crm").name == "cx_lake_crm"
    assert lake_asset(settings, "crm").uri.endswith(f"{settings.lake_dir}/crm")
    assert reporting_asset(settings).uri.endswith(f"{settings.reporting_db}")
    assert lake_complete_asset(settings).name == "cx_lake_complete"


def test_default_args_retry_with_backoff_and_time_out_as_configured() -> None:
    args = default_args(load_settings({}))
    assert args["retries"] == 2 and args["retry_exponential_backoff"]
    assert args["retry_delay"] == timedelta(seconds=60) and args["execution_timeout"] == timedelta(minutes=60)
    configured = load_settings(
        {"CX_TASK_RETRIES": "5", "CX_RETRY_DELAY_SECONDS": "10", "CX_TASK_TIMEOUT_MINUTES": "90"}
    )
    args = default_args(configured)
    assert (args["retries"], args["retry_delay"], args["execution_timeout"]) == (
        5,
        timedelta(seconds=10),
        timedelta(minutes=90),
    )


def test_a_run_loads_its_own_date_unless_params_give_a_range() -> None:
    assert dates_to_load({"from_date": None, "to_date": None}, D1) == [D1]
    assert dates_to_load({"from_date": "2026-10-30", "to_date": "2026-11-02"}, D1) == [
        date(2026, 10, 30),
        date(2026, 10, 31),
        date(2026, 11, 1),
        date(2026, 11, 2),
    ]
    assert dates_to_load({"from_date": "2026-10-30", "to_date": None}, D1) == [date(2026, 10, 30)]


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"from_date": "2026-11-05", "to_date": "2026-11-01"}, "to_date 2026-11-01 is before from_date 2026-11-05"),
        ({"from_date": "2026-13-01"}, "from_date='2026-13-01' is not a date"),
        ({"from_date": "2026-01-01", "to_date": "2062-01-01"}, "spans more than 366 days"),
    ],
)
def test_bad_params_fail_with_a_message_that_says_what_to_do(params: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        dates_to_load(params, D1)


def test_the_publication_interval_ends_the_day_after_the_last_covered_date() -> None:
    covered = {"from_date": "2026-11-01", "to_date": "2026-11-02", "late_sources": {"social": "2026-11-02"}}
    assert interval_bounds(covered) == (datetime(2026, 11, 1, tzinfo=UTC), datetime(2026, 11, 3, tzinfo=UTC))


# ------------------------------------------------------------------ retry only what can succeed on retry


@pytest.mark.parametrize(
    "error",
    [
        ContractError("landing/sales/2026-11-01/orders.csv", "required column order_id is missing"),
        LakeIncompleteError("the lake has no load of crm 2026-11-02"),
        GateBlockedError(GateResult(passed=False, checks_run=3)),
        RowBalanceError("orders.csv: 10 rows in but 9 loaded + 0 quarantined; rows were lost, nothing was published"),
    ],
    ids=["contract", "lake", "gate", "balance"],
)
def test_a_data_error_fails_the_task_without_retry(error: Exception) -> None:
    with (
        pytest.raises(AirflowFailException, match="a data problem, not retried") as caught,
        fail_at_once_on_data_errors(),
    ):
        raise error
    assert caught.value.__cause__ is error and str(error).splitlines()[0] in str(caught.value)


def test_bad_params_are_a_data_error_too() -> None:
    reversed_range = {"from_date": "2026-11-05", "to_date": "2026-11-01"}
    with pytest.raises(AirflowFailException, match="to_date 2026-11-01 is before"), fail_at_once_on_data_errors():
        dates_to_load(reversed_range, D1)


def test_a_transient_error_keeps_its_retries() -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = str(Path(folder) / "cx.duckdb")
        holder = subprocess.Popen(
            [
                sys.executable,
                "-c",
                f"import duckdb, sys, time; c = duckdb.connect({path!r}); print('ok', flush=True); time.sleep(60)",
            ],
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            assert holder.stdout is not None and holder.stdout.readline().strip() == "ok"
            with pytest.raises(duckdb.IOException, match="Could not set lock"), fail_at_once_on_data_errors():
                duckdb.connect(path)  # another process holds the writer lock: may pass on retry
        finally:
            holder.kill()
            holder.wait()
    with pytest.raises(ConnectionRefusedError), fail_at_once_on_data_errors():
        raise ConnectionRefusedError("connection to server at 127.0.0.1, port 5432 failed")


# Results of real `dbt build --select <node>` commands (dbt-duckdb), as run_results.json holds them
TEST_FAILED = [
    {"status": "success", "message": "OK", "failures": None, "unique_id": "model.probe.m_ok"},
    {
        "status": "fail",
        "message": "Got 1 result, configured to fail if != 0",
        "failures": 1,
        "unique_id": "test.probe.not_null_m_ok_id.a5fe119a34",
    },
]
MODEL_FAILED = [
    {
        "status": "error",
        "message": "Runtime Error in model m_bad (models/m_bad.sql)\n  Conversion Error: Could not convert string "
        "'abc' to INT32\n  \n  LINE 11: select cast('abc' as integer) as id\n                  ^^^^^^^^^^^^^^^^^^^^^^",
        "failures": None,
        "unique_id": "model.probe.m_bad",
    }
]
# DuckDB's message when another process holds the file (here inside a node's result)
LOCKED = [
    {
        "status": "error",
        "message": "Runtime Error in model m_ok (models/m_ok.sql)\n  IO Error: Could not set lock on file "
        '"/tmp/cx.duckdb": Conflicting lock is held in /usr/bin/python3.11 (PID 14412).',
        "failures": None,
        "unique_id": "model.probe.m_ok",
    }
]


def test_failed_dbt_tests_and_models_are_data_failures_named_without_their_values() -> None:
    assert dbt_data_failures({"results": TEST_FAILED}) == [
        "test not_null_m_ok_id: fail (Got 1 result, configured to fail if != 0)"
    ]
    assert dbt_data_failures({"results": MODEL_FAILED}) == [
        "model m_bad: error (Runtime Error in model m_bad (models/m_bad.sql))"
    ]
    assert dbt_data_failures({"results": TEST_FAILED[:1]}) == []
    assert dbt_data_failures({"results": LOCKED}) == []  # a locked warehouse may pass on retry


def test_the_cosmos_callback_fails_a_dbt_task_at_once_only_for_data_failures(tmp_path: Path) -> None:
    fail_dbt_data_errors(str(tmp_path), context={})  # dbt wrote no results (it could not start): Cosmos raises, retried
    (tmp_path / "target").mkdir()
    for results in (TEST_FAILED[:1], LOCKED):
        (tmp_path / "target" / "run_results.json").write_text(json.dumps({"results": results}))
        fail_dbt_data_errors(str(tmp_path), context={})
    (tmp_path / "target" / "run_results.json").write_text(json.dumps({"results": MODEL_FAILED}))
    with pytest.raises(AirflowFailException, match=r"dbt model m_bad: error .*not retried") as caught:
        fail_dbt_data_errors(str(tmp_path), context={})
    assert "abc" not in str(caught.value)


def test_the_dbt_tasks_callback_leaves_what_the_process_held_out_of_later_collections() -> None:
    # in a process of its own: a frozen heap would stay frozen in this test worker
    code = """
import gc, weakref
from cxpipe.orchestration import freeze_loaded_objects
class Node:
    pass
def cycle():
    node = Node()
    node.itself = node  # unreachable once returned: only the cyclic collector frees it
    return weakref.ref(node)
gc.disable()  # no automatic pass in between
gc.collect()
held = cycle()
freeze_loaded_objects({"task_instance": None})
made = cycle()
gc.collect()
print(gc.get_freeze_count() > 0, held() is not None, made() is None)
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["True", "True", "True"]


def test_the_dbt_build_task_gets_the_cache_folder_cosmos_gives_a_task_group_of_its_id(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from airflow.sdk import DAG, TaskGroup
    from cosmos import cache
    from cosmos import settings as cosmos_settings

    with DAG("cx.transform", schedule=None) as dag, TaskGroup(group_id="dbt") as group:
        pass
    assert dbt_cache_dir(dag.dag_id, group.group_id) == cosmos_settings.cache_dir / cache._create_cache_identifier(
        dag, group
    )
    monkeypatch.setattr(cosmos_settings, "enable_cache_partial_parse", False)
    assert dbt_cache_dir(dag.dag_id, group.group_id) is None
