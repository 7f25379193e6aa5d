"""Every DAG file imports cleanly and every DAG carries what operators rely on."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from cxpipe.alerts import record_failure
from cxpipe.alerts.task_failures import record_transform_failure
from cxpipe.contracts import SOURCES
from cxpipe.orchestration import OWNER, freeze_loaded_objects
from cxpipe.settings import DBT_PROFILE, DBT_TARGET, REPO_ROOT, Settings, load_settings

EXPECTED = {f"cx_ingest_{s}" for s in SOURCES} | {"cx_transform_publish"}
INGEST = sorted(f"cx_ingest_{s}" for s in SOURCES)
TRANSFORM = "cx_transform_publish"


@pytest.fixture(scope="module")
def dagbag(dbt_manifest: Path) -> Any:
    """The DAGs with one dbt task per node (``CX_DBT_TASKS=node``), the richest shape; the default
    (one ``dbt.build`` task) is checked in its own parse below."""
    from airflow.dag_processing.dagbag import DagBag

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CX_DBT_TASKS", "node")
        return DagBag(dag_folder=str(REPO_ROOT / "dags"))


def test_every_dag_file_imports_without_errors(dagbag: Any) -> None:
    assert dagbag.import_errors == {}
    assert set(dagbag.dag_ids) == EXPECTED


def test_a_bad_setting_stops_the_dag_parse_naming_the_variable(dbt_manifest: Path, tmp_path: Path) -> None:
    env = {**os.environ, "AIRFLOW_HOME": str(tmp_path), "CX_GATE_DRIFT_PCT": "nan", "CX_CATCHUP": "maybe"}
    code = (
        "import json; from airflow.dag_processing.dagbag import DagBag; "
        f"print(json.dumps(DagBag(dag_folder={str(REPO_ROOT / 'dags')!r}).import_errors))"
    )
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    errors = json.loads(done.stdout.strip().splitlines()[-1])
    assert {Path(p).name for p in errors} == {"cx_ingest.py", "cx_transform_publish.py"}
    for error in errors.values():
        assert "CX_GATE_DRIFT_PCT='nan' is not a finite number" in error and "CX_CATCHUP='maybe'" in error


@pytest.mark.parametrize("dag_id", sorted(EXPECTED))
def test_dag_has_owner_retries_backoff_timeouts_callbacks_tags_and_no_cycle(dagbag: Any, dag_id: str) -> None:
    dag = dagbag.dags[dag_id]
    assert dag.default_args["owner"] == OWNER
    assert "cxpipe" in dag.tags and len(dag.tags) >= 2
    dag.check_cycle()
    # a failed transform task is also a failed publication attempt; ingest failures are alerts only
    callback = record_transform_failure if dag_id == TRANSFORM else record_failure
    for task in dag.tasks:
        assert task.owner == OWNER, task.task_id
        assert task.on_failure_callback == [callback], task.task_id
        assert task.execution_timeout is not None and task.execution_timeout <= timedelta(hours=2), task.task_id
        if task.task_id == "wait_for_landing":
            assert task.retries == 0  # a sensor timeout is not transient
            continue
        assert task.retries >= 1, task.task_id
        assert task.retry_exponential_backoff, task.task_id
        assert task.max_retry_delay is not None and task.max_retry_delay > task.retry_delay, task.task_id


# The retry policy (docs/decisions/0014-retry-only-what-can-succeed.md): task -> retries, and how a
# data failure skips them. Every task but the sensor keeps CX_TASK_RETRIES (default 2) for transient failures.
RETRIES = "CX_TASK_RETRIES"
RETRY_POLICY: dict[str, tuple[int | str, str]] = {
    "wait_for_landing": (0, "a timed-out wait is not transient"),
    "ingest_<source>": (RETRIES, "contract and balance errors fail at once (fail_at_once_on_data_errors)"),
    "announce_complete": (RETRIES, "reads the load audit; skips until the date is complete"),
    "check_lake": (RETRIES, "missing dates and bad Params fail at once (fail_at_once_on_data_errors)"),
    "prepare_build": (RETRIES, "file operations on the warehouse"),
    "dbt.*": (RETRIES, "a failed test or model fails at once (Cosmos callback fail_dbt_data_errors)"),
    "quality_gate": (RETRIES, "a blocked gate fails at once (fail_at_once_on_data_errors)"),
    "publish": (RETRIES, "a refused PostgreSQL connection or a locked file may pass on retry"),
    "notify_complaint_alerts": (RETRIES, "a webhook timeout may pass on retry"),
    "report": (RETRIES, "a locked operations log may pass on retry"),
}


def _policy_key(task_id: str) -> str:
    if task_id.startswith("dbt."):
        return "dbt.*"
    return "ingest_<source>" if task_id.startswith("ingest_") else task_id


def test_every_task_follows_the_retry_policy(dagbag: Any) -> None:
    seen = set()
    for dag_id in sorted(EXPECTED):
        for task in dagbag.dags[dag_id].tasks:
            key = _policy_key(task.task_id)
            retries = RETRY_POLICY[key][0]
            assert task.retries == (load_settings().schedule.task_retries if retries == RETRIES else retries), task
            seen.add(key)
            if key == "dbt.*":  # gate's results kept first, then data failures end the task without retry
                assert task.callback == [
                    "cxpipe.gate.collect_dbt_results",
                    "cxpipe.orchestration.fail_dbt_data_errors",
                ], task.task_id
                # what the process holds is frozen before dbt runs (Cosmos' full collection after it is cheap)
                assert task.on_execute_callback == [freeze_loaded_objects], task.task_id
    assert seen == set(RETRY_POLICY)


def test_data_failures_in_the_dag_tasks_fail_at_once(dagbag: Any, settings: Settings) -> None:
    from airflow.sdk.exceptions import AirflowFailException

    check_lake = dagbag.dags[TRANSFORM].get_task("check_lake").python_callable
    with pytest.raises(AirflowFailException, match="the lake has no load of sales 2026-11-01"):
        check_lake(params={"from_date": "2026-11-01", "to_date": "2026-11-01", "full_refresh": False})
    with pytest.raises(AirflowFailException, match="to_date 2026-10-01 is before from_date 2026-11-01"):
        check_lake(params={"from_date": "2026-11-01", "to_date": "2026-10-01", "full_refresh": False})

    ingest = dagbag.dags["cx_ingest_sales"].get_task("ingest_sales").python_callable
    with pytest.raises(AirflowFailException, match=r"no .* file landed for 2026-11-01") as caught:
        ingest(source="sales", params={"from_date": None, "to_date": None}, ds="2026-11-01")  # policy `fail`
    assert type(caught.value.__cause__).__name__ == "ContractError"


@pytest.mark.parametrize("dag_id", sorted(EXPECTED))
def test_doc_md_says_what_is_read_written_and_how_to_backfill_and_recover(dagbag: Any, dag_id: str) -> None:
    doc = dagbag.dags[dag_id].doc_md
    headings = ("**Reads**", "**Writes**", "#### Backfill", "#### Recovering", "#### Manual runs (Params)")
    for heading in (*headings, "#### Repairing a landing date"):
        assert heading in doc, (dag_id, heading)
    assert "airflow backfill create" in doc  # the runbook's sections are in the DAG's docs
    rule = "#### When the transform runs (late sources)" if dag_id == "cx_transform_publish" else "#### Missing files"
    assert rule in doc, (dag_id, rule)


@pytest.mark.parametrize("dag_id", INGEST)
def test_ingest_dags_run_daily_with_catchup_from_the_configured_start(dagbag: Any, dag_id: str) -> None:
    dag = dagbag.dags[dag_id]
    assert dag.catchup is True
    assert dag.max_active_runs == 1
    assert dag.start_date == datetime(2026, 11, 1, tzinfo=UTC)
    first = dag.timetable.next_dagrun_info(last_automated_data_interval=None, restriction=_restriction(dag))
    assert first.data_interval.start == dag.start_date
    assert first.data_interval.end - first.data_interval.start == timedelta(days=1)
    order = [t.task_id for t in dag.topological_sort()]
    assert order == ["wait_for_landing", f"ingest_{dag_id.split('_')[-1]}", "announce_complete"]
    sensor = dag.get_task("wait_for_landing")
    assert sensor.mode == "reschedule" and sensor.timeout > 0


def _restriction(dag: Any) -> Any:
    from airflow.timetables.base import TimeRestriction

    return TimeRestriction(earliest=dag.start_date, latest=None, catchup=True)


def test_ingest_dags_update_their_asset_and_the_completion_asset_the_transform_waits_for(dagbag: Any) -> None:
    condition = dagbag.dags[TRANSFORM].timetable.asset_condition
    assert {asset.name for asset in condition.objects} == {"cx_lake_complete"}
    produced = set()
    for source in SOURCES:
        dag = dagbag.dags[f"cx_ingest_{source}"]
        assert {a.name for a in dag.get_task(f"ingest_{source}").outlets} == {f"cx_lake_{source}"}
        announce = dag.get_task("announce_complete")
        assert announce.upstream_task_ids == {f"ingest_{source}"}
        produced |= {a.name for a in announce.outlets}
    assert produced == {"cx_lake_complete"}
    outlets = {a.name for a in dagbag.dags[TRANSFORM].get_task("publish").outlets}
    assert outlets == {"cx_reporting"}


def test_transform_runs_one_task_at_a_time_for_duckdbs_single_writer(dagbag: Any) -> None:
    dag = dagbag.dags[TRANSFORM]
    assert dag.max_active_tasks == 1
    assert dag.max_active_runs == 1


def test_dbt_runs_as_one_build_task_per_seed_and_model_in_dependency_order(dagbag: Any) -> None:
    dag = dagbag.dags[TRANSFORM]
    manifest = __import__("json").loads((REPO_ROOT / "dbt_project" / "target" / "manifest.json").read_text())
    nodes = {
        n["name"] + (f"_v{n['version']}" if n.get("version") is not None else "")  # versioned: <model>_v<version>
        for n in manifest["nodes"].values()
        if n["resource_type"] in {"model", "seed", "snapshot"}
    }
    dbt_tasks = {t.task_id: t for t in dag.tasks if t.task_id.startswith("dbt.")}
    builds = {tid: t for tid, t in dbt_tasks.items() if type(t).__name__ == "DbtBuildLocalOperator"}
    assert {tid.removeprefix("dbt.").rsplit("_", 2)[0] for tid in builds} == nodes
    # tests on two models run detached, after both models are built (never before one exists)
    multi_parent = [
        n for n in manifest["nodes"].values() if n["resource_type"] == "test" and len(n["depends_on"]["nodes"]) > 1
    ]
    detached = {tid: t for tid, t in dbt_tasks.items() if tid not in builds and not tid.endswith("_source_test")}
    assert multi_parent and len(detached) == len(multi_parent)
    assert all(type(t).__name__ == "DbtTestLocalOperator" for t in detached.values())
    orders_test = next(t for tid, t in detached.items() if "relationships_stg_sales__order_lines_order_id" in tid)
    assert orders_test.upstream_task_ids >= {
        "dbt.stg_sales__orders_model_build",
        "dbt.stg_sales__order_lines_model_build",
    }
    # a mart waits for the models it selects from
    rfm = dag.get_task("dbt.int_customers_rfm_model_build")
    assert "dbt.stg_crm__customers_model_build" in rfm.upstream_task_ids


def test_source_tests_run_as_tasks_before_their_staging_models_and_the_gate_requires_them(dagbag: Any) -> None:
    from cxpipe.contracts import REPORTING_TABLES
    from cxpipe.gate.dbt_results import expected_tests

    dag = dagbag.dags[TRANSFORM]
    manifest = json.loads((REPO_ROOT / "dbt_project" / "target" / "manifest.json").read_text())
    source_tests = {
        uid: node
        for uid, node in manifest["nodes"].items()
        if node["resource_type"] == "test" and any(p.startswith("source.") for p in node["depends_on"]["nodes"])
    }
    tested_sources = {p for node in source_tests.values() for p in node["depends_on"]["nodes"]}
    assert len(tested_sources) == len(manifest["sources"]) == 8  # every source table has tests
    gate_upstream = dag.get_task("quality_gate").get_flat_relative_ids(upstream=True)
    for source in tested_sources:
        name = source.split(".", 2)[2]  # sales.orders
        task = dag.get_task(f"dbt.{name.replace('.', '_')}_source_test")
        assert type(task).__name__ == "DbtTestLocalOperator" and task.select == f"source:{name}"
        assert task.callback == ["cxpipe.gate.collect_dbt_results", "cxpipe.orchestration.fail_dbt_data_errors"]
        assert task.task_id in gate_upstream
        assert "prepare_build" in task.get_flat_relative_ids(upstream=True)
        # the staging models that read the source wait for its tests
        readers = [n["name"] for n in manifest["nodes"].values() if source in n.get("depends_on", {}).get("nodes", [])]
        staging = [r for r in readers if r.startswith("stg_")]
        assert staging and {f"dbt.{m}_model_build" for m in staging} <= task.downstream_task_ids
    # the gate expects a passing result of every source test: a run where one did not run is blocked
    assert set(source_tests) <= set(expected_tests(manifest, REPORTING_TABLES))


@pytest.mark.parametrize("mode", [None, "BUILD"])
def test_by_default_the_whole_dbt_build_runs_as_one_task_between_the_same_neighbours(
    dbt_manifest: Path, tmp_path: Path, mode: str | None
) -> None:
    code = """
