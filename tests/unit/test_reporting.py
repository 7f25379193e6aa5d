"""The reporting contract is backed by a dbt model and a GX suite for every table."""

import json

import pytest

from cxpipe.contracts import PII_COLUMN_NAMES, REPORTING_TABLES
from cxpipe.settings import REPO_ROOT


@pytest.mark.parametrize("table", REPORTING_TABLES)
def test_each_reporting_table_has_a_documented_model_and_a_suite(table: str) -> None:
    (marts,) = {p.parent for p in (REPO_ROOT / "dbt_project" / "models" / "marts").glob(f"*/{table}.sql")}
    assert (marts / f"{table}.sql").exists()
    assert f"name: {table}" in (marts / f"{table}.yml").read_text()
    suite = json.loads((REPO_ROOT / "expectations" / "gx" / "expectations" / f"{table}.json").read_text())
    assert suite["name"] == table
    assert any(e["severity"] == "critical" for e in suite["expectations"])


def test_pii_names_cover_the_crm_pii_columns() -> None:
    from cxpipe.contracts import CUSTOMERS

    assert {c.name for c in CUSTOMERS.columns if c.pii} <= PII_COLUMN_NAMES


@pytest.mark.parametrize("table", REPORTING_TABLES)
def test_each_suite_checks_row_counts_keys_and_has_its_checkpoint(table: str) -> None:
    gx_dir = REPO_ROOT / "expectations" / "gx"
    suite = json.loads((gx_dir / "expectations" / f"{table}.json").read_text())
    types = {e["type"] for e in suite["expectations"] if e["severity"] == "critical"}
    assert "expect_table_row_count_to_be_between" in types
    (row_count,) = [e for e in suite["expectations"] if e["type"] == "expect_table_row_count_to_be_between"]
    events = suite["meta"].get("cxpipe", {}).get("events", False)
    # only a table of events (alerts) may be empty; it then has no freshness or drift check
    assert row_count["kwargs"]["min_value"] == (0 if events else 1), table
    assert events == (table == "complaint_alerts")
    assert not (events and {"freshness", "drift_metric"} & set(suite["meta"]["cxpipe"]))
    assert types & {"expect_column_values_to_be_unique", "expect_compound_columns_to_be_unique"}
    assert "expect_column_values_to_not_be_null" in types
    assert json.loads((gx_dir / "validation_definitions" / f"{table}.json").read_text())["suite"]["name"] == table
    assert json.loads((gx_dir / "checkpoints" / f"{table}.json").read_text())["name"] == table


@pytest.mark.parametrize("table", REPORTING_TABLES)
def test_generic_checks_of_a_suite_name_columns_of_the_model(table: str) -> None:
    from cxpipe.gate import DRIFT_AGGREGATES, table_config
    from cxpipe.settings import load_settings

    config = table_config(load_settings(), table)
    (marts,) = {p.parent for p in (REPO_ROOT / "dbt_project" / "models" / "marts").glob(f"*/{table}.sql")}
    model_yaml = (marts / f"{table}.yml").read_text()
    model_sql = (marts / f"{table}.sql").read_text()
    for key in ("freshness", "shares", "drift_metric"):
        if key in config:
            column = config[key]["column"]
            assert column in model_yaml or column in model_sql, f"{table}: {key} names unknown column {column}"
    if "drift_metric" in config:
        assert config["drift_metric"].get("agg", "avg") in DRIFT_AGGREGATES


@pytest.mark.parametrize("table", [t for t in REPORTING_TABLES if t != "complaint_alerts"])
def test_each_suite_but_the_events_declares_the_freshness_of_its_newest_data(table: str) -> None:
    suite = json.loads((REPO_ROOT / "expectations" / "gx" / "expectations" / f"{table}.json").read_text())
    freshness = suite["meta"]["cxpipe"]["freshness"]
    assert freshness["column"] and int(freshness["max_age_days"]) > 0


