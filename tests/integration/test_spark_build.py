"""The same dbt project on Apache Spark (local mode, in this process): every reporting table equals the DuckDB
build's, the gate passes on the Spark build and publish publishes it.

The DuckDB side is the suite's shared build (``built_warehouse``); the Spark side builds the same lake with
``CX_ENGINE=spark`` (``cxpipe.warehouse.spark.build``: dbt-spark, method ``session``, ``local[2]``, an
in-memory catalog), exports ``marts.*`` into its own ``cx.duckdb``, and the tables are compared row by row.
Text, whole numbers, dates, timestamps and booleans must be equal; DOUBLE columns within
:data:`REL_TOLERANCE` / :data:`ABS_TOLERANCE` (sums of doubles depend on the order an engine adds them in),
and a figure the marts round to d decimals within one unit of its last decimal (10^-d): the two engines'
last bits can put a value such as 22.075 on either side of the rounding (docs/spark.md, "Equal results").
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest
from conftest import MODEL_CACHE, copy_gx_context

from cxpipe.contracts import REPORTING_TABLES, SEMANTIC_LAYER_TABLES
from cxpipe.gate import check_gate
from cxpipe.publish import publish
from cxpipe.settings import EngineSettings, Settings
from cxpipe.warehouse import spark

#: DOUBLE columns: |spark - duckdb| <= ABS_TOLERANCE + REL_TOLERANCE * |duckdb|.
REL_TOLERANCE = 1e-9
ABS_TOLERANCE = 1e-9

pytestmark = pytest.mark.timeout(1800)


@pytest.fixture(scope="module")
def spark_built(built_warehouse: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    """The DuckDB build's lake built again on Spark (models, seeds, snapshot and data tests), exported."""
    root = tmp_path_factory.mktemp("spark")
    (root / "data").mkdir()
    shutil.copytree(built_warehouse.lake_dir, root / "data" / "lake")
    settings = Settings(
        project_dir=built_warehouse.project_dir,
        data_dir=root / "data",
        dbt_project_dir=built_warehouse.dbt_project_dir,
        gx_dir=copy_gx_context(root / "expectations"),
        pii_key=built_warehouse.pii_key,
        model_cache_dir=MODEL_CACHE,
        engine=EngineSettings(name="spark", spark_master="local[2]", spark_driver_memory="1g"),
    )
    built = spark.build(settings)
    assert built.success, "\n".join(built.failures)
    yield settings
    spark.stop_session()


def _table(path: Path, table: str) -> tuple[pd.DataFrame, dict[str, str]]:
    with duckdb.connect(str(path), read_only=True) as con:
        types = dict(
            con.execute(
                "select column_name, data_type from information_schema.columns "
                "where table_schema = 'marts' and table_name = ? order by ordinal_position",
                [table],
            ).fetchall()
        )
        return con.execute(f"select * from marts.{table}").df(), types


def rounded_to(values: np.ndarray) -> int | None:
    """The decimals a column's values are rounded to (at most 6), or None when they are not rounded."""
    finite = values[np.isfinite(values)]
    for decimals in range(7):
        if np.allclose(finite, np.round(finite, decimals), rtol=0, atol=1e-12):
            return decimals
    return None


def _sorted(frame: pd.DataFrame, doubles: list[str]) -> pd.DataFrame:
    """Rows in one order for both builds: by every column, doubles rounded to 6 decimals for the sort."""
    key = frame.assign(**{c: frame[c].round(6) for c in doubles}).astype("string").fillna("<null>")
    return frame.loc[key.sort_values(list(frame.columns)).index].reset_index(drop=True)


