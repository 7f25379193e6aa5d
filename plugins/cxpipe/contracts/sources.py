"""Data contracts: what each source system must deliver, entity by entity.

A contract names the landing file, its columns, their types, whether they are
required, which values are allowed, the key, and which columns carry PII. The
ingest step enforces it; ``docs/contracts.md`` is rendered from it; the dbt
sources YAML mirrors it.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

ColumnType = Literal["string", "integer", "number", "timestamp", "date", "boolean"]
FileFormat = Literal["csv", "jsonl"]


@dataclass(frozen=True)
class Column:
    name: str
    type: ColumnType
    required: bool = True
    description: str = ""
    allowed: tuple[str, ...] | None = None
    minimum: float | None = None
    maximum: float | None = None
    #: PII is replaced by a keyed hash before it reaches the lake.
    pii: bool = False
    #: Free text written by customers: e-mail addresses and phone numbers in it are masked.
    free_text: bool = False


@dataclass(frozen=True)
class Entity:
    source: str
    name: str
    file_format: FileFormat
    key: str
    columns: tuple[Column, ...]
    description: str = ""
    #: The column that says when the row's event happened; rows older than their landing
    #: date are counted as late in the load audit (they are loaded all the same).
    event_column: str | None = None

    @property
    def file_name(self) -> str:
        return f"{self.name}.{self.file_format}"

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def required_columns(self) -> list[str]:
        return [c.name for c in self.columns if c.required]

    def column(self, name: str) -> Column:
        for col in self.columns:
            if col.name == name:
                return col
        raise KeyError(f"{self.source}.{self.name} has no column {name!r}")


CHANNELS = ("store", "web", "app", "phone")
TICKET_CHANNELS = ("phone", "email", "chat", "store", "social")
MEMBERSHIP_TIERS = ("none", "member", "silver", "gold")
TOUCHPOINTS = ("delivery", "store_visit", "web_shop", "app", "customer_service", "returns")
PLATFORMS = ("twitter", "facebook", "instagram", "trustpilot", "weibo", "vk")
CATEGORIES = ("sofas", "beds", "storage", "tables", "chairs", "kitchen", "lighting", "textiles", "decor", "outdoor")
RETURN_STATUSES = ("requested", "refunded", "rejected")
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


def _c(name: str, type_: ColumnType, required: bool = True, **kw: object) -> Column:
    return Column(name, type_, required, **kw)  # type: ignore[arg-type]


ORDERS = Entity(
    source="sales",
    name="orders",
    file_format="csv",
    key="order_id",
    event_column="ordered_at",
    description="One row per customer order, from the point-of-sale and web-shop systems.",
    columns=(
        _c("order_id", "string", description="Order number, unique across channels."),
        _c("customer_id", "string", False, pii=True, description="CRM customer id; empty for guests."),
        _c("channel", "string", allowed=CHANNELS, description="Where the order was placed."),
        _c("store_id", "string", False, description="Store that sold or fulfils the order."),
        _c("country", "string", description="ISO 3166-1 alpha-2 country of the order."),
        _c("city", "string", False),
        _c("ordered_at", "timestamp", description="When the order was placed (UTC or with offset)."),
        _c("promised_date", "date", False, description="Delivery date promised to the customer."),
        _c("delivered_at", "timestamp", False, description="When the goods reached the customer."),
        _c("status", "string", allowed=("placed", "delivered", "cancelled", "returned")),
        _c("order_total", "number", minimum=0, description="Amount charged, in currency units."),
        _c("currency", "string", allowed=("EUR", "GBP", "CNY", "RUB", "SEK", "USD")),
    ),
)

ORDER_LINES = Entity(
    source="sales",
    name="order_lines",
    file_format="csv",
    key="line_id",
    description="One row per product on an order: price shown and charged, stock promised and fulfilled.",
    columns=(
        _c("line_id", "string", description="Line number, unique across orders."),
        _c("order_id", "string", description="The order this line belongs to."),
        _c("product_id", "string"),
        _c("category", "string", allowed=CATEGORIES),
        _c("quantity", "integer", minimum=1, description="Units ordered."),
        _c("qty_fulfilled", "integer", False, minimum=0, description="Units delivered or handed over."),
        _c("stock_promised", "boolean", False, description="Shown as in stock when the customer ordered."),
        _c("shown_price", "number", minimum=0, description="Unit price shown to the customer."),
        _c("unit_price", "number", minimum=0, description="Unit price charged, before the line discount."),
        _c("discount", "number", False, minimum=0, description="Discount on the line, in currency units."),
    ),
)

RETURNS = Entity(
    source="sales",
    name="returns",
    file_format="csv",
    key="return_id",
    event_column="requested_at",
    description="Returns of goods, possibly through another channel than the purchase.",
    columns=(
        _c("return_id", "string"),
        _c("order_id", "string", description="The order the goods were bought with."),
        _c("line_id", "string", False, description="The returned line, when known."),
        _c("customer_id", "string", False, pii=True),
        _c("return_channel", "string", allowed=CHANNELS, description="Where the goods were returned."),
        _c("requested_at", "timestamp", description="When the customer asked to return."),
        _c("refunded_at", "timestamp", False, description="When the refund was paid."),
        _c("status", "string", allowed=RETURN_STATUSES),
        _c("reason", "string", False, free_text=True, description="Reason the customer gave (free text or a code)."),
        _c("refund_amount", "number", False, minimum=0),
    ),
)

STORES = Entity(
    source="sales",
    name="stores",
    file_format="csv",
    key="store_id",
    description="Store master: where each store is. Lands in full whenever it changes; empty file otherwise.",
    columns=(
        _c("store_id", "string"),
        _c("store_name", "string"),
        _c("country", "string", description="ISO 3166-1 alpha-2."),
        _c("city", "string"),
        _c("opened_date", "date", False),
    ),
)

CUSTOMERS = Entity(
    source="crm",
    name="customers",
    file_format="csv",
    key="customer_id",
    event_column="updated_at",
    description="CRM customer master: membership, geography, demographics and consent.",
    columns=(
        _c("customer_id", "string", pii=True),
        _c("full_name", "string", False, pii=True),
        _c("email", "string", False, pii=True),
        _c("phone", "string", False, pii=True),
        _c("birth_year", "integer", False, minimum=1900, maximum=2015),
        _c("country", "string"),
        _c("city", "string", False),
        _c("membership_tier", "string", allowed=MEMBERSHIP_TIERS),
        _c("points", "integer", False, minimum=0),
        _c("signup_date", "date"),
        _c("marketing_consent", "boolean", False),
        _c("updated_at", "timestamp", description="When the CRM record last changed (tier, points, address)."),
    ),
)

TICKETS = Entity(
    source="crm",
    name="tickets",
    file_format="jsonl",
    key="ticket_id",
    event_column="created_at",
    description="Customer-service tickets from every contact channel.",
    columns=(
        _c("ticket_id", "string"),
        _c("customer_id", "string", False, pii=True),
        _c("order_id", "string", False),
        _c("channel", "string", allowed=TICKET_CHANNELS),
        _c("created_at", "timestamp"),
        _c("first_response_at", "timestamp", False),
        _c("resolved_at", "timestamp", False),
        _c("reopen_count", "integer", False, minimum=0),
        _c("text", "string", free_text=True, description="What the customer wrote or said (free text)."),
    ),
)

RESPONSES = Entity(
    source="surveys",
    name="responses",
    file_format="csv",
    key="response_id",
    event_column="responded_at",
    description="Survey answers after a touchpoint: CSAT, NPS, CES and a comment.",
    columns=(
        _c("response_id", "string"),
        _c("customer_id", "string", False, pii=True),
        _c("order_id", "string", False),
        _c("touchpoint", "string", allowed=TOUCHPOINTS),
        _c("channel", "string", allowed=CHANNELS),
        _c("responded_at", "timestamp"),
        _c("csat", "integer", False, minimum=1, maximum=5, description="1 (very unsatisfied) to 5."),
        _c("nps", "integer", False, minimum=0, maximum=10, description="Likelihood to recommend, 0-10."),
        _c("ces", "integer", False, minimum=1, maximum=7, description="Customer effort, 7 = very easy."),
        _c("comment", "string", False, free_text=True, description="What the customer wrote (free text)."),
    ),
)

POSTS = Entity(
    source="social",
    name="posts",
    file_format="jsonl",
    key="post_id",
    event_column="posted_at",
    description="Social-media posts and reviews that mention the retailer, in any language.",
    columns=(
        _c("post_id", "string"),
        _c("platform", "string", allowed=PLATFORMS),
        _c("kind", "string", allowed=("post", "review")),
        _c("handle", "string", False, pii=True),
        _c("customer_id", "string", False, pii=True),
        _c("posted_at", "timestamp"),
        _c("text", "string", free_text=True, description="The post or review as written, any language."),
        _c("rating", "integer", False, minimum=1, maximum=5, description="Stars, for reviews."),
    ),
)

ENTITIES: tuple[Entity, ...] = (ORDERS, ORDER_LINES, RETURNS, STORES, CUSTOMERS, TICKETS, RESPONSES, POSTS)
SOURCES: tuple[str, ...] = ("sales", "crm", "surveys", "social")


def entities_of(source: str) -> Sequence[Entity]:
    """The entities one source delivers; raises for an unknown source."""
    found = [e for e in ENTITIES if e.source == source]
    if not found:
        raise ValueError(f"unknown source {source!r}; expected one of {', '.join(SOURCES)}")
    return found


@dataclass
class ContractError(Exception):
    """A landing file breaks its contract so badly that no row can be loaded."""

    path: str
    message: str
    hint: str = field(default="")

    def __str__(self) -> str:
        text = f"{self.path}: {self.message}"
        return f"{text}. {self.hint}" if self.hint else text


def render_markdown() -> str:
    """docs/contracts.md: what each source system must deliver (kept in sync by a test)."""
    lines = [
        "# Source contracts",
        "",
        "Generated from `plugins/cxpipe/contracts/sources.py` by `cxpipe contracts > docs/contracts.md`;",
        "a test fails when this file and the code disagree.",
        "",
        "Files land in `landing/<source>/<YYYY-MM-DD>/<file>`. CSV files are UTF-8 with a header",
        "row; JSONL files hold one JSON object per line. A missing required *column* fails the",
        "load of that file; a bad *value* sends its row to quarantine with the reason. Columns",
        "not listed here are loaded and reported as schema drift. PII columns are replaced by",
        "a keyed hash (`CX_PII_KEY`) before they reach the lake; in free-text columns, e-mail",
        "addresses and phone numbers are masked.",
    ]
    for entity in ENTITIES:
        lines += [
            "",
            f"## {entity.source}.{entity.name}",
            "",
            f"{entity.description} File: `{entity.file_name}`; key: `{entity.key}`"
            + (f"; event time: `{entity.event_column}`." if entity.event_column else "."),
            "",
            "| column | type | required | allowed values / range | PII | description |",
            "|---|---|---|---|---|---|",
        ]
        for col in entity.columns:
            rule = ", ".join(col.allowed) if col.allowed else ""
            if col.minimum is not None or col.maximum is not None:
                low = "" if col.minimum is None else f"{col.minimum:g}"
                high = "" if col.maximum is None else f"{col.maximum:g}"
                rule = f"{low} … {high}".strip()
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
#: Columns the ingest step adds to every lake table.
LAKE_COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("_source_file", "varchar", "Landing file the row came from."),
    ("_source_row", "bigint", "Physical line in that file where the row starts (the header is line 1)."),
    ("load_date", "date", "Landing date of the partition (hive partition column)."),
)
_SOURCE_DESCRIPTIONS = {
    "sales": "Point-of-sale and web-shop exports.",
    "crm": "CRM exports (PII pseudonymised by ingest).",
    "surveys": "Survey tool exports.",
    "social": "Social listening exports.",
}


def _yaml_text(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


def render_dbt_sources() -> str:
    """dbt_project/models/staging/_sources.yml: the lake tables, column by column."""
    lines = [
        "version: 2",
        "",
        "# Generated from plugins/cxpipe/contracts/sources.py by `cxpipe contracts --format dbt`;",
        "# a test fails when a table's columns and the contract disagree.",
        "# The lake written by cxpipe's ingest step: one Parquet partition per landing date.",
        "# PII columns arrive already replaced by keyed hashes.",
        "sources:",
    ]
    for source in SOURCES:
        lines += [
            f"  - name: {source}",
            f"    description: {_yaml_text(_SOURCE_DESCRIPTIONS[source])}",
            "    meta:",
            "      external_location: >-",
            f'        read_parquet(\'{{{{ env_var("CX_LAKE_DIR", "../data/lake") }}}}/{source}/{{name}}/*/*.parquet\',',
            "        hive_partitioning = true, union_by_name = true)",
            "    tables:",
        ]
        for entity in entities_of(source):
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
