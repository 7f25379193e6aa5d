"""Ingest DAGs: one per source (cx_ingest_sales, _crm, _surveys, _social).

Thin wiring only: the work is cxpipe.ingest.ingest_source; run rules are in
cxpipe.orchestration.
"""

from __future__ import annotations

from airflow.sdk import DAG, task
from airflow.timetables.interval import CronDataIntervalTimetable

from cxpipe.alerts import record_failure
from cxpipe.contracts import SOURCES, entities_of
from cxpipe.orchestration import (
    DEFAULT_ARGS,
    catchup,
    end_date,
    lake_asset,
    lake_complete_asset,
    landing_wait,
    range_params,
    start_date,
)

DOC = """
### Ingest `{source}`

**Schedule:** daily (`@daily`, UTC) from `CX_START_DATE` with catchup (`CX_CATCHUP`),
one run at a time; the run for logical date *D* starts after *D* ends and loads landing folder *D*.

**Reads** `landing/{source}/<date>/` ({files}). **Writes**
`lake/{source}/<entity>/load_date=<date>/part-0.parquet`, rejected rows to
`quarantine/{source}/…` (file, row, raw content, reason), and the load audit
`lake/_load_audit/{source}/load_date=<date>/` (`rows_in = rows_loaded + rows_quarantined`
is checked). **Updates** the Asset `{asset}`; `announce_complete` then updates
`cx_lake_complete` — the transform's trigger — when every source has loaded the date
(otherwise it is skipped: the source that lands last completes the date).

**Tasks:** `wait_for_landing` (sensor, reschedule mode, only waits when the source's
missing-file policy is `wait`, for up to `CX_LANDING_WAIT_HOURS`) → `ingest_{source}` →
`announce_complete`.
Retries with exponential backoff; every failure is written to `alerts/alerts.jsonl`
and posted to `CX_ALERT_WEBHOOK_URL` when set.

**Manual run (Params):** `from_date` / `to_date` (inclusive, `YYYY-MM-DD`) load every
landing date of the range in one run, e.g. after a source re-delivered a week;
leave both empty to load the run's own date.

**Backfill:** `airflow backfill create --dag-id cx_ingest_{source} --from-date 2026-11-01
--to-date 2026-11-07` (the scheduler runs one run per day, oldest first; add
`--reprocess-behavior completed` to redo days that already succeeded).

**Recover:** a failed run: fix the file (the error names file, row and column),
then clear the task — it replaces that date's partition (idempotent, never duplicates).
A missing file fails the run under policy `fail`, waits under `wait`, is skipped under
`skip` (`CX_MISSING_FILE_POLICY` or `CX_MISSING_FILE_POLICY_{upper}`).
"""

complete = lake_complete_asset()

for source in SOURCES:
    asset = lake_asset(source)
    with DAG(
        dag_id=f"cx_ingest_{source}",
        description=f"Landing files of {source} -> Parquet lake, with quarantine and load audit",
        schedule=CronDataIntervalTimetable("@daily", timezone="UTC"),
        start_date=start_date(),
        end_date=end_date(),
        catchup=catchup(),
        max_active_runs=1,
        dagrun_timeout=landing_wait() * 2,
        default_args={**DEFAULT_ARGS, "on_failure_callback": record_failure},
        params=range_params(),
        tags=["cxpipe", "ingest", source],
        doc_md=DOC.format(
            source=source,
            upper=source.upper(),
            files=", ".join(e.file_name for e in entities_of(source)),
            asset=asset.name,
        ),
    ) as dag:

        @task.sensor(
            task_id="wait_for_landing",
            mode="reschedule",
            poke_interval=300,
            timeout=landing_wait().total_seconds(),
            retries=0,
        )
        def wait_for_landing(source: str = source, **context: object) -> bool:
            from datetime import date

            from cxpipe.config import load_settings
            from cxpipe.ingest import landing_ready, missing_file_policy
            from cxpipe.orchestration import dates_to_load

            if missing_file_policy(source) != "wait":
                return True  # `fail` and `skip` are applied by the ingest task itself
            settings = load_settings()
            days = dates_to_load(dict(context["params"]), date.fromisoformat(str(context["ds"])))  # type: ignore[call-overload]
            return all(landing_ready(settings, source, day) for day in days)

        @task(task_id=f"ingest_{source}", outlets=[asset])
        def ingest(source: str = source, **context: object) -> list[dict[str, object]]:
            from dataclasses import asdict
            from datetime import date

            from cxpipe.config import load_settings
            from cxpipe.ingest import ingest_source
            from cxpipe.orchestration import dates_to_load

            settings = load_settings()
            days = dates_to_load(dict(context["params"]), date.fromisoformat(str(context["ds"])))  # type: ignore[call-overload]
            return [asdict(r) for day in days for r in ingest_source(settings, source, day)]

        @task(task_id="announce_complete", outlets=[complete])
        def announce_complete(**context: object) -> list[str]:
            from datetime import date

            from airflow.sdk.exceptions import AirflowSkipException

            from cxpipe.config import load_settings
            from cxpipe.lake import incomplete_dates
            from cxpipe.orchestration import dates_to_load

            days = dates_to_load(dict(context["params"]), date.fromisoformat(str(context["ds"])))  # type: ignore[call-overload]
            if missing := incomplete_dates(load_settings(), days):
                raise AirflowSkipException(f"not every source has loaded these dates yet: {missing}")
            return [day.isoformat() for day in days]

        wait_for_landing() >> ingest() >> announce_complete()
