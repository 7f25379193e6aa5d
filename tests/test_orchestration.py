import json
from datetime import UTC, datetime
from types import SimpleNamespace

import pytest

from cxpipe.config import Settings
from cxpipe.orchestration import DEFAULT_ARGS, lake_asset, record_failure, reporting_asset, start_date


def test_failure_callback_appends_to_the_alert_log(settings: Settings) -> None:
    ti = SimpleNamespace(dag_id="cx_ingest_sales", task_id="ingest_sales", try_number=2)
    record_failure({"task_instance": ti, "run_id": "r1", "exception": ValueError("bad file")})
    record_failure({"task_instance": ti, "run_id": "r2", "exception": ValueError("again")})
    lines = (settings.data_dir / "alerts" / "alerts.jsonl").read_text().splitlines()
    alerts = [json.loads(line) for line in lines]
    assert [(a["kind"], a["run_id"], a["error"], a["try_number"]) for a in alerts] == [
        ("task_failed", "r1", "bad file", 2),
        ("task_failed", "r2", "again", 2),
    ]


def test_assets_have_stable_names_and_point_at_the_data(settings: Settings) -> None:
    assert lake_asset("crm").name == "cx_lake_crm"
    assert lake_asset("crm").uri.endswith(f"{settings.lake_dir}/crm")
    assert reporting_asset().uri.endswith("reporting.duckdb")


def test_defaults_retry_with_backoff_and_start_date_is_configurable(monkeypatch: pytest.MonkeyPatch) -> None:
    assert DEFAULT_ARGS["retries"] >= 1 and DEFAULT_ARGS["retry_exponential_backoff"]
    monkeypatch.setenv("CX_START_DATE", "2026-01-15")
    assert start_date() == datetime(2026, 1, 15, tzinfo=UTC)
