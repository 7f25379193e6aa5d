"""cxpipe.contracts.contract_file: the contract as YAML, its JSON Schema, and a deployment's overrides."""

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from cxpipe.contracts import (
    BASE_CONTRACT,
    CATEGORIES,
    CHANNELS,
    CONTRACT_FILE,
    ENTITIES,
    MEMBERSHIP_TIERS,
    PLATFORMS,
    RETURN_STATUSES,
    SCHEMA_FILE,
    SOURCES,
    TICKET_CHANNELS,
    TOUCHPOINTS,
    ContractError,
    read_contract,
)

# The contract as plugins/cxpipe/contracts/sources.py defined it in code before it became a
# file: (file, key, event column) and (column, type, required, PII, free text) of every entity.
BEFORE: dict[str, tuple[tuple[str, str, str | None], list[tuple[str, str, bool, bool, bool]]]] = {
    "sales.orders": (
        ("orders.csv", "order_id", "ordered_at"),
        [
            ("order_id", "string", True, False, False),
            ("customer_id", "string", False, True, False),
            ("channel", "string", True, False, False),
            ("store_id", "string", False, False, False),
            ("country", "string", True, False, False),
            ("city", "string", False, False, False),
            ("ordered_at", "timestamp", True, False, False),
            ("promised_date", "date", False, False, False),
            ("delivered_at", "timestamp", False, False, False),
            ("status", "string", True, False, False),
            ("order_total", "number", True, False, False),
            ("currency", "string", True, False, False),
        ],
    ),
    "sales.order_lines": (
        ("order_lines.csv", "line_id", None),
        [
            ("line_id", "string", True, False, False),
            ("order_id", "string", True, False, False),
            ("product_id", "string", True, False, False),
            ("category", "string", True, False, False),
            ("quantity", "integer", True, False, False),
            ("qty_fulfilled", "integer", False, False, False),
            ("stock_promised", "boolean", False, False, False),
            ("shown_price", "number", True, False, False),
            ("unit_price", "number", True, False, False),
            ("discount", "number", False, False, False),
        ],
    ),
    "sales.returns": (
        ("returns.csv", "return_id", "requested_at"),
        [
            ("return_id", "string", True, False, False),
            ("order_id", "string", True, False, False),
            ("line_id", "string", False, False, False),
            ("customer_id", "string", False, True, False),
            ("return_channel", "string", True, False, False),
            ("requested_at", "timestamp", True, False, False),
            ("refunded_at", "timestamp", False, False, False),
            ("status", "string", True, False, False),
            ("reason", "string", False, False, True),
            ("refund_amount", "number", False, False, False),
        ],
    ),
    "sales.stores": (
        ("stores.csv", "store_id", None),
        [
            ("store_id", "string", True, False, False),
            ("store_name", "string", True, False, False),
            ("country", "string", True, False, False),
            ("city", "string", True, False, False),
            ("opened_date", "date", False, False, False),
        ],
    ),
    "crm.customers": (
        ("customers.csv", "customer_id", "updated_at"),
        [
            ("customer_id", "string", True, True, False),
            ("full_name", "string", False, True, False),
            ("email", "string", False, True, False),
            ("phone", "string", False, True, False),
            ("birth_year", "integer", False, False, False),
            ("country", "string", True, False, False),
            ("city", "string", False, False, False),
            ("membership_tier", "string", True, False, False),
            ("points", "integer", False, False, False),
            ("signup_date", "date", True, False, False),
            ("marketing_consent", "boolean", False, False, False),
            ("updated_at", "timestamp", True, False, False),
        ],
    ),
    "crm.tickets": (
        ("tickets.jsonl", "ticket_id", "created_at"),
        [
            ("ticket_id", "string", True, False, False),
            ("customer_id", "string", False, True, False),
            ("order_id", "string", False, False, False),
            ("channel", "string", True, False, False),
            ("created_at", "timestamp", True, False, False),
            ("first_response_at", "timestamp", False, False, False),
            ("resolved_at", "timestamp", False, False, False),
            ("reopen_count", "integer", False, False, False),
            ("text", "string", True, False, True),
        ],
    ),
    "surveys.responses": (
        ("responses.csv", "response_id", "responded_at"),
        [
            ("response_id", "string", True, False, False),
            ("customer_id", "string", False, True, False),
            ("order_id", "string", False, False, False),
            ("touchpoint", "string", True, False, False),
            ("channel", "string", True, False, False),
            ("responded_at", "timestamp", True, False, False),
            ("csat", "integer", False, False, False),
            ("nps", "integer", False, False, False),
            ("ces", "integer", False, False, False),
            ("comment", "string", False, False, True),
        ],
    ),
    "social.posts": (
        ("posts.jsonl", "post_id", "posted_at"),
        [
            ("post_id", "string", True, False, False),
            ("platform", "string", True, False, False),
            ("kind", "string", True, False, False),
            ("handle", "string", False, True, False),
            ("customer_id", "string", False, True, False),
            ("posted_at", "timestamp", True, False, False),
            ("text", "string", True, False, True),
            ("rating", "integer", False, False, False),
        ],
    ),
}


