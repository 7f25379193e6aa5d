"""The suites' expectations computed in DuckDB: each type on tiny tables, and the same verdicts as GX."""

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest

from cxpipe.gate.sql_expectations import EXAMPLES, evaluate, split_suite, translatable

SUITES = Path(__file__).resolve().parents[3] / "expectations" / "gx" / "expectations"
T = 'marts."t"'


@pytest.fixture
def con() -> Iterator[duckdb.DuckDBPyConnection]:
    con = duckdb.connect()
    con.execute("create schema marts")
    con.execute(
        "create table marts.t as select * from (values "
        "(1, 'a', 0.5, 'x@example.com', 10), (2, 'b', 1.5, 'no mail', 10), (2, null, null, null, 11), "
        "(3, 'zz', -0.1, 'plain', null)) v(id, code, score, text, grp)"
    )
    yield con
    con.close()


def expectation(kind: str, severity: str = "critical", **kwargs: Any) -> dict[str, Any]:
    return {"type": kind, "kwargs": kwargs, "severity": severity, "id": f"{kind}-{sorted(kwargs)}"}


def verdicts(con: duckdb.DuckDBPyConnection, *expectations: dict[str, Any]) -> list[tuple[bool, Any]]:
    return [(r.passed, r.observed) for r in evaluate(con, T, "t", list(expectations))]


def test_row_count_between_is_inclusive(con: duckdb.DuckDBPyConnection) -> None:
    kind = "expect_table_row_count_to_be_between"
    assert verdicts(
        con, expectation(kind, min_value=4), expectation(kind, min_value=5), expectation(kind, max_value=3)
    ) == [
        (True, None),
        (False, 4),
        (False, 4),
    ]


def test_an_empty_table_has_no_unexpected_value(con: duckdb.DuckDBPyConnection) -> None:
    """A partial deployment publishes empty reporting tables: each check passes except a row-count floor."""
    con.execute("delete from marts.t")
    assert verdicts(
        con,
        expectation("expect_column_values_to_not_be_null", column="id"),
        expectation("expect_column_values_to_be_between", column="score", min_value=0, max_value=1, mostly=0.9),
        expectation("expect_column_values_to_be_in_set", column="code", value_set=["a"]),
        expectation("expect_column_values_to_be_unique", column="id"),
        expectation("expect_table_row_count_to_be_between", min_value=1),
    ) == [(True, None), (True, None), (True, None), (True, None), (False, 0)]


def test_not_null_counts_the_nulls(con: duckdb.DuckDBPyConnection) -> None:
    kind = "expect_column_values_to_not_be_null"
    assert verdicts(con, expectation(kind, column="id"), expectation(kind, column="grp")) == [
        (True, None),
        (False, {"unexpected_count": 1, "examples": [None]}),
    ]


def test_between_ignores_nulls_and_honours_strict_bounds(con: duckdb.DuckDBPyConnection) -> None:
    kind = "expect_column_values_to_be_between"
    assert verdicts(
        con,
        expectation(kind, column="score", min_value=-0.1, max_value=1.5),
        expectation(kind, column="score", min_value=0, max_value=1),
        expectation(kind, column="score", min_value=-0.1, strict_min=True),
    ) == [
        (True, None),
        (False, {"unexpected_count": 2, "examples": [-0.1, 1.5]}),
        (False, {"unexpected_count": 1, "examples": [-0.1]}),
    ]


def test_in_set_and_regex_ignore_nulls(con: duckdb.DuckDBPyConnection) -> None:
    assert verdicts(
        con,
        expectation("expect_column_values_to_be_in_set", column="code", value_set=["a", "b", "zz"]),
        expectation("expect_column_values_to_be_in_set", column="code", value_set=["a", "b"]),
        expectation("expect_column_values_to_not_match_regex", column="text", regex=r"[a-z]+@[a-z]+\.[a-z]{2,}"),
    ) == [
        (True, None),
        (False, {"unexpected_count": 1, "examples": ["zz"]}),
        (False, {"unexpected_count": 1, "examples": ["x@example.com"]}),
    ]


def test_unique_and_compound_unique(con: duckdb.DuckDBPyConnection) -> None:
    assert verdicts(
        con,
        expectation("expect_column_values_to_be_unique", column="id"),
        expectation("expect_column_values_to_be_unique", column="code"),
        expectation("expect_compound_columns_to_be_unique", column_list=["id", "grp"]),
        expectation("expect_compound_columns_to_be_unique", column_list=["grp", "score"]),
    ) == [
        (False, {"unexpected_count": 2, "examples": [2]}),
        (True, None),
        (True, None),
        (True, None),
    ]
    con.execute("insert into marts.t values (1, 'q', 0.5, null, 10)")
    [(passed, observed)] = verdicts(con, expectation("expect_compound_columns_to_be_unique", column_list=["id", "grp"]))
    assert not passed and observed == {"unexpected_count": 2, "examples": [[1, 10]]}