def table_differences(duckdb_build: Path, spark_build: Path, table: str) -> list[str]:
    """What differs between ``marts.<table>`` of two build files: columns and types, row count, values."""
    expected, expected_types = _table(duckdb_build, table)
    actual, actual_types = _table(spark_build, table)
    if expected_types != actual_types:
        return [f"columns and types: DuckDB {expected_types} vs Spark {actual_types}"]
    if len(expected) != len(actual):
        return [f"{len(expected)} rows on DuckDB vs {len(actual)} on Spark"]
    doubles = [c for c, t in expected_types.items() if t in ("DOUBLE", "FLOAT")]
    expected, actual = _sorted(expected, doubles), _sorted(actual, doubles)
    problems = []
    for column in expected.columns:
        if column in doubles:
            a, b = actual[column].to_numpy(dtype=float), expected[column].to_numpy(dtype=float)
            decimals = rounded_to(b)
            atol = ABS_TOLERANCE if decimals is None else 10.0**-decimals * (1 + 1e-6)
            bad = ~np.isclose(a, b, rtol=REL_TOLERANCE, atol=atol, equal_nan=True)
        else:
            a = actual[column].astype("string").fillna("<null>").to_numpy()
            b = expected[column].astype("string").fillna("<null>").to_numpy()
            bad = a != b
        if bad.any():
            first = int(np.flatnonzero(bad)[0])
            problems.append(f"{column}: {int(bad.sum())} rows differ, e.g. Spark {a[first]!r} vs DuckDB {b[first]!r}")
    return problems


@pytest.mark.parametrize("table", [*REPORTING_TABLES, *SEMANTIC_LAYER_TABLES])
def test_every_reporting_table_equals_the_duckdb_build(
    built_warehouse: Settings, spark_built: Settings, table: str
) -> None:
    with duckdb.connect(str(spark_built.build_db), read_only=True) as con:
        rows = con.execute(f"select count(*) from marts.{table}").fetchone()
    assert rows is not None and rows[0] > 0, f"{table} is empty: the comparison would prove nothing"
    assert table_differences(built_warehouse.build_db, spark_built.build_db, table) == []


def test_rounded_figures_may_differ_by_one_unit_of_their_last_decimal_and_no_more() -> None:
    assert rounded_to(np.array([22.07, 1.5, np.nan])) == 2
    assert rounded_to(np.array([1 / 3])) is None
    values = np.array([22.07, 3.5])
    assert np.isclose(22.08, values[0], rtol=REL_TOLERANCE, atol=10.0**-2 * (1 + 1e-6))
    assert not np.isclose(22.09, values[0], rtol=REL_TOLERANCE, atol=10.0**-2 * (1 + 1e-6))


def test_the_comparison_sees_a_changed_value(built_warehouse: Settings, spark_built: Settings, tmp_path: Path) -> None:
    changed = tmp_path / "changed.duckdb"
    shutil.copyfile(spark_built.build_db, changed)
    with duckdb.connect(str(changed)) as con:
        con.execute(
            "update marts.segment_summary set revenue = revenue + 0.05 "
            "where month = (select min(month) from marts.segment_summary)"
        )
    problems = table_differences(built_warehouse.build_db, changed, "segment_summary")
    assert problems and problems[0].startswith("revenue:")


def test_the_gate_passes_and_publish_publishes_the_spark_build(spark_built: Settings) -> None:
    result = check_gate(spark_built)  # the dbt results of the Spark build, in <data>/dbt_target
    assert result.passed and result.checks_run > 0
    publication = publish(spark_built, gate_status="passed", run_id="spark-run")
    assert set(REPORTING_TABLES) <= set(publication.row_counts)
    assert all(publication.row_counts[t] > 0 for t in REPORTING_TABLES)


def test_a_second_snapshot_run_keeps_the_history(spark_built: Settings) -> None:
    session = spark.spark_session(spark_built)
    query = "select customer_key, membership_tier, dbt_valid_from, dbt_valid_to from snapshots.crm_customers_snapshot"
    before = sorted(map(tuple, session.sql(query).collect()))
    again = spark.run_dbt(spark_built, ("snapshot",))
    assert again.success, "\n".join(again.failures)
    after = sorted(map(tuple, session.sql(query).collect()))
    assert before and after == before
