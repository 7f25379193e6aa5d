from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from cxpipe.config import Settings
from cxpipe.orchestration import (
    DEFAULT_ARGS,
    catchup,
    dates_to_load,
    end_date,
    interval_bounds,
    lake_asset,
    lake_complete_asset,
    reporting_asset,
    retry_delay,
    start_date,
    task_retries,
    task_timeout,
)

D1 = date(2026, 11, 1)


def test_assets_have_stable_names_and_point_at_the_data(settings: Settings) -> None:
    assert lake_asset("crm").name == "cx_lake_crm"
    assert lake_asset("crm").uri.endswith(f"{settings.lake_dir}/crm")
    assert reporting_asset().uri.endswith("reporting.duckdb")
    assert lake_complete_asset().name == "cx_lake_complete"


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


def test_retries_and_timeout_are_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("CX_TASK_RETRIES", "CX_RETRY_DELAY_SECONDS", "CX_TASK_TIMEOUT_MINUTES"):
        monkeypatch.delenv(name, raising=False)
    assert (task_retries(), retry_delay(), task_timeout()) == (2, timedelta(seconds=60), timedelta(minutes=60))
    monkeypatch.setenv("CX_TASK_RETRIES", "5")
    monkeypatch.setenv("CX_RETRY_DELAY_SECONDS", "10")
    monkeypatch.setenv("CX_TASK_TIMEOUT_MINUTES", "90")
    assert (task_retries(), retry_delay(), task_timeout()) == (5, timedelta(seconds=10), timedelta(minutes=90))
    monkeypatch.setenv("CX_TASK_RETRIES", "two")
    with pytest.raises(ValueError, match="CX_TASK_RETRIES='two' is not a whole number"):
        task_retries()


def test_a_run_loads_its_own_date_unless_params_give_a_range() -> None:
    assert dates_to_load({"from_date": None, "to_date": None}, D1) == [D1]
    assert dates_to_load({"from_date": "2026-10-30", "to_date": "2026-11-02"}, D1) == [
        date(2026, 10, 30),
        date(2026, 10, 31),
        date(2026, 11, 1),
        date(2026, 11, 2),
    ]
    assert dates_to_load({"from_date": "2026-10-30", "to_date": None}, D1) == [date(2026, 10, 30)]


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


def test_the_publication_interval_ends_the_day_after_the_last_covered_date() -> None:
    covered = {"from_date": "2026-11-01", "to_date": "2026-11-02", "late_sources": {"social": "2026-11-02"}}
    assert interval_bounds(covered) == (datetime(2026, 11, 1, tzinfo=UTC), datetime(2026, 11, 3, tzinfo=UTC))
