"""param_range: a run's from_date/to_date params, parsed and checked (no Airflow)."""

from datetime import date, datetime
from typing import Any

import pytest

from cxpipe.run_range import MAX_RANGE_DAYS, param_range


def test_no_dates_means_no_range() -> None:
    assert param_range({}) is None
    assert param_range({"from_date": None, "to_date": ""}) is None


def test_one_date_is_a_range_of_one_day_and_dates_may_be_given_as_dates() -> None:
    assert param_range({"from_date": "2026-10-30", "to_date": None}) == (date(2026, 10, 30), date(2026, 10, 30))
    assert param_range({"to_date": date(2026, 10, 30)}) == (date(2026, 10, 30), date(2026, 10, 30))
    assert param_range({"from_date": datetime(2026, 10, 30, 12), "to_date": "2026-11-02"}) == (
        date(2026, 10, 30),
        date(2026, 11, 2),
    )


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"from_date": "2026-11-05", "to_date": "2026-11-01"}, "to_date 2026-11-01 is before from_date 2026-11-05"),
        ({"from_date": "2026-13-01"}, "from_date='2026-13-01' is not a date"),
        ({"from_date": "2026-01-01", "to_date": "2062-01-01"}, f"spans more than {MAX_RANGE_DAYS} days"),
    ],
)
def test_bad_params_name_the_param_and_what_to_do(params: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        param_range(params)
