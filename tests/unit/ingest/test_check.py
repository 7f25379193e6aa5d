"""cxpipe.ingest.check / ``cxpipe check``: an onboarding dry run of ingest that writes nothing."""

import csv
import dataclasses
import json
import shutil
from datetime import date, timedelta
from pathlib import Path

import pytest
from ingest_helpers import DAY, GOOD, HEADER, ORDERS_HEADER, _order, _responses, _write

from cxpipe.cli import main
from cxpipe.contracts import ORDER_LINES, ORDERS
from cxpipe.demo import DemoSpec, generate
from cxpipe.ingest import ingest_source, landing_file
from cxpipe.ingest.check import CheckReport, check_folder, render_text
from cxpipe.settings import Settings, load_settings

EMAIL = "jane.doe.secret@example.com"


def _tree(folder: Path) -> dict[str, tuple[int, int]]:
    return {str(p.relative_to(folder)): (p.stat().st_size, p.stat().st_mtime_ns) for p in folder.rglob("*")}


def _demo(settings: Settings) -> Path:
    generate(settings.landing_dir, DemoSpec(start=DAY, history_days=2, customers=8))
    return settings.landing_dir


def _both(report: CheckReport) -> str:
    return render_text(report) + json.dumps(report.to_json(), ensure_ascii=False)


def test_clean_demo_day_can_load_and_reports_every_file(settings: Settings) -> None:
    landing = _demo(settings)
    report = check_folder(settings, landing)
    assert report.exit_code == 0, report.blockers
    assert report.blockers == []
    files = {f.file for f in report.files}
    assert f"sales/{DAY}/orders.csv" in files and f"crm/{DAY}/tickets.jsonl" in files
    assert f"sales/{DAY}/orders.pos-cn.csv" in files  # extra parts too
    for f in report.files:
        assert f.rows == f.would_load + f.quarantined and f.encoding
    text = render_text(report)
    assert "orders.csv [utf-8-sig]" in text and "would load" in text
    assert text.strip().splitlines()[-1].startswith("OK: 4 source(s), 1 date(s)")

    # the same counts as ingest itself
    for source in ("sales", "crm", "surveys", "social"):
        for result in ingest_source(settings, source, DAY):
            checked = next(e for e in report.entities if e.source == source and e.entity == result.entity)
            assert sum(f.would_load for f in checked.files) == result.rows_loaded
            assert sum(f.quarantined for f in checked.files) == result.rows_quarantined


def test_nothing_is_written(settings: Settings) -> None:
    landing = _demo(settings)
    before = _tree(settings.data_dir)
    assert main(["check", str(landing)]) == 0
    assert main(["check", str(landing), "--format", "json"]) == 0
    assert _tree(settings.data_dir) == before
    assert not settings.lake_dir.exists() and not settings.quarantine_dir.exists()