def _document() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(CONTRACT_FILE.read_text(encoding="utf-8"))
    return data


def _broken(tmp_path: Path, document: object) -> ContractError:
    path = tmp_path / "sources.yml"
    path.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    with pytest.raises(ContractError) as caught:
        read_contract(path)
    assert caught.value.path == str(path)
    return caught.value


def _overridden(tmp_path: Path, text: str) -> Any:
    path = tmp_path / "overrides.yml"
    path.write_text(text, encoding="utf-8")
    return read_contract(CONTRACT_FILE, path)


def _col(source: str, entity: str, column: str, change: str) -> str:
    """An override file that changes one column."""
    return f"sources:\n  {source}:\n    entities:\n      {entity}:\n        columns:\n          {column}: {change}\n"


def _override_error(tmp_path: Path, text: str) -> ContractError:
    with pytest.raises(ContractError) as caught:
        _overridden(tmp_path, text)
    assert caught.value.path == str(tmp_path / "overrides.yml")
    return caught.value


# ------------------------------------------------------------------ the base contract


def test_the_yaml_contract_equals_what_the_code_defined_before() -> None:
    assert SOURCES == ("sales", "crm", "surveys", "social")
    loaded = {
        f"{e.source}.{e.name}": (
            (e.file_name, e.key, e.event_column),
            [(c.name, c.type, c.required, c.pii, c.free_text) for c in e.columns],
        )
        for e in ENTITIES
    }
    assert loaded == BEFORE
    assert list(loaded) == list(BEFORE)  # same order: lake schemas and dbt sources follow it
    assert all(e.file_format == e.file_name.rsplit(".", 1)[1] for e in ENTITIES)
    assert all(e.timezone == "UTC" and not e.optional for e in ENTITIES)
    # only the CRM declares a format besides ISO 8601: its year-first dates with slashes
    assert {e.source: e.timestamp_formats for e in ENTITIES if e.timestamp_formats} == {"crm": ("%Y/%m/%d",)}


def test_the_lists_of_values_are_the_ones_the_code_had() -> None:
    assert CHANNELS == ("store", "web", "app", "phone")
    assert TICKET_CHANNELS == ("phone", "email", "chat", "store", "social")
    assert MEMBERSHIP_TIERS == ("none", "member", "silver", "gold")
    assert TOUCHPOINTS == ("delivery", "store_visit", "web_shop", "app", "customer_service", "returns")
    assert PLATFORMS == ("twitter", "facebook", "instagram", "trustpilot", "weibo", "vk")
    assert CATEGORIES[:3] == ("sofas", "beds", "storage") and len(CATEGORIES) == 10
    assert RETURN_STATUSES == ("requested", "refunded", "rejected")
    orders = BASE_CONTRACT.entity("sales", "orders")
    assert orders.column("status").known == ("placed", "delivered", "cancelled", "returned")
    assert BASE_CONTRACT.entity("social", "posts").column("kind").allowed == ("post", "review")


def test_business_lists_are_open_and_standards_closed() -> None:
    open_columns = {f"{e.source}.{e.name}.{c.name}" for e in ENTITIES for c in e.columns if c.is_open}
    assert open_columns == {
        "sales.orders.channel",
        "sales.orders.status",
        "sales.order_lines.category",
        "sales.returns.return_channel",
        "sales.returns.status",
        "crm.customers.membership_tier",
        "crm.tickets.channel",
        "surveys.responses.touchpoint",
        "surveys.responses.channel",
        "social.posts.platform",
    }
    standards = {f"{e.source}.{e.name}.{c.name}": c.standard for e in ENTITIES for c in e.columns if c.standard}
    assert standards == {
        "sales.orders.currency": "iso4217",
        "sales.orders.country": "iso3166-1-alpha-2",
        "sales.stores.country": "iso3166-1-alpha-2",
        "crm.customers.country": "iso3166-1-alpha-2",
    }


