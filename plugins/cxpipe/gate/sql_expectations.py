"""A suite's Great Expectations evaluated as aggregates in DuckDB, over every row of the table.

GX's SQL route on DuckDB is broken (every expectation raises), and its pandas route needs the
whole table in memory: loading the reporting tables into pandas was most of the gate's cost.
The expectations the reporting suites use are each one aggregate, so the gate computes them
in the build warehouse, one query per table, with GX's meaning:

* ``expect_table_row_count_to_be_between`` — ``count(*)`` within ``min_value``/``max_value``;
* ``expect_column_values_to_not_be_null`` — no null;
* ``expect_column_values_to_be_between`` / ``_in_set`` / ``_not_match_regex`` /
  ``_be_unique`` and ``expect_compound_columns_to_be_unique`` — nulls are ignored, as GX's
  column-map expectations ignore them (a compound key is ignored only when all of it is null);
  ``mostly`` is honoured: the check passes when at least that share of the non-null values
  is as expected.

Anything else — another expectation type, or an argument this module does not know (a
``row_condition``, say) — is left to GX on the whole table (:func:`translatable`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import duckdb

from cxpipe.gate.results import CheckRecord

ROW_COUNT = "expect_table_row_count_to_be_between"
NOT_NULL = "expect_column_values_to_not_be_null"
BETWEEN = "expect_column_values_to_be_between"
IN_SET = "expect_column_values_to_be_in_set"
NOT_MATCH_REGEX = "expect_column_values_to_not_match_regex"
UNIQUE = "expect_column_values_to_be_unique"
COMPOUND_UNIQUE = "expect_compound_columns_to_be_unique"

#: expectation type -> the arguments it may have (besides ``mostly``, which every column map takes)
ARGUMENTS: dict[str, frozenset[str]] = {
    ROW_COUNT: frozenset({"min_value", "max_value"}),
    NOT_NULL: frozenset({"column"}),
    BETWEEN: frozenset({"column", "min_value", "max_value", "strict_min", "strict_max"}),
    IN_SET: frozenset({"column", "value_set"}),
    NOT_MATCH_REGEX: frozenset({"column", "regex"}),
    UNIQUE: frozenset({"column"}),
    COMPOUND_UNIQUE: frozenset({"column_list"}),
}
#: how many unexpected values a failed check shows (as GX's partial_unexpected_list, capped)
EXAMPLES = 5


def translatable(expectation: dict[str, Any]) -> bool:
    """True when :func:`evaluate` computes ``expectation`` (a suite entry: ``type``, ``kwargs``) in SQL."""
    kind = expectation.get("type")
    if kind not in ARGUMENTS:
        return False
    allowed = ARGUMENTS[kind] | ({"mostly"} if kind != ROW_COUNT else set())
    return set(expectation.get("kwargs") or {}) <= allowed


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(value: Any) -> str:
    """A SQL literal for a number, a string or a boolean from a suite (its JSON)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        if not math.isfinite(value):
            raise ValueError(f"not a finite number in a suite: {value!r}")
        return repr(value)
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    raise ValueError(f"cannot compare with {value!r} ({type(value).__name__}) in SQL")


@dataclass(frozen=True)
class _Plan:
    """One expectation as SQL: ``unexpected`` is a boolean over a row, true where the row breaks it."""

    expectation: dict[str, Any]
    unexpected: str | None  # None: the row count
    counted: str  # the rows the expectation is about (not null), for ``mostly``
    column: str | None


def _plan(expectation: dict[str, Any]) -> _Plan:
    kind, kwargs = expectation["type"], expectation.get("kwargs") or {}
    column = kwargs.get("column")
    col = _ident(column) if column else ""
    if kind == ROW_COUNT:
        return _Plan(expectation, None, "true", None)
    if kind == NOT_NULL:
        return _Plan(expectation, f"{col} is null", "true", column)
    if kind == BETWEEN:
        low, high = kwargs.get("min_value"), kwargs.get("max_value")
        if low is None and high is None:
            raise ValueError(f"{kind} on {column}: min_value or max_value is required")
        parts = []
        if low is not None:
            parts.append(f"{col} {'<=' if kwargs.get('strict_min') else '<'} {_literal(low)}")
        if high is not None:
            parts.append(f"{col} {'>=' if kwargs.get('strict_max') else '>'} {_literal(high)}")
        return _Plan(expectation, f"{col} is not null and ({' or '.join(parts)})", f"{col} is not null", column)
    if kind == IN_SET:
        values = ", ".join(_literal(v) for v in kwargs["value_set"])
        return _Plan(expectation, f"{col} is not null and {col} not in ({values})", f"{col} is not null", column)
    if kind == NOT_MATCH_REGEX:
        # DuckDB's regexp_matches (RE2) finds a match anywhere in the value, as GX's re.search does
        pattern = _literal(str(kwargs["regex"]))
        unexpected = f"{col} is not null and regexp_matches(cast({col} as varchar), {pattern})"
        return _Plan(expectation, unexpected, f"{col} is not null", column)
    if kind == UNIQUE:
        unexpected = f"{col} is not null and count(*) over (partition by {col}) > 1"
        return _Plan(expectation, unexpected, f"{col} is not null", column)
    if kind == COMPOUND_UNIQUE:
        columns = [_ident(c) for c in kwargs["column_list"]]
        any_value = " or ".join(f"{c} is not null" for c in columns)
        unexpected = f"({any_value}) and count(*) over (partition by {', '.join(columns)}) > 1"
        return _Plan(expectation, unexpected, f"({any_value})", ",".join(kwargs["column_list"]))
    raise ValueError(f"{kind} is not evaluated in SQL")  # translatable() said otherwise


