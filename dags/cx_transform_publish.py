"""Transform, gate and publish: lake check -> dbt build (Cosmos) -> quality gate -> atomic publish.

Thin wiring only: the work is the dbt project, cxpipe.lake, cxpipe.warehouse,
cxpipe.gate, cxpipe.publish, cxpipe.alerts and cxpipe.report.
"""

from __future__ import annotations

from airflow.sdk import DAG, TaskGroup, task
from cosmos import DbtTaskGroup, ExecutionConfig, ProfileConfig, ProjectConfig, RenderConfig
from cosmos.constants import (
    DbtResourceType,
    ExecutionMode,
    InvocationMode,
    LoadMode,
    SourceRenderingBehavior,
    TestBehavior,
)
from cosmos.operators.local import DbtBuildLocalOperator

from cxpipe.alerts.task_failures import record_transform_failure
from cxpipe.orchestration import (
    checked_range,
    dbt_cache_dir,
    default_args,
    fail_at_once_on_data_errors,
    freeze_loaded_objects,
    interval_bounds,
    lake_complete_asset,
    reporting_asset,
    source_tests_task,
    transform_params,
)
from cxpipe.runbook import dag_doc
from cxpipe.settings import DBT_PROFILE, DBT_TARGET, load_settings

# Parsed once per DAG-file parse: a bad setting is an import error naming the variable.
settings = load_settings()

HEADER = """
### Transform, gate, publish

**Trigger:** the Asset `cx_lake_complete`, updated by an ingest run once **every configured
source** (`CX_SOURCES`, default all four: `cx_lake_sales`, `_crm`, `_surveys`, `_social`) has
loaded its landing date. Sources the deployment does not have read as empty (`lake/_empty/`,
written by `prepare_build`); reporting tables only they feed are published empty, with the
reason in `publication_log.skipped_tables`.

**Reads** the whole Parquet lake (dbt sources) and the load audit. **Writes**
`warehouse/cx.duckdb` (dbt), `warehouse/gate/last_gate.json` and GX Data Docs, and
publishes `warehouse/reporting.duckdb` (reporting tables + `publication_log`, swapped in
atomically) and, when `CX_REPORTING_POSTGRES_URL` is set, the PostgreSQL schema
`reporting` (swapped in one transaction; BI reads it as `cx_bi`). **Updates** the Asset
`cx_reporting`. New complaint spikes (`complaint_alerts`) go to the alert log and
`CX_ALERT_WEBHOOK_URL`. The offline HTML report of the publication is written to
`reports/report.html` and `reports/report-<publication id>.html`.

**Tasks:** `check_lake` → `prepare_build` → `dbt.build` (Cosmos: the whole `dbt build`, seeds,
snapshot, models and their tests in dbt's order, as one task; a failed model or test fails it at
once, not retried, naming every failed node in its message, and dbt's log lists every node; with
`CX_DBT_TASKS=node`, one task per seed and per model instead, each running
`dbt build --select <node>`, a test that spans two models as its own task after both, and the
tests declared on each source table as one task `dbt.<source>_<table>_source_test` before its
staging model) →
`quality_gate` (a `pass` of every blocking dbt test in this run's results, a test that did not
run blocks + Great Expectations suites
+ freshness, shares and drift; blocking) → `publish` (write, audit, swap; both targets) →
`notify_complaint_alerts` (each new spike once) → `report` (the HTML report of the publication;
a failed report leaves the publication in place: clear the task, or run `cxpipe report`). DuckDB has a single writer:
`max_active_tasks=1` and `max_active_runs=1` keep every write to `cx.duckdb` sequential.
With `CX_ENGINE=spark` the `dbt` group is one task, `dbt.build`: the same `dbt build` on Apache Spark,
the reporting tables then exported into `cx.duckdb` for the gate and publish (docs/spark.md).
"""
RUNBOOK_SECTIONS = [
    "When the transform runs (late sources)",
    "Manual runs (Params)",
    "Backfill",
    "Repairing a landing date",
    "Recovering",
]