def test_amounts_may_go_negative_and_scores_keep_their_ranges() -> None:
    bounds = {
        f"{e.source}.{e.name}.{c.name}": (c.minimum, c.maximum)
        for e in ENTITIES
        for c in e.columns
        if c.minimum is not None or c.maximum is not None
    }
    assert bounds == {
        "crm.customers.birth_year": (1900, 2015),
        "crm.customers.points": (0, 1_000_000_000),
        "crm.tickets.reopen_count": (0, 1000),
        # amounts and quantities may be negative, within bounds no real order reaches
        "sales.orders.order_total": (-10_000_000, 10_000_000),
        "sales.order_lines.quantity": (-100_000, 100_000),
        "sales.order_lines.qty_fulfilled": (-100_000, 100_000),
        "sales.order_lines.shown_price": (-10_000_000, 10_000_000),
        "sales.order_lines.unit_price": (-10_000_000, 10_000_000),
        "sales.order_lines.discount": (-10_000_000, 10_000_000),
        "sales.returns.refund_amount": (-10_000_000, 10_000_000),
        "surveys.responses.csat": (1, 5),
        "surveys.responses.nps": (0, 10),
        "surveys.responses.ces": (1, 7),
        "social.posts.rating": (1, 5),
    }


def test_the_contract_file_is_valid_under_its_schema() -> None:
    schema = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.validate(_document(), schema)


# ------------------------------------------------------------------ malformed contracts


def test_a_wrong_type_names_the_path_and_what_is_expected(tmp_path: Path) -> None:
    document = _document()
    document["sources"]["sales"]["entities"]["orders"]["columns"]["currency"]["allowed"] = "EUR"
    error = _broken(tmp_path, document)
    assert error.location == "sources.sales.entities.orders.columns.currency.allowed"
    assert "'EUR' is not a list" in str(error) and "Expected a list of distinct non-empty values" in str(error)


def test_an_unknown_key_is_named_with_the_keys_it_may_be(tmp_path: Path) -> None:
    document = _document()
    document["sources"]["crm"]["entities"]["tickets"]["columns"]["channel"]["requird"] = False
    error = _broken(tmp_path, document)
    assert error.location == "sources.crm.entities.tickets.columns.channel.requird"
    assert "Expected one of type, required" in str(error)


@pytest.mark.parametrize(
    ("change", "location", "expected"),
    [
        (lambda o: o["columns"]["nps"].update(type="int"), "columns.nps.type", "one of string, integer"),
        (lambda o: o.update(key="id"), "key", "'id' is not a column"),
        (lambda o: o.update(event_column="csat"), "event_column", "not a timestamp or date column"),
        (lambda o: o.update(file="responses.jsonl"), "file", "does not end in .csv"),
        (
            lambda o: o["columns"]["comment"].update(minimum=0),
            "columns.comment.minimum",
            "string columns have no minimum",
        ),
        (lambda o: o["columns"]["nps"].update(minimum=11), "columns.nps.minimum", "is above maximum"),
        (lambda o: o["columns"]["csat"].update(known=["1"]), "columns.csat.known", "no list of values"),
        (lambda o: o["columns"].update(Comment={"type": "string"}), "columns.Comment", "not a valid name"),
        (lambda o: o.pop("key"), "", "'key' is a required property"),
    ],
)
def test_each_malformed_entity_names_where_and_what(tmp_path: Path, change: Any, location: str, expected: str) -> None:
    document = _document()
    change(document["sources"]["surveys"]["entities"]["responses"])
    error = _broken(tmp_path, document)
    assert error.location == "sources.surveys.entities.responses" + (f".{location}" if location else "")
    assert expected in str(error)


def test_a_bad_timezone_in_the_contract_is_refused(tmp_path: Path) -> None:
    document = _document()
    document["sources"]["crm"]["timezone"] = "Europe/Atlantis"
    error = _broken(tmp_path, document)
    assert error.location == "sources.crm.timezone" and "'Europe/Atlantis' is not a time zone" in str(error)


