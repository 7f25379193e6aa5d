"""Send each new complaint spike (``complaint_alerts`` rows with ``is_alert``) once.

Runs after publication: it reads the published reporting warehouse
(``reporting.duckdb``, table ``complaint_alerts``), or the build warehouse when
nothing has been published yet. Every alert whose ``alert_key`` (week|cause|region)
has not been sent before goes through :func:`cxpipe.alerts.send.send_alert` (kind
``complaint_alert``: alert log plus the ``CX_ALERT_WEBHOOK_URL`` webhook). The keys
sent are remembered in ``<data>/alerts/complaint_alerts_sent.json``, written after
each alert, so re-running never repeats an alert. When the webhook refuses an alert
it is logged and not remembered, so the next run tries it again.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Any

from cxpipe.alerts.send import send_alert
from cxpipe.contracts import MARTS_SCHEMA
from cxpipe.settings import Settings

log = logging.getLogger(__name__)

ALERT_KIND = "complaint_alert"
ALERT_COLUMNS = (
    "alert_key",
    "week_start",
    "week_end",
    "root_cause",
    "region",
    "complaints",
    "baseline_mean",
    "p_value",
    "alert_rule",
)


def sent_state_path(settings: Settings) -> Path:
    return settings.data_dir / "alerts" / "complaint_alerts_sent.json"


def _load_sent(path: Path) -> set[str]:
    if not path.exists():
        return set()
    try:
        keys = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ValueError(
            f"{path} is not valid JSON ({exc}); restore it or delete it (then every current alert is sent again)"
        ) from None
    if not isinstance(keys, list) or not all(isinstance(k, str) for k in keys):
        raise ValueError(f"{path} must be a JSON list of alert keys; restore it or delete it")
    return set(keys)


def _save_sent(path: Path, keys: set[str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(sorted(keys), ensure_ascii=False, indent=0), encoding="utf-8")
    os.replace(tmp, path)


def current_alerts(settings: Settings) -> list[dict[str, Any]]:
    """Alert rows of ``complaint_alerts``: published warehouse first, else the build."""
    # Imported here, not at the top: the DAG files import cxpipe.alerts when they are parsed,
    # and DuckDB is only needed when the task runs.
    from cxpipe.warehouse import connect_read_only

    if settings.reporting_db.exists():
        path, table = settings.reporting_db, "main.complaint_alerts"
    else:
        path, table = settings.build_db, f"{MARTS_SCHEMA}.complaint_alerts"
    with connect_read_only(path) as con:
        cursor = con.execute(
            f"select {', '.join(ALERT_COLUMNS)} from {table} where is_alert order by week_start, root_cause, region"
        )
        rows = cursor.fetchall()
    return [dict(zip(ALERT_COLUMNS, row, strict=True)) for row in rows]


def notify_new_complaint_alerts(settings: Settings) -> int:
    """Send every complaint alert not sent before; return how many were sent now."""
    state = sent_state_path(settings)
    sent = _load_sent(state)
    count = 0
    for alert in current_alerts(settings):
        if alert["alert_key"] in sent:
            continue
        payload = {
            **alert,
            "week_start": str(alert["week_start"]),
            "week_end": str(alert["week_end"]),
            "message": (
                f"{alert['root_cause']} complaints in {alert['region']}: {alert['complaints']} in the week of "
                f"{alert['week_start']} against a baseline of {alert['baseline_mean']} a week (p={alert['p_value']})"
            ),
        }
        result = send_alert(ALERT_KIND, payload, settings)
        if result["delivered"] is False:
            log.warning("complaint alert %s was not delivered; it will be sent again next run", alert["alert_key"])
            continue
        sent.add(str(alert["alert_key"]))
        _save_sent(state, sent)
        count += 1
    log.info("sent %d new complaint alert(s)", count)
    return count
