"""The benchmark harness's own logic: SQL rounding in the pandas baseline, the equality checks.

The harness itself (every stage, every baseline) runs at a tiny scale in tests/e2e/test_benchmark_smoke.py.
"""

from __future__ import annotations

import sys
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from cxpipe.settings import REPO_ROOT

sys.path.insert(0, str(REPO_ROOT / "benchmarks"))
from conftest import settings_for
from cxbench.compare import compare_databases, compare_frames, compare_ingest_outputs
from cxbench.harness import Bench, reuse_partial_parse
from cxbench.pandas_team import quintile_score, sql_round


@pytest.mark.parametrize("decimals", [1, 2, 3])
def test_sql_round_rounds_as_duckdb_does(decimals: int) -> None:
    values = [3.125, 2.675, -3.125, 0.005, 1.005, 12.345, -0.5, 71.42857142857143, 100.00000000000001, 1e-9]
    with duckdb.connect() as con:
        expected = [con.execute(f"select round({v!r}::double, {decimals})").fetchall()[0][0] for v in values]
    assert sql_round(pd.Series(values), decimals).tolist() == expected


def test_sql_round_keeps_missing_values() -> None:
    assert sql_round(pd.Series([np.nan, 1.25]), 1).isna().tolist() == [True, False]


def test_quintile_score_is_the_marts_formula() -> None:
    # ten distinct values: 1 + floor(5 × (rank - 1) / 9); ties share the lower score; all equal: 3
    assert quintile_score(pd.Series(range(10))).tolist() == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]
    assert quintile_score(pd.Series([1, 1, 2])).tolist() == [1, 1, 5]
    assert quintile_score(pd.Series([7, 7])).tolist() == [3, 3]


def _mart() -> pd.DataFrame:
    return pd.DataFrame({"k": ["a", "b", "c"], "n": [1, 2, 3], "x": [1.00, 2.50, None], "flag": [True, False, True]})


def test_compare_frames_passes_within_tolerance_and_matches_nulls() -> None:
    pandas = _mart().assign(x=[1.01, 2.49, None], n=[1.0, 2.0, 3.0])  # counts as floats are still equal
    result = compare_frames(_mart(), pandas.iloc[::-1], ["k"], {"x": 0.01})
    assert result["passed"], result
    assert result["columns"]["x"]["cells_differing"] == 2


@pytest.mark.parametrize(
    "change",
    [
        {"x": [1.02, 2.5, None]},  # outside the tolerance
        {"x": [1.0, 2.5, 0.0]},  # a null became a value
        {"n": [1, 2, 4]},  # an integer differs
        {"k": ["a", "b", "d"]},  # a key differs
    ],
)
def test_compare_frames_fails_on_any_other_difference(change: dict[str, list[object]]) -> None:
    assert not compare_frames(_mart(), _mart().assign(**change), ["k"], {"x": 0.01})["passed"]


def test_compare_frames_counts_a_flag_that_differs_at_its_threshold_without_failing() -> None:
    pandas = _mart().assign(flag=[False, False, True], at_threshold=[True, False, False])
    result = compare_frames(_mart(), pandas, ["k"], {"x": 0.01}, {"flag": "at_threshold"})
    assert result["passed"]
    assert result["columns"]["flag"]["differs_at_boundary"] == 1
    off_threshold = pandas.assign(flag=[True, True, True])
    assert not compare_frames(_mart(), off_threshold, ["k"], {"x": 0.01}, {"flag": "at_threshold"})["passed"]


def test_compare_databases_accepts_last_bit_float_differences_and_nulls_only(tmp_path: Path) -> None:
    rows = (
        "select * from (values ('a', 0.1::double + 0.2::double, null::boolean), ('b', 1.5::double, true), "
        "('c', null, false)) t(k, x, f)"
    )
    for name, swap in (("dbt", False), ("floor", True)):
        (tmp_path / name).mkdir()
        with duckdb.connect(str(tmp_path / name / "cx.duckdb")) as con:
            con.execute(f"create table same as {rows}")
            # 0.3 and 0.1 + 0.2 differ in the last bit: a different summation order gives either
            con.execute(
                f"create table near as {rows.replace('0.1::double + 0.2::double', '0.3::double') if swap else rows}"
            )
            con.execute(f"create table off as {rows.replace('1.5::double', '1.7::double') if swap else rows}")
            con.execute(f"create table flag as {rows.replace('true', 'null') if swap else rows}")
    result = compare_databases(
        tmp_path / "dbt" / "cx.duckdb", tmp_path / "floor" / "cx.duckdb", ["same", "near", "off", "flag"]
    )
    statuses = {name: entry["status"] for name, entry in result["relations"].items()}
    assert statuses == {
        "same": "equal",
        "near": "equal_within_tolerance",
        "off": "different",
        "flag": "different",
    }
    assert not result["passed"]