def test_invalid_yaml_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "sources.yml"
    path.write_text("version: 1\nsources:\n  sales: [unclosed\n", encoding="utf-8")
    with pytest.raises(ContractError, match=r"sources\.yml: line \d+, column \d+: not valid YAML"):
        read_contract(path)


def test_a_key_given_twice_is_refused_not_silently_dropped(tmp_path: Path) -> None:
    text = CONTRACT_FILE.read_text(encoding="utf-8").replace(
        "          city:\n", "          city:\n            type: string\n          city:\n", 1
    )
    path = tmp_path / "sources.yml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ContractError, match=r"line \d+, column \d+: not valid YAML \(found the key 'city' twice\)"):
        read_contract(path)


# ------------------------------------------------------------------ overrides


SAO_PAULO = """\
sources:
  sales:
    timezone: America/Sao_Paulo
    timestamp_formats: ["%d/%m/%Y %H:%M", "%d/%m/%Y"]
    entities:
      orders:
        columns:
          currency: {allowed: [brl]}
          status: {allowed_add: [shipped, invoiced, canceled]}
          order_total: {minimum: -1000}
      order_lines:
        columns:
          category: {known: [moveis_decoracao, cama_mesa_banho]}
      returns:
        optional: true
      stores:
        optional: true
        columns:
          city: {required: false}
  crm:
    entities:
      customers:
        columns:
          points: {minimum: null}
          birth_year: {maximum: null}
      tickets:
        columns:
          channel: {allowed: [Web, Referral, Phone, Postal mail, Fax, Email]}
  social:
    entities:
      posts:
        columns:
          kind: {allowed_add: [question]}
"""


def test_an_override_changes_lists_bounds_files_timezone_and_formats(tmp_path: Path) -> None:
    contract = _overridden(tmp_path, SAO_PAULO)
    orders = contract.entity("sales", "orders")
    assert (orders.timezone, orders.timestamp_formats) == ("America/Sao_Paulo", ("%d/%m/%Y %H:%M", "%d/%m/%Y"))
    assert orders.column("currency").allowed == ("BRL",)  # codes upper-cased, narrowing ISO 4217
    assert orders.column("status").known == (
        "placed",
        "delivered",
        "cancelled",
        "returned",
        "shipped",
        "invoiced",
        "canceled",
    )
    assert orders.column("order_total").minimum == -1000
    assert contract.entity("sales", "order_lines").column("category").known == ("moveis_decoracao", "cama_mesa_banho")
    assert contract.entity("sales", "returns").optional and not orders.optional
    assert not contract.entity("sales", "stores").column("city").required
    customers = contract.entity("crm", "customers")
    assert customers.timezone == "UTC"  # other sources keep theirs
    assert customers.column("points").minimum is None and customers.column("birth_year").maximum is None
    assert customers.column("birth_year").minimum == 1900
    channel = contract.entity("crm", "tickets").column("channel")
    assert (channel.allowed, channel.known) == (("Web", "Referral", "Phone", "Postal mail", "Fax", "Email"), None)
    assert contract.entity("social", "posts").column("kind").allowed == ("post", "review", "question")
    assert "overrides.yml" in contract.origin
    # the base contract is untouched
    assert BASE_CONTRACT.entity("sales", "orders").timezone == "UTC"


def test_an_override_declares_null_values_for_every_entity_of_its_source(tmp_path: Path) -> None:
    contract = _overridden(tmp_path, "sources:\n  sales:\n    null_values: ['NULL', '\\N']\n")
    assert {e.name: e.null_values for e in contract.entities_of("sales")} == {
        e.name: ("NULL", "\\N") for e in BASE_CONTRACT.entities_of("sales")
    }
    assert all(e.null_values == () for e in contract.entities if e.source != "sales")
    assert all(e.null_values == () for e in BASE_CONTRACT.entities)  # none unless declared


def test_an_override_declares_the_delimiter_and_decimal_mark_of_its_source(tmp_path: Path) -> None:
    contract = _overridden(tmp_path, "sources:\n  crm:\n    delimiter: \"\\t\"\n    decimal_mark: ','\n")
    assert {(e.delimiter, e.decimal_mark) for e in contract.entities_of("crm")} == {("\t", ",")}
    assert {(e.delimiter, e.decimal_mark) for e in contract.entities if e.source != "crm"} == {(",", ".")}
    assert {(e.delimiter, e.decimal_mark) for e in BASE_CONTRACT.entities} == {(",", ".")}


