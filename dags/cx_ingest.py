"""Ingest DAGs: one per source (cx_ingest_sales, _crm, _surveys, _social).

Thin wiring only: the work is cxpipe.ingest.ingest_source.
"""

from __future__ import annotations

from datetime import date

from airflow.sdk import DAG, task
from airflow.timetables.interval import CronDataIntervalTimetable

from cxpipe.contracts import SOURCES, entities_of
from cxpipe.orchestration import DEFAULT_ARGS, lake_asset, record_failure, start_date

DOC = """
### Ingest `{source}`

Reads `landing/{source}/<date>/` ({files}) for the run's logical date, checks each
file against its contract (docs/contracts.md), and writes
`lake/{source}/<entity>/load_date=<date>/part-0.parquet`. Rejected rows go to
`quarantine/{source}/…` with file, row, raw content and reason; the balance
`rows_in = rows_loaded + rows_quarantined` is checked and written to
`lake/_load_audit/{source}/`. Updates the Asset `{asset}`, which starts the
transform DAG.

**Re-run / repair:** clear the task for a date; it replaces that date's partition
(idempotent). **Backfill:** `airflow backfill create --dag-id cx_ingest_{source}
--from-date … --to-date …`. A missing file fails the run unless
`CX_MISSING_FILE_POLICY=skip`.
"""

for source in SOURCES:
    asset = lake_asset(source)
    with DAG(
        dag_id=f"cx_ingest_{source}",
        description=f"Landing files of {source} -> Parquet lake, with quarantine and load audit",
        schedule=CronDataIntervalTimetable("@daily", timezone="UTC"),
        start_date=start_date(),
        catchup=False,
        max_active_runs=1,
        default_args={**DEFAULT_ARGS, "on_failure_callback": record_failure},
        tags=["cxpipe", "ingest", source],
        doc_md=DOC.format(
            source=source,
            files=", ".join(e.file_name for e in entities_of(source)),
            asset=asset.name,
        ),
    ) as dag:

        @task(task_id=f"ingest_{source}", outlets=[asset])
        def ingest(source: str = source, **context: object) -> list[dict[str, object]]:
            from dataclasses import asdict

            from cxpipe.config import load_settings
            from cxpipe.ingest import ingest_source

            load_date = date.fromisoformat(str(context["ds"]))
            return [asdict(r) for r in ingest_source(load_settings(), source, load_date)]

        ingest()
