"""The landing-date range a manual run asks for: its ``from_date``/``to_date`` params, parsed and checked.

Pure Python (no Airflow): the ingest DAGs' run rules (:mod:`cxpipe.orchestration`) and
the transform's lake check (:mod:`cxpipe.lake`) both read a run's params through here.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

#: At most this many landing dates in one manual run (a guard against a typo such as 2062).
MAX_RANGE_DAYS = 366


def _as_date(name: str, value: Any) -> date | None:
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError as exc:
        raise ValueError(f"param {name}={value!r} is not a date; use YYYY-MM-DD") from exc


def param_range(params: dict[str, Any]) -> tuple[date, date] | None:
    """The ``from_date``/``to_date`` range of a run's params, or ``None`` when neither is set."""
    first = _as_date("from_date", params.get("from_date"))
    last = _as_date("to_date", params.get("to_date"))
    if first is None and last is None:
        return None
    first, last = first or last, last or first
    assert first is not None and last is not None
    if last < first:
        raise ValueError(f"params: to_date {last} is before from_date {first}; swap them")
    if (last - first).days + 1 > MAX_RANGE_DAYS:
        raise ValueError(f"params: {first}..{last} spans more than {MAX_RANGE_DAYS} days; split it into several runs")
    return first, last
