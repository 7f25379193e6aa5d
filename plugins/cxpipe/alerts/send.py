"""Sending an alert: every alert is appended to the alert log and, when configured, posted to a webhook.

The alert log (``<data>/alerts/alerts.jsonl``) is the record; the webhook
(``CX_ALERT_WEBHOOK_URL``, e.g. a Slack or Teams incoming webhook, or any
service that accepts a JSON POST) is the notification. A webhook that is down
never fails the task that raised the alert: the failure is logged and the
alert stays in the log.
"""

from __future__ import annotations

import json
import logging
import os
from datetime import UTC, datetime
from typing import Any

import requests

from cxpipe.config import Settings, load_settings

log = logging.getLogger(__name__)

WEBHOOK_ENV = "CX_ALERT_WEBHOOK_URL"
WEBHOOK_TIMEOUT_SECONDS = 10.0


def alert_log_path(settings: Settings | None = None) -> Any:
    """Where alerts are appended, one JSON object per line."""
    return (settings or load_settings()).data_dir / "alerts" / "alerts.jsonl"


def send_alert(kind: str, payload: dict[str, Any], settings: Settings | None = None) -> dict[str, Any]:
    """Record an alert of ``kind`` (e.g. ``task_failed``, ``complaint_spike``) and post it to the webhook.

    Returns the alert as written, with ``delivered`` telling whether the webhook accepted it
    (``None`` when no webhook is configured).
    """
    alert: dict[str, Any] = {"kind": kind, "at": datetime.now(UTC).isoformat(), **payload}
    alert["delivered"] = _post(alert)
    path = alert_log_path(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as fh:
        fh.write(json.dumps(alert, default=str, ensure_ascii=False) + "\n")
    return alert


def webhook_url() -> str:
    """The webhook alerts are posted to (``CX_ALERT_WEBHOOK_URL``), or ``""`` when none is configured."""
    return os.environ.get(WEBHOOK_ENV, "").strip()


def _post(alert: dict[str, Any]) -> bool | None:
    url = webhook_url()
    if not url:
        return None
    body = {"text": _summary(alert), "alert": alert}
    try:
        response = requests.post(url, json=body, timeout=WEBHOOK_TIMEOUT_SECONDS)
        response.raise_for_status()
    except requests.RequestException as exc:
        log.warning("alert webhook %s did not accept the alert (%s); it is kept in the alert log", WEBHOOK_ENV, exc)
        return False
    return True


def _summary(alert: dict[str, Any]) -> str:
    """One human line for chat tools that show only ``text``."""
    details = ", ".join(f"{k}={v}" for k, v in alert.items() if k not in {"kind", "at", "delivered"})
    return f"[cxpipe] {alert['kind']}: {details}"