def evaluate(
    con: duckdb.DuckDBPyConnection, relation: str, table: str, expectations: list[dict[str, Any]]
) -> list[CheckRecord]:
    """Every expectation of ``expectations`` (all :func:`translatable`) on ``relation``, in one scan.

    ``relation`` is the table's quoted name in ``con`` (``marts."complaints"``); ``table`` names it
    in the records. A failed check's ``observed`` is the row count, or the unexpected count and
    up to :data:`EXAMPLES` distinct unexpected values, as GX reports them.
    """
    if not expectations:
        return []
    plans = [_plan(e) for e in expectations]
    flags = [
        f"({p.unexpected}) as u{i}, ({p.counted}) as c{i}" for i, p in enumerate(plans) if p.unexpected is not None
    ]
    # count_if over no rows is NULL in DuckDB, not 0: an empty table has no unexpected value
    sums = ["count(*)"] + [
        f"coalesce(count_if(u{i}), 0), coalesce(count_if(c{i}), 0)"
        for i, p in enumerate(plans)
        if p.unexpected is not None
    ]
    inner = f"select {', '.join(flags)} from {relation}" if flags else f"select 1 from {relation}"
    row = con.execute(f"select {', '.join(sums)} from ({inner})").fetchone()
    assert row is not None  # an aggregate without group by always returns one row
    rows, counts = int(row[0]), list(row[1:])
    records = []
    for plan in plans:
        kwargs = plan.expectation.get("kwargs") or {}
        severity = str(plan.expectation.get("severity") or "critical")
        kind = plan.expectation["type"]
        if plan.unexpected is None:
            low, high = kwargs.get("min_value"), kwargs.get("max_value")
            ok = (low is None or rows >= low) and (high is None or rows <= high)
            records.append(CheckRecord("gx", table, kind, None, severity, ok, None if ok else rows))
            continue
        unexpected, counted = int(counts.pop(0)), int(counts.pop(0))
        mostly = float(kwargs.get("mostly", 1.0))
        ok = unexpected == 0 or (counted > 0 and (counted - unexpected) / counted >= mostly)
        observed = None
        if not ok:
            observed = {
                "unexpected_count": unexpected,
                "examples": _examples(con, relation, plan),
            }
        records.append(CheckRecord("gx", table, kind, plan.column, severity, ok, observed))
    return records


def _examples(con: duckdb.DuckDBPyConnection, relation: str, plan: _Plan) -> list[Any]:
    """Up to :data:`EXAMPLES` distinct unexpected values (a list per row for a compound key)."""
    kwargs = plan.expectation.get("kwargs") or {}
    columns = kwargs.get("column_list") or [kwargs["column"]]
    picked = ", ".join(_ident(c) for c in columns)
    sql = (
        f"select distinct {picked} from (select *, ({plan.unexpected}) as unexpected__ from {relation}) "
        f"where unexpected__ order by all limit {EXAMPLES}"
    )
    rows = con.execute(sql).fetchall()
    return [_plain(r[0]) if len(columns) == 1 else [_plain(v) for v in r] for r in rows]


def _plain(value: Any) -> Any:
    """A value as the gate log keeps it (JSON): numbers and strings as they are, others as text."""
    if isinstance(value, Decimal):
        return float(value)
    return value if value is None or isinstance(value, int | float | str | bool) else str(value)


def split_suite(expectations: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """``(in SQL, left to GX)``: the suite's expectations :func:`evaluate` computes, and the rest."""
    sql = [e for e in expectations if translatable(e)]
    return sql, [e for e in expectations if not translatable(e)]


__all__ = ["ARGUMENTS", "EXAMPLES", "evaluate", "split_suite", "translatable"]
