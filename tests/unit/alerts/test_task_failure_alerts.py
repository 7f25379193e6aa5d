"""The DAGs' on_failure_callbacks: a failed task becomes a ``task_failed`` alert, and a failed
transform task also a ``failed`` publication attempt (read back with ``list_attempts``)."""

import json
from datetime import UTC, datetime
from types import SimpleNamespace

from conftest import Webhook

from cxpipe.alerts.task_failures import MAX_REASON, record_failure, record_transform_failure
from cxpipe.publish import list_attempts, record_attempt
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


# ------------------------------------------------------------------ transform failures are publication attempts


def _attempts(settings: Settings) -> list[tuple[object, ...]]:
    return [(a["status"], a["target"], a["run_id"], a["reason"]) for a in list_attempts(settings)]


def test_a_transform_run_that_stops_in_dbt_is_a_failed_attempt_naming_the_stage(settings: Settings) -> None:
    ti = SimpleNamespace(
        dag_id="cx_transform_publish",
        task_id="dbt.stg_sales__orders_model_build",
        try_number=3,
        start_date=datetime.now(UTC),
    )
    error = RuntimeError(
        "dbt invocation completed with errors: stg_sales__orders: Runtime Error in model stg_sales__orders\n"
        "  Conversion Error: Could not convert string 'ann@example.com' to INT32"
    )
    record_transform_failure({"task_instance": ti, "run_id": "manual__r1", "exception": error})

    assert _attempts(settings) == [
        (
            "failed",
            "all",
            "manual__r1",
            "stopped at dbt.stg_sales__orders_model_build: dbt invocation completed with errors: "
            "stg_sales__orders: Runtime Error in model stg_sales__orders",
        )
    ]
    alert = json.loads((settings.data_dir / "alerts" / "alerts.jsonl").read_text())
    assert alert["task_id"] == "dbt.stg_sales__orders_model_build"  # the alert keeps the whole error


def test_the_attempt_reason_is_one_short_line_without_values(settings: Settings) -> None:
    ti = SimpleNamespace(dag_id="cx_transform_publish", task_id="check_lake", try_number=1, start_date=None)
    error = ValueError("cannot cast 'Ann Smith' near ann@example.com or +44 20 7946 0958 " + "x" * 400)
    record_transform_failure({"task_instance": ti, "run_id": "r2", "exception": error})
    (reason,) = [a["reason"] for a in list_attempts(settings)]
    assert reason.startswith("stopped at check_lake: cannot cast '…' near ")
    assert "Ann" not in reason and "example.com" not in reason and "7946" not in reason
    assert len(reason) <= MAX_REASON and "\n" not in reason


def test_a_stage_that_recorded_its_own_attempt_is_not_recorded_twice(settings: Settings) -> None:
    started = datetime.now(UTC)
    record_attempt(settings, "blocked", target="all", run_id="r3", reason="quality gate failed: 1 check")
    gate = SimpleNamespace(dag_id="cx_transform_publish", task_id="quality_gate", try_number=1, start_date=started)
    record_transform_failure({"task_instance": gate, "run_id": "r3", "exception": RuntimeError("quality gate failed")})
    assert [a[0] for a in _attempts(settings)] == ["blocked"]

    # a gate that failed before it could record (e.g. its warehouse was locked) is recorded by the callback
    later = SimpleNamespace(**{**vars(gate), "start_date": datetime.now(UTC)})
    record_transform_failure({"task_instance": later, "run_id": "r3", "exception": OSError("IO Error: lock")})
    assert [(a[0], a[3]) for a in _attempts(settings)] == [
        ("failed", "stopped at quality_gate: IO Error: lock"),
        ("blocked", "quality gate failed: 1 check"),
    ]


def test_ingest_failures_stay_alerts_and_are_no_publication_attempts(settings: Settings) -> None:
    ti = SimpleNamespace(dag_id="cx_ingest_sales", task_id="ingest_sales", try_number=1, start_date=None)
    record_failure({"task_instance": ti, "run_id": "r4", "exception": ValueError("bad file")})
    assert list_attempts(settings) == []
    assert (settings.data_dir / "alerts" / "alerts.jsonl").exists()
