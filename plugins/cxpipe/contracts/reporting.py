"""The reporting contract: which tables BI tools read, and where they come from."""

from __future__ import annotations

#: Reporting tables, built by dbt in the ``marts`` schema of the build warehouse.
REPORTING_TABLES: tuple[str, ...] = (
    "customer_segments",
    "segment_summary",
    "satisfaction_index",
    "expectation_gap",
    "expectation_levels",
    "complaint_root_causes",
    "complaints",
    "complaint_alerts",
    "service_recovery",
)
MARTS_SCHEMA = "marts"

#: Column names that would mean raw PII reached a reporting table.
PII_COLUMN_NAMES = frozenset({"full_name", "name", "email", "phone", "handle", "address", "customer_id"})


def dbt_model_id(manifest: dict[str, object], table: str) -> str:
    """The manifest's unique id of the dbt model that builds reporting table ``table``."""
    nodes = manifest.get("nodes")
    if not isinstance(nodes, dict):
        raise TypeError("manifest.json has no nodes: run dbt parse or dbt build")
    for unique_id, node in nodes.items():
        if node.get("resource_type") == "model" and node.get("name") == table:
            return str(unique_id)
    raise KeyError(f"reporting table {table!r} has no dbt model in the manifest: add models/marts/<domain>/{table}.sql")


#: Column added to every published reporting table: the publication its rows belong to.
PUBLICATION_ID_COLUMN = "publication_id"