def test_compare_databases_allows_one_unit_of_the_rounded_decimal_and_no_more(tmp_path: Path) -> None:
    # a column rounded to 2 decimals: a sum whose last bits differ may round to either side of a tie
    sides = {"dbt": "(1, 10.01), (2, 20.5), (3, 7.25)", "floor": "(1, 10.02), (2, 20.5), (3, 7.25)"}
    wide = {"dbt": "(1, 10.01), (2, 20.5), (3, 7.25)", "floor": "(1, 10.03), (2, 20.5), (3, 7.25)"}
    whole = {"dbt": "(1, 10.0), (2, 20.0)", "floor": "(1, 11.0), (2, 20.0)"}
    for name in ("dbt", "floor"):
        (tmp_path / name).mkdir()
        with duckdb.connect(str(tmp_path / name / "cx.duckdb")) as con:
            for table, rows in (("tie", sides), ("wide", wide), ("whole", whole)):
                con.execute(f"create table {table} as select k, x::double as x from (values {rows[name]}) t(k, x)")
    result = compare_databases(
        tmp_path / "dbt" / "cx.duckdb", tmp_path / "floor" / "cx.duckdb", ["tie", "wide", "whole"]
    )
    relations = result["relations"]
    assert relations["tie"]["status"] == "equal_within_tolerance"
    assert relations["tie"]["rounding_ties"] == {"x": 1}
    assert relations["wide"]["status"] == "different"  # two units apart
    assert relations["whole"]["status"] == "different"  # whole numbers: no tie allowed


def test_the_benchmark_builds_with_dbt_as_production_runs_it(tmp_path: Path) -> None:
    """Every dbt setting cxpipe gives a production build (unit tests left out) is in the benchmark's environment."""
    bench = Bench(tmp_path / "bench", history_days=1)
    env = bench.env(tmp_path / "data")
    production = {k: v for k, v in settings_for(tmp_path).dbt_env().items() if k.startswith("DBT_")}
    assert production
    assert {k: env.get(k) for k in production} == production


def test_recorded_commands_carry_no_path_of_this_machine(tmp_path: Path) -> None:
    from cxbench import portable_command

    corpora = REPO_ROOT.parent / "shared" / "corpora"
    argv = ["--sf", "1", "--corpora", str(corpora), "--workdir", str(tmp_path / "cxb-sf1"), "--doc", "docs/b.md"]
    assert portable_command("benchmarks/harness.py", argv) == (
        "benchmarks/harness.py --sf 1 --corpora ../shared/corpora --workdir <cxb-sf1> --doc docs/b.md"
    )


def _ingested(folder: Path, reason: str = "x: required value is missing", when: str = "2026-11-01") -> Path:
    """A data folder as ingest leaves it: one lake table, one quarantine table, one audit row."""
    lake = folder / "lake" / "crm" / "customers" / "load_date=2026-11-01"
    quarantine = folder / "quarantine" / "crm" / "customers" / "load_date=2026-11-01"
    audit = folder / "lake" / "_load_audit" / "crm" / "load_date=2026-11-01"
    for part in (lake, quarantine, audit):
        part.mkdir(parents=True)
    landing = f"{folder}/landing/crm/2026-11-01/customers.csv"
    pq.write_table(pa.table({"customer_id": ["C1"], "_source_file": ["customers.csv"]}), lake / "part-0.parquet")
    pq.write_table(
        pa.table({"source_file": [landing], "source_row": [3], "reason": [reason]}), quarantine / "part-0.parquet"
    )
    pq.write_table(
        pa.table({"source_file": [landing], "rows_in": [2], "ingested_at": pa.array([pd.Timestamp(when)])}),
        audit / "part-0.parquet",
    )
    return folder


def test_compare_ingest_outputs_ignores_the_folders_and_the_time_of_the_run_only(tmp_path: Path) -> None:
    before = _ingested(tmp_path / "before")
    assert compare_ingest_outputs(before, _ingested(tmp_path / "after", when="2026-12-02"))["passed"]
    result = compare_ingest_outputs(before, _ingested(tmp_path / "changed", reason="x: below 0"))
    assert result == {
        "files": 3,
        "different": ["quarantine/crm/customers/load_date=2026-11-01/part-0.parquet"],
        "passed": False,
    }
    (tmp_path / "changed" / "lake" / "crm" / "customers" / "load_date=2026-11-01" / "part-0.parquet").unlink()
    assert len(compare_ingest_outputs(before, tmp_path / "changed")["different"]) == 2


def test_the_incremental_build_starts_from_the_full_builds_parse_state(tmp_path: Path) -> None:
    """As Cosmos does between scheduled builds: dbt's partial_parse.msgpack is carried over, when there is one."""
    full, incremental = tmp_path / "target_full", tmp_path / "target_incremental"
    full.mkdir()
    assert reuse_partial_parse(full, incremental) is False
    assert not (incremental / "partial_parse.msgpack").exists()
    (full / "partial_parse.msgpack").write_bytes(b"\x81\xa7version\x01")
    assert reuse_partial_parse(full, incremental) is True
    assert (incremental / "partial_parse.msgpack").read_bytes() == b"\x81\xa7version\x01"