def test_a_column_default_is_read_from_the_override(tmp_path: Path) -> None:
    posts = _overridden(tmp_path, _col("social", "posts", "platform", "{default: amazon}")).entity("social", "posts")
    assert posts.column("platform").default == "amazon"
    assert BASE_CONTRACT.entity("social", "posts").column("platform").default is None


def test_unix_time_is_a_timestamp_format_a_source_may_declare(tmp_path: Path) -> None:
    contract = _overridden(tmp_path, "sources:\n  social:\n    timestamp_formats: [unix_seconds, '%d.%m.%Y']\n")
    assert contract.entity("social", "posts").timestamp_formats == ("unix_seconds", "%d.%m.%Y")


def test_an_override_gives_columns_the_names_they_have_in_the_exports(tmp_path: Path) -> None:
    text = _col("sales", "orders", "order_id", "{aliases: [InvoiceNo, Invoice]}")
    orders = _overridden(tmp_path, text).entity("sales", "orders")
    assert orders.column("order_id").aliases == ("InvoiceNo", "Invoice")
    assert orders.names_in_files == {
        **{c: c for c in orders.column_names},
        "InvoiceNo": "order_id",
        "Invoice": "order_id",
    }
    assert BASE_CONTRACT.entity("sales", "orders").names_in_files == {c: c for c in orders.column_names}


def test_not_before_names_another_timestamp_column(tmp_path: Path) -> None:
    tickets = BASE_CONTRACT.entity("crm", "tickets")
    assert tickets.column("resolved_at").not_before == "created_at"
    assert tickets.column("first_response_at").not_before == "created_at"
    for other, column in (("text", "resolved_at"), ("resolved_at", "resolved_at"), ("created_at", "reopen_count")):
        document = _document()
        document["sources"]["crm"]["entities"]["tickets"]["columns"][column]["not_before"] = other
        error = _broken(tmp_path, document)
        assert f"sources.crm.entities.tickets.columns.{column}.not_before" in str(error)
        assert f"{other!r} is not another timestamp column" in str(error)


def test_allowed_add_on_a_standard_adds_codes_to_it(tmp_path: Path) -> None:
    text = _col("crm", "customers", "country", "{allowed_add: [xk]}")
    column = _overridden(tmp_path, text).entity("crm", "customers").column("country")
    assert (column.standard, column.allowed, column.allowed_extra) == ("iso3166-1-alpha-2", None, ("XK",))


def test_an_empty_override_file_changes_nothing(tmp_path: Path) -> None:
    assert _overridden(tmp_path, "").entities == BASE_CONTRACT.entities


