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
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests

from cxpipe.settings import Settings, mask_url

log = logging.getLogger(__name__)

WEBHOOK_ENV = "CX_ALERT_WEBHOOK_URL"
WEBHOOK_TIMEOUT_SECONDS = 10.0


def alert_log_path(settings: Settings) -> Path:
    """Where alerts are appended, one JSON object per line."""
    return settings.data_dir / "alerts" / "alerts.jsonl"


def send_alert(kind: str, payload: dict[str, Any], settings: Settings) -> dict[str, Any]:
    """Record an alert of ``kind`` (e.g. ``task_failed``, ``complaint_spike``) and post it to the webhook.

    Returns the alert as written, with ``delivered`` telling whether the webhook
    (``settings.alerts.webhook_url``) accepted it (``None`` when none is configured).
    """
    alert: dict[str, Any] = {"kind": kind, "at": datetime.now(UTC).isoformat(), **payload}
    alert["delivered"] = _post(alert, settings.alerts.webhook_url)
    path = alert_log_path(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as fh:
        fh.write(json.dumps(alert, default=str, ensure_ascii=False) + "\n")
    return alert


def _post(alert: dict[str, Any], url: str | None) -> bool | None:
    if not url:
        return None
    body = {"text": _summary(alert), "alert": alert}
    try:
        response = requests.post(url, json=body, timeout=WEBHOOK_TIMEOUT_SECONDS)
        response.raise_for_status()
    except requests.RequestException as exc:
        log.warning(
            "alert webhook %s (%s) did not accept the alert (%s); it is kept in the alert log",
            WEBHOOK_ENV,
            mask_url(url),
            _without_url(str(exc), url),
        )
        return False
    return True


def _without_url(text: str, url: str) -> str:
    """``text`` (a requests error, which quotes the URL or its path) with the webhook's secret parts hidden."""
    parts = urlsplit(url)
    text = text.replace(url, mask_url(url))
    path_and_query = parts.path + (f"?{parts.query}" if parts.query else "")
    for secret in (path_and_query, parts.path, parts.query):
        if secret and secret != "/":
            text = text.replace(secret, "/***")
    return text


def _summary(alert: dict[str, Any]) -> str:
    """One human line for chat tools that show only ``text``."""
    details = ", ".join(f"{k}={v}" for k, v in alert.items() if k not in {"kind", "at", "delivered"})
    return f"[cxpipe] {alert['kind']}: {details}"
