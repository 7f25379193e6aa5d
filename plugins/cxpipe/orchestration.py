"""Shared pieces of cxpipe's Airflow DAGs: defaults, Assets, Params, callbacks, run rules.

The DAG files in ``dags/`` only wire tasks; what a task does lives in the
modules of this package, so it can be tested without a scheduler.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from airflow.sdk import Asset, Param

from cxpipe.config import Settings, load_settings
from cxpipe.contracts import SOURCES
from cxpipe.notify import send_alert

log = logging.getLogger(__name__)

OWNER = "cx-data-engineering"

#: At most this many landing dates in one manual run (a guard against a typo such as 2062).
MAX_RANGE_DAYS = 366


def _int_env(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    try:
        return int(value) if value else default
    except ValueError as exc:
        raise ValueError(f"{name}={value!r} is not a whole number") from exc


DEFAULT_ARGS: dict[str, Any] = {
    "owner": OWNER,
    "retries": _int_env("CX_TASK_RETRIES", 2),
    "retry_delay": timedelta(seconds=_int_env("CX_RETRY_DELAY_SECONDS", 60)),
    "retry_exponential_backoff": True,
    "max_retry_delay": timedelta(minutes=30),
    "execution_timeout": timedelta(minutes=_int_env("CX_TASK_TIMEOUT_MINUTES", 60)),
}


def start_date() -> datetime:
    """First logical date the ingest DAGs schedule (``CX_START_DATE``, default 2026-11-01)."""
    return datetime.fromisoformat(os.environ.get("CX_START_DATE", "2026-11-01")).replace(tzinfo=UTC)


def end_date() -> datetime | None:
    """Last logical date the ingest DAGs schedule (``CX_END_DATE``), or ``None`` for open-ended."""
    value = os.environ.get("CX_END_DATE", "").strip()
    return datetime.fromisoformat(value).replace(tzinfo=UTC) if value else None


def catchup() -> bool:
    """Whether the ingest DAGs replay every missed day since the start date (``CX_CATCHUP``, default true).

    A new deployment that should not replay history sets it to false and backfills what it needs.
    """
    value = os.environ.get("CX_CATCHUP", "true").strip().lower()
    if value not in {"true", "false", "1", "0", "yes", "no"}:
        raise ValueError(f"CX_CATCHUP={value!r}; expected true or false")
    return value in {"true", "1", "yes"}


def landing_wait() -> timedelta:
    """How long an ingest run waits for late files under the ``wait`` policy (``CX_LANDING_WAIT_HOURS``)."""
    return timedelta(hours=_int_env("CX_LANDING_WAIT_HOURS", 6))


def lake_asset(source: str) -> Asset:
    """The Asset an ingest DAG updates when it has written a partition of ``source``."""
    return Asset(name=f"cx_lake_{source}", uri=f"file://{load_settings().lake_dir}/{source}", group="cxpipe_lake")


def lake_complete_asset() -> Asset:
    """The Asset updated when a landing date has been loaded by every source: the transform's trigger."""
    return Asset(name="cx_lake_complete", uri=f"file://{load_settings().lake_dir}/_load_audit", group="cxpipe_lake")


def reporting_asset() -> Asset:
    """The Asset the transform DAG updates when it has published the reporting warehouse."""
    return Asset(name="cx_reporting", uri=f"file://{load_settings().reporting_db}", group="cxpipe_reporting")


def range_params() -> dict[str, Param]:
    """Params of a manual run: an inclusive range of landing dates (both empty = the run's own date)."""
    return {
        "from_date": Param(
            None, type=["null", "string"], format="date", description="first landing date (YYYY-MM-DD), inclusive"
        ),
        "to_date": Param(
            None, type=["null", "string"], format="date", description="last landing date (YYYY-MM-DD), inclusive"
        ),
    }


def transform_params() -> dict[str, Param]:
    """Params of a manual transform run: the range the publication must cover, and a full refresh."""
    return {
        **range_params(),
        "full_refresh": Param(
            False,
            type="boolean",
            description="drop the build warehouse and run dbt with --full-refresh (rebuild everything from the lake)",
        ),
    }


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


def dates_to_load(params: dict[str, Any], logical_date: date) -> list[date]:
    """Landing dates an ingest run loads: the Param range of a manual run, else the run's logical date."""
    bounds = param_range(params)
    if bounds is None:
        return [logical_date]
    first, last = bounds
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


class LakeIncompleteError(RuntimeError):
    """The lake lacks landing dates a transform run was asked to cover."""