def test_missing_required_column_is_a_blocker_naming_file_and_column(
    settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _responses(settings, "R1,O1", header="response_id,order_id")
    assert main(["check", str(path.parent), "--source", "surveys"]) == 1
    out = capsys.readouterr().out
    assert "responses.csv" in out and "touchpoint" in out and "responded_at" in out
    assert "MISSING required column(s)" in out
    assert out.strip().splitlines()[-1].startswith("BLOCKED:")
    report = check_folder(settings, path.parent, "surveys")
    assert report.files[0].missing_columns == ["touchpoint", "channel", "responded_at"]


def test_a_source_without_files_and_a_missing_file_are_blockers(settings: Settings) -> None:
    landing = _demo(settings)
    (landing / "sales" / DAY.isoformat() / "returns.csv").unlink()
    shutil.rmtree(landing / "social")
    report = check_folder(settings, landing)
    assert report.exit_code == 1
    assert any(f"sales/{DAY}/returns.csv: missing" in b for b in report.blockers)
    assert any("no files for source social" in b for b in report.blockers)


def test_quarantine_reasons_are_counted_with_lines_and_no_row_content(settings: Settings) -> None:
    _responses(
        settings,
        GOOD,  # line 2
        f"R2,C1,O1,delivery,web,2026-10-30T10:00:00Z,5,11,7,write to {EMAIL}",  # nps above 10
        f"R3,C1,O1,delivery,web,2026-10-30T10:00:00Z,{EMAIL},10,7,x",  # csat not a number
        "R4,C1,O1,delivery,web,2026-10-30T10:00:00Z,5,12,7,again",  # nps above 10
        f"R5,C1,O1,delivery,web,2026-10-30T10:00:00Z,5,10,7,{EMAIL},extra",  # wrong field count
        f"R6,C1,O1,delivery,{EMAIL},2026-10-30T10:00:00Z,5,10,7,ok",  # loads; channel unknown
    )
    folder = settings.landing_dir / "surveys" / DAY.isoformat()
    report = check_folder(settings, folder, "surveys")
    (f,) = report.files
    assert (f.rows, f.would_load, f.quarantined) == (6, 2, 4)
    reasons = {r.reason: (r.count, r.lines) for r in f.reasons}
    assert reasons["nps: above 10"] == (2, [3, 5])
    assert reasons["csat: cannot read as integer"] == (1, [4])
    assert reasons["expected 10 fields as in the header, found 11"] == (1, [6])
    output = _both(report)
    assert EMAIL not in output and "example.com" not in output
    unmapped = {u.column: u for u in report.entities[0].unmapped}
    assert unmapped["channel"].value == "[EMAIL]" and unmapped["channel"].suggestion == ""


def test_control_and_private_use_characters_are_counted_as_their_own_kinds(settings: Settings) -> None:
    _responses(
        settings,
        GOOD,  # line 2
        "R2,C1,O1,delivery,w\x07eb,2026-10-30T10:00:00Z,5,10,7,bell in the channel",  # line 3
        "R3,C1,O1,delivery,web,2026-10-30T10:00:00Z,5,10,7,odd \uf7e9 byte",  # line 4
        "R4,C1,O1,delivery,web,2026-10-30T10:00:00Z,5,10,7,again \uf7a0",  # line 5
    )
    folder = settings.landing_dir / "surveys" / DAY.isoformat()
    (f,) = check_folder(settings, folder, "surveys").files
    assert (f.rows, f.would_load, f.quarantined) == (4, 1, 3)
    reasons = {r.reason: (r.count, r.lines) for r in f.reasons}
    assert reasons == {
        "channel: control character (not allowed in this column)": (1, [3]),
        "comment: private-use character U+F700-U+F7FF (stands for an undecodable byte)": (2, [4, 5]),
    }


def test_words_for_missing_values_are_named_with_the_override_that_declares_them(
    settings: Settings, tmp_path: Path
) -> None:
    rows = [GOOD.replace("R1,", f"R{n},", 1) for n in range(1, 6)]
    rows[1] = rows[1].replace(",5,10,7,", ",NULL,10,7,")  # csat: a typed column
    rows[2] = rows[2].replace("C1,O1", "C1,NULL")  # order_id: text
    rows[3] = rows[3].replace(",5,10,7,", ",NA,10,7,").replace("C1,O1", "C1,NA")  # NA: typed only
    _responses(settings, *rows)
    folder = settings.landing_dir / "surveys" / DAY.isoformat()
    report = check_folder(settings, folder, "surveys")
    hints = [w for w in report.warnings if "look like missing values" in w]
    assert hints == [
        "./responses order_id: 'NULL' ×1 look like missing values and would be loaded as text; if they mean "
        "missing, declare them for the source in the contract overrides: sources: surveys: null_values: ['NULL']",
        "./responses csat: 'NULL' ×1, 'NA' ×1 look like missing values and would be quarantined (not a integer); "
        "if they mean missing, declare them for the source in the contract overrides: sources: surveys: "
        "null_values: ['NULL', 'NA']",
    ]
    overrides = tmp_path / "overrides.yml"
    overrides.write_text("sources:\n  surveys:\n    null_values: ['NULL', 'NA']\n", encoding="utf-8")
    declared = dataclasses.replace(settings, ingest=dataclasses.replace(settings.ingest, contract_overrides=overrides))
    (f,) = check_folder(declared, folder, "surveys").files
    assert not [w for w in check_folder(declared, folder, "surveys").warnings if "missing values" in w]
    assert (f.would_load, f.quarantined) == (5, 0)


def test_decimal_commas_and_another_delimiter_are_named_with_the_override_that_declares_them(
    settings: Settings, tmp_path: Path
) -> None:
    rows = [_order("O1", ";", order_total="12,50"), _order("O2", ";", order_total="1,234"), _order("O3", ";")]
    path = landing_file(settings, ORDERS, DAY)
    _write(settings, path, "\n".join([ORDERS_HEADER.replace(",", ";"), *rows]) + "\n")
    folder = settings.landing_dir / "sales" / DAY.isoformat()
    report = check_folder(settings, folder, "sales")
    assert any("separated by semicolons, not commas" in b and 'delimiter: ";"' in b for b in report.blockers)
    overrides = tmp_path / "overrides.yml"
    overrides.write_text("sources:\n  sales:\n    delimiter: ';'\n", encoding="utf-8")
    semicolons = dataclasses.replace(
        settings, ingest=dataclasses.replace(settings.ingest, contract_overrides=overrides)
    )
    report = check_folder(semicolons, folder, "sales")
    assert not [b for b in report.blockers if "orders.csv" in b]
    # 12,50 is a decimal comma; 1,234 might group thousands and is not counted
    assert [w for w in report.warnings if "decimal comma" in w] == [
        "./orders order_total: 1 value(s) look like numbers with a decimal comma (as 12,50) and would be "
        "quarantined; if the comma is the decimal mark, declare it for the source in the contract overrides: "
        "sources: sales: decimal_mark: ','"
    ]
    (f,) = next(e for e in report.entities if e.entity == "orders").files
    assert (f.would_load, f.quarantined) == (1, 2)
    overrides.write_text("sources:\n  sales:\n    delimiter: ';'\n    decimal_mark: ','\n", encoding="utf-8")
    report = check_folder(semicolons, folder, "sales")
    assert not [w for w in report.warnings if "decimal comma" in w]
    (f,) = next(e for e in report.entities if e.entity == "orders").files
    assert (f.would_load, f.quarantined) == (3, 0)


def test_digits_grouped_by_thousands_are_named_with_the_override_that_declares_the_separator(
    settings: Settings, tmp_path: Path
) -> None:
    totals = ['"1,234.50"', '"2,000,000"', "1234.5", '"12,34,567"']
    rows = [_order(f"O{n}", order_total=total) for n, total in enumerate(totals, start=1)]
    _write(settings, landing_file(settings, ORDERS, DAY), "\n".join([ORDERS_HEADER, *rows]) + "\n")
    folder = settings.landing_dir / "sales" / DAY.isoformat()
    report = check_folder(settings, folder, "sales")
    assert [w for w in report.warnings if "grouped by thousands" in w] == [
        "./orders order_total: 2 value(s) look like numbers with digits grouped by thousands (as 1,234.50) and would "
        "be quarantined; declare the separator for the source in the contract overrides: sources: sales: "
        "thousands_separator: ','"
    ]
    overrides = tmp_path / "overrides.yml"
    overrides.write_text("sources:\n  sales:\n    thousands_separator: ','\n", encoding="utf-8")
    declared = dataclasses.replace(settings, ingest=dataclasses.replace(settings.ingest, contract_overrides=overrides))
    report = check_folder(declared, folder, "sales")
    assert not [w for w in report.warnings if "grouped by thousands" in w]
    (f,) = next(e for e in report.entities if e.entity == "orders").files
    assert (f.would_load, f.quarantined) == (3, 1)  # 12,34,567 is not grouped by thousands


def test_lines_above_the_header_are_named_and_the_rows_below_it_checked(settings: Settings) -> None:
    text = "\n".join(
        ["Orders export", "all stores, all channels", ORDERS_HEADER, _order("O1"), _order("O2", channel="")]
    )
    _write(settings, landing_file(settings, ORDERS, DAY), text + "\n")
    report = check_folder(settings, settings.landing_dir / "sales" / DAY.isoformat(), "sales")
    assert "./orders.csv: lines 1-2 above the header are not read (a title or notes, not records)" in report.warnings
    (f,) = next(e for e in report.entities if e.entity == "orders").files
    assert (f.rows, f.would_load, f.quarantined) == (2, 1, 1)
    assert [r.lines for r in f.reasons] == [[5]]  # physical lines of the file


def test_a_missing_column_suggests_the_files_own_name_for_it_as_an_alias(settings: Settings, tmp_path: Path) -> None:
    header = ORDERS_HEADER.replace("order_id", "OrderNumber").replace("order_total", "Amount")
    _write(settings, landing_file(settings, ORDERS, DAY), "\n".join([header, _order("O1")]) + "\n")
    folder = settings.landing_dir / "sales" / DAY.isoformat()
    report = check_folder(settings, folder, "sales")
    assert (
        "./orders.csv: required column(s) order_id, order_total missing; ingest of sales would fail for this date"
        in (report.blockers)
    )
    assert (
        "./orders.csv: if one of its other columns (Amount, OrderNumber) is order_id, declare its name as an alias in "
        "the contract overrides: sources: sales: entities: orders: columns: order_id: {aliases: [OrderNumber]}"
    ) in report.warnings
    overrides = tmp_path / "overrides.yml"
    overrides.write_text(
        "sources:\n  sales:\n    entities:\n      orders:\n        columns:\n"
        "          order_id: {aliases: [OrderNumber]}\n          order_total: {aliases: [Amount]}\n",
        encoding="utf-8",
    )
    declared = dataclasses.replace(settings, ingest=dataclasses.replace(settings.ingest, contract_overrides=overrides))
    (f,) = next(e for e in check_folder(declared, folder, "sales").entities if e.entity == "orders").files
    assert (f.missing_columns, f.would_load) == ([], 1)


def test_unknown_values_get_suggested_seed_rows(settings: Settings) -> None:
    _write(
        settings,
        landing_file(settings, ORDERS, DAY),
        "\n".join(
            [
                ORDERS_HEADER,
                _order("O1", status="Cancellled"),
                _order("O2", status="Cancellled", channel="Webbshop"),
                _order("O3", status="teleported"),
                _order("O4", status=" CANCELADO ", channel="In-Store"),  # mapped: case, blanks, separators
                _order("O5", country="Untied Kingdom", currency="JPY"),
            ]
        )
        + "\n",
    )
    report = check_folder(settings, landing_file(settings, ORDERS, DAY).parent, "sales")
    orders = next(e for e in report.entities if e.entity == "orders")
    found = {(u.column, u.value): u for u in orders.unmapped}
    status = found[("status", "Cancellled")]
    assert (status.count, status.seed, status.seed_header) == (
        2,
        "order_status_map.csv",
        "source_status,lifecycle_status",
    )
    assert status.suggestion == "Cancellled,cancelled"
    assert found[("status", "teleported")].suggestion == "teleported,"
    assert found[("channel", "Webbshop")].suggestion == "Webbshop,web"
    assert ("status", " CANCELADO ") not in found and ("status", "CANCELADO") not in found
    assert ("channel", "In-Store") not in found
    country = found[("country", "Untied Kingdom")]
    assert country.seed == "country_regions.csv" and country.closest == "GB"
    assert country.suggestion.startswith("Untied Kingdom,,Untied Kingdom,UK & Ireland,")
    assert orders.currencies_without_rate == {"JPY": 1}
    # missing returns/stores/order_lines files are blockers; the report still shows the mappings
    assert report.exit_code == 1
    text = render_text(report)
    assert "order_status_map.csv (source_status,lifecycle_status)" in text and "Cancellled,cancelled" in text


def test_contract_overrides_and_declared_encoding_are_honoured(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    landing = _demo(settings)
    (landing / "sales" / DAY.isoformat() / "returns.csv").unlink()
    overrides = tmp_path / "overrides.yml"
    overrides.write_text(
        "sources:\n  sales:\n    entities:\n      returns:\n        optional: true\n", encoding="utf-8"
    )
    monkeypatch.setenv("CX_CONTRACT_OVERRIDES", str(overrides))
    monkeypatch.setenv("CX_ENCODING_SURVEYS", "utf_8")  # the declared spelling is what is recorded
    assert main(["check", str(landing), "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["exit_code"] == 0 and str(overrides) in data["contract"]
    returns = next(e for e in data["entities"] if e["entity"] == "returns")
    assert returns["status"] == "optional"
    responses = next(e for e in data["entities"] if e["entity"] == "responses")
    assert responses["files"][0]["encoding"] == "utf_8"


def test_cli_check_accepts_a_source_folder_and_rejects_an_unknown_source(
    settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    _responses(settings, GOOD)
    assert main(["check", str(settings.landing_dir / "surveys"), "--source", "surveys"]) == 0
    assert "responses.csv [utf-8] 1 rows: 1 would load" in capsys.readouterr().out
    assert main(["check", str(settings.landing_dir), "--source", "nope"]) == 1
    assert "unknown source" in capsys.readouterr().err


def test_a_header_only_file_is_an_empty_delivery(settings: Settings) -> None:
    _responses(settings, header=HEADER)
    report = check_folder(settings, settings.landing_dir, "surveys")
    assert report.exit_code == 0 and report.files[0].rows == 0


def test_only_the_deployed_sources_are_needed(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    landing = _demo(settings)
    shutil.rmtree(landing / "social")
    monkeypatch.setenv("CX_SOURCES", "sales,crm,surveys")
    report = check_folder(load_settings(), landing)
    assert report.exit_code == 0, report.blockers
    assert {e.source for e in report.entities} == {"sales", "crm", "surveys"}


def test_orders_dated_before_a_currencys_first_exchange_rate_are_warned_about(settings: Settings) -> None:
    """The rate used is the latest on or before the order's UTC date: history older than the seed's first row of
    its currency has none, and the gate's money test would block, so the check says so instead of OK."""
    first = min(
        r["rate_date"]
        for r in csv.DictReader((settings.dbt_project_dir / "seeds" / "exchange_rates.csv").open(encoding="utf-8"))
        if r["currency"] == "SEK" and r["reporting_currency"] == settings.publish.reporting_currency
    )
    start = date.fromisoformat(first)
    _write(
        settings,
        landing_file(settings, ORDERS, DAY),
        "\n".join(
            [
                ORDERS_HEADER,
                _order("O1", currency="SEK", ordered_at=f"{start - timedelta(days=400)}T10:00:00Z"),
                _order("O2", currency="sek", ordered_at=f"{start - timedelta(days=1)}T23:30:00Z"),
                _order("O3", currency="SEK", ordered_at=f"{start}T00:10:00Z"),  # on the first rate's date: rated
                _order("O4", currency=settings.publish.reporting_currency, ordered_at="2022-01-01T10:00:00Z"),
            ]
        )
        + "\n",
    )
    report = check_folder(settings, landing_file(settings, ORDERS, DAY).parent, "sales")
    orders = next(e for e in report.entities if e.entity == "orders")
    assert orders.currencies_without_rate == {"SEK": 2}
    assert orders.rates_start_after == {"SEK": first}
    warning = next(w for w in orders.warnings if "exchange rate" in w)
    assert f"SEK's first rate is from {first}" in warning and "every_amount_has_an_exchange_rate" in warning
    assert f"SEK ×2 (dated before its first rate, {first})" in render_text(report)


def test_each_missing_column_gets_a_hint_and_only_a_name_like_it_is_suggested_as_its_alias(settings: Settings) -> None:
    """A line-level export: InvoiceDate is no alias for line_id, nor Country for category; the key cannot be
    defaulted, a timestamp cannot either."""
    header = "InvoiceNo,Item,OrderNumbr,CustomerID,Country,InvoiceDate,quantity,unit_price"
    _write(settings, landing_file(settings, ORDER_LINES, DAY), f"{header}\nI1,P1,I1,C1,UK,2026-10-30,1,2.5\n")
    report = check_folder(settings, settings.landing_dir / "sales" / DAY.isoformat(), "sales")
    hints = [w for w in report.warnings if w.startswith("./order_lines.csv: ") and "aliases" in w]
    assert len(hints) == 5  # line_id, order_id, product_id, category, shown_price
    # CustomerID is the orders' customer_id (no candidate, though named much like order_id); Country is country
    others = "(InvoiceDate, InvoiceNo, Item, OrderNumbr)"
    where = "sources: sales: entities: order_lines: columns:"
    assert (
        f"./order_lines.csv: if one of its other columns {others} is order_id, declare its name as an alias in the "
        f"contract overrides: {where} order_id: {{aliases: [OrderNumbr]}}"
    ) in hints
    assert (
        f"./order_lines.csv: no column is named like line_id, the key: if one of its other columns {others} is it, "
        f"declare {where} line_id: {{aliases: [<name>]}}; else derive a unique line_id for every row before landing"
    ) in hints
    assert (
        f"./order_lines.csv: no column is named like category: if one of its other columns {others} is it, declare "
        f"{where} category: {{aliases: [<name>]}}; a value the same for every row: {{default: <value>}}; a column "
        "the export cannot deliver: {required: false}"
    ) in hints
    header = ORDERS_HEADER.replace("ordered_at", "Stamp")
    _write(settings, landing_file(settings, ORDERS, DAY), "\n".join([header, _order("O1")]) + "\n")
    report = check_folder(settings, settings.landing_dir / "sales" / DAY.isoformat(), "sales")
    (hint,) = [w for w in report.warnings if w.startswith("./orders.csv: no column is named like ordered_at")]
    assert "default" not in hint and hint.endswith("{required: false}")


def test_ids_written_as_decimals_are_warned_about_without_showing_them(settings: Settings) -> None:
    """``17850.0``: an integer id column with empty cells, written by a spreadsheet or data frame as floats."""
    rows = [
        _order("1001.0", customer_id="4711.0"),
        _order("1002", customer_id="4711"),  # the same customer, written otherwise: another id
        _order("1003", customer_id=""),  # a guest
        _order("1004", customer_id="4712.00"),
        _order("1005", customer_id="12.5"),  # a decimal that is no whole number: not this mistake
    ]
    _write(settings, landing_file(settings, ORDERS, DAY), "\n".join([ORDERS_HEADER, *rows]) + "\n")
    report = check_folder(settings, settings.landing_dir / "sales" / DAY.isoformat(), "sales")
    found = [w for w in report.warnings if "written with a decimal part" in w]
    assert [w.split(":")[0] for w in found] == ["./orders order_id", "./orders customer_id"]
    assert found[0].startswith("./orders order_id: 1 of 5 value(s) are whole numbers")
    assert found[1].startswith("./orders customer_id: 2 of 4 value(s) are whole numbers")
    assert "4711" not in " ".join(found) and "re-export the ids as text" in found[1]


def test_a_spreadsheets_empty_rows_are_counted_as_skipped_not_quarantined(settings: Settings) -> None:
    _write(
        settings,
        landing_file(settings, ORDERS, DAY),
        "\n".join([ORDERS_HEADER, _order("O1"), "," * 11, _order("O2"), *["," * 11] * 3]) + "\n",
    )
    report = check_folder(settings, landing_file(settings, ORDERS, DAY).parent, "sales")
    (f,) = next(e for e in report.entities if e.entity == "orders").files
    assert (f.rows, f.would_load, f.quarantined) == (2, 2, 0)
    assert any("orders.csv: 4 rows of empty values only" in w for w in report.warnings)


def test_an_export_in_another_format_names_the_override_that_reads_it(settings: Settings) -> None:
    day = settings.landing_dir / "social" / DAY.isoformat()
    _write(settings, day / "posts.csv", "tweet_id,created_at,text\n1,2026-10-31T10:00:00Z,late\n")
    _write(settings, day / "notes.txt", "not an export\n")
    report = check_folder(settings, settings.landing_dir, "social")
    assert (
        "social/2026-11-01/posts.csv: not read: social posts are read from posts.jsonl; for exports in csv, "
        "declare sources.social.entities.posts.format: csv in CX_CONTRACT_OVERRIDES"
    ) in report.warnings
    assert "social/2026-11-01/notes.txt: not a file of any social entity; ignored" in report.warnings


def test_a_ticket_resolved_before_it_was_created_is_counted_under_that_reason(settings: Settings) -> None:
    folder = settings.landing_dir / "crm" / DAY.isoformat()
    rows = [
        {"ticket_id": "T1", "channel": "email", "created_at": "2026-10-31T10:00:00Z", "text": "late"},
        {
            "ticket_id": "T2",
            "channel": "email",
            "created_at": "2026-10-31T10:00:00Z",
            "text": "late",
            "resolved_at": "2026-10-31T09:00:00Z",
        },
    ]
    _write(settings, folder / "tickets.jsonl", "".join(json.dumps(r) + "\n" for r in rows))
    (f,) = next(e for e in check_folder(settings, folder, "crm").entities if e.entity == "tickets").files
    assert (f.would_load, f.quarantined) == (1, 1)
    assert "1 × resolved_at: before created_at (line 2)" in render_text(check_folder(settings, folder, "crm"))
