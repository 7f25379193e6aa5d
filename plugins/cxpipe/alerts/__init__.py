"""Alerts: the last layer of the flow (landing → lake → warehouse → gate → publish → alerts).

Every alert goes through :func:`send_alert` (``send``): it is appended to the alert
log and, when ``CX_ALERT_WEBHOOK_URL`` is set, posted to that webhook. Two callers
raise alerts: :func:`record_failure` (``task_failures``, the DAGs' on_failure_callback)
and :func:`notify_new_complaint_alerts` (``complaint_spikes``, new complaint spikes of
the published warehouse, each sent once). Nothing here imports Airflow or
``cxpipe.orchestration``.
"""

from cxpipe.alerts.complaint_spikes import notify_new_complaint_alerts
from cxpipe.alerts.send import WEBHOOK_ENV, alert_log_path, send_alert
from cxpipe.alerts.task_failures import record_failure

__all__ = [
    "WEBHOOK_ENV",
    "alert_log_path",
    "notify_new_complaint_alerts",
    "record_failure",
    "send_alert",
]
