"""record_failure, the DAGs' on_failure_callback: a failed task becomes a ``task_failed`` alert."""

import json
from types import SimpleNamespace

from conftest import Webhook

from cxpipe.alerts.task_failures import record_failure
from cxpipe.settings import Settings


def test_failure_callback_appends_to_the_alert_log(settings: Settings) -> None:
    ti = SimpleNamespace(dag_id="cx_ingest_sales", task_id="ingest_sales", try_number=2)
    record_failure({"task_instance": ti, "run_id": "r1", "exception": ValueError("bad file")})
    record_failure({"task_instance": ti, "run_id": "r2", "exception": ValueError("again")})
    lines = (settings.data_dir / "alerts" / "alerts.jsonl").read_text().splitlines()
    alerts = [json.loads(line) for line in lines]
    assert [(a["kind"], a["run_id"], a["error"], a["try_number"], a["delivered"]) for a in alerts] == [
        ("task_failed", "r1", "bad file", 2, None),
        ("task_failed", "r2", "again", 2, None),
    ]


def test_failure_callback_posts_to_the_webhook_from_the_environment(settings: Settings, webhook: Webhook) -> None:
    received = webhook.received  # the fixture sets CX_ALERT_WEBHOOK_URL; the callback loads its settings
    ti = SimpleNamespace(dag_id="cx_transform_publish", task_id="quality_gate", try_number=1)
    record_failure({"task_instance": ti, "run_id": "scheduled__x", "exception": RuntimeError("gate blocked")})
    assert len(received) == 1
    assert received[0]["alert"]["task_id"] == "quality_gate" and "gate blocked" in received[0]["text"]
    logged = json.loads((settings.data_dir / "alerts" / "alerts.jsonl").read_text())
    assert logged["delivered"] is True and logged["dag_id"] == "cx_transform_publish"
