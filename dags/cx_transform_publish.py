"""Transform, gate and publish: dbt build (Cosmos) -> quality gate -> atomic publish.

Thin wiring only: the work is the dbt project, cxpipe.gate and cxpipe.publish.
"""

from __future__ import annotations

import functools
import operator

from airflow.sdk import DAG, task
from cosmos import DbtTaskGroup, ExecutionConfig, ProfileConfig, ProjectConfig, RenderConfig
from cosmos.constants import ExecutionMode, InvocationMode, LoadMode

from cxpipe.config import load_settings
from cxpipe.contracts import SOURCES
from cxpipe.orchestration import DEFAULT_ARGS, lake_asset, record_failure, reporting_asset, start_date

settings = load_settings()
# Runs once every source has landed a new partition (all four Assets updated).
schedule = functools.reduce(operator.and_, [lake_asset(source) for source in SOURCES])

with DAG(
    dag_id="cx_transform_publish",
    description="dbt build of the warehouse, quality gate, atomic publication to reporting",
    schedule=schedule,
    start_date=start_date(),
    catchup=False,
    max_active_runs=1,
    # DuckDB allows one writer per file: dbt tasks of one run must not overlap.
    max_active_tasks=1,
    default_args={**DEFAULT_ARGS, "on_failure_callback": record_failure},
    tags=["cxpipe", "transform", "gate", "publish"],
    doc_md="""
### Transform, gate, publish

Starts when all four ingest Assets have been updated. Runs the dbt project over
the Parquet lake into `warehouse/cx.duckdb` (one task per model, each followed by
its tests — a failed model or test is one red, retryable task), then the quality
gate (Great Expectations suites in `expectations/`), then publishes the reporting
tables atomically to `warehouse/reporting.duckdb` with a `publication_log` row.

**Gate failure:** the `quality_gate` task fails with the failing checks in its log;
nothing is published and the last good publication stays. Fix the data or the
model, then clear `dbt` and downstream tasks. **Re-run:** trigger the DAG manually;
every step rebuilds from the whole lake, so re-runs are idempotent.
""",
) as dag:
    dbt = DbtTaskGroup(
        group_id="dbt",
        project_config=ProjectConfig(
            dbt_project_path=settings.dbt_project_dir,
            manifest_path=settings.manifest_path,
            install_dbt_deps=False,
            env_vars=settings.dbt_env(),
        ),
        profile_config=ProfileConfig(
            profile_name="cxpipe",
            target_name="duckdb",
            profiles_yml_filepath=settings.dbt_project_dir / "profiles.yml",
        ),
        execution_config=ExecutionConfig(
            execution_mode=ExecutionMode.LOCAL,
            invocation_mode=InvocationMode.DBT_RUNNER,
        ),
        render_config=RenderConfig(load_method=LoadMode.AUTOMATIC, emit_datasets=False),
        operator_args={"install_deps": False},
    )

    @task(retries=0)
    def quality_gate() -> dict[str, object]:
        from airflow.sdk.exceptions import AirflowFailException

        from cxpipe.config import load_settings
        from cxpipe.gate import GateBlockedError, check_gate

        current = load_settings()
        try:
            result = check_gate(current, current.warehouse_dir / "gate" / "last_gate.json")
        except GateBlockedError as exc:
            raise AirflowFailException(str(exc)) from exc
        return {"passed": result.passed, "checks_run": result.checks_run, "warnings": len(result.warnings)}

    @task(outlets=[reporting_asset()])
    def publish(gate: dict[str, object], **context: object) -> dict[str, object]:
        from cxpipe.config import load_settings
        from cxpipe.publish import publish as publish_reporting

        publication = publish_reporting(
            load_settings(),
            gate_status="passed" if gate["passed"] else "failed",
            gate_checks=int(str(gate["checks_run"])),
            run_id=str(context.get("run_id")),
            data_interval_start=context.get("data_interval_start"),  # type: ignore[arg-type]
            data_interval_end=context.get("data_interval_end"),  # type: ignore[arg-type]
        )
        return {"publication_id": publication.publication_id, "row_counts": publication.row_counts}

    gate = quality_gate()
    dbt >> gate
    publish(gate)
