"""Ingest with the deployment's contract: CX_CONTRACT_OVERRIDES, open lists, code standards, timezones, formats."""

import json
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from ingest_helpers import DAY, ORDERS_HEADER, _lake, _order, _quarantine, _write

from cxpipe.contracts import BASE_CONTRACT, CONTRACT_FILE, ORDERS, TICKETS, ContractError, read_contract
from cxpipe.ingest import ingest_entity, ingest_source, landing_file, landing_ready
from cxpipe.ingest.contract import load_contract
from cxpipe.ingest.validation import UNKNOWN_VALUES_KEPT
from cxpipe.settings import Settings, SettingsError, load_settings


def _orders(settings: Settings, *rows: str) -> None:
    _write(settings, landing_file(settings, ORDERS, DAY), "\n".join([ORDERS_HEADER, *rows]) + "\n")


def _with_overrides(settings: Settings, tmp_path: Path, text: str) -> Settings:
    path = tmp_path / "contract-overrides.yml"
    path.write_text(text, encoding="utf-8")
    return replace(settings, ingest=replace(settings.ingest, contract_overrides=path))


def _col(source: str, entity: str, column: str, change: str) -> str:
    """An override file that changes one column."""
    return f"sources:\n  {source}:\n    entities:\n      {entity}:\n        columns:\n          {column}: {change}\n"


def _audit(settings: Settings, source: str) -> list[dict[str, object]]:
    return pq.read_table(settings.lake_dir / "_load_audit" / source / f"load_date={DAY}").to_pylist()


# ------------------------------------------------------------------ the setting and the loader


def test_the_setting_names_an_existing_file(tmp_path: Path) -> None:
    path = tmp_path / "overrides.yml"
    path.write_text("sources: {}\n", encoding="utf-8")
    assert load_settings({"CX_CONTRACT_OVERRIDES": str(path)}).ingest.contract_overrides == path
    assert load_settings({}).ingest.contract_overrides is None
    with pytest.raises(SettingsError, match=r"CX_CONTRACT_OVERRIDES='.*missing\.yml' does not exist"):
        load_settings({"CX_CONTRACT_OVERRIDES": str(tmp_path / "missing.yml")})


def test_without_overrides_ingest_uses_the_base_contract(settings: Settings) -> None:
    assert load_contract(settings) is BASE_CONTRACT


def test_an_edited_override_file_is_read_again(settings: Settings, tmp_path: Path) -> None:
    current = _with_overrides(settings, tmp_path, "sources:\n  sales: {timezone: Europe/Berlin}\n")
    assert load_contract(current).entity("sales", "orders").timezone == "Europe/Berlin"
    path = current.ingest.contract_overrides
    assert path is not None
    path.write_text("sources:\n  sales: {timezone: America/Sao_Paulo}\n", encoding="utf-8")
    assert load_contract(current).entity("sales", "orders").timezone == "America/Sao_Paulo"


def test_a_malformed_override_stops_ingest_naming_the_file_and_path(settings: Settings, tmp_path: Path) -> None:
    current = _with_overrides(settings, tmp_path, "sources:\n  sales:\n    timezone: [UTC]\n")
    _orders(current, _order("O1"))
    with pytest.raises(
        ContractError, match=r"contract-overrides\.yml: sources\.sales\.timezone: \['UTC'\] is not text"
    ):
        ingest_source(current, "sales", DAY, policy="skip")


# ------------------------------------------------------------------ open lists


