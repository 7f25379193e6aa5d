from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from cxpipe.orchestration import (
    dates_to_load,
    default_args,
    interval_bounds,
    lake_asset,
    lake_complete_asset,
    reporting_asset,
)
from cxpipe.settings import Settings, load_settings

D1 = date(2026, 11, 1)


def test_assets_have_stable_names_and_point_at_the_data(settings: Settings) -> None:
    assert lake_asset(settings, "crm").name == "cx_lake_crm"
    assert lake_asset(settings, "crm").uri.endswith(f"{settings.lake_dir}/crm")
    assert reporting_asset(settings).uri.endswith(f"{settings.reporting_db}")
    assert lake_complete_asset(settings).name == "cx_lake_complete"


def test_default_args_retry_with_backoff_and_time_out_as_configured() -> None:
    args = default_args(load_settings({}))
    assert args["retries"] == 2 and args["retry_exponential_backoff"]
    assert args["retry_delay"] == timedelta(seconds=60) and args["execution_timeout"] == timedelta(minutes=60)
    configured = load_settings(
        {"CX_TASK_RETRIES": "5", "CX_RETRY_DELAY_SECONDS": "10", "CX_TASK_TIMEOUT_MINUTES": "90"}
    )
    args = default_args(configured)
    assert (args["retries"], args["retry_delay"], args["execution_timeout"]) == (
        5,
        timedelta(seconds=10),
        timedelta(minutes=90),
    )


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
