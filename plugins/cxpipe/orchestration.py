"""Airflow glue shared by cxpipe's DAGs: default args, Assets, Params, schedule settings, run rules.

The DAG files in ``dags/`` only wire tasks; what a task does lives in the
modules of this package, so it can be tested without a scheduler: the lake check
in :mod:`cxpipe.lake`, the build preparation in :mod:`cxpipe.warehouse.build`, the
failure callback in :mod:`cxpipe.alerts` and the parsing of a run's date range in
:mod:`cxpipe.run_range`.
"""

from __future__ import annotations

import os
from datetime import UTC, date, datetime, timedelta
from typing import Any

from airflow.sdk import Asset, Param

from cxpipe.config import load_settings
from cxpipe.run_range import param_range

OWNER = "cx-data-engineering"


def _int_env(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    try:
        return int(value) if value else default
    except ValueError as exc:
        raise ValueError(f"{name}={value!r} is not a whole number") from exc


def task_retries() -> int:
    """How often a failed task is retried (``CX_TASK_RETRIES``, default 2)."""
    return _int_env("CX_TASK_RETRIES", 2)


def retry_delay() -> timedelta:
    """The wait before a task's first retry, growing with each retry (``CX_RETRY_DELAY_SECONDS``, default 60)."""
    return timedelta(seconds=_int_env("CX_RETRY_DELAY_SECONDS", 60))


def task_timeout() -> timedelta:
    """How long one try of a task may run (``CX_TASK_TIMEOUT_MINUTES``, default 60)."""
    return timedelta(minutes=_int_env("CX_TASK_TIMEOUT_MINUTES", 60))


DEFAULT_ARGS: dict[str, Any] = {
    "owner": OWNER,
    "retries": task_retries(),
    "retry_delay": retry_delay(),
    "retry_exponential_backoff": True,
    "max_retry_delay": timedelta(minutes=30),
    "execution_timeout": task_timeout(),
}


def start_date() -> datetime:
    """First logical date the ingest DAGs schedule (``CX_START_DATE``, default 2026-11-01)."""
    return datetime.fromisoformat(os.environ.get("CX_START_DATE", "2026-11-01")).replace(tzinfo=UTC)


def end_date() -> datetime | None:
    """Last logical date the ingest DAGs schedule (``CX_END_DATE``), or ``None`` for open-ended."""
    value = os.environ.get("CX_END_DATE", "").strip()
    return datetime.fromisoformat(value).replace(tzinfo=UTC) if value else None


def catchup() -> bool:
    """Whether the ingest DAGs replay every missed day since the start date (``CX_CATCHUP``, default true).

    A new deployment that should not replay history sets it to false and backfills what it needs.
    """
    value = os.environ.get("CX_CATCHUP", "true").strip().lower()
    if value not in {"true", "false", "1", "0", "yes", "no"}:
        raise ValueError(f"CX_CATCHUP={value!r}; expected true or false")
    return value in {"true", "1", "yes"}


def landing_wait() -> timedelta:
    """How long an ingest run waits for late files under the ``wait`` policy (``CX_LANDING_WAIT_HOURS``)."""
    return timedelta(hours=_int_env("CX_LANDING_WAIT_HOURS", 6))


def lake_asset(source: str) -> Asset:
    """The Asset an ingest DAG updates when it has written a partition of ``source``."""
    return Asset(name=f"cx_lake_{source}", uri=f"file://{load_settings().lake_dir}/{source}", group="cxpipe_lake")


def lake_complete_asset() -> Asset:
    """The Asset updated when a landing date has been loaded by every source: the transform's trigger."""
    return Asset(name="cx_lake_complete", uri=f"file://{load_settings().lake_dir}/_load_audit", group="cxpipe_lake")


def reporting_asset() -> Asset:
    """The Asset the transform DAG updates when it has published the reporting warehouse."""
    return Asset(name="cx_reporting", uri=f"file://{load_settings().reporting_db}", group="cxpipe_reporting")


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
