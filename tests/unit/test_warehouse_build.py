"""prepare_build: the build warehouse's folder exists before dbt runs; a full refresh removes the file;
a re-delivered landing date drops the incremental models."""

import json
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from cxpipe.settings import Settings
from cxpipe.warehouse.build import (
    BUILT_LOADS,
    incremental_relations,
    lake_loads,
    prepare_build,
    rebuild_after_reloads,
    reloaded,
)


def test_full_refresh_removes_the_build_warehouse_and_only_then(settings: Settings) -> None:
    assert not settings.warehouse_dir.exists()
    assert prepare_build(settings, full_refresh=False) is False
    assert settings.warehouse_dir.is_dir()  # DuckDB needs the folder to create cx.duckdb
    with duckdb.connect(str(settings.build_db)) as con:  # an earlier build
        con.execute("create table earlier as select 1 as x")
    assert prepare_build(settings, full_refresh=False) is False
    assert _tables(settings) == {"main.earlier", BUILT_LOADS}
    assert prepare_build(settings, full_refresh=True) is True
    # a new warehouse, holding only the record of the loads this build reads
    assert _tables(settings) == {BUILT_LOADS}
    settings.build_db.unlink()
    assert prepare_build(settings, full_refresh=True) is False


# ------------------------------------------------------------------ re-delivered landing dates


def _audit(settings: Settings, source: str, day: str, at: str) -> None:
    """A load audit partition as ingest writes it: ``lake/_load_audit/<source>/load_date=<day>/part-0.parquet``."""
    folder = settings.lake_dir / "_load_audit" / source / f"load_date={day}"
    folder.mkdir(parents=True, exist_ok=True)
    table = pa.table(
        {"entity": ["orders"], "ingested_at": pa.array([datetime.fromisoformat(at)], pa.timestamp("us", "UTC"))}
    )
    pq.write_table(table, folder / "part-0.parquet")


def _warehouse(settings: Settings) -> Settings:
    """A build warehouse with an incremental model, a view and a snapshot, and a manifest naming the incremental one."""
    project = settings.data_dir / "dbt_project"
    (project / "target").mkdir(parents=True)
    nodes = {
        "model.cxpipe.int_orders_enriched": {
            "resource_type": "model",
            "name": "int_orders_enriched",
            "schema": "intermediate",
            "config": {"materialized": "incremental"},
        },
        "model.cxpipe.customer_segments": {
            "resource_type": "model",
            "name": "customer_segments",
            "schema": "marts",
            "config": {"materialized": "table"},
        },
    }
    (project / "target" / "manifest.json").write_text(json.dumps({"nodes": nodes}))
    settings.warehouse_dir.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(settings.build_db)) as con:
        for schema in ("intermediate", "marts", "snapshots"):
            con.execute(f"create schema {schema}")
        con.execute("create table intermediate.int_orders_enriched as select 1 as order_id")
        con.execute("create table marts.customer_segments as select 1 as customer_key")
        con.execute("create table snapshots.crm_customers_snapshot as select 1 as customer_key")
    return replace(settings, dbt_project_dir=project)


def _tables(settings: Settings) -> set[str]:
    with duckdb.connect(str(settings.build_db), read_only=True) as con:
        rows = con.execute("select table_schema || '.' || table_name from information_schema.tables").fetchall()
    return {r[0] for r in rows}


def test_lake_changes_that_incremental_runs_cannot_see_are_named() -> None:
    at = datetime(2026, 11, 2, 6, tzinfo=UTC)
    built = {("sales", date(2026, 11, 1)): at, ("sales", date(2026, 11, 3)): at, ("crm", date(2026, 11, 1)): at}
    assert reloaded(built, built) == []
    later = at + timedelta(hours=30)
    current = {
        ("sales", date(2026, 11, 1)): later,  # re-delivered and loaded again
        ("sales", date(2026, 11, 2)): later,  # loaded after 11-03 was built (a backfill)
        ("sales", date(2026, 11, 3)): at,
        ("sales", date(2026, 11, 4)): later,  # a new date: the incremental window's job
        ("crm", date(2026, 11, 2)): later,  # a new date for crm
    }
    assert reloaded(built, current) == [
        "sales 2026-11-01 loaded again",
        "sales 2026-11-02 loaded after 2026-11-03 was built",
        "crm 2026-11-01 removed from the lake",
    ]


def test_a_reloaded_date_drops_only_the_incremental_models_and_the_loads_are_recorded(settings: Settings) -> None:
    current = _warehouse(settings)
    _audit(current, "sales", "2026-11-01", "2026-11-01T06:00:00+00:00")
    _audit(current, "sales", "2026-11-02", "2026-11-02T06:00:00+00:00")
    # a warehouse without a record of its loads: rebuilt once, as the loads it was built from are unknown
    assert rebuild_after_reloads(current) == ["no record of the loads the warehouse was built from"]
    assert "intermediate.int_orders_enriched" not in _tables(current)
    with duckdb.connect(str(current.build_db)) as con:
        con.execute("create table intermediate.int_orders_enriched as select 1 as order_id")  # dbt builds it again
        assert con.execute(f"select source, load_date from {BUILT_LOADS} order by 2").fetchall() == [
            ("sales", date(2026, 11, 1)),
            ("sales", date(2026, 11, 2)),
        ]
    # the next date: an ordinary incremental run
    _audit(current, "sales", "2026-11-03", "2026-11-03T06:00:00+00:00")
    assert prepare_build(current, full_refresh=False) is False
    assert "intermediate.int_orders_enriched" in _tables(current)
    # 11-01 re-delivered and loaded again: the incremental model goes, marts and the snapshot stay
    _audit(current, "sales", "2026-11-01", "2026-11-04T09:00:00+00:00")
    assert rebuild_after_reloads(current) == ["sales 2026-11-01 loaded again"]
    assert _tables(current) >= {"marts.customer_segments", "snapshots.crm_customers_snapshot"}
    assert "intermediate.int_orders_enriched" not in _tables(current)
    assert rebuild_after_reloads(current) == []  # recorded: the next run is incremental again


def test_a_full_refresh_starts_a_new_record(settings: Settings) -> None:
    current = _warehouse(settings)
    _audit(current, "crm", "2026-11-01", "2026-11-01T06:00:00+00:00")
    rebuild_after_reloads(current)
    assert prepare_build(current, full_refresh=True) is True
    assert _tables(current) == {BUILT_LOADS}  # a new warehouse holding the loads this build reads
    # an ingest writing its audit (a hidden temporary file) and a folder that is no partition are not loads
    _audit(current, "crm", "not-a-date", "2026-11-02T06:00:00+00:00")
    staged = current.lake_dir / "_load_audit" / "crm" / "load_date=2026-11-01" / ".part-0.parquet.123.tmp"
    staged.write_bytes(b"being written")
    assert lake_loads(current) == {("crm", date(2026, 11, 1)): datetime(2026, 11, 1, 6, tzinfo=UTC)}


def test_incremental_relations_by_the_manifest_or_by_schema_without_one(settings: Settings) -> None:
    current = _warehouse(settings)
    tables = {'"staging"."stg_sales__orders"', '"intermediate"."int_orders_enriched"', '"marts"."customer_segments"'}
    # the manifest names the incremental models
    assert incremental_relations(current, tables) == ['"intermediate"."int_orders_enriched"']
    # without one, the tables of the schemas that hold incremental models: staging and intermediate
    current.manifest_path.unlink()
    assert incremental_relations(current, tables) == [
        '"intermediate"."int_orders_enriched"',
        '"staging"."stg_sales__orders"',
    ]
