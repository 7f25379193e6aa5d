"""dbt build (models, seeds, data tests, unit tests) on demo data in a temporary warehouse."""

import json
from dataclasses import replace
from pathlib import Path

import duckdb
import pytest
from conftest import run_dbt

from cxpipe.contracts import MARTS_SCHEMA, REPORTING_TABLES
from cxpipe.settings import Settings
from cxpipe.warehouse import connect_read_only


def test_dbt_build_passes_every_model_and_test(built_warehouse: Settings, dbt_manifest: Path) -> None:
    results = json.loads((built_warehouse.data_dir / "dbt_target" / "run_results.json").read_text())["results"]
    statuses = {r["unique_id"]: r["status"] for r in results}
    assert statuses, "dbt ran nothing"
    # a test of severity warn may warn (orphans of quarantined parents are expected); nothing else may
    nodes = json.loads(dbt_manifest.read_text())["nodes"]
    warn_only = {uid for uid, node in nodes.items() if node.get("config", {}).get("severity") == "warn"}
    # exposures (dashboards) and saved queries (the semantic layer's) are listed by dbt build but
    # never executed: their status is no-op
    problems = {
        k: v
        for k, v in statuses.items()
        if v not in {"success", "pass"}
        and not (v == "warn" and k in warn_only)
        and not (v == "no-op" and k.startswith(("exposure.", "saved_query.")))
    }
    assert not problems
    assert any(uid.startswith("unit_test.") for uid in statuses)
    assert any(uid.startswith("test.") for uid in statuses)


def test_every_reporting_table_is_built_and_not_empty(built_warehouse: Settings) -> None:
    with connect_read_only(built_warehouse.build_db) as con:
        for table in REPORTING_TABLES:
            row = con.execute(f"select count(*) from {MARTS_SCHEMA}.{table}").fetchone()
            assert row is not None and row[0] > 0, table


def _late_copy_of_an_order(settings: Settings, replace: str) -> None:
    """A second landing date repeating one demo order with some columns replaced (the newest version wins)."""
    lake = settings.lake_dir / "sales" / "orders"
    (partition,) = lake.glob("load_date=2026-11-01")
    late = lake / "load_date=2026-11-02"
    late.mkdir()
    with duckdb.connect() as con:
        con.execute(
            f"copy (select * replace ({replace}) from '{partition}/part-0.parquet' order by order_id limit 1) "
            f"to '{late}/part-0.parquet' (format parquet)"
        )


def _results(settings: Settings) -> dict[str, dict[str, object]]:
    results = json.loads((settings.data_dir / "dbt_target" / "run_results.json").read_text())["results"]
    return {r["unique_id"]: r for r in results}


def test_the_build_connection_holds_duckdb_to_the_memory_limit_setting(warehouse_copy: Settings) -> None:
    settings = replace(warehouse_copy, engine=replace(warehouse_copy.engine, duckdb_memory_limit="1GB"))
    shown = run_dbt(settings, "show", "--inline", "select current_setting('memory_limit') as memory_limit")
    assert shown.returncode == 0, shown.stdout[-3000:]
    assert "953.6 MiB" in shown.stdout, shown.stdout[-3000:]  # DuckDB shows 1 GB (10^9 bytes) in MiB


@pytest.mark.slow
def test_a_missing_exchange_rate_fails_the_build_and_names_currency_and_date(warehouse_copy: Settings) -> None:
    # an order in a currency the seed exchange_rates has no rate for: the error test on the
    # conversion model fails, and its stored failures name the currency and the date
    _late_copy_of_an_order(warehouse_copy, "'jpy' as currency, timestamptz '2026-10-30 10:00:00+00' as ordered_at")
    result = run_dbt(warehouse_copy, "build", "--select", "stg_sales__orders", "int_order_amounts")
    assert result.returncode != 0
    assert "every_amount_has_an_exchange_rate_int_order_amounts" in result.stdout
    (failed,) = [r for uid, r in _results(warehouse_copy).items() if "every_amount_has_an_exchange_rate" in uid]
    assert failed["status"] == "fail" and failed["failures"] == 1
    with connect_read_only(warehouse_copy.build_db) as con:
        stored = failed["relation_name"]
        rows = con.execute(f"select currency, amount_date, amounts_without_rate from {stored}").fetchall()
    assert [(c, str(d), n) for c, d, n in rows] == [("JPY", "2026-10-30", 1)]


@pytest.mark.slow
def test_an_unmapped_source_value_warns_with_its_count_and_does_not_block(warehouse_copy: Settings) -> None:
    # a channel no seed knows and a status spelled another way: the order is kept, its channel
    # is 'unmapped' (listed by a warning with the count), its status maps case-insensitively
    _late_copy_of_an_order(warehouse_copy, "'Teleport' as channel, ' Canceled ' as status")
    result = run_dbt(warehouse_copy, "build", "--select", "stg_sales__orders")
    assert result.returncode == 0, result.stdout[-3000:]
    statuses = {uid.split(".")[2]: (r["status"], r["failures"]) for uid, r in _results(warehouse_copy).items()}
    assert statuses["no_unmapped_values_stg_sales__orders_channel__source_channel"] == ("warn", 1)
    assert statuses["no_unmapped_values_stg_sales__orders_status__source_status"] == ("pass", 0)
    with connect_read_only(warehouse_copy.build_db) as con:
        (row,) = con.execute(
            "select source_channel, channel, source_status, status from staging.stg_sales__orders "
            "where load_date = '2026-11-02'"
        ).fetchall()
    assert row == ("Teleport", "unmapped", " Canceled ", "cancelled")
