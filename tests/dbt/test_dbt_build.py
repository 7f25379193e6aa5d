"""dbt build (models, seeds, data tests, unit tests) on demo data in a temporary warehouse."""

import json
from pathlib import Path

import duckdb
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
    # exposures (dashboards) are listed by dbt build but never executed: their status is no-op
    problems = {
        k: v
        for k, v in statuses.items()
        if v not in {"success", "pass"}
        and not (v == "warn" and k in warn_only)
        and not (v == "no-op" and k.startswith("exposure."))
    }
    assert not problems
    assert any(uid.startswith("unit_test.") for uid in statuses)
    assert any(uid.startswith("test.") for uid in statuses)


def test_every_reporting_table_is_built_and_not_empty(built_warehouse: Settings) -> None:
    with connect_read_only(built_warehouse.build_db) as con:
        for table in REPORTING_TABLES:
            row = con.execute(f"select count(*) from {MARTS_SCHEMA}.{table}").fetchone()
            assert row is not None and row[0] > 0, table


def test_a_failing_data_test_fails_the_build(warehouse_copy: Settings) -> None:
    # a second partition repeating an order with an impossible channel breaks accepted_values
    lake = warehouse_copy.lake_dir / "sales" / "orders"
    (partition,) = lake.glob("load_date=2026-11-01")
    late = lake / "load_date=2026-11-02"
    late.mkdir()
    with duckdb.connect() as con:
        con.execute(
            f"copy (select * replace ('teleport' as channel) from '{partition}/part-0.parquet' limit 1) "
            f"to '{late}/part-0.parquet' (format parquet)"
        )
    result = run_dbt(warehouse_copy, "build", "--select", "stg_sales__orders")
    assert result.returncode != 0
    assert "accepted_values_stg_sales__orders_channel" in result.stdout
