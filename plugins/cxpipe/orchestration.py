"""Airflow glue shared by cxpipe's DAGs: default args, Assets, Params, run rules.

The DAG files in ``dags/`` only wire tasks; what a task does lives in the
modules of this package, so it can be tested without a scheduler: the lake check
in :mod:`cxpipe.lake`, the build preparation in :mod:`cxpipe.warehouse.build`, the
failure callback in :mod:`cxpipe.alerts` and the parsing of a run's date range in
:mod:`cxpipe.run_range`.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from airflow.sdk import Asset, Param

from cxpipe.run_range import param_range
from cxpipe.settings import Settings

OWNER = "cx-data-engineering"


def default_args(settings: Settings) -> dict[str, Any]:
    """Task defaults of every cxpipe DAG: retries with exponential backoff and a timeout (``settings.schedule``)."""
    schedule = settings.schedule
    return {
        "owner": OWNER,
        "retries": schedule.task_retries,
        "retry_delay": schedule.retry_delay,
        "retry_exponential_backoff": True,
        "max_retry_delay": timedelta(minutes=30),
        "execution_timeout": schedule.task_timeout,
    }


def lake_asset(settings: Settings, source: str) -> Asset:
    """The Asset an ingest DAG updates when it has written a partition of ``source``."""
    return Asset(name=f"cx_lake_{source}", uri=f"file://{settings.lake_dir}/{source}", group="cxpipe_lake")


def lake_complete_asset(settings: Settings) -> Asset:
    """The Asset updated when a landing date has been loaded by every source: the transform's trigger."""
    return Asset(name="cx_lake_complete", uri=f"file://{settings.lake_dir}/_load_audit", group="cxpipe_lake")


def reporting_asset(settings: Settings) -> Asset:
    """The Asset the transform DAG updates when it has published the reporting warehouse."""
    return Asset(name="cx_reporting", uri=f"file://{settings.reporting_db}", group="cxpipe_reporting")


def range_params() -> dict[str, Param]:
    """Params of a manual run: an inclusive range of landing dates (both empty = the run's own date)."""
    return {
        "from_date": Param(
            None, type=["null", "string"], format="date", description="first landing date (YYYY-MM-DD), inclusive"
        ),
        "to_date": Param(
            None, type=["null", "string"], format="date", description="last landing date (YYYY-MM-DD), inclusive"
        ),
    }


def transform_params() -> dict[str, Param]:
    """Params of a manual transform run: the range the publication must cover, and a full refresh."""
    return {
        **range_params(),
        "full_refresh": Param(
            False,
            type="boolean",
            description="drop the build warehouse and run dbt with --full-refresh (rebuild everything from the lake)",
        ),
    }


def dates_to_load(params: dict[str, Any], logical_date: date) -> list[date]:
    """Landing dates an ingest run loads: the Param range of a manual run, else the run's logical date."""
    bounds = param_range(params)
    if bounds is None:
        return [logical_date]
    first, last = bounds
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def interval_bounds(covered: dict[str, Any]) -> tuple[datetime, datetime]:
    """The publication's data interval for a :func:`cxpipe.lake.check_lake` result: [from_date, to_date + 1 day)."""
    first = datetime.fromisoformat(str(covered["from_date"])).replace(tzinfo=UTC)
    last = datetime.fromisoformat(str(covered["to_date"])).replace(tzinfo=UTC)
    return first, last + timedelta(days=1)
