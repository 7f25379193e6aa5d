"""notify_new_complaint_alerts: each new alert is posted once to a real local webhook."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import duckdb
import pytest
from configured import configured
from conftest import Webhook

from cxpipe.alerts.complaint_spikes import notify_new_complaint_alerts, sent_state_path
from cxpipe.alerts.send import alert_log_path
from cxpipe.settings import Settings

ROWS = [
    ("2026-10-19", "late_delivery", "Nordics", 14, 4.5, 0.0008, True),
    ("2026-10-19", "damaged", "DACH", 3, 2.0, 0.32, False),
    ("2026-10-26", "staff", "Greater China", 7, 0.75, 0.00001, True),
]


def _write_alerts(path: Path, rows: list[tuple[Any, ...]], schema: str = "main") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(path)) as con:
        con.execute(f"create schema if not exists {schema}")
        con.execute(f"drop table if exists {schema}.complaint_alerts")
        con.execute(
            f"create table {schema}.complaint_alerts (week_start date, week_end date, root_cause varchar, "
            "region varchar, complaints bigint, baseline_mean double, p_value double, is_alert boolean, "
            "alert_rule varchar, alert_key varchar)"
        )
        for week, cause, region, count, baseline, p, is_alert in rows:
            con.execute(
                f"insert into {schema}.complaint_alerts values "
                "(?::date, ?::date + 6, ?, ?, ?, ?, ?, ?, 'poisson p<0.01', ? || '|' || ? || '|' || ?)",
                [week, week, cause, region, count, baseline, p, is_alert, week, cause, region],
            )


def test_each_new_alert_is_posted_once(settings: Settings, webhook: Webhook) -> None:
    settings = configured(settings, CX_ALERT_WEBHOOK_URL=webhook.url)
    _write_alerts(settings.reporting_db, ROWS)
    assert notify_new_complaint_alerts(settings) == 2
    posted = [body["alert"] for body in webhook.received]
    assert [(a["root_cause"], a["region"], a["complaints"]) for a in posted] == [
        ("late_delivery", "Nordics", 14),
        ("staff", "Greater China", 7),
    ]
    assert all(a["kind"] == "complaint_alert" for a in posted)
    assert "late_delivery complaints in Nordics: 14" in webhook.received[0]["text"]
    # a second run sends nothing: the alerts are remembered
    assert notify_new_complaint_alerts(settings) == 0
    assert len(webhook.received) == 2
    log_lines = alert_log_path(settings).read_text(encoding="utf-8").splitlines()
    assert [json.loads(line)["delivered"] for line in log_lines] == [True, True]
    # a new spike in a later publication is sent, the old ones are not
    _write_alerts(settings.reporting_db, [*ROWS, ("2026-11-02", "website_app", "UK & Ireland", 9, 1.0, 0.0001, True)])
    assert notify_new_complaint_alerts(settings) == 1
    assert webhook.received[-1]["alert"]["alert_key"] == "2026-11-02|website_app|UK & Ireland"
    assert len(json.loads(sent_state_path(settings).read_text(encoding="utf-8"))) == 3


def test_a_refused_alert_is_sent_again_next_run(settings: Settings, webhook: Webhook) -> None:
    settings = configured(settings, CX_ALERT_WEBHOOK_URL=webhook.url)
    _write_alerts(settings.reporting_db, ROWS)
    webhook.status = 500
    assert notify_new_complaint_alerts(settings) == 0
    assert len(webhook.received) == 2
    webhook.status = 200
    assert notify_new_complaint_alerts(settings) == 2
    assert len(webhook.received) == 4


def test_reads_the_build_when_nothing_is_published(settings: Settings, webhook: Webhook) -> None:
    settings = configured(settings, CX_ALERT_WEBHOOK_URL=webhook.url)
    _write_alerts(settings.build_db, ROWS[:1], schema="marts")
    assert not settings.reporting_db.exists()
    assert notify_new_complaint_alerts(settings) == 1
    assert webhook.received[0]["alert"]["region"] == "Nordics"


def test_without_a_webhook_alerts_go_to_the_log_once(settings: Settings) -> None:
    _write_alerts(settings.reporting_db, ROWS)
    assert notify_new_complaint_alerts(settings) == 2
    assert notify_new_complaint_alerts(settings) == 0
    assert len(alert_log_path(settings).read_text(encoding="utf-8").splitlines()) == 2


def test_a_corrupt_state_file_is_named(settings: Settings) -> None:
    _write_alerts(settings.reporting_db, ROWS)
    state = sent_state_path(settings)
    state.parent.mkdir(parents=True, exist_ok=True)
    state.write_text("{not json", encoding="utf-8")
    with pytest.raises(ValueError, match=r"complaint_alerts_sent\.json"):
        notify_new_complaint_alerts(settings)


def test_missing_warehouse_says_what_to_run(settings: Settings) -> None:
    with pytest.raises(FileNotFoundError, match="dbt build"):
        notify_new_complaint_alerts(settings)
