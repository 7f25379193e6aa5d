"""Generic gate checks (freshness, shares, drift), each on tiny in-memory DuckDB tables."""

import json
from collections.abc import Iterator
from datetime import date

import duckdb
import pytest
from configured import configured

from cxpipe.gate.checks import check_drift, check_freshness, check_shares, generic_checks
from cxpipe.settings import Settings

AS_OF = date(2026, 11, 1)


@pytest.fixture
def build() -> Iterator[duckdb.DuckDBPyConnection]:
    """An in-memory stand-in for the build warehouse, with its ``marts`` schema."""
    con = duckdb.connect()
    con.execute("create schema marts")
    yield con
    con.close()


@pytest.fixture
def previous() -> Iterator[duckdb.DuckDBPyConnection]:
    """An in-memory stand-in for the last publication (tables in ``main``)."""
    con = duckdb.connect()
    yield con
    con.close()


def _numbers(con: duckdb.DuckDBPyConnection, table: str, values: list[float]) -> None:
    con.execute(f"create table {table} (dimension varchar, score double)")
    con.executemany(
        f"insert into {table} values (?, ?)", [["total" if i == 0 else "x", v] for i, v in enumerate(values)]
    )


# ---------------------------------------------------------------- freshness


def test_freshness_passes_within_max_age_and_fails_beyond(build: duckdb.DuckDBPyConnection) -> None:
    build.execute("create table marts.t as select date '2026-10-15' as month union all select date '2026-08-01'")
    config = {"freshness": {"column": "month", "max_age_days": 31}}

    (ok,) = check_freshness(build, "t", config, AS_OF)
    assert (ok.source, ok.table, ok.check, ok.column, ok.severity, ok.passed) == (
        "generic",
        "t",
        "freshness_within_31_days",
        "month",
        "critical",
        True,
    )
    assert ok.observed == {"newest": "2026-10-15", "as_of": "2026-11-01"}

    (stale,) = check_freshness(build, "t", {"freshness": {"column": "month", "max_age_days": 10}}, AS_OF)
    assert (stale.check, stale.passed) == ("freshness_within_10_days", False)


def test_freshness_compares_timestamps_by_date_and_fails_on_an_empty_table(build: duckdb.DuckDBPyConnection) -> None:
    build.execute("create table marts.t as select timestamp '2026-10-01 23:59:00' as loaded_at")
    config = {"freshness": {"column": "loaded_at", "max_age_days": 31}}
    (edge,) = check_freshness(build, "t", config, AS_OF)
    assert edge.passed and edge.observed["newest"] == "2026-10-01 23:59:00"

    build.execute("delete from marts.t")
    (empty,) = check_freshness(build, "t", config, AS_OF)
    assert not empty.passed and empty.observed["newest"] == "None"


def test_freshness_is_not_checked_unless_declared(build: duckdb.DuckDBPyConnection) -> None:
    assert check_freshness(build, "no_such_table", {"shares": {"column": "x"}}, AS_OF) == []


# ---------------------------------------------------------------- shares


def test_shares_pass_when_every_group_sums_to_100(build: duckdb.DuckDBPyConnection) -> None:
    build.execute("create table marts.t (month varchar, share_pct double)")
    build.execute("insert into marts.t values ('2026-10', 60), ('2026-10', 40), ('2026-11', 33.3), ('2026-11', 66.65)")
    config = {"shares": {"column": "share_pct", "group_by": ["month"], "tolerance": 0.1}}

    (record,) = check_shares(build, "t", config)
    assert (record.source, record.table, record.check, record.column, record.severity) == (
        "generic",
        "t",
        "shares_sum_to_100",
        "share_pct",
        "critical",
    )
    assert record.passed and record.observed is None


def test_shares_fail_naming_the_groups_that_do_not_sum_to_100(build: duckdb.DuckDBPyConnection) -> None:
    build.execute("create table marts.t (month varchar, share_pct double)")
    build.execute("insert into marts.t values ('2026-10', 60), ('2026-10', 40), ('2026-11', 25), ('2026-11', 25)")
    config = {"shares": {"column": "share_pct", "group_by": ["month"]}}

    (record,) = check_shares(build, "t", config)
    assert not record.passed
    assert record.observed == [["2026-11", "50.0"]]


def test_shares_without_groups_sum_the_whole_table(build: duckdb.DuckDBPyConnection) -> None:
    build.execute("create table marts.t as select * from (values (70.0), (29.0)) v(share_pct)")
    (strict,) = check_shares(build, "t", {"shares": {"column": "share_pct"}})
    assert not strict.passed and strict.observed == [["99.0"]]
    (loose,) = check_shares(build, "t", {"shares": {"column": "share_pct", "tolerance": 1.5}})
    assert loose.passed
    assert check_shares(build, "t", {}) == []


# ---------------------------------------------------------------- drift