with DAG(
    dag_id="cx_transform_publish",
    description="dbt build of the warehouse, quality gate, atomic publication to reporting",
    # Runs when a landing date is complete: the ingest run that loads a date's last source updates it.
    schedule=[lake_complete_asset(settings)],
    start_date=settings.schedule.start_datetime,
    catchup=False,
    max_active_runs=1,
    # DuckDB allows one writer per file: the tasks of a run never overlap, and runs queue.
    max_active_tasks=1,
    # every failed task: an alert, and a `failed` publication attempt naming the stage
    default_args={**default_args(settings), "on_failure_callback": record_transform_failure},
    params=transform_params(),
    tags=["cxpipe", "transform", "gate", "publish"],
    doc_md=dag_doc(settings.project_dir, HEADER, RUNBOOK_SECTIONS),
) as dag:

    @task
    def check_lake(**context: object) -> dict[str, object]:
        from cxpipe.lake import check_lake as covered

        params = dict(context["params"])  # type: ignore[call-overload]
        with fail_at_once_on_data_errors():  # bad Params or missing dates: not retried
            checked_range(params)
            return covered(load_settings(), params)

    @task
    def prepare_build(**context: object) -> bool:
        from cxpipe.warehouse.build import prepare_build as prepare

        return prepare(load_settings(), bool(context["params"]["full_refresh"]))  # type: ignore[index]

    profile = ProfileConfig(
        profile_name=DBT_PROFILE,
        target_name=DBT_TARGET,
        profiles_yml_filepath=settings.dbt_project_dir / "profiles.yml",
    )
    dbt_args = {
        "install_deps": False,
        "full_refresh": "{{ params.full_refresh }}",
        # keeps each dbt command's run_results.json for the quality gate; then a failed dbt test or
        # model fails its task without retry (a locked warehouse or a dbt crash keeps the retries)
        "callback": ["cxpipe.gate.collect_dbt_results", "cxpipe.orchestration.fail_dbt_data_errors"],
        # the full garbage collection Cosmos runs after each dbt command walks only what the command made
        "on_execute_callback": freeze_loaded_objects,
    }
    if settings.engine.name == "spark":
        # CX_ENGINE=spark: the same dbt project on Spark, in one task (one SparkSession for dbt and the
        # Python model); the reporting tables are exported into cx.duckdb, which the gate and publish read
        with TaskGroup(group_id="dbt") as dbt:

            @task(task_id="build")
            def spark_build(**context: object) -> dict[str, object]:
                from cxpipe.orchestration import build_on_spark

                return build_on_spark(load_settings(), context)

            spark_build()
    elif settings.schedule.dbt_tasks == "build":
        # CX_DBT_TASKS=build: the whole `dbt build` (seeds, models, their tests, in dbt's order) as one task
        with TaskGroup(group_id="dbt") as dbt:
            DbtBuildLocalOperator(
                task_id="build",
                project_dir=str(settings.dbt_project_dir),
                profile_config=profile,
                invocation_mode=InvocationMode.DBT_RUNNER,
                env=settings.dbt_env(),
                cache_dir=dbt_cache_dir(dag.dag_id, dbt.group_id),
                **dbt_args,
            )
    else:
        dbt = DbtTaskGroup(
            group_id="dbt",
            project_config=ProjectConfig(
                dbt_project_path=settings.dbt_project_dir,
                manifest_path=settings.manifest_path,
                install_dbt_deps=False,
                env_vars=settings.dbt_env(),
            ),
            profile_config=profile,
            execution_config=ExecutionConfig(
                execution_mode=ExecutionMode.LOCAL,
                invocation_mode=InvocationMode.DBT_RUNNER,
            ),
            render_config=RenderConfig(
                load_method=LoadMode.DBT_MANIFEST,
                test_behavior=TestBehavior.BUILD,
                # a test on two models (e.g. relationships) runs as its own task once both are built
                should_detach_multiple_parents_tests=True,
                # the tests declared on a source run as one task per source table, before its staging models
                source_rendering_behavior=SourceRenderingBehavior.WITH_TESTS_OR_FRESHNESS,
                node_converters={DbtResourceType.SOURCE: source_tests_task},
                emit_datasets=False,
            ),
            operator_args=dbt_args,
        )

    @task
    def quality_gate(**context: object) -> dict[str, object]:
        from cxpipe.gate import check_gate

        current = load_settings()
        with fail_at_once_on_data_errors():  # a blocked gate is not retried; a locked file is
            result = check_gate(
                current, current.warehouse_dir / "gate" / "last_gate.json", run_id=str(context.get("run_id"))
            )
        return {"passed": result.passed, "checks_run": result.checks_run, "warnings": len(result.warnings)}

    @task(outlets=[reporting_asset(settings)])
    def publish(gate: dict[str, object], covered: dict[str, object], **context: object) -> dict[str, object]:
        from cxpipe.publish import publish as publish_reporting

        start, end = interval_bounds(covered)
        publication = publish_reporting(
            load_settings(),
            gate_status="passed" if gate["passed"] else "failed",
            gate_checks=int(str(gate["checks_run"])),
            run_id=str(context.get("run_id")),
            data_interval_start=start,
            data_interval_end=end,
        )
        return {"publication_id": publication.publication_id, "row_counts": publication.row_counts}

    @task
    def notify_complaint_alerts(publication: dict[str, object]) -> int:
        from cxpipe.alerts import notify_new_complaint_alerts

        return notify_new_complaint_alerts(load_settings())

    @task
    def report(publication: dict[str, object]) -> list[str]:
        from cxpipe.report import write_report

        return [str(path) for path in write_report(load_settings())]

    covered = check_lake()
    gate = quality_gate()
    covered >> prepare_build() >> dbt >> gate
    published = publish(gate, covered)
    notify_complaint_alerts(published) >> report(published)
