"""Ingest DAGs: one per configured source (cx_ingest_sales, _crm, _surveys, _social; ``CX_SOURCES``).

A source the deployment does not have gets no DAG: nothing waits for its landing files,
and ``announce_complete`` completes a date once every configured source has loaded it.

Thin wiring only: the work is cxpipe.ingest.ingest_source; run rules are in
cxpipe.orchestration.
"""

from __future__ import annotations

from airflow.sdk import DAG, task
from airflow.timetables.interval import CronDataIntervalTimetable

from cxpipe.alerts import record_failure
from cxpipe.contracts import entities_of
from cxpipe.orchestration import (
    dates_to_load,
    default_args,
    fail_at_once_on_data_errors,
    lake_asset,
    lake_complete_asset,
    range_params,
)
from cxpipe.runbook import dag_doc
from cxpipe.settings import load_settings

# Parsed once per DAG-file parse: a bad setting is an import error naming the variable.
settings = load_settings()

HEADER = """
### Ingest `{source}`

**Schedule:** daily (`@daily`, UTC) from `CX_START_DATE` with catchup (`CX_CATCHUP`),
one run at a time; the run for logical date *D* starts after *D* ends and loads landing folder *D*.

**Reads** `landing/{source}/<date>/` ({files}). **Writes**
`lake/{source}/<entity>/load_date=<date>/part-0.parquet`, rejected rows to
`quarantine/{source}/…` (file, row, raw content, reason), and the load audit
`lake/_load_audit/{source}/load_date=<date>/` (`rows_in = rows_loaded + rows_quarantined`
and, by physical line, `lines_in = lines_loaded + lines_quarantined + lines_blank` are checked;
see docs/bad-input.md for what happens to bad input). **Updates** the Asset `{asset}`; `announce_complete` then updates
`cx_lake_complete` — the transform's trigger — when every configured source (`CX_SOURCES`:
{sources}) has loaded the date
(otherwise it is skipped: the source that lands last completes the date).

**Tasks:** `wait_for_landing` (sensor, reschedule mode, only waits when the source's
missing-file policy is `wait`) → `ingest_{source}` → `announce_complete`.
Transient failures retry with exponential backoff; a contract or balance error fails at
once (fix the file, clear the task); every failure is written to `alerts/alerts.jsonl`
and posted to `CX_ALERT_WEBHOOK_URL` when set.
"""
RUNBOOK_SECTIONS = ["Missing files", "Manual runs (Params)", "Backfill", "Repairing a landing date", "Recovering"]

complete = lake_complete_asset(settings)

for source in settings.ingest.sources:  # a source the deployment does not have gets no DAG
    asset = lake_asset(settings, source)
    with DAG(
        dag_id=f"cx_ingest_{source}",
        description=f"Landing files of {source} -> Parquet lake, with quarantine and load audit",
        schedule=CronDataIntervalTimetable("@daily", timezone="UTC"),
        start_date=settings.schedule.start_datetime,
        end_date=settings.schedule.end_datetime,
        catchup=settings.schedule.catchup,
        max_active_runs=1,
        dagrun_timeout=settings.schedule.landing_wait * 2,
        default_args={**default_args(settings), "on_failure_callback": record_failure},
        params=range_params(),
        tags=["cxpipe", "ingest", source],
        doc_md=dag_doc(
            settings.project_dir,
            HEADER.format(
                source=source,
                sources=", ".join(settings.ingest.sources),
                files=", ".join(e.file_name for e in entities_of(source)),
                asset=asset.name,
            ),
            RUNBOOK_SECTIONS,
        ),
    ) as dag:

        @task.sensor(
            task_id="wait_for_landing",
            mode="reschedule",
            poke_interval=300,
            timeout=settings.schedule.landing_wait.total_seconds(),
            retries=0,
        )
        def wait_for_landing(source: str = source, **context: object) -> bool:
            from datetime import date

            from cxpipe.ingest import landing_ready
            from cxpipe.settings import load_settings

            settings = load_settings()
            if settings.ingest.missing_file_policy_for(source) != "wait":
                return True  # `fail` and `skip` are applied by the ingest task itself
            days = dates_to_load(dict(context["params"]), date.fromisoformat(str(context["ds"])))  # type: ignore[call-overload]
            return all(landing_ready(settings, source, day) for day in days)

        @task(task_id=f"ingest_{source}", outlets=[asset])
        def ingest(source: str = source, **context: object) -> list[dict[str, object]]:
            from dataclasses import asdict
            from datetime import date

            from cxpipe.ingest import ingest_source
            from cxpipe.settings import load_settings

            settings = load_settings()
            # a contract or balance error (or bad Params) fails at once: the same file fails every retry
            with fail_at_once_on_data_errors():
                days = dates_to_load(dict(context["params"]), date.fromisoformat(str(context["ds"])))  # type: ignore[call-overload]
                return [asdict(r) for day in days for r in ingest_source(settings, source, day)]

        @task(task_id="announce_complete", outlets=[complete])
        def announce_complete(**context: object) -> list[str]:
            from datetime import date

            from airflow.sdk.exceptions import AirflowSkipException

            from cxpipe.lake import incomplete_dates
            from cxpipe.settings import load_settings

            days = dates_to_load(dict(context["params"]), date.fromisoformat(str(context["ds"])))  # type: ignore[call-overload]
            if missing := incomplete_dates(load_settings(), days):
                raise AirflowSkipException(f"not every configured source has loaded these dates yet: {missing}")
            return [day.isoformat() for day in days]

        wait_for_landing() >> ingest() >> announce_complete()
