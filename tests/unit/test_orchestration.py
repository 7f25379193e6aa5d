import json
from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from conftest import Webhook

from cxpipe.config import Settings
from cxpipe.contracts import SOURCES
from cxpipe.demo import DemoSpec, generate
from cxpipe.ingest import ingest_source
from cxpipe.orchestration import (
    DEFAULT_ARGS,
    LakeIncompleteError,
    catchup,
    check_lake,
    dates_to_load,
    end_date,
    incomplete_dates,
    interval_bounds,
    lake_asset,
    lake_complete_asset,
    lake_coverage,
    param_range,
    prepare_build,
    record_failure,
    reporting_asset,
    start_date,
)

D1 = date(2026, 11, 1)


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


def test_failure_callback_posts_to_the_webhook_from_the_environment(
    settings: Settings, webhook: Webhook, monkeypatch: pytest.MonkeyPatch
) -> None:
    url, received = webhook.url, webhook.received
    monkeypatch.setenv("CX_ALERT_WEBHOOK_URL", url)
    ti = SimpleNamespace(dag_id="cx_transform_publish", task_id="quality_gate", try_number=1)
    record_failure({"task_instance": ti, "run_id": "scheduled__x", "exception": RuntimeError("gate blocked")})
    assert len(received) == 1
    assert received[0]["alert"]["task_id"] == "quality_gate" and "gate blocked" in received[0]["text"]
    logged = json.loads((settings.data_dir / "alerts" / "alerts.jsonl").read_text())
    assert logged["delivered"] is True and logged["dag_id"] == "cx_transform_publish"


def test_assets_have_stable_names_and_point_at_the_data(settings: Settings) -> None:
    assert lake_asset("crm").name == "cx_lake_crm"
    assert lake_asset("crm").uri.endswith(f"{settings.lake_dir}/crm")
    assert reporting_asset().uri.endswith("reporting.duckdb")


def test_defaults_retry_with_backoff_and_dates_are_configurable(monkeypatch: pytest.MonkeyPatch) -> None:
    assert DEFAULT_ARGS["retries"] >= 1 and DEFAULT_ARGS["retry_exponential_backoff"]
    assert DEFAULT_ARGS["execution_timeout"] == timedelta(minutes=60)
    monkeypatch.setenv("CX_START_DATE", "2026-01-15")
    assert start_date() == datetime(2026, 1, 15, tzinfo=UTC)
    monkeypatch.delenv("CX_END_DATE", raising=False)
    assert end_date() is None
    monkeypatch.setenv("CX_END_DATE", "2026-01-17")
    assert end_date() == datetime(2026, 1, 17, tzinfo=UTC)
    assert catchup() is True
    monkeypatch.setenv("CX_CATCHUP", "false")
    assert catchup() is False
    monkeypatch.setenv("CX_CATCHUP", "sometimes")
    with pytest.raises(ValueError, match="CX_CATCHUP='sometimes'"):
        catchup()


def test_a_run_loads_its_own_date_unless_params_give_a_range() -> None:
    assert dates_to_load({"from_date": None, "to_date": None}, D1) == [D1]
    assert dates_to_load({"from_date": "2026-10-30", "to_date": "2026-11-02"}, D1) == [
        date(2026, 10, 30),
        date(2026, 10, 31),
        date(2026, 11, 1),
        date(2026, 11, 2),
    ]
    assert dates_to_load({"from_date": "2026-10-30", "to_date": None}, D1) == [date(2026, 10, 30)]
    assert param_range({}) is None


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"from_date": "2026-11-05", "to_date": "2026-11-01"}, "to_date 2026-11-01 is before from_date 2026-11-05"),
        ({"from_date": "2026-13-01"}, "from_date='2026-13-01' is not a date"),
        ({"from_date": "2026-01-01", "to_date": "2062-01-01"}, "spans more than 366 days"),
    ],
)
def test_bad_params_fail_with_a_message_that_says_what_to_do(params: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        dates_to_load(params, D1)


@pytest.fixture
def lake_with_a_late_source(settings: Settings) -> Settings:
    """Three landing dates for sales, crm and surveys; social has only loaded the first two."""
    generate(settings.landing_dir, DemoSpec(start=D1, days=3, history_days=2, customers=20, orders_per_day=3))
    for offset in range(3):
        for source in SOURCES:
            if source == "social" and offset == 2:
                continue
            ingest_source(settings, source, D1 + timedelta(days=offset))
    return settings


def test_scheduled_run_covers_only_dates_every_source_has_loaded(lake_with_a_late_source: Settings) -> None:
    settings = lake_with_a_late_source
    coverage = lake_coverage(settings)
    assert coverage.dates["sales"] == [D1, date(2026, 11, 2), date(2026, 11, 3)]
    assert coverage.dates["social"] == [D1, date(2026, 11, 2)]
    covered = check_lake(settings, {"from_date": None, "to_date": None, "full_refresh": False})
    assert covered == {"from_date": "2026-11-01", "to_date": "2026-11-02", "late_sources": {"social": "2026-11-02"}}
    assert interval_bounds(covered) == (datetime(2026, 11, 1, tzinfo=UTC), datetime(2026, 11, 3, tzinfo=UTC))


def test_a_date_is_complete_once_every_source_has_loaded_it(lake_with_a_late_source: Settings) -> None:
    settings = lake_with_a_late_source
    assert incomplete_dates(settings, [D1, date(2026, 11, 2)]) == {}
    assert incomplete_dates(settings, [date(2026, 11, 2), date(2026, 11, 3), date(2026, 11, 4)]) == {
        "2026-11-03": ["social"],
        "2026-11-04": list(SOURCES),
    }
    ingest_source(settings, "social", date(2026, 11, 3))  # the late source lands
    assert incomplete_dates(settings, [date(2026, 11, 3)]) == {}
    assert lake_complete_asset().name == "cx_lake_complete"


def test_manual_range_fails_naming_the_missing_source_and_date(lake_with_a_late_source: Settings) -> None:
    settings = lake_with_a_late_source
    covered = check_lake(settings, {"from_date": "2026-11-02", "to_date": "2026-11-02"})
    assert (covered["from_date"], covered["to_date"]) == ("2026-11-02", "2026-11-02")
    with pytest.raises(LakeIncompleteError, match=r"no load of social 2026-11-03 .*run the cx_ingest_<source> DAGs"):
        check_lake(settings, {"from_date": "2026-11-01", "to_date": "2026-11-03"})


def test_an_empty_lake_cannot_be_built(settings: Settings) -> None:
    with pytest.raises(LakeIncompleteError, match="nothing yet from: sales, crm, surveys, social"):
        check_lake(settings, {})


def test_full_refresh_removes_the_build_warehouse_and_only_then(settings: Settings) -> None:
    assert not settings.warehouse_dir.exists()
    assert prepare_build(settings, full_refresh=False) is False
    assert settings.warehouse_dir.is_dir()  # DuckDB needs the folder to create cx.duckdb
    settings.build_db.write_bytes(b"old build")
    assert prepare_build(settings, full_refresh=False) is False
    assert settings.build_db.exists()
    assert prepare_build(settings, full_refresh=True) is True
    assert not settings.build_db.exists()
    assert prepare_build(settings, full_refresh=True) is False