# ------------------------------------------------------------------ which sources feed which table


def test_every_reporting_table_declares_the_entities_it_needs() -> None:
    from cxpipe.contracts import ENTITIES, TABLE_SOURCES

    assert set(TABLE_SOURCES) == set(REPORTING_TABLES)
    known = {f"{e.source}.{e.name}" for e in ENTITIES}
    assert all(groups and all(group and set(group) <= known for group in groups) for groups in TABLE_SOURCES.values())


def test_every_source_feeds_every_table_when_all_are_configured() -> None:
    from cxpipe.contracts import SOURCES, tables_allowed_empty

    assert tables_allowed_empty(SOURCES) == {}


def test_a_marketplace_without_crm_publishes_recovery_empty_and_segments_from_its_orders() -> None:
    from cxpipe.contracts import tables_allowed_empty

    reasons = tables_allowed_empty(("sales", "surveys"))
    assert set(reasons) == {"service_recovery"}  # the customers of its orders have segments
    assert reasons["service_recovery"] == "needs crm.tickets; the deployment's sources are sales, surveys"


def test_segments_need_a_customer_master_or_orders() -> None:
    from cxpipe.contracts import tables_allowed_empty

    reasons = tables_allowed_empty(("surveys", "social"))
    assert reasons["customer_segments"] == (
        "needs any of crm.customers, sales.orders; the deployment's sources are surveys, social"
    )
    # orders delivered, customers optional and absent: the orders' customers still have segments
    assert "customer_segments" not in tables_allowed_empty(("crm", "sales"), optional=("crm.customers",))
    both_optional = tables_allowed_empty(("crm", "sales"), optional=("crm.customers", "sales.orders"))
    assert both_optional["customer_segments"] == (
        "needs any of crm.customers, sales.orders, optional in the contract and delivered none"
    )


def test_a_tickets_only_desk_without_customers() -> None:
    from cxpipe.contracts import tables_allowed_empty

    reasons = tables_allowed_empty(("crm",), optional=("crm.customers",))
    assert set(reasons) == {"customer_segments", "expectation_levels"}  # tickets carry response-time promises
    assert "optional" in reasons["customer_segments"]
    assert reasons["expectation_levels"].startswith("needs sales.orders")
    # with customers delivered (not optional), the segments must have rows
    assert "customer_segments" not in tables_allowed_empty(("crm",))


@pytest.mark.parametrize(
    ("sources", "must_have_rows"),
    [
        (("social",), {"complaints", "complaint_root_causes", "complaint_alerts", "satisfaction_index"}),
        (("surveys",), {"complaints", "satisfaction_index", "segment_summary"}),
        (("sales",), {"customer_segments", "expectation_gap", "satisfaction_index", "segment_summary"}),
    ],
)
def test_tables_a_configured_source_feeds_are_never_allowed_empty(
    sources: tuple[str, ...], must_have_rows: set[str]
) -> None:
    from cxpipe.contracts import tables_allowed_empty

    assert not must_have_rows & set(tables_allowed_empty(sources))


def test_the_model_of_a_reporting_table_is_its_latest_version() -> None:
    from cxpipe.contracts import dbt_model_id

    def model(version: int) -> dict[str, object]:
        return {"resource_type": "model", "name": "satisfaction_index", "version": version, "latest_version": 2}

    nodes = {"model.cxpipe.satisfaction_index.v1": model(1), "model.cxpipe.satisfaction_index.v2": model(2)}
    manifest = {"nodes": nodes}
    assert dbt_model_id(manifest, "satisfaction_index") == "model.cxpipe.satisfaction_index.v2"
    unversioned = {"nodes": {"model.cxpipe.complaints": {"resource_type": "model", "name": "complaints"}}}
    assert dbt_model_id(unversioned, "complaints") == "model.cxpipe.complaints"
    with pytest.raises(KeyError, match="has no dbt model"):
        dbt_model_id(manifest, "complaints")
