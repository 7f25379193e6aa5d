"""Data contracts: what each source system must deliver, entity by entity.

The contract is data, ``dbt_project/contracts/sources.yml`` (validated against
``sources.schema.json`` beside it), read by :mod:`cxpipe.contracts.contract_file`
into :class:`Entity` and :class:`Column`. It names the landing file, its columns,
their types, whether they are required, which values are allowed (closed lists,
open lists the business owns, code standards), ranges, the key, and which columns
carry PII. The ingest step enforces it; ``docs/contracts.md`` and the dbt sources
YAML are rendered from it.

The names below are the *base* contract, for code that has no settings (the demo
generator, documentation). A deployment may override parts of it
(``CX_CONTRACT_OVERRIDES``); ingest reads the contract of the run with
:func:`cxpipe.ingest.contract.load_contract`.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from cxpipe.contracts.contract_file import CONTRACT_FILE, describe_rule, read_contract
from cxpipe.contracts.model import Column, ColumnType, Contract, ContractError, Entity, FileFormat

__all__ = [
    "BASE_CONTRACT",
    "CATEGORIES",
    "CHANNELS",
    "CUSTOMERS",
    "DBT_DATA_TYPES",
    "EMPTY_DIR",
    "ENTITIES",
    "LAKE_COLUMNS",
    "MEMBERSHIP_TIERS",
    "ORDERS",
    "ORDER_LINES",
    "PLATFORMS",
    "POSTS",
    "RESPONSES",
    "RETURNS",
    "RETURN_STATUSES",
    "ROOT_CAUSES",
    "SOURCES",
    "STORES",
    "TICKETS",
    "TICKET_CHANNELS",
    "TOUCHPOINTS",
    "Column",
    "ColumnType",
    "Contract",
    "ContractError",
    "Entity",
    "FileFormat",
    "entities_of",
    "render_dbt_sources",
    "render_markdown",
]

#: The contract as shipped (``dbt_project/contracts/sources.yml``), without a deployment's overrides.
BASE_CONTRACT: Contract = read_contract(CONTRACT_FILE)

ENTITIES: tuple[Entity, ...] = BASE_CONTRACT.entities
SOURCES: tuple[str, ...] = BASE_CONTRACT.sources

ORDERS = BASE_CONTRACT.entity("sales", "orders")
ORDER_LINES = BASE_CONTRACT.entity("sales", "order_lines")
RETURNS = BASE_CONTRACT.entity("sales", "returns")
STORES = BASE_CONTRACT.entity("sales", "stores")
CUSTOMERS = BASE_CONTRACT.entity("crm", "customers")
TICKETS = BASE_CONTRACT.entity("crm", "tickets")
RESPONSES = BASE_CONTRACT.entity("surveys", "responses")
POSTS = BASE_CONTRACT.entity("social", "posts")


def _known(entity: Entity, column: str) -> tuple[str, ...]:
    return entity.column(column).known or ()


#: The values each open list of the base contract knows (the demo generator draws from them).
CHANNELS = _known(ORDERS, "channel")
TICKET_CHANNELS = _known(TICKETS, "channel")
MEMBERSHIP_TIERS = _known(CUSTOMERS, "membership_tier")
TOUCHPOINTS = _known(RESPONSES, "touchpoint")
PLATFORMS = _known(POSTS, "platform")
CATEGORIES = _known(ORDER_LINES, "category")
RETURN_STATUSES = _known(RETURNS, "status")
#: Complaint root causes the business reports on; ``other`` is the classifier's fallback.
ROOT_CAUSES = (
    "late_delivery",
    "damaged",
    "missing_parts",
    "assembly",
    "stock_out",
    "price_billing",
    "staff",
    "returns_refunds",
    "website_app",
    "product_quality",
    "communication",
    "other",
)


def entities_of(source: str) -> Sequence[Entity]:
    """The entities one source delivers in the base contract; raises for an unknown source."""
    return BASE_CONTRACT.entities_of(source)


def render_markdown(contract: Contract | None = None) -> str:
    """docs/contracts.md: what each source system must deliver (kept in sync by a test)."""
    contract = contract or BASE_CONTRACT
    lines = [
        "# Source contracts",
        "",
        "Generated from `dbt_project/contracts/sources.yml` by `cxpipe contracts > docs/contracts.md`;",
        "a test fails when this file and the contract disagree. A deployment changes the contract",
        "without code through `CX_CONTRACT_OVERRIDES` (see [sources.md](sources.md#overriding-the-contract)).",
        "",
        "Files land in `landing/<source>/<YYYY-MM-DD>/<file>`. CSV files have a header row; JSONL",
        "files hold one JSON object per line. A missing required *column* fails the load of that",
        "file; a bad *value* sends its row to quarantine with the reason. Columns not listed here",
        "are loaded and reported as schema drift. PII columns are replaced by a keyed hash",
        "(`CX_PII_KEY`) before they reach the lake; in free-text columns, e-mail addresses and",
        "phone numbers are masked.",
        "",
        "Values: a *closed* list rejects anything else; an *open* list (the business's own",
        "statuses, channels, categories…) loads any non-empty value and counts the ones it does",
        "not know in the load audit (`unknown_values`), to be mapped in dbt. Currency codes must",
        "be ISO 4217 (upper-cased; others are quarantined: amounts in an unknown currency cannot",
        "be converted). Countries become ISO 3166-1 alpha-2 codes, from codes or English names",
        "(`United Kingdom`, `EIRE`, `GBR` → `GB`); a value no country has (`Channel Islands`)",
        "loads as given and is counted, and the `country_regions` seed can map it. Amounts and",
        "quantities may be negative (credit notes, cancellations, refunds), within the bounds",
        "shown. Timestamps are ISO 8601 unless the source declares `timestamp_formats`; those",
        "with an offset keep it, those without one are in the source's timezone (UTC unless",
        "overridden), and all are stored in UTC, to the microsecond: a finer fraction of a second",
        "(`10:00:00.123456789`) is cut to microseconds (`10:00:00.123456`), as most warehouses",
        "do. Relative words (`now`, `today`) are never read as times, not even by a declared",
        "format. A timestamp or date must lie within the window shown around the load date",
        "(days before … days after; `days_before_load`, `days_after_load`), and one shown as",
        "*not before* another column must not be earlier than it (a ticket resolved before it was",
        "created is quarantined: its durations would be negative). An empty value is",
        "missing; words such as `NULL` are missing only where the source declares them",
        "(`null_values` in the overrides), as such a word may be a value elsewhere. Numbers must be plain",
        "finite decimals written with the ASCII digits 0-9 (`٣` or `３` is not a number), with a",
        "decimal point unless the source declares `decimal_mark: ','` (`12,50`; CSV files), and",
        "ungrouped unless it declares a `thousands_separator` (`1,234.50`); a CSV",
        "file's fields are separated by commas unless the source declares another `delimiter`; control",
        "characters, and the private-use characters U+F700-U+F7FF that stand for undecodable",
        "bytes, quarantine their row. [bad-input.md](bad-input.md) lists what ingest does with",
        "bad input.",
    ]
    for entity in contract.entities:
        lines += [
            "",
            f"## {entity.source}.{entity.name}",
            "",
            f"{entity.description} File: `{entity.file_name}`; key: `{entity.key}`"
            + (f"; event time: `{entity.event_column}`" if entity.event_column else "")
            + ("; optional (a missing file loads as empty)." if entity.optional else "."),
            "",
            "| column | type | required | allowed values / range | PII | description |",
            "|---|---|---|---|---|---|",
        ]
        for col in entity.columns:
            rule = describe_rule(col)
            if col.minimum is not None or col.maximum is not None:
                low = "" if col.minimum is None else f"{col.minimum:g}"
                high = "" if col.maximum is None else f"{col.maximum:g}"
                rule = f"{low} … {high}".strip()
            if col.type in ("timestamp", "date"):
                rule = f"load date −{col.days_before_load} … +{col.days_after_load} days"
                if col.not_before is not None:
                    rule += f", not before `{col.not_before}`"
            lines.append(
                f"| `{col.name}` | {col.type} | {'yes' if col.required else 'no'} | {rule} "
                f"| {'hashed' if col.pii else 'masked in text' if col.free_text else ''} | {col.description} |"
            )
    return "\n".join(lines) + "\n"


#: The DuckDB type each contract type has in the lake's Parquet files.
DBT_DATA_TYPES: dict[str, str] = {
    "string": "varchar",
    "integer": "bigint",
    "number": "double",
    "timestamp": "timestamp with time zone",
    "date": "date",
    "boolean": "boolean",
}
#: Folder of the lake (``lake/_empty/<source>/<entity>.parquet``) with an empty, typed file per entity
#: (written by ``cxpipe.warehouse.prepare_build``): what dbt reads for a source the deployment does not
#: have (``CX_SOURCES``), so the models build with that source empty.
EMPTY_DIR = "_empty"

#: Columns the ingest step adds to every lake table.
LAKE_COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("_source_file", "varchar", "Landing file the row came from."),
    ("_source_row", "bigint", "Physical line in that file where the row starts (the header is line 1)."),
    ("load_date", "date", "Landing date of the partition (hive partition column)."),
)


def _yaml_text(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


def render_dbt_sources(contract: Contract | None = None) -> str:
    """dbt_project/models/staging/_sources.yml: the lake tables, column by column."""
    contract = contract or BASE_CONTRACT
    lines = [
        "version: 2",
        "",
        "# Generated from dbt_project/contracts/sources.yml by `cxpipe contracts --format dbt`;",
        "# a test fails when a table's columns and the contract disagree.",
        "# The lake written by cxpipe's ingest step: one Parquet partition per landing date.",
        "# PII columns arrive already replaced by keyed hashes.",
        "sources:",
    ]
    lake = '{{ env_var("CX_LAKE_DIR", "../data/lake") }}'
    for source in contract.sources:
        lines += [
            f"  - name: {source}",
            f"    description: {_yaml_text(contract.description(source))}",
            "    meta:",
            "      external_location: >-",
            f'        {{% if "{source}" in env_var("CX_SOURCES", "{",".join(contract.sources)}").split(",") %}}',
            f"        read_parquet('{lake}/{source}/{{name}}/*/*.parquet',",
            "        hive_partitioning = true, union_by_name = true)",
            f"        {{% else %}}read_parquet('{lake}/{EMPTY_DIR}/{source}/{{name}}.parquet')",
            "        {% endif %}",
            "    tables:",
        ]
        for entity in contract.entities_of(source):
            lines += [
                f"      - name: {entity.name}",
                f"        description: {_yaml_text(entity.description)}",
                "        columns:",
            ]
            for col in entity.columns:
                description = col.description or col.name.replace("_", " ").capitalize() + "."
                if col.pii:
                    description += " Pseudonymised (keyed hash)."
                lines += [
                    f"          - name: {col.name}",
                    f"            data_type: {DBT_DATA_TYPES[col.type]}",
                    f"            description: {_yaml_text(description)}",
                ]
                if col.name == entity.key:
                    lines.append("            data_tests: [not_null]")
            for name, data_type, description in LAKE_COLUMNS:
                lines += [
                    f"          - name: {name}",
                    f"            data_type: {data_type}",
                    f"            description: {_yaml_text(description)}",
                ]
        lines.append("")
    return "\n".join(lines)