def test_mostly_passes_when_that_share_of_the_non_null_values_is_as_expected(con: duckdb.DuckDBPyConnection) -> None:
    kind = "expect_column_values_to_be_in_set"
    # 3 non-null codes, 2 of them in the set: 0.67
    assert verdicts(
        con,
        expectation(kind, column="code", value_set=["a", "b"], mostly=0.6),
        expectation(kind, column="code", value_set=["a", "b"], mostly=0.7),
    ) == [(True, None), (False, {"unexpected_count": 1, "examples": ["zz"]})]


def test_examples_are_capped(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("insert into marts.t select 100 + i, 'n' || i, 2 + i / 10, 'x', 1 from range(20) r(i)")
    too_high = expectation("expect_column_values_to_be_between", column="score", max_value=1.5)
    [(passed, observed)] = verdicts(con, too_high)
    assert not passed and observed["unexpected_count"] == 20 and len(observed["examples"]) == EXAMPLES


def test_severity_and_names_are_kept(con: duckdb.DuckDBPyConnection) -> None:
    [record] = evaluate(con, T, "t", [expectation("expect_column_values_to_not_be_null", "warning", column="grp")])
    assert (record.source, record.table, record.check, record.column, record.severity, record.passed) == (
        "gx",
        "t",
        "expect_column_values_to_not_be_null",
        "grp",
        "warning",
        False,
    )


def test_unknown_types_and_arguments_are_left_to_gx() -> None:
    known = expectation("expect_column_values_to_not_be_null", column="a")
    conditional = expectation("expect_column_values_to_not_be_null", column="a", row_condition='b == "x"')
    other = expectation("expect_column_mean_to_be_between", column="a", min_value=1)
    assert translatable(known) and not translatable(conditional) and not translatable(other)
    assert split_suite([known, conditional, other]) == ([known], [conditional, other])


def test_every_expectation_of_the_reporting_suites_is_computed_in_sql() -> None:
    suites = sorted(SUITES.glob("*.json"))
    assert len(suites) == 10
    for path in suites:
        in_sql, in_gx = split_suite(json.loads(path.read_text(encoding="utf-8"))["expectations"])
        assert in_sql and not in_gx, path.name


def test_a_bad_value_in_a_suite_is_a_clear_error(con: duckdb.DuckDBPyConnection) -> None:
    with pytest.raises(ValueError, match="min_value or max_value"):
        evaluate(con, T, "t", [expectation("expect_column_values_to_be_between", column="score")])
    with pytest.raises(ValueError, match="cannot compare"):
        evaluate(con, T, "t", [expectation("expect_column_values_to_be_in_set", column="code", value_set=[["a"]])])


def test_the_same_verdicts_as_great_expectations_on_the_same_table(con: duckdb.DuckDBPyConnection) -> None:
    """GX's pandas route on the same rows: every expectation type, passing and failing, agrees."""
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    import great_expectations as gx

    suite_expectations = [
        expectation("expect_table_row_count_to_be_between", min_value=4),
        expectation("expect_table_row_count_to_be_between", min_value=5),
        expectation("expect_column_values_to_not_be_null", column="id"),
        expectation("expect_column_values_to_not_be_null", column="grp"),
        expectation("expect_column_values_to_be_between", column="score", min_value=-0.1, max_value=1.5),
        expectation("expect_column_values_to_be_between", column="score", min_value=0, max_value=1),
        expectation("expect_column_values_to_be_in_set", column="code", value_set=["a", "b"]),
        expectation("expect_column_values_to_be_in_set", column="code", value_set=["a", "b", "zz"]),
        expectation("expect_column_values_to_be_in_set", column="code", value_set=["a", "b"], mostly=0.6),
        expectation("expect_column_values_to_not_match_regex", column="text", regex=r"[a-z]+@[a-z]+\.[a-z]{2,}"),
        expectation("expect_column_values_to_not_match_regex", column="text", regex=r"^zzz"),
        expectation("expect_column_values_to_be_unique", column="id"),
        expectation("expect_column_values_to_be_unique", column="code"),
        expectation("expect_compound_columns_to_be_unique", column_list=["id", "grp"]),
        expectation("expect_compound_columns_to_be_unique", column_list=["id", "code"]),
    ]
    ours = [r.passed for r in evaluate(con, T, "t", suite_expectations)]
    assert True in ours and False in ours

    context = gx.get_context(mode="ephemeral")
    batch = (
        context.data_sources.add_pandas("p")
        .add_dataframe_asset("t")
        .add_batch_definition_whole_dataframe("all")
        .get_batch(batch_parameters={"dataframe": con.execute(f"select * from {T}").df()})
    )
    theirs = []
    for e in suite_expectations:
        name = "".join(part.title() for part in e["type"].split("_"))
        theirs.append(bool(batch.validate(getattr(gx.expectations, name)(**e["kwargs"])).success))
    assert ours == theirs