def test_an_unknown_status_loads_and_is_counted_in_the_audit(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    _orders(
        settings,
        _order("O1", status="shipped"),
        _order("O2", status="shipped"),
        _order("O3", status="invoiced", channel="marketplace"),
        _order("O4"),
    )
    results = ingest_source(settings, "sales", DAY, policy="skip")
    orders = results[0]
    assert (orders.rows_loaded, orders.rows_quarantined) == (4, 0)
    assert orders.unknown_values == {"channel": {"marketplace": 1}, "status": {"shipped": 2, "invoiced": 1}}
    assert [r["status"] for r in _lake(settings, "sales", "orders")] == ["shipped", "shipped", "invoiced", "placed"]
    audit = {r["entity"]: r for r in _audit(settings, "sales")}
    assert json.loads(str(audit["orders"]["unknown_values"])) == orders.unknown_values
    assert json.loads(str(audit["stores"]["unknown_values"])) == {}
    warnings = [
        r.getMessage() for r in caplog.records if r.levelname == "WARNING" and "does not know" in r.getMessage()
    ]
    # the log names the column and counts; the values themselves are only in the audit
    assert any(
        "orders.csv" in w and "status has 2 value(s) the contract does not know in 3 row(s)" in w for w in warnings
    )
    assert not any("shipped" in w for w in warnings)


def test_the_audit_keeps_the_most_frequent_unknown_values(settings: Settings) -> None:
    rows = [_order(f"O{n}", status=f"s{n % 30:02d}") for n in range(60)] + [_order("O99", status="s29")]
    _orders(settings, *rows)
    counts = ingest_source(settings, "sales", DAY, policy="skip")[0].unknown_values["status"]
    assert len(counts) == UNKNOWN_VALUES_KEPT
    assert next(iter(counts.items())) == ("s29", 3)
    assert list(counts)[1:4] == ["s00", "s01", "s02"]  # ties: by value


def test_real_ticket_channels_load(settings: Settings) -> None:
    tickets = [
        {"ticket_id": f"T{n}", "channel": channel, "created_at": "2026-10-30 10:00", "text": "a complaint"}
        for n, channel in enumerate(["Web", "Referral", "Postal mail", "Fax", "Web", "phone"])
    ]
    path = landing_file(settings, TICKETS, DAY)
    _write(settings, path, "\n".join(json.dumps(t) for t in tickets) + "\n")
    result = ingest_entity(settings, TICKETS, DAY, "fail")
    assert (result.rows_loaded, result.rows_quarantined) == (6, 0)
    assert result.unknown_values == {"channel": {"Web": 2, "Fax": 1, "Postal mail": 1, "Referral": 1}}


def test_allowed_in_an_override_closes_an_open_list(settings: Settings, tmp_path: Path) -> None:
    text = _col("sales", "orders", "status", "{allowed: [placed]}")
    current = _with_overrides(settings, tmp_path, text)
    _orders(current, _order("O1"), _order("O2", status="shipped"))
    ingest_source(current, "sales", DAY, policy="skip")
    (bad,) = _quarantine(current, "orders", "sales")
    assert bad["reason"] == "status: 'shipped' not in placed"


def test_allowed_add_makes_a_value_known(settings: Settings, tmp_path: Path) -> None:
    text = _col("sales", "orders", "status", "{allowed_add: [shipped]}")
    current = _with_overrides(settings, tmp_path, text)
    _orders(current, _order("O1", status="shipped"))
    assert ingest_source(current, "sales", DAY, policy="skip")[0].unknown_values == {}


# ------------------------------------------------------------------ code standards


def test_any_iso_currency_loads_upper_cased_and_others_are_quarantined(settings: Settings) -> None:
    _orders(
        settings,
        _order("O1", currency="BRL", country="BR"),
        _order("O2", currency="brl", country="br"),
        _order("O3", currency="XXY"),
    )
    result = ingest_source(settings, "sales", DAY, policy="skip")[0]
    assert (result.rows_loaded, result.rows_quarantined) == (2, 1)
    assert [(r["currency"], r["country"]) for r in _lake(settings, "sales", "orders")] == [("BRL", "BR")] * 2
    reasons = {r["source_row"]: r["reason"] for r in _quarantine(settings, "orders", "sales")}
    assert reasons == {4: "currency: 'XXY' is not an ISO 4217 currency code"}


def test_countries_given_by_name_or_alpha_3_become_codes_and_unknown_ones_load_and_are_reported(
    settings: Settings,
) -> None:
    _orders(
        settings,
        _order("O1", country="United Kingdom"),
        _order("O2", country="EIRE"),
        _order("O3", country="GBR"),
        _order("O4", country="UK"),
        _order("O5", country="Channel Islands"),
        _order("O6", country="Unspecified"),
    )
    result = ingest_source(settings, "sales", DAY, policy="skip")[0]
    assert (result.rows_loaded, result.rows_quarantined) == (6, 0)
    countries = [r["country"] for r in _lake(settings, "sales", "orders")]
    assert countries == ["GB", "IE", "GB", "GB", "Channel Islands", "Unspecified"]
    assert result.unknown_values["country"] == {"Channel Islands": 1, "Unspecified": 1}


def test_an_override_narrows_or_extends_a_standard(settings: Settings, tmp_path: Path) -> None:
    text = """\
sources:
  sales:
    entities:
      orders:
        columns:
          currency: {allowed: [BRL]}
          country: {allowed_add: [XK]}
"""
    current = _with_overrides(settings, tmp_path, text)
    _orders(current, _order("O1", currency="BRL", country="xk"), _order("O2", currency="USD"))
    ingest_source(current, "sales", DAY, policy="skip")
    assert [r["country"] for r in _lake(current, "sales", "orders")] == ["XK"]
    (bad,) = _quarantine(current, "orders", "sales")
    assert bad["reason"] == "currency: 'USD' not in BRL"


# ------------------------------------------------------------------ bounds and required


def test_the_date_window_is_a_column_override_of_timestamps_and_dates_only(settings: Settings, tmp_path: Path) -> None:
    current = _with_overrides(settings, tmp_path, _col("sales", "orders", "ordered_at", "{days_before_load: 10}"))
    assert load_contract(current).entity("sales", "orders").column("ordered_at").days_before_load == 10
    _orders(current, _order("O1", ordered_at="2026-10-01T10:00:00Z"), _order("O2"))
    ingest_source(current, "sales", DAY, policy="skip")
    (bad,) = _quarantine(current, "orders", "sales")
    assert bad["reason"] == (
        "ordered_at: before 2026-10-22 (10 days before the load date; days_before_load in the contract)"
    )
    wrong = _with_overrides(settings, tmp_path, _col("sales", "orders", "order_total", "{days_after_load: 3}"))
    with pytest.raises(ContractError, match=r"order_total\.days_after_load: number columns have no days_after_load"):
        load_contract(wrong)
    negative = _with_overrides(settings, tmp_path, _col("sales", "orders", "ordered_at", "{days_after_load: -1}"))
    with pytest.raises(ContractError, match=r"ordered_at\.days_after_load"):
        load_contract(negative)


def test_an_override_removes_a_bound_and_a_requirement(settings: Settings, tmp_path: Path) -> None:
    text = """\
sources:
  surveys:
    entities:
      responses:
        columns:
          nps: {maximum: null}
          channel: {required: false}
"""
    current = _with_overrides(settings, tmp_path, text)
    header = ",".join(BASE_CONTRACT.entity("surveys", "responses").column_names)
    path = landing_file(current, BASE_CONTRACT.entity("surveys", "responses"), DAY)
    _write(current, path, header + "\nR1,C1,O1,delivery,,2026-10-30T10:00:00Z,5,11,7,ok\n")
    (result,) = ingest_source(current, "surveys", DAY)
    assert (result.rows_loaded, result.rows_quarantined) == (1, 0)
    assert _lake(current, "surveys", "responses")[0]["nps"] == 11


# ------------------------------------------------------------------ optional entities


def test_an_optional_entity_without_a_file_loads_as_empty(settings: Settings, tmp_path: Path) -> None:
    text = """\
sources:
  sales:
    entities:
      order_lines: {optional: true}
      returns: {optional: true}
      stores: {optional: true}
"""
    current = _with_overrides(settings, tmp_path, text)
    _orders(current, _order("O1"))
    assert landing_ready(current, "sales", DAY)
    assert not landing_ready(settings, "sales", DAY)  # the base contract needs every file
    results = {r.entity: r for r in ingest_source(current, "sales", DAY, policy="fail")}
    assert (results["orders"].status, results["orders"].rows_loaded) == ("loaded", 1)
    assert {results[e].status for e in ("order_lines", "returns", "stores")} == {"empty"}
    assert _lake(current, "sales", "returns") == [] and _quarantine(current, "returns", "sales") == []
    with pytest.raises(ContractError, match="no order_lines file landed"):
        ingest_source(settings, "sales", DAY, policy="fail")


# ------------------------------------------------------------------ timezones and formats


def _ordered_at(settings: Settings, *stamps: str) -> list[datetime]:
    _orders(settings, *(_order(f"O{n}", ordered_at=stamp) for n, stamp in enumerate(stamps)))
    (result, *_) = ingest_source(settings, "sales", DAY, policy="skip")
    assert result.rows_quarantined == 0, _quarantine(settings, "orders", "sales")
    return [r["ordered_at"] for r in _lake(settings, "sales", "orders")]


def test_naive_timestamps_are_in_the_source_timezone_and_offsets_are_kept(settings: Settings, tmp_path: Path) -> None:
    current = _with_overrides(settings, tmp_path, "sources:\n  sales:\n    timezone: America/Sao_Paulo\n")
    stamps = _ordered_at(current, "2026-11-01 23:30", "2026-11-01T23:30:00+01:00", "2026-11-01T23:30:00Z")
    assert stamps == [
        datetime(2026, 11, 2, 2, 30, tzinfo=UTC),
        datetime(2026, 11, 1, 22, 30, tzinfo=UTC),
        datetime(2026, 11, 1, 23, 30, tzinfo=UTC),
    ]


def test_without_a_timezone_naive_timestamps_are_utc(settings: Settings) -> None:
    assert _ordered_at(settings, "2026-11-01 23:30") == [datetime(2026, 11, 1, 23, 30, tzinfo=UTC)]


def test_a_dst_gap_and_overlap_in_the_source_timezone_still_load(settings: Settings, tmp_path: Path) -> None:
    current = _with_overrides(settings, tmp_path, "sources:\n  sales:\n    timezone: Europe/Berlin\n")
    # 02:30 does not exist on 2026-03-29 (moved forward to 03:00 CEST); 02:30 on 2026-10-25 happens twice (first).
    assert _ordered_at(current, "2026-03-29 02:30", "2026-10-25 02:30") == [
        datetime(2026, 3, 29, 1, 0, tzinfo=UTC),
        datetime(2026, 10, 25, 0, 30, tzinfo=UTC),
    ]


def test_day_first_formats_are_tried_after_iso(settings: Settings, tmp_path: Path) -> None:
    text = """\
sources:
  sales:
    timezone: America/Sao_Paulo
    timestamp_formats: ["%d/%m/%Y %H:%M", "%d/%m/%Y"]
"""
    current = _with_overrides(settings, tmp_path, text)
    _orders(
        current,
        _order("O1", ordered_at="03/04/2026 10:00", promised_date="05/04/2026"),
        _order("O2", ordered_at="2026-04-03T10:00:00Z"),
        _order("O3", ordered_at="04/03/2026 10:00 PM"),
    )
    ingest_source(current, "sales", DAY, policy="skip")
    first, second = _lake(current, "sales", "orders")
    assert first["ordered_at"] == datetime(2026, 4, 3, 13, 0, tzinfo=UTC)  # 3 April, 10:00 in São Paulo
    assert first["promised_date"] == date(2026, 4, 5)
    assert second["ordered_at"] == datetime(2026, 4, 3, 10, 0, tzinfo=UTC)
    # declared formats replace the guess: a value that fits none of them is quarantined, not guessed
    (bad,) = _quarantine(current, "orders", "sales")
    assert bad["reason"] == "ordered_at: cannot read '04/03/2026 10:00 PM' as timestamp"


# ------------------------------------------------------------------ the format an entity is exported in

#: A support desk's tweet export as CSV (no platform or kind, Twitter's timestamps); a text over two lines.
TWEETS_CSV = """\
tweet_id,author_id,inbound,created_at,text
1,someuser,True,Sat Oct 31 22:10:47 +0000 2026,"@shop my parcel is late 😡"
2,shop_care,False,Sat Oct 31 22:11:45 +0000 2026,"@someuser Sorry to hear that.
Please DM us."
"""

TWEETS_OVERRIDES = """\
sources:
  social:
    timestamp_formats: ["%a %b %d %H:%M:%S %z %Y"]
    entities:
      posts:
        format: csv
        columns:
          post_id: {aliases: [tweet_id]}
          posted_at: {aliases: [created_at]}
          handle: {aliases: [author_id]}
          platform: {default: twitter}
          kind: {default: post}
"""


def test_a_format_override_reads_an_entity_from_csv(settings: Settings, tmp_path: Path) -> None:
    current = _with_overrides(settings, tmp_path, TWEETS_OVERRIDES)
    posts = load_contract(current).entity("social", "posts")
    assert (posts.file_format, posts.file_name) == ("csv", "posts.csv")
    _write(current, landing_file(current, posts, DAY), TWEETS_CSV)
    assert landing_ready(current, "social", DAY)
    (result,) = ingest_source(current, "social", DAY, policy="fail")
    assert (result.status, result.rows_loaded, result.rows_quarantined) == ("loaded", 2, 0)
    rows = sorted(_lake(current, "social", "posts"), key=lambda r: r["post_id"])
    assert [(r["post_id"], r["platform"], r["kind"]) for r in rows] == [
        ("1", "twitter", "post"),
        ("2", "twitter", "post"),
    ]
    assert rows[0]["posted_at"] == datetime(2026, 10, 31, 22, 10, 47, tzinfo=UTC)
    assert rows[0]["text"] == "@shop my parcel is late 😡"
    assert rows[1]["text"] == "@someuser Sorry to hear that.\nPlease DM us."


def test_a_format_override_keeps_a_file_name_of_the_contract_and_refuses_other_formats(tmp_path: Path) -> None:
    path = tmp_path / "overrides.yml"
    path.write_text("sources:\n  crm:\n    entities:\n      tickets: {format: csv}\n", encoding="utf-8")
    tickets = read_contract(CONTRACT_FILE, path).entity("crm", "tickets")
    assert (tickets.file_format, tickets.file_name, tickets.file_stem) == ("csv", "tickets.csv", "tickets")
    path.write_text("sources:\n  crm:\n    entities:\n      tickets: {format: xlsx}\n", encoding="utf-8")
    with pytest.raises(ContractError, match=r"sources\.crm\.entities\.tickets\.format"):
        read_contract(CONTRACT_FILE, path)


def test_an_export_in_another_format_is_named_with_the_override_that_reads_it(settings: Settings) -> None:
    posts = BASE_CONTRACT.entity("social", "posts")
    path = landing_file(settings, posts, DAY).with_name("posts.csv")
    _write(settings, path, TWEETS_CSV)
    with pytest.raises(ContractError, match=r"Not read because .*posts\.csv.*format: csv in CX_CONTRACT_OVERRIDES"):
        ingest_source(settings, "social", DAY, policy="fail")
