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
)
MARTS_SCHEMA = "marts"

#: Column names that would mean raw PII reached a reporting table.
PII_COLUMN_NAMES = frozenset({"full_name", "name", "email", "phone", "handle", "address", "customer_id"})
