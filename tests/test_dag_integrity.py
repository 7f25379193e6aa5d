"""Every DAG file imports cleanly and every DAG carries what operators rely on."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from cxpipe.config import REPO_ROOT
from cxpipe.contracts import SOURCES
from cxpipe.orchestration import OWNER

EXPECTED = {f"cx_ingest_{s}" for s in SOURCES} | {"cx_transform_publish"}


@pytest.fixture(scope="module")
def dagbag(dbt_manifest: Path) -> Any:
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(REPO_ROOT / "dags"))


def test_every_dag_file_imports_without_errors(dagbag: Any) -> None:
    assert dagbag.import_errors == {}
    assert set(dagbag.dag_ids) == EXPECTED


@pytest.mark.parametrize("dag_id", sorted(EXPECTED))
def test_dag_has_owner_retries_tags_docs_and_no_cycle(dagbag: Any, dag_id: str) -> None:
    dag = dagbag.dags[dag_id]
    assert dag.default_args["owner"] == OWNER
    assert dag.default_args["retries"] >= 1
    assert dag.default_args["retry_exponential_backoff"] is True
    assert dag.default_args["on_failure_callback"] is not None
    assert "cxpipe" in dag.tags and len(dag.tags) >= 2
    assert dag.doc_md and "Re-run" in dag.doc_md
    dag.check_cycle()
    assert all(task.owner == OWNER for task in dag.tasks)


def test_ingest_dags_update_the_assets_the_transform_waits_for(dagbag: Any) -> None:
    condition = dagbag.dags["cx_transform_publish"].timetable.asset_condition
    waited_for = {asset.name for asset in condition.objects}
    produced = set()
    for source in SOURCES:
        (task,) = dagbag.dags[f"cx_ingest_{source}"].tasks
        produced |= {asset.name for asset in task.outlets}
    assert type(condition).__name__ == "AssetAll"
    assert produced == waited_for == {f"cx_lake_{s}" for s in SOURCES}


def test_publish_runs_only_after_the_gate_and_the_gate_after_every_dbt_task(dagbag: Any) -> None:
    dag = dagbag.dags["cx_transform_publish"]
    publish, gate = dag.get_task("publish"), dag.get_task("quality_gate")
    assert publish.upstream_task_ids == {"quality_gate"}
    assert publish.trigger_rule == "all_success"
    dbt_tasks = {t.task_id for t in dag.tasks if t.task_id.startswith("dbt.")}
    assert any(t.endswith(".run") for t in dbt_tasks) and any(t.endswith(".test") for t in dbt_tasks)
    assert gate.upstream_task_ids and gate.upstream_task_ids <= dbt_tasks
    assert gate.get_flat_relative_ids(upstream=True) >= dbt_tasks
