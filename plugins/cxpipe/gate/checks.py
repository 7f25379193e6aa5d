"""Generic checks, generated from each suite's ``meta.cxpipe`` block: freshness, shares and drift."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import duckdb

from cxpipe.contracts import MARTS_SCHEMA
from cxpipe.gate.results import CheckRecord
from cxpipe.gate.suites import DRIFT_AGGREGATES, as_of_date, suite_path, table_config
from cxpipe.settings import Settings


def _scalar(con: duckdb.DuckDBPyConnection, sql: str) -> Any:
    row = con.execute(sql).fetchone()
    return row[0] if row else None


def _change_pct(old: float, new: float) -> float:
    return abs(new - old) / max(abs(old), 1.0) * 100.0


def _source(table: str) -> str:
    """The reporting table ``table`` in the build warehouse."""
    return f'{MARTS_SCHEMA}."{table}"'


def check_freshness(
    build: duckdb.DuckDBPyConnection, table: str, config: dict[str, Any], as_of: date
) -> list[CheckRecord]:
    """The newest value of the suite's freshness column is at most ``max_age_days`` before ``as_of``."""
    if not (fresh := config.get("freshness")):
        return []
    column, max_age = fresh["column"], int(fresh["max_age_days"])
    newest = _scalar(build, f'select max("{column}") from {_source(table)}')
    newest_date = newest.date() if isinstance(newest, datetime) else newest
    ok = newest_date is not None and newest_date >= as_of - timedelta(days=max_age)
    return [
        CheckRecord(
            "generic",
            table,
            f"freshness_within_{max_age}_days",
            column,
            "critical",
            ok,
            {"newest": str(newest), "as_of": str(as_of)},
        )
    ]


def check_shares(build: duckdb.DuckDBPyConnection, table: str, config: dict[str, Any]) -> list[CheckRecord]:
    """The suite's share column sums to 100 (within ``tolerance``) per ``group_by`` group."""
    if not (shares := config.get("shares")):
        return []
    column = shares["column"]
    groups = ", ".join(f'"{g}"' for g in shares.get("group_by", []))
    tolerance = float(shares.get("tolerance", 0.1))
    select = f'select {groups + "," if groups else ""} sum("{column}") as total from {_source(table)}'
    sql = f"{select} {'group by ' + groups if groups else ''}"
    bad = build.execute(f"select * from ({sql}) where abs(total - 100) > {tolerance} limit 5").fetchall()
    return [
        CheckRecord(
            "generic",
            table,
            "shares_sum_to_100",
            column,
            "critical",
            not bad,
            [list(map(str, row)) for row in bad] or None,
        )
    ]


def check_drift(
    settings: Settings,
    build: duckdb.DuckDBPyConnection,
    previous: duckdb.DuckDBPyConnection | None,
    table: str,
    config: dict[str, Any],
    threshold: float,
) -> list[CheckRecord]:
    """Row count and the suite's ``drift_metric`` move at most ``threshold`` percent against ``previous``.

    Nothing to check when there is no previous publication or it lacks ``table``, nor for a table of
    events (``"events": true``, e.g. complaint alerts): a new spike or none is news, not drift.
    """
    if previous is None or config.get("events"):
        return []
    previous_tables = {r[0] for r in previous.execute("select table_name from information_schema.tables").fetchall()}
    if table not in previous_tables:
        return []
    source = _source(table)
    rows = int(_scalar(build, f"select count(*) from {source}"))
    old_rows = int(_scalar(previous, f'select count(*) from main."{table}"'))
    change = _change_pct(old_rows, rows)
    records = [
        CheckRecord(
            "generic",
            table,
            f"row_count_drift_within_{threshold:g}_pct",
            None,
            "critical",
            change <= threshold,
            {"previous": old_rows, "current": rows, "change_pct": round(change, 2)},
        )
    ]
    if metric := config.get("drift_metric"):
        column, agg = metric["column"], metric.get("agg", "avg").lower()
        if agg not in DRIFT_AGGREGATES:
            raise ValueError(
                f"{suite_path(settings, table)}: drift_metric.agg {agg!r} not in {sorted(DRIFT_AGGREGATES)}"
            )
        where = f"where {metric['where']}" if metric.get("where") else ""
        new = _scalar(build, f'select {agg}("{column}") from {source} {where}')
        old = _scalar(previous, f'select {agg}("{column}") from main."{table}" {where}')
        if new is None or old is None:
            return records
        change = _change_pct(float(old), float(new))
        records.append(
            CheckRecord(
                "generic",
                table,
                f"{agg}_drift_within_{threshold:g}_pct",
                column,
                "critical",
                change <= threshold,
                {"previous": round(float(old), 4), "current": round(float(new), 4), "change_pct": round(change, 2)},
            )
        )
    return records


def generic_checks(
    settings: Settings,
    build: duckdb.DuckDBPyConnection,
    previous: duckdb.DuckDBPyConnection | None,
    tables: tuple[str, ...],
) -> list[CheckRecord]:
    """Freshness, shares summing to 100 and drift, as declared in each suite's ``meta.cxpipe``."""
    threshold = settings.gate.drift_pct
    as_of = as_of_date(settings)
    records: list[CheckRecord] = []
    for table in tables:
        config = table_config(settings, table)
        records += check_freshness(build, table, config, as_of)
        records += check_shares(build, table, config)
        records += check_drift(settings, build, previous, table, config, threshold)
    return records