@pytest.mark.parametrize(
    ("text", "location", "expected"),
    [
        (
            _col("sales", "orders", "currency", "{allowed: EUR}"),
            "sources.sales.entities.orders.columns.currency.allowed",
            "'EUR' is not a list",
        ),
        (
            _col("sales", "orders", "colour", "{required: false}"),
            "sources.sales.entities.orders.columns.colour",
            "no column 'colour' in the contract",
        ),
        ("sources:\n  billing: {timezone: UTC}\n", "sources.billing", "Expected one of sales, crm, surveys, social"),
        ("sources:\n  sales:\n    timezone: Mars/Olympus\n", "sources.sales.timezone", "is not a time zone"),
        (
            "sources:\n  sales:\n    timestamp_formats: ['%d/%m/%Y %Q']\n",
            "sources.sales.timestamp_formats[0]",
            "not a usable strptime format",
        ),
        ("sources:\n  sales:\n    null_values: NULL\n", "sources.sales.null_values", "is not a list"),
        ("sources:\n  sales:\n    null_values: ['']\n", "sources.sales.null_values[0]", "should be non-empty"),
        (
            "sources:\n  sales:\n    decimal_mark: ','\n    thousands_separator: ','\n",
            "sources.sales.thousands_separator",
            "',' is the decimal mark",
        ),
        (
            _col("sales", "orders", "order_id", "{default: O1}"),
            "sources.sales.entities.orders.columns.order_id.default",
            "the key column cannot have a default",
        ),
        (
            _col("social", "posts", "kind", "{default: tweet}"),
            "sources.social.entities.posts.columns.kind.default",
            "'tweet' is not one of the column's allowed values. Expected one of post, review",
        ),
        (
            _col("social", "posts", "rating", "{default: '4.5'}"),
            "sources.social.entities.posts.columns.rating.default",
            "'4.5' is not a plain integer",
        ),
        (
            _col("social", "posts", "rating", "{default: '9'}"),
            "sources.social.entities.posts.columns.rating.default",
            "'9' is outside the column's bounds",
        ),
        (
            _col("social", "posts", "posted_at", "{default: '2026-01-01'}"),
            "sources.social.entities.posts.columns.posted_at.default",
            "timestamp columns have no default",
        ),
        (
            "sources:\n  sales:\n    timestamp_formats: [unix_minutes]\n",
            "sources.sales.timestamp_formats[0]",
            "'unix_minutes' does not fit. Expected a strptime format (with % directives, e.g. %d/%m/%Y %H:%M), "
            "unix_seconds or unix_milliseconds",
        ),
        (
            _col("sales", "orders", "order_id", "{aliases: [customer_id]}"),
            "sources.sales.entities.orders.columns.order_id.aliases[0]",
            "'customer_id' is another column of the entity",
        ),
        (
            _col("sales", "orders", "order_id", "{aliases: [Id]}") + "          customer_id: {aliases: [Id]}\n",
            "sources.sales.entities.orders.columns.customer_id.aliases[0]",
            "'Id' is also an alias of 'order_id'",
        ),
        (
            _col("sales", "orders", "order_id", "{aliases: Id}"),
            "sources.sales.entities.orders.columns.order_id.aliases",
            "is not a list",
        ),
        (
            "sources:\n  sales:\n    delimiter: '::'\n",
            "sources.sales.delimiter",
            "'::' is not accepted. Expected what separates the fields",
        ),
        (
            "sources:\n  sales:\n    decimal_mark: ' '\n",
            "sources.sales.decimal_mark",
            "' ' is not accepted. Expected what separates a number's whole part",
        ),
        (
            _col("sales", "orders", "currency", "{allowed: [BRL, XXY]}"),
            "sources.sales.entities.orders.columns.currency.allowed[1]",
            "'XXY' is not an ISO 4217 currency code",
        ),
        (
            _col("sales", "orders", "city", "{allowed_add: [Rio]}"),
            "sources.sales.entities.orders.columns.city.allowed_add",
            "no list of values to add to",
        ),
        (
            _col("sales", "orders", "order_id", "{required: false}"),
            "sources.sales.entities.orders.columns.order_id.required",
            "the key column cannot be made optional",
        ),
        (
            _col("sales", "orders", "currency", "{known: [BRL]}"),
            "sources.sales.entities.orders.columns.currency.known",
            "iso4217 is a closed list of codes",
        ),
        (
            "sources:\n  sales:\n    entities:\n      orders:\n        file: o.csv\n",
            "sources.sales.entities.orders.file",
            "Expected one of optional, format, columns",
        ),
    ],
)
def test_a_malformed_override_names_its_file_the_path_and_what_is_expected(
    tmp_path: Path, text: str, location: str, expected: str
) -> None:
    error = _override_error(tmp_path, text)
    assert error.location == location
    assert expected in str(error)


def test_the_example_override_in_the_docs_loads(tmp_path: Path) -> None:
    docs = (CONTRACT_FILE.parents[2] / "docs" / "sources.md").read_text(encoding="utf-8")
    example = docs.split("## Overriding the contract", 1)[1].split("```yaml\n", 1)[1].split("```", 1)[0]
    contract = _overridden(tmp_path, example)
    orders = contract.entity("sales", "orders")
    assert (orders.timezone, orders.column("currency").allowed) == ("America/Sao_Paulo", ("BRL",))
    assert contract.entity("sales", "returns").optional


def test_the_example_of_export_dialects_in_the_docs_loads(tmp_path: Path) -> None:
    docs = (CONTRACT_FILE.parents[2] / "docs" / "sources.md").read_text(encoding="utf-8")
    example = docs.split("## Overriding the contract", 1)[1].split("```yaml\n")[2].split("```", 1)[0]
    contract = _overridden(tmp_path, example)
    orders = contract.entity("sales", "orders")
    assert (orders.delimiter, orders.decimal_mark, orders.thousands_separator) == (";", ",", ".")
    assert orders.names_in_files["InvoiceNo"] == "order_id"
    posts = contract.entity("social", "posts")
    assert posts.names_in_files["user.screen_name"] == "handle"
    assert (posts.column("platform").default, posts.column("kind").default) == ("twitter", "post")
