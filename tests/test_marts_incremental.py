"""Incremental facts: two daily builds give the same tables as one build from scratch."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import duckdb
from conftest import DEMO_DATE, run_dbt, settings_for

from cxpipe.config import Settings
from cxpipe.contracts import SOURCES
from cxpipe.demo import DemoSpec, generate
from cxpipe.ingest import ingest_source

SPEC = DemoSpec(start=DEMO_DATE, days=2, history_days=45, customers=100, orders_per_day=10)
NEXT_DAY = DEMO_DATE + timedelta(days=1)
INCREMENTAL_MODELS = ("int_orders_enriched", "int_promises")


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


def _build(settings: Settings) -> None:
    result = run_dbt(settings, "build", "--exclude", "resource_type:unit_test")
    assert result.returncode == 0, result.stdout[-4000:]


def _tables(db: Path) -> list[str]:
    with duckdb.connect(str(db), read_only=True) as con:
        rows = con.execute(
            "select table_schema || '.' || table_name from information_schema.tables "
            "where table_type = 'BASE TABLE' and table_schema in ('intermediate', 'marts') order by 1"
        ).fetchall()
    return [r[0] for r in rows]


def test_two_incremental_builds_equal_one_full_build(tmp_path: Path) -> None:
    daily = settings_for(tmp_path / "daily")
    once = settings_for(tmp_path / "once")
    for settings in (daily, once):
        generate(settings.landing_dir, SPEC)

    _ingest(daily, DEMO_DATE)
    _build(daily)
    _ingest(daily, NEXT_DAY)
    corrected = _correct_a_first_day_order(daily)
    _build(daily)
    target = daily.data_dir / "dbt_target"
    compiled = next((target / "compiled").rglob("int_orders_enriched.sql")).read_text()
    executed = next((target / "run").rglob("int_orders_enriched.sql")).read_text()
    assert "max(load_date)" in compiled and "delete from" in executed, "the second build was not incremental"

    _ingest(once, DEMO_DATE)
    _ingest(once, NEXT_DAY)
    assert _correct_a_first_day_order(once) == corrected
    _build(once)

    tables = _tables(daily.build_db)
    assert tables == _tables(once.build_db)
    assert {f"intermediate.{m}" for m in INCREMENTAL_MODELS} <= set(tables)
    assert {"marts.customer_segments", "marts.expectation_gap", "marts.satisfaction_index"} <= set(tables)
    with duckdb.connect() as con:
        con.execute(f"attach '{daily.build_db}' as daily (read_only)")
        con.execute(f"attach '{once.build_db}' as once (read_only)")
        for table in tables:
            counts = con.execute(
                f"select (select count(*) from daily.{table}), (select count(*) from once.{table})"
            ).fetchone()
            assert counts is not None and counts[0] == counts[1] > 0, (table, counts)
            for left, right in (("daily", "once"), ("once", "daily")):
                diff = con.execute(
                    f"select count(*) from (select * from {left}.{table} except all select * from {right}.{table})"
                ).fetchone()
                assert diff == (0,), f"{table}: rows in the {left} build missing from the {right} build"
        # the late correction replaced the first-day version of the order in the incremental table
        row = con.execute(
            "select is_on_time, count(*) over () from daily.intermediate.int_orders_enriched "
            f"where order_id = '{corrected}'"
        ).fetchone()
        assert row == (False, 1)