@dataclass(frozen=True)
class LakeCoverage:
    """Which landing dates every source has in the lake (from the load audit)."""

    dates: dict[str, list[date]] = field(default_factory=dict)

    @property
    def complete_dates(self) -> list[date]:
        """Dates that every source has loaded (the only dates a publication can claim to cover)."""
        common = set.intersection(*(set(d) for d in self.dates.values())) if self.dates else set()
        return sorted(common)

    def missing(self, first: date, last: date) -> list[tuple[str, date]]:
        days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
        return [(source, day) for source in SOURCES for day in days if day not in self.dates.get(source, [])]

    def late_sources(self) -> dict[str, date | None]:
        """Sources behind the newest landing date any source has: source -> its last loaded date."""
        newest = max((max(d) for d in self.dates.values() if d), default=None)
        return {
            source: (max(self.dates[source]) if self.dates.get(source) else None)
            for source in SOURCES
            if newest is not None and newest not in self.dates.get(source, [])
        }


def lake_coverage(settings: Settings) -> LakeCoverage:
    """Read the load audit partitions (``lake/_load_audit/<source>/load_date=<date>/``) of every source."""
    found: dict[str, list[date]] = {}
    for source in SOURCES:
        root = settings.lake_dir / "_load_audit" / source
        days = [
            date.fromisoformat(p.name.removeprefix("load_date="))
            for p in (root.glob("load_date=*") if root.exists() else [])
            if (p / "part-0.parquet").exists()
        ]
        found[source] = sorted(days)
    return LakeCoverage(found)


def incomplete_dates(settings: Settings, days: list[date]) -> dict[str, list[str]]:
    """Of ``days``, those some source has not loaded yet: date -> the sources still missing."""
    coverage = lake_coverage(settings)
    return {
        day.isoformat(): missing
        for day in days
        if (missing := [s for s in SOURCES if day not in coverage.dates.get(s, [])])
    }


def check_lake(settings: Settings, params: dict[str, Any]) -> dict[str, Any]:
    """Decide what a transform run covers; raise :class:`LakeIncompleteError` if it cannot build.

    * A manual run with ``from_date``/``to_date`` requires every source to have loaded every
      date of the range, and publishes that range.
    * Any other run publishes the landing dates all four sources have loaded (the late-source
      rule: a publication never claims a date for which a source is still missing); sources
      ahead of a late one are built in but the claimed interval stops at the last complete date.
    """
    coverage = lake_coverage(settings)
    bounds = param_range(params)
    if bounds is not None:
        first, last = bounds
        if missing := coverage.missing(first, last):
            shown = ", ".join(f"{source} {day}" for source, day in missing[:20])
            more = f" and {len(missing) - 20} more" if len(missing) > 20 else ""
            raise LakeIncompleteError(
                f"the lake has no load of {shown}{more} (looked in {settings.lake_dir / '_load_audit'}); "
                "run the cx_ingest_<source> DAGs for those dates first (a manual run with the same "
                "from_date/to_date), then re-run this DAG"
            )
    else:
        complete = coverage.complete_dates
        if not complete:
            empty = [s for s in SOURCES if not coverage.dates.get(s)]
            raise LakeIncompleteError(
                f"no landing date is loaded for every source (nothing yet from: {', '.join(empty) or 'none'}; "
                f"dates per source: { {s: [str(d) for d in v] for s, v in coverage.dates.items()} }); "
                "run the missing ingest DAGs first"
            )
        first, last = complete[0], complete[-1]
        if late := coverage.late_sources():
            log.warning("late source(s), publication covers up to %s: %s", last, late)
    return {
        "from_date": first.isoformat(),
        "to_date": last.isoformat(),
        "late_sources": {s: (d.isoformat() if d else None) for s, d in coverage.late_sources().items()},
    }


def prepare_build(settings: Settings, full_refresh: bool) -> bool:
    """Make sure dbt can create the build warehouse; for a full refresh, remove it first. True if removed.

    DuckDB creates a database file but not its folder, so the warehouse folder is created here
    (a fresh deployment or a wiped data folder has none).
    """
    settings.warehouse_dir.mkdir(parents=True, exist_ok=True)
    if not full_refresh:
        return False
    removed = False
    for path in (settings.build_db, settings.build_db.with_name(settings.build_db.name + ".wal")):
        if path.exists():
            path.unlink()
            removed = True
    log.info("full refresh: build warehouse %s %s", settings.build_db, "removed" if removed else "was absent")
    return removed


def interval_bounds(covered: dict[str, Any]) -> tuple[datetime, datetime]:
    """The publication's data interval for a :func:`check_lake` result: [from_date, to_date + 1 day)."""
    first = datetime.fromisoformat(str(covered["from_date"])).replace(tzinfo=UTC)
    last = datetime.fromisoformat(str(covered["to_date"])).replace(tzinfo=UTC)
    return first, last + timedelta(days=1)


def record_failure(context: dict[str, Any]) -> None:
    """on_failure_callback: record the failed task in the alert log and post it to the webhook."""
    ti = context.get("task_instance")
    alert = send_alert(
        "task_failed",
        {
            "dag_id": getattr(ti, "dag_id", None),
            "task_id": getattr(ti, "task_id", None),
            "run_id": context.get("run_id"),
            "try_number": getattr(ti, "try_number", None),
            "error": str(context.get("exception")),
        },
    )
    log.error("task failed: %s", alert)