import json, sys
from airflow.dag_processing.dagbag import DagBag
bag = DagBag(dag_folder=sys.argv[1])
dag = bag.dags["cx_transform_publish"]
build = dag.get_task("dbt.build")
build.full_refresh = build.render_template(build.full_refresh, {"params": {"full_refresh": True}})
print(json.dumps({
    "errors": bag.import_errors,
    "dbt": sorted(t.task_id for t in dag.tasks if t.task_id.startswith("dbt.")),
    "type": type(build).__name__,
    "upstream": sorted(build.upstream_task_ids),
    "downstream": sorted(build.downstream_task_ids),
    "flags": build.add_cmd_flags(),
    "select": build.select,
    "callbacks": build.callback,
    "on_execute": [f"{c.__module__}.{c.__name__}" for c in build.on_execute_callback],
    "cache_dir": str(build.cache_dir),
    "profile": [build.profile_config.profile_name, build.profile_config.target_name],
}))
"""
    env = {k: v for k, v in os.environ.items() if k != "CX_DBT_TASKS"} | {
        "AIRFLOW_HOME": str(tmp_path),
        "AIRFLOW__COSMOS__CACHE_DIR": str(tmp_path / "cosmos"),
    }
    if mode is not None:
        env["CX_DBT_TASKS"] = mode
    dags = str(REPO_ROOT / "dags")
    done = subprocess.run([sys.executable, "-c", code, dags], env=env, capture_output=True, text=True, check=True)
    parsed = json.loads(done.stdout.strip().splitlines()[-1])
    assert parsed["errors"] == {}
    assert parsed["dbt"] == ["dbt.build"] and parsed["type"] == "DbtBuildLocalOperator"
    assert parsed["upstream"] == ["prepare_build"] and parsed["downstream"] == ["quality_gate"]
    assert not parsed["select"]  # the whole project
    assert "--full-refresh" in parsed["flags"]
    assert parsed["callbacks"] == ["cxpipe.gate.collect_dbt_results", "cxpipe.orchestration.fail_dbt_data_errors"]
    assert parsed["on_execute"] == ["cxpipe.orchestration.freeze_loaded_objects"]
    # it starts from the newest partial parse of the project (`cxpipe run`'s `dbt parse`, whose profile and
    # target it names, or its own last run's) and keeps its own in Cosmos' cache
    assert parsed["cache_dir"] == str(tmp_path / "cosmos" / "cx_transform_publish__dbt")
    assert parsed["profile"] == [DBT_PROFILE, DBT_TARGET]


def test_with_spark_the_dbt_build_is_one_spark_task_between_the_same_neighbours(tmp_path: Path) -> None:
    code = """