def test_drift_is_not_checked_without_a_previous_publication_of_the_table(
    settings: Settings, build: duckdb.DuckDBPyConnection, previous: duckdb.DuckDBPyConnection
) -> None:
    _numbers(build, "marts.t", [1, 2])
    assert check_drift(settings, build, None, "t", {}, 50.0) == []
    assert check_drift(settings, build, previous, "t", {}, 50.0) == []


def test_row_count_drift_blocks_beyond_the_threshold(
    settings: Settings, build: duckdb.DuckDBPyConnection, previous: duckdb.DuckDBPyConnection
) -> None:
    _numbers(previous, "t", [1] * 10)
    _numbers(build, "marts.t", [1] * 6)

    (within,) = check_drift(settings, build, previous, "t", {}, 50.0)
    assert (within.source, within.table, within.check, within.column, within.severity, within.passed) == (
        "generic",
        "t",
        "row_count_drift_within_50_pct",
        None,
        "critical",
        True,
    )
    assert within.observed == {"previous": 10, "current": 6, "change_pct": 40.0}

    (beyond,) = check_drift(settings, build, previous, "t", {}, 12.5)
    assert (beyond.check, beyond.passed) == ("row_count_drift_within_12.5_pct", False)


def test_a_table_of_events_is_not_checked_for_drift(
    settings: Settings, build: duckdb.DuckDBPyConnection, previous: duckdb.DuckDBPyConnection
) -> None:
    _numbers(previous, "t", [1])
    _numbers(build, "marts.t", [1] * 5)  # four new alerts: news, not drift
    assert check_drift(settings, build, previous, "t", {"events": True}, 50.0) == []
    (checked,) = check_drift(settings, build, previous, "t", {"events": False}, 50.0)
    assert not checked.passed


def test_metric_drift_uses_the_declared_aggregate_and_filter(
    settings: Settings, build: duckdb.DuckDBPyConnection, previous: duckdb.DuckDBPyConnection
) -> None:
    _numbers(previous, "t", [80, 1, 1])
    _numbers(build, "marts.t", [20, 1, 1])
    config = {"drift_metric": {"column": "score", "agg": "SUM", "where": "dimension = 'total'"}}

    rows, metric = check_drift(settings, build, previous, "t", config, 50.0)
    assert rows.passed and rows.check == "row_count_drift_within_50_pct"
    assert (metric.check, metric.column, metric.severity, metric.passed) == (
        "sum_drift_within_50_pct",
        "score",
        "critical",
        False,
    )
    assert metric.observed == {"previous": 80.0, "current": 20.0, "change_pct": 75.0}


def test_metric_drift_is_skipped_when_the_metric_is_null(
    settings: Settings, build: duckdb.DuckDBPyConnection, previous: duckdb.DuckDBPyConnection
) -> None:
    _numbers(previous, "t", [1, 2])
    _numbers(build, "marts.t", [1, 2])
    config = {"drift_metric": {"column": "score", "where": "dimension = 'none'"}}
    assert [r.check for r in check_drift(settings, build, previous, "t", config, 50.0)] == [
        "row_count_drift_within_50_pct"
    ]


def test_metric_drift_rejects_an_unknown_aggregate(
    settings: Settings, build: duckdb.DuckDBPyConnection, previous: duckdb.DuckDBPyConnection
) -> None:
    _numbers(previous, "t", [1])
    _numbers(build, "marts.t", [1])
    with pytest.raises(ValueError, match=r"t\.json: drift_metric\.agg 'stddev' not in"):
        check_drift(settings, build, previous, "t", {"drift_metric": {"column": "score", "agg": "stddev"}}, 50.0)


# ---------------------------------------------------------------- all generic checks of a table


def test_generic_checks_run_freshness_shares_and_drift_in_that_order(
    settings: Settings,
    build: duckdb.DuckDBPyConnection,
    previous: duckdb.DuckDBPyConnection,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    suite = settings.gx_dir / "gx" / "expectations" / "tiny.json"
    meta = {
        "freshness": {"column": "month", "max_age_days": 31},
        "shares": {"column": "share_pct", "group_by": ["month"]},
        "drift_metric": {"column": "share_pct", "agg": "max"},
    }
    suite.write_text(json.dumps({"name": "tiny", "expectations": [], "meta": {"cxpipe": meta}}))
    for con, table in ((build, "marts.tiny"), (previous, "tiny")):
        con.execute(f"create table {table} as select date '2026-10-01' as month, 100.0 as share_pct")
    settings = configured(settings, CX_GATE_AS_OF="2026-11-01", CX_GATE_DRIFT_PCT="5")

    records = generic_checks(settings, build, previous, ("tiny",))
    assert [(r.table, r.check, r.passed) for r in records] == [
        ("tiny", "freshness_within_31_days", True),
        ("tiny", "shares_sum_to_100", True),
        ("tiny", "row_count_drift_within_5_pct", True),
        ("tiny", "max_drift_within_5_pct", True),
    ]
