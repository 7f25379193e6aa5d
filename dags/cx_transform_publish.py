"""Transform, gate and publish: lake check -> dbt build (Cosmos) -> quality gate -> atomic publish.

Thin wiring only: the work is the dbt project, cxpipe.orchestration, cxpipe.gate
and cxpipe.publish.
"""

from __future__ import annotations

from airflow.sdk import DAG, task
from cosmos import DbtTaskGroup, ExecutionConfig, ProfileConfig, ProjectConfig, RenderConfig
from cosmos.constants import ExecutionMode, InvocationMode, LoadMode, TestBehavior

from cxpipe.alerts import record_failure
from cxpipe.config import load_settings
from cxpipe.orchestration import (
    DEFAULT_ARGS,
    lake_complete_asset,
    reporting_asset,
    start_date,
    transform_params,
)

settings = load_settings()

with DAG(
    dag_id="cx_transform_publish",
    description="dbt build of the warehouse, quality gate, atomic publication to reporting",
    # Runs when a landing date is complete: the ingest run that loads a date's last source updates it.
    schedule=[lake_complete_asset()],
    start_date=start_date(),
    catchup=False,
    max_active_runs=1,
    # DuckDB allows one writer per file: the tasks of a run never overlap, and runs queue.
    max_active_tasks=1,
    default_args={**DEFAULT_ARGS, "on_failure_callback": record_failure},
    params=transform_params(),
    tags=["cxpipe", "transform", "gate", "publish"],
    doc_md="""
### Transform, gate, publish

**Trigger:** the Asset `cx_lake_complete`, updated by an ingest run once **all four
sources** (`cx_lake_sales`, `_crm`, `_surveys`, `_social`) have loaded its landing date.
**Late source rule:** a late source holds that date's publication back; when its file
lands and its ingest run succeeds, that run completes the date and triggers this DAG,
which builds everything loaded so far. Several dates completed while a run is busy are
built together by the next run. `check_lake` records in the publication the landing
dates that *every* source has loaded; a source still behind is named in its result and
the log. A source that will not deliver a date: set its missing-file policy to `skip`
and clear its ingest run (an empty load completes the date).

**Reads** the whole Parquet lake (dbt sources) and the load audit. **Writes**
`warehouse/cx.duckdb` (dbt), `warehouse/gate/last_gate.json` and GX Data Docs, and
publishes `warehouse/reporting.duckdb` (reporting tables + `publication_log`, swapped in
atomically) and, when `CX_REPORTING_POSTGRES_URL` is set, the PostgreSQL schema
`reporting` (swapped in one transaction; BI reads it as `cx_bi`). **Updates** the Asset
`cx_reporting`. New complaint spikes (`complaint_alerts`) go to the alert log and
`CX_ALERT_WEBHOOK_URL`.

**Tasks:** `check_lake` → `prepare_build` → `dbt` (Cosmos: one task per seed and per
model, each running `dbt build --select <node>`, i.e. the model and then its tests, so
one failed model or test is one red, retryable task and its downstream models wait; a
test that spans two models, such as `relationships`, is its own task after both) →
`quality_gate` (dbt test results of every dbt task of the run + Great Expectations suites
+ freshness, shares and drift; blocking) → `publish` (write, audit, swap; both targets) →
`notify_complaint_alerts` (each new spike once). DuckDB has a single writer:
`max_active_tasks=1` and `max_active_runs=1` keep every write to `cx.duckdb` sequential.

**Manual run (Params):** `from_date`/`to_date` — the run fails in `check_lake` unless
every source has loaded every date of the range, and the publication records that
range; `full_refresh=true` removes `cx.duckdb` first and runs dbt with `--full-refresh`.

**Backfill:** backfill the ingest DAGs (`airflow backfill create --dag-id
cx_ingest_<source> …`); their Asset updates trigger this DAG, which rebuilds from the
whole lake. Never backfill this DAG itself: it has no time schedule.

**Recover:** a failed dbt task: fix the model, clear that task and downstream. A gate
failure: `quality_gate` fails with the failing checks in its log (and the Data Docs);
nothing is published and the last good publication stays; fix data or model, then clear
`dbt` and downstream. Every step rebuilds from the lake, so re-runs are idempotent.
""",
) as dag:

    @task
    def check_lake(**context: object) -> dict[str, object]:
        from cxpipe.config import load_settings
        from cxpipe.lake import check_lake as covered

        return covered(load_settings(), dict(context["params"]))  # type: ignore[call-overload]

    @task
    def prepare_build(**context: object) -> bool:
        from cxpipe.config import load_settings
        from cxpipe.warehouse.build import prepare_build as prepare

        return prepare(load_settings(), bool(context["params"]["full_refresh"]))  # type: ignore[index]

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
        render_config=RenderConfig(
            load_method=LoadMode.DBT_MANIFEST,
            test_behavior=TestBehavior.BUILD,
            # a test on two models (e.g. relationships) runs as its own task once both are built
            should_detach_multiple_parents_tests=True,
            emit_datasets=False,
        ),
        operator_args={
            "install_deps": False,
            "full_refresh": "{{ params.full_refresh }}",
            # keeps each dbt command's run_results.json for the quality gate
            "callback": "cxpipe.gate.collect_dbt_results",
        },
    )

    @task(retries=0)
    def quality_gate(**context: object) -> dict[str, object]:
        from airflow.sdk.exceptions import AirflowFailException

        from cxpipe.config import load_settings
        from cxpipe.gate import GateBlockedError, check_gate

        current = load_settings()
        try:
            result = check_gate(
                current, current.warehouse_dir / "gate" / "last_gate.json", run_id=str(context.get("run_id"))
            )
        except GateBlockedError as exc:
            raise AirflowFailException(str(exc)) from exc
        return {"passed": result.passed, "checks_run": result.checks_run, "warnings": len(result.warnings)}

    @task(outlets=[reporting_asset()])
    def publish(gate: dict[str, object], covered: dict[str, object], **context: object) -> dict[str, object]:
        from cxpipe.config import load_settings
        from cxpipe.orchestration import interval_bounds
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
        from cxpipe.config import load_settings

        return notify_new_complaint_alerts(load_settings())

    covered = check_lake()
    gate = quality_gate()
    covered >> prepare_build() >> dbt >> gate
    notify_complaint_alerts(publish(gate, covered))