import json, sys
from airflow.dag_processing.dagbag import DagBag
bag = DagBag(dag_folder=sys.argv[1])
dag = bag.dags["cx_transform_publish"]
build = dag.get_task("dbt.build")
print(json.dumps({
    "errors": bag.import_errors,
    "dbt": sorted(t.task_id for t in dag.tasks if t.task_id.startswith("dbt.")),
    "type": type(build).__name__,
    "upstream": sorted(build.upstream_task_ids),
    "downstream": sorted(build.downstream_task_ids),
}))
"""
    env = {k: v for k, v in os.environ.items() if k != "CX_DBT_TASKS"} | {
        "AIRFLOW_HOME": str(tmp_path),
        "CX_ENGINE": "spark",
    }
    dags = str(REPO_ROOT / "dags")
    done = subprocess.run([sys.executable, "-c", code, dags], env=env, capture_output=True, text=True, check=True)
    parsed = json.loads(done.stdout.strip().splitlines()[-1])
    assert parsed["errors"] == {}
    assert parsed["dbt"] == ["dbt.build"] and parsed["type"] != "DbtBuildLocalOperator"
    assert parsed["upstream"] == ["prepare_build"] and parsed["downstream"] == ["quality_gate"]


def test_publish_runs_only_after_the_gate_and_the_gate_after_every_dbt_task(dagbag: Any) -> None:
    dag = dagbag.dags[TRANSFORM]
    publish, gate = dag.get_task("publish"), dag.get_task("quality_gate")
    assert publish.upstream_task_ids == {"quality_gate", "check_lake"}
    assert publish.trigger_rule == "all_success"
    dbt_tasks = {t.task_id for t in dag.tasks if t.task_id.startswith("dbt.")}
    assert gate.upstream_task_ids and gate.upstream_task_ids <= dbt_tasks
    assert gate.get_flat_relative_ids(upstream=True) >= dbt_tasks | {"check_lake", "prepare_build"}
    assert dag.get_task("prepare_build").upstream_task_ids == {"check_lake"}
    assert all("prepare_build" in t.get_flat_relative_ids(upstream=True) for t in dag.tasks if t.task_id in dbt_tasks)
    assert dag.get_task("notify_complaint_alerts").upstream_task_ids == {"publish"}
    # the report is of the publication, after its alerts went out
    assert dag.get_task("report").upstream_task_ids == {"publish", "notify_complaint_alerts"}


def test_manual_run_params_have_safe_defaults(dagbag: Any) -> None:
    for dag_id in INGEST:
        assert dict(dagbag.dags[dag_id].params) == {"from_date": None, "to_date": None}
    assert dict(dagbag.dags[TRANSFORM].params) == {"from_date": None, "to_date": None, "full_refresh": False}


def test_full_refresh_param_reaches_every_dbt_build_command(dagbag: Any) -> None:
    dag = dagbag.dags[TRANSFORM]
    builds = [t for t in dag.tasks if type(t).__name__ == "DbtBuildLocalOperator"]
    assert len(builds) >= 10
    for task in builds:
        if task.task_id.startswith("dbt."):
            assert "full_refresh" in task.template_fields
            for value, expected in ((True, "True"), (False, "False")):
                rendered = task.render_template(task.full_refresh, {"params": {"full_refresh": value}})
                assert rendered == expected
            task.full_refresh = True
            assert "--full-refresh" in task.add_cmd_flags()
            task.full_refresh = False
            assert "--full-refresh" not in task.add_cmd_flags()
