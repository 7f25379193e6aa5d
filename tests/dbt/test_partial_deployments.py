"""Partial deployments (CX_SOURCES): a marketplace with sales + surveys, a service desk with CRM tickets only.

Each test ingests only the configured sources of the small demo, builds with dbt (the other sources
read as empty), runs the gate and publishes: tables the sources cannot feed are published empty, with
their reason in ``publication_log.skipped_tables``; every other table has rows and is fully checked.
"""

import json
from dataclasses import replace
from pathlib import Path

import duckdb
import pytest
from conftest import DEMO_DATE, SMALL_DEMO, run_dbt, settings_for

from cxpipe.contracts import CUSTOMERS, REPORTING_TABLES
from cxpipe.demo import generate
from cxpipe.gate import check_gate
from cxpipe.ingest import ingest_source, landing_files
from cxpipe.lake import check_lake
from cxpipe.publish import publish
from cxpipe.settings import Settings
from cxpipe.warehouse import connect_ops, prepare_build

# Builds its own warehouse (or parses the project) several times: `make test` runs it, `make test-fast` leaves it out.
pytestmark = pytest.mark.slow


def _deploy(root: Path, sources: tuple[str, ...], overrides: str = "") -> Settings:
    base = settings_for(root)
    path = None
    if overrides:
        path = root / "overrides.yml"
        path.write_text(overrides, encoding="utf-8")
    deployed: Settings = replace(base, ingest=replace(base.ingest, sources=sources, contract_overrides=path))
    return deployed


def _build_gate_publish(settings: Settings) -> tuple[dict[str, int], dict[str, str], dict[str, str]]:
    """Build, gate and publish; the published row counts, the gate's and publication_log's skipped tables."""
    for source in settings.ingest.sources:
        ingest_source(settings, source, DEMO_DATE)
    assert check_lake(settings, {})["to_date"] == DEMO_DATE.isoformat()
    prepare_build(settings, full_refresh=True)
    result = run_dbt(settings, "build")
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    gate = check_gate(settings)
    assert gate.passed
    publication = publish(settings, gate_status="passed", gate_checks=gate.checks_run)
    assert publication.skipped_tables == gate.skipped_tables
    with duckdb.connect(str(settings.reporting_db), read_only=True) as con:
        counts = {t: con.execute(f'select count(*) from main."{t}"').fetchone()[0] for t in REPORTING_TABLES}  # type: ignore[index]
        logged = con.execute("select skipped_tables from publication_log").fetchone()[0]  # type: ignore[index]
    with connect_ops(settings.warehouse_dir) as ops:
        attempt = ops.execute("select skipped_tables from publication_log where status = 'published'").fetchone()
    assert attempt is not None and json.loads(attempt[0]) == json.loads(logged)
    skipped_checks = {c.table: c.skipped for c in gate.checks if c.skipped}
    assert skipped_checks == gate.skipped_tables
    return counts, gate.skipped_tables, json.loads(logged)


def test_a_marketplace_with_sales_and_surveys_only_publishes(tmp_path: Path) -> None:
    settings = _deploy(tmp_path, ("sales", "surveys"))
    generate(settings.landing_dir, SMALL_DEMO)
    counts, skipped, logged = _build_gate_publish(settings)

    assert logged == skipped
    assert set(skipped) == {"service_recovery"}
    assert "crm.tickets" in skipped["service_recovery"] and "sales, surveys" in skipped["service_recovery"]
    assert all(counts[t] == 0 for t in skipped)
    # surveys feed the complaint tables (low scores with a comment): they have rows and are checked;
    # without a CRM, customer_segments holds the customers of the orders
    assert all(counts[t] > 0 for t in REPORTING_TABLES if t not in skipped), counts
    with duckdb.connect(str(settings.build_db), read_only=True) as con:
        customers = con.execute("select count(distinct customer_key) from staging.stg_sales__orders").fetchone()
    assert customers is not None and counts["customer_segments"] == customers[0]
    assert not (settings.lake_dir / "crm").exists()  # the lake holds no partition of a source it does not have


def test_a_service_desk_with_crm_tickets_only_and_no_customers_publishes(tmp_path: Path) -> None:
    settings = _deploy(tmp_path, ("crm",), "sources:\n  crm:\n    entities:\n      customers: {optional: true}\n")
    generate(settings.landing_dir, SMALL_DEMO)
    for path in landing_files(settings, CUSTOMERS, DEMO_DATE):
        path.unlink()
    counts, skipped, logged = _build_gate_publish(settings)

    assert logged == skipped
    assert set(skipped) == {"customer_segments", "expectation_levels"}
    assert "optional" in skipped["customer_segments"]
    assert all(counts[t] == 0 for t in skipped)
    assert all(counts[t] > 0 for t in REPORTING_TABLES if t not in skipped), counts
    assert counts["service_recovery"] > 0 and counts["expectation_gap"] > 0  # ticket response-time promises
