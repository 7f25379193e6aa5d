"""The reporting contract is backed by a dbt model and a GX suite for every table."""

import json

import pytest

from cxpipe.config import REPO_ROOT
from cxpipe.reporting import PII_COLUMN_NAMES, REPORTING_TABLES


@pytest.mark.parametrize("table", REPORTING_TABLES)
def test_each_reporting_table_has_a_documented_model_and_a_suite(table: str) -> None:
    marts = REPO_ROOT / "dbt_project" / "models" / "marts"
    assert (marts / f"{table}.sql").exists()
    assert f"name: {table}" in (marts / f"{table}.yml").read_text()
    suite = json.loads((REPO_ROOT / "expectations" / "gx" / "expectations" / f"{table}.json").read_text())
    assert suite["name"] == table
    assert any(e["severity"] == "critical" for e in suite["expectations"])


def test_pii_names_cover_the_crm_pii_columns() -> None:
    from cxpipe.contracts import CUSTOMERS

    assert {c.name for c in CUSTOMERS.columns if c.pii} <= PII_COLUMN_NAMES
