"""Failed tasks: the DAGs' ``on_failure_callback`` turns a failed task into a ``task_failed`` alert.

The transform DAG's callback, :func:`record_transform_failure`, also records the run as a
``failed`` publication attempt (``cxpipe publications --attempts``), so a run that stops in
``check_lake``, ``prepare_build``, a dbt task or the gate appears there with the stage it
stopped at. Ingest failures are alerts only: they are not publication attempts.

Takes the task context Airflow passes to a callback as a plain mapping, so this
module needs no Airflow import and can be tested with a stand-in task instance.
"""

from __future__ import annotations

import logging
import re
from datetime import datetime
from typing import Any

from cxpipe.alerts.send import send_alert
from cxpipe.settings import Settings, load_settings

log = logging.getLogger(__name__)

#: Longest reason recorded for a failed attempt (one line; the full error is in the task log and the alert).
MAX_REASON = 240
#: A single-quoted SQL literal in an error message ("Could not convert string 'x' to INT32"): may be row content.
_LITERAL = re.compile(r"'[^'\n]*'")


def record_failure(context: dict[str, Any]) -> None:
    """on_failure_callback: record the failed task in the alert log and post it to the webhook.

    Airflow passes only the context, so the settings are loaded here, as the task's own code does.
    """
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
        load_settings(),
    )
    log.error("task failed: %s", alert)


def failure_reason(task_id: str, exception: object) -> str:
    """One line for the attempt log: the stage and the first line of its error, without row content.

    Quoted literals are masked and contact details redacted; at most :data:`MAX_REASON` characters.
    """
    from cxpipe.privacy import redact_pii

    first = (str(exception or "").strip().splitlines() or ["no error message"])[0]
    masked = _LITERAL.sub("'…'", first)
    line = f"stopped at {task_id}: {masked}"
    redacted, _ = redact_pii(line)
    return redacted if len(redacted) <= MAX_REASON else redacted[: MAX_REASON - 1] + "…"


def _recorded_since(settings: Settings, run_id: str | None, since: datetime | None) -> bool:
    """Whether this try already wrote its own failed/blocked attempt (the gate's ``blocked``, publish's ``failed``)."""
    from cxpipe.publish import list_attempts

    return any(
        row["run_id"] == run_id
        and row["status"] in ("failed", "blocked")
        and (since is None or row["attempt_at"] >= since)
        for row in list_attempts(settings, 50)
    )


def record_failed_attempt(context: dict[str, Any], settings: Settings) -> bool:
    """Record a ``failed`` publication attempt for a failed transform task, unless its try recorded one.

    Returns whether a row was written.
    """
    from cxpipe.publish import record_attempt

    ti = context.get("task_instance")
    task_id = str(getattr(ti, "task_id", None) or "unknown task")
    run_id = context.get("run_id")
    run_id = str(run_id) if run_id is not None else None
    if _recorded_since(settings, run_id, getattr(ti, "start_date", None)):
        return False
    reason = failure_reason(task_id, context.get("exception"))
    record_attempt(settings, "failed", target="all", run_id=run_id, reason=reason)
    return True


def record_transform_failure(context: dict[str, Any]) -> None:
    """on_failure_callback of ``cx_transform_publish``: the alert, then the failed publication attempt.

    The alert is sent first; an attempt that cannot be recorded (e.g. ``ops.duckdb`` locked)
    is logged and does not hide the task's own failure.
    """
    record_failure(context)
    try:
        record_failed_attempt(context, load_settings())
    except Exception:
        log.exception("could not record the failed publication attempt")
