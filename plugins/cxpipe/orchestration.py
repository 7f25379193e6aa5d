"""Shared pieces of cxpipe's Airflow DAGs: defaults, Assets, callbacks.

The DAG files in ``dags/`` only wire tasks; what a task does lives in the
modules of this package, so it can be tested without a scheduler.
"""

from __future__ import annotations

import logging
import os
from datetime import UTC, datetime, timedelta
from typing import Any

from airflow.sdk import Asset

from cxpipe.config import load_settings
from cxpipe.notify import send_alert

log = logging.getLogger(__name__)

OWNER = "cx-data-engineering"

DEFAULT_ARGS: dict[str, Any] = {
    "owner": OWNER,
    "retries": int(os.environ.get("CX_TASK_RETRIES", "2")),
    "retry_delay": timedelta(seconds=int(os.environ.get("CX_RETRY_DELAY_SECONDS", "60"))),
    "retry_exponential_backoff": True,
    "max_retry_delay": timedelta(minutes=30),
    "execution_timeout": timedelta(minutes=int(os.environ.get("CX_TASK_TIMEOUT_MINUTES", "60"))),
}


def start_date() -> datetime:
    """First logical date the ingest DAGs schedule (``CX_START_DATE``, default 2026-11-01)."""
    return datetime.fromisoformat(os.environ.get("CX_START_DATE", "2026-11-01")).replace(tzinfo=UTC)


def lake_asset(source: str) -> Asset:
    """The Asset an ingest DAG updates when it has written a partition of ``source``."""
    return Asset(name=f"cx_lake_{source}", uri=f"file://{load_settings().lake_dir}/{source}", group="cxpipe_lake")


def reporting_asset() -> Asset:
    """The Asset the transform DAG updates when it has published the reporting warehouse."""
    return Asset(name="cx_reporting", uri=f"file://{load_settings().reporting_db}", group="cxpipe_reporting")


def record_failure(context: dict[str, Any]) -> None:
    """on_failure_callback: record the failed task in the alert log and post it to the webhook."""
    ti = context.get("task_instance")
    alert = send_alert(
        "task_failed",
        {
            "dag_id": getattr(ti, "dag_id", None),
            "task_id": getattr(ti, "task_id", None),
            "run_id": context.get("run_id"),
            "try_number": getattr(ti, "try_number", None),
            "error": str(context.get("exception")),
        },
    )
    log.error("task failed: %s", alert)
