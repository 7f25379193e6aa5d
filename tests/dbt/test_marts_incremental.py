"""Incremental facts: two daily builds give the same tables as a full refresh."""

from __future__ import annotations

import re
import shutil
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pytest
from conftest import DEMO_DATE, comparable_columns, run_dbt, settings_for

from cxpipe.contracts import SOURCES
from cxpipe.demo import DemoSpec, generate
from cxpipe.ingest import ingest_source
from cxpipe.settings import Settings

# Builds its own warehouse (or parses the project) several times: `make test` runs it, `make test-fast` leaves it out.
pytestmark = pytest.mark.slow

SPEC = DemoSpec(start=DEMO_DATE, days=2, history_days=45, customers=100, orders_per_day=10)
NEXT_DAY = DEMO_DATE + timedelta(days=1)
INCREMENTAL_MODELS = ("int_orders_enriched", "int_promises", "int_complaint_texts_nlp")
ANALYSED = re.compile(
    r"complaint analysis (\w+): (\d+) candidates, (\d+) new or changed; (\d+) distinct texts analysed"
)


def _ingest(settings: Settings, day: date) -> None:
    for source in SOURCES:
        ingest_source(settings, source, day)


def _correct_a_first_day_order(settings: Settings) -> str:
    """A late correction lands on the second day: a first-day order was delivered 4 days later."""
    orders = settings.lake_dir / "sales" / "orders"
    first = orders / f"load_date={DEMO_DATE.isoformat()}" / "part-0.parquet"
    target = orders / f"load_date={NEXT_DAY.isoformat()}" / "correction.parquet"
    with duckdb.connect() as con:
        row = con.execute(
            f"select order_id from '{first}' where promised_date is not null "
            "and delivered_at::date <= promised_date order by order_id limit 1"
        ).fetchone()
        assert row is not None
        con.execute(
            f"copy (select * replace (delivered_at + interval 4 day as delivered_at) from '{first}' "
            f"where order_id = '{row[0]}') to '{target}' (format parquet)"
        )
    return str(row[0])


def _build(settings: Settings, *flags: str) -> tuple[str, int, int, int]:
    """Build; the complaint analysis' key, candidates, new or changed candidates and texts analysed."""
    result = run_dbt(settings, "build", *flags)
    assert result.returncode == 0, result.stdout[-4000:]
    found = ANALYSED.findall(result.stdout)
    assert len(found) == 1, result.stdout[-4000:]
    key, *counts = found[0]
    return key, int(counts[0]), int(counts[1]), int(counts[2])


def _tables(db: Path) -> list[str]:
    with duckdb.connect(str(db), read_only=True) as con:
        rows = con.execute(
            "select table_schema || '.' || table_name from information_schema.tables "
            "where table_type = 'BASE TABLE' and table_schema in ('staging', 'intermediate', 'marts') order by 1"
        ).fetchall()
    return [r[0] for r in rows]


def test_incremental_builds_equal_a_full_refresh(tmp_path: Path) -> None:
    """Two daily incremental builds, then ``--full-refresh`` on the same warehouse: identical tables.

    The full refresh runs on the same warehouse because the CRM snapshot is state, not a
    function of the lake: a customer version seen on the first day is history that only
    that warehouse keeps. Every incremental model is rebuilt from the whole lake.
    """
    daily = settings_for(tmp_path / "daily")
    generate(daily.landing_dir, SPEC)

    _ingest(daily, DEMO_DATE)
    key, candidates, new, analysed = _build(daily)
    assert candidates == new > analysed > 0
    _ingest(daily, NEXT_DAY)
    corrected = _correct_a_first_day_order(daily)
    next_key, next_candidates, next_new, next_analysed = _build(daily)
    # the second build analyses the new day's complaints only, each new text once
    assert next_key == key and next_candidates > candidates
    assert 0 < next_new <= next_candidates - candidates and next_analysed <= next_new
    target = daily.data_dir / "dbt_target"
    compiled = next((target / "compiled").rglob("int_orders_enriched.sql")).read_text()
    executed = next((target / "run").rglob("int_orders_enriched.sql")).read_text()
    assert "max(load_date)" in compiled and "delete from" in executed, "the second build was not incremental"
    # the staging tables read only the new landing date's files: its date is written into the statement
    staged = next((target / "compiled").rglob("stg_sales__orders.sql")).read_text()
    assert f"load_date > date '{DEMO_DATE.isoformat()}'" in staged, staged[:2000]
    assert "delete from" in next((target / "run").rglob("stg_sales__orders.sql")).read_text()

    incremental_db = tmp_path / "incremental.duckdb"
    shutil.copyfile(daily.build_db, incremental_db)
    full_key, full_candidates, full_new, _ = _build(daily, "--full-refresh")
    assert (full_key, full_candidates, full_new) == (key, next_candidates, next_candidates)
    executed = next((target / "run").rglob("int_orders_enriched.sql")).read_text()
    assert "delete from" not in executed, "the full refresh ran incrementally"

    tables = _tables(incremental_db)
    assert tables == _tables(daily.build_db)
    assert {f"intermediate.{m}" for m in INCREMENTAL_MODELS} <= set(tables)
    assert {"staging.stg_sales__orders", "staging.stg_crm__customers"} <= set(tables)
    assert {"marts.customer_segments", "marts.expectation_gap", "marts.satisfaction_index"} <= set(tables)
    with duckdb.connect() as con:
        con.execute(f"attach '{incremental_db}' as daily (read_only)")
        con.execute(f"attach '{daily.build_db}' as once (read_only)")
        for table in tables:
            counts = con.execute(
                f"select (select count(*) from daily.{table}), (select count(*) from once.{table})"
            ).fetchone()
            assert counts is not None and counts[0] == counts[1] > 0, (table, counts)
            columns = comparable_columns(con, "daily", table)
            for left, right in (("daily", "once"), ("once", "daily")):
                diff = con.execute(
                    f"select count(*) from (select {columns} from {left}.{table} "
                    f"except all select {columns} from {right}.{table})"
                ).fetchone()
                assert diff == (0,), f"{table}: rows in the {left} build missing from the {right} build"
        # the late correction replaced the first-day version of the order in the incremental table
        row = con.execute(
            "select is_on_time, count(*) over () from daily.intermediate.int_orders_enriched "
            f"where order_id = '{corrected}'"
        ).fetchone()
        assert row == (False, 1)
