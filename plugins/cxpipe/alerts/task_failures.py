"""Failed tasks: the DAGs' ``on_failure_callback`` turns a failed task into a ``task_failed`` alert.

Takes the task context Airflow passes to a callback as a plain mapping, so this
module needs no Airflow import and can be tested with a stand-in task instance.
"""

from __future__ import annotations

import logging
from typing import Any

from cxpipe.alerts.send import send_alert
from cxpipe.settings import load_settings

log = logging.getLogger(__name__)


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
