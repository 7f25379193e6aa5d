"""Bad input never slips through ingest: each case ends in a clear error, quarantined rows or a correct load.

Every case writes landing files, runs :func:`~cxpipe.ingest.ingest_source` and asserts its outcome:

* ``error``: ingest stops with a :class:`~cxpipe.contracts.ContractError` naming the file (and line or
  column where it can) and holding none of the row content the case marks as secret;
* ``quarantine``: the rows on the listed physical lines are quarantined with the reason, the rest load;
* ``load``: the file loads, with the values the case checks;
* ``stray``: a file that does not match the entity's name pattern is reported, not read.

In every non-error case the load balances by record and by physical line, and the secrets appear in
no log record and no audit column. ``docs/bad-input.md`` is rendered from :data:`CASES`
(``python tests/unit/ingest/test_bad_input.py > docs/bad-input.md``); a test keeps them in step.
"""

from __future__ import annotations

import codecs
import dataclasses
import gzip
import json
import logging
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from ingest_helpers import DAY, HEADER, ORDERS_HEADER, _order

from cxpipe.contracts import CUSTOMERS, ORDER_LINES, ORDERS, POSTS, RESPONSES, TICKETS, ContractError, Entity
from cxpipe.ingest import ingest_source, landing_file
from cxpipe.settings import FrozenMap, Settings

DOC = Path(__file__).resolve().parents[3] / "docs" / "bad-input.md"

# ------------------------------------------------------------------ rows of each entity

LINES_HEADER = ",".join(ORDER_LINES.column_names)
CUSTOMERS_HEADER = ",".join(CUSTOMERS.column_names)
NAME, EMAIL, PHONE = "Ingrid Lindqvist", "ingrid.lindqvist@example.se", "+46 701234567"


def _line(line_id: str, **values: str) -> str:
    row = {
        "line_id": line_id,
        "order_id": "O1",
        "product_id": "P1",
        "category": "sofas",
        "quantity": "2",
        "qty_fulfilled": "2",
        "stock_promised": "true",
        "shown_price": "10",
        "unit_price": "10",
        "discount": "0",
        **values,
    }
    return ",".join(row[c] for c in ORDER_LINES.column_names)


def _customer(customer_id: str, name: str = NAME, email: str = EMAIL, phone: str = PHONE) -> str:
    return f"{customer_id},{name},{email},{phone},1980,SE,Malmo,gold,10,2024-01-01,true,2026-10-01T08:00:00Z"


def _response(response_id: str, comment: str = "fine", **values: str) -> str:
    row = {
        "response_id": response_id,
        "customer_id": "C1",
        "order_id": "O1",
        "touchpoint": "delivery",
        "channel": "web",
        "responded_at": "2026-10-30T10:00:00Z",
        "csat": "5",
        "nps": "10",
        "ces": "7",
        "comment": comment,
        **values,
    }
    return ",".join(row[c] for c in RESPONSES.column_names)


def _post(post_id: str, **values: Any) -> str:
    record = {"post_id": post_id, "platform": "vk", "kind": "review", "posted_at": "2026-10-30T10:00:00Z"}
    return json.dumps({**record, "text": "ok", "rating": 4, **values}, ensure_ascii=False)


def _ticket(ticket_id: str, **values: Any) -> str:
    record = {"ticket_id": ticket_id, "channel": "email", "created_at": "2026-10-30T10:00:00Z", "text": "hi"}
    return json.dumps({**record, **values}, ensure_ascii=False)


def _csv(header: str, *rows: str, end: str = "\n") -> bytes:
    return ("\n".join([header, *rows]) + end).encode("utf-8")


def _orders(*rows: str, end: str = "\n") -> bytes:
    return _csv(ORDERS_HEADER, *rows, end=end)


def _jsonl(*lines: str, end: str = "\n") -> bytes:
    return ("\n".join(lines) + end).encode("utf-8")


def _many(n: int, bad_at: int, bad: str) -> bytes:
    """``n`` orders; the one on physical line ``bad_at`` (header = line 1) replaced by ``bad``."""
    rows = [_order(f"O{i}") for i in range(2, n + 2)]
    rows[bad_at - 2] = bad
    return _orders(*rows)


# ------------------------------------------------------------------ the cases


@dataclass(frozen=True)
class Case:
    id: str
    #: What the input is, for the table in docs/bad-input.md.
    what: str
    entity: Entity
    #: The main file's bytes; ``setup`` may add files, links, folders.
    data: bytes | None
    #: error | quarantine | load | stray
    outcome: str
    #: Text the error or every quarantine reason holds (a plain substring).
    expect: str = ""
    #: Physical lines quarantined (``source_row``), in order.
    lines: tuple[int, ...] = ()
    #: Rows loaded.
    loaded: int | None = None
    #: Contract overrides (YAML) and settings (CX_ENCODING_… as ``{"sales": "utf-8,cp1252"}``).
    overrides: str = ""
    encodings: dict[str, str | tuple[str, ...]] = field(default_factory=dict)
    #: Called with (settings, main file path) before ingest, after the main file is written.
    setup: Callable[[Settings, Path], None] | None = None
    #: Loaded values to check: {column: [values in lake order]}.
    values: dict[str, list[Any]] = field(default_factory=dict)
    #: Row content that must appear in no error, log record or audit column.
    secrets: tuple[str, ...] = ()
    #: The missing-file policy of the run.
    policy: str = "skip"
    #: Columns the load reports as schema drift (not loaded), as the audit names them.
    drift: tuple[str, ...] = ()
    #: Physical lines above the header (a title, notes) that are not records.
    above_header: int = 0


def _symlink_outside(settings: Settings, main: Path) -> None:
    outside = settings.data_dir / "elsewhere" / "secret.csv"
    outside.parent.mkdir(parents=True, exist_ok=True)
    outside.write_text(f"{NAME},{EMAIL}\n", encoding="utf-8")
    main.unlink()
    main.symlink_to(outside)


def _symlink_inside(settings: Settings, main: Path) -> None:
    other = main.with_name("copy-of-orders.txt")
    main.rename(other)
    main.symlink_to(other)


def _directory(settings: Settings, main: Path) -> None:
    main.unlink()
    main.mkdir()


def _fifo(settings: Settings, main: Path) -> None:
    main.unlink()
    os.mkfifo(main)


def _linked_date_folder(settings: Settings, main: Path) -> None:
    folder = main.parent
    outside = settings.data_dir / "elsewhere" / folder.name
    outside.parent.mkdir(parents=True, exist_ok=True)
    folder.rename(outside)
    folder.symlink_to(outside, target_is_directory=True)


def _stray(name: str, keep_main: bool = True) -> Callable[[Settings, Path], None]:
    def setup(settings: Settings, main: Path) -> None:
        main.with_name(name).write_bytes(_orders(_order("STRAY1"), _order("STRAY2")))
        if not keep_main:
            main.unlink()

    return setup


def _part(settings: Settings, main: Path) -> None:
    main.with_name("orders.2.csv").write_bytes(_orders(_order("P1")))


def _gzipped(name: str, cut: int = 0) -> Callable[[Settings, Path], None]:
    """The main file delivered gzip-compressed as ``name`` instead (its last ``cut`` bytes lost)."""

    def setup(settings: Settings, main: Path) -> None:
        packed = gzip.compress(main.read_bytes())
        main.with_name(name).write_bytes(packed[: len(packed) - cut])
        main.unlink()

    return setup


def _gzipped_part(settings: Settings, main: Path) -> None:
    main.with_name("orders.pos.csv.gz").write_bytes(gzip.compress(_orders(_order("P1", city="Lund"))))


LATIN = "Malmö Göteborg Köln Straße François Besançon Jürgen Müller"
POLISH = "Łódź Kraków Gdańsk Wrocław zażółć gęślą jaźń"
FORMATS = "sources:\n  sales:\n    timestamp_formats: [{}]\n"
DAY_FIRST = FORMATS.format('"%d/%m/%Y %H:%M"')
BOTH_FIRSTS = FORMATS.format('"%d/%m/%Y %H:%M", "%m/%d/%Y %H:%M"')


def _col(entity: str, column: str, change: str, source: str = "sales") -> str:
    return f"sources:\n  {source}:\n    entities:\n      {entity}:\n        columns:\n          {column}: {change}\n"


QUOTE = "a quote opened on this line does not close on it"
CUT = "the file ends inside this record without a line break"
FIELDS = "expected 12 fields as in the header"
TS = "ordered_at: cannot read"
NUM = "order_total: cannot read"

CASES: list[Case] = [
    # ---- lines and quoting
    Case(
        "stray-quote-mid-file",
        "2,944-row orders.csv, an unclosed quote on line 103",
        ORDERS,
        _many(2944, 103, _order("O103", city='"Malmo')),
        "quarantine",
        QUOTE,
        (103,),
        2943,
    ),
    Case(
        "stray-quote-closed-later",
        "an unclosed quote on line 5, a legitimately quoted value on line 9",
        ORDERS,
        _orders(
            *[_order(f"O{i}", city='"Malmo' if i == 5 else '"Malmo, SE"' if i == 9 else "Malmo") for i in range(2, 12)]
        ),
        "quarantine",
        QUOTE,
        (5,),
        9,
    ),
    Case(
        "two-stray-quotes",
        "unclosed quotes on lines 4 and 7",
        ORDERS,
        _orders(*[_order(f"O{i}", city='"x' if i in (4, 7) else "Malmo") for i in range(2, 10)]),
        "quarantine",
        "quote",
        (4, 7),
        6,
    ),
    Case(
        "stray-quote-last-line",
        "an unclosed quote on the last line",
        ORDERS,
        _orders(_order("O1"), _order("O2", city='"Malmo')),
        "quarantine",
        "never closes",
        (3,),
        1,
    ),
    Case(
        "quoted-line-breaks",
        "a comment with quoted line breaks over three lines",
        RESPONSES,
        _csv(HEADER, _response("R1", '"late,\nbut the driver\nwas kind"'), _response("R2")),
        "load",
        loaded=2,
        values={"comment": ["late,\nbut the driver\nwas kind", "fine"]},
    ),
    Case(
        "quoted-line-break-extra-field",
        "a quoted line break and one field too many",
        RESPONSES,
        _csv(HEADER, _response("R1", '"late\nbut ok",extra'), _response("R2")),
        "quarantine",
        "",
        (2, 3),
        1,
    ),
    Case(
        "record-beyond-200-lines",
        "a quoted value running over 250 lines",
        RESPONSES,
        _csv(HEADER, _response("R1", '"' + "\n".join(["line"] * 250) + '"'), _response("R2")),
        "quarantine",
        "",
        tuple(range(2, 252)),
        1,
    ),
    Case(
        "too-many-fields",
        "a row with an unquoted comma (13 fields)",
        ORDERS,
        _orders(_order("O1"), _order("O2", city="Malmo, SE")),
        "quarantine",
        "found 13",
        (3,),
        1,
    ),
    Case(
        "too-few-fields",
        "a row with 3 fields",
        ORDERS,
        _orders(_order("O1"), "O2,C2,web"),
        "quarantine",
        "found 3",
        (3,),
        1,
    ),
    Case(
        "only-delimiters",
        "a row of commas only (a row of empty values, skipped)",
        ORDERS,
        _orders(_order("O1"), "," * 11),
        "load",
        loaded=1,
    ),
    Case(
        "blank-lines",
        "blank and whitespace-only lines between rows",
        ORDERS,
        _orders(_order("O1"), "", "   ", _order("O2")),
        "load",
        loaded=2,
    ),
    Case(
        "cut-last-line-fields",
        "a last line cut off mid-row (no line break, fewer fields)",
        ORDERS,
        _orders(_order("O1"), "O2,C2,web,S1,SE", end=""),
        "quarantine",
        CUT,
        (3,),
        1,
    ),
    Case(
        "cut-last-line-number",
        "a last line cut off inside the amount (no line break)",
        ORDERS,
        _orders(_order("O1"), _order("O2", order_total="10"), end=""),
        "quarantine",
        CUT,
        (3,),
        1,
    ),
    Case(
        "blank-before-header",
        "blank lines before the header",
        ORDERS,
        b"\n  \n" + _orders(_order("O1")),
        "load",
        loaded=1,
    ),
    Case(
        "cr-only-line-ends",
        "old Mac line ends (a lone CR between rows, none other): the CR is the line break",
        ORDERS,
        _orders(_order("O1"), _order("O2")).replace(b"\n", b"\r"),
        "load",
        loaded=2,
    ),
    Case(
        "lone-cr-in-row",
        "a lone CR inside an unquoted value",
        ORDERS,
        _orders(_order("O1"), _order("O2", city="Mal\rmo")),
        "quarantine",
        "a carriage return inside a value without quotes; quote the value",
        (3,),
        1,
    ),
    Case(
        "crlf",
        "Windows line ends",
        ORDERS,
        _orders(_order("O1"), _order("O2")).replace(b"\n", b"\r\n"),
        "load",
        loaded=2,
    ),
    Case(
        "bom",
        "a UTF-8 byte-order mark before the header",
        ORDERS,
        b"\xef\xbb\xbf" + _orders(_order("O1")),
        "load",
        loaded=1,
    ),
    Case("empty-file", "a file of no bytes", ORDERS, b"", "load", loaded=0),
    Case("header-only-no-break", "a header without a line break", ORDERS, ORDERS_HEADER.encode(), "load", loaded=0),
    # ---- JSON Lines
    Case(
        "jsonl-cut-last-line",
        "a JSON line cut off at the end of the file",
        POSTS,
        _jsonl(_post("P1"), _post("P2")[:30], end=""),
        "quarantine",
        CUT,
        (2,),
        1,
    ),
    Case(
        "jsonl-complete-last-line",
        "a complete JSON object without a final line break",
        POSTS,
        _jsonl(_post("P1"), _post("P2"), end=""),
        "load",
        loaded=2,
    ),
    Case(
        "jsonl-array-document",
        "posts.jsonl holding one JSON array of the posts (a JSON document, not JSON Lines)",
        POSTS,
        ("[" + ", ".join([_post("P1"), _post("P2")]) + "]\n").encode("utf-8"),
        "error",
        "line 1 begins a JSON array: the file seems to be one JSON document, not JSON Lines",
    ),
    Case(
        "jsonl-indented-objects",
        "posts.jsonl with each object indented over several lines",
        POSTS,
        ("\n".join(json.dumps(json.loads(_post(p)), indent=2) for p in ("P1", "P2")) + "\n").encode("utf-8"),
        "error",
        "line 1 holds only '{': the objects seem to be spread over several lines",
    ),
    Case(
        "jsonl-not-object",
        "a JSON array instead of an object",
        POSTS,
        _jsonl(_post("P1"), "[1, 2]"),
        "quarantine",
        "expected a JSON object",
        (2,),
        1,
    ),
    Case(
        "jsonl-key-twice",
        "an object with the same key twice",
        POSTS,
        _jsonl(_post("P1"), _post("P2")[:-1] + ', "rating": 1}'),
        "quarantine",
        "a key appears twice",
        (2,),
        1,
    ),
    Case(
        "jsonl-reserved-key",
        "an object with a key cxpipe keeps for itself",
        POSTS,
        _jsonl(_post("P1", _source_row=99)),
        "quarantine",
        "keeps for itself",
        (1,),
        0,
    ),
    Case(
        "jsonl-lone-surrogate",
        "a \\ud800 escape (half a character)",
        POSTS,
        _jsonl(_post("P1"), _post("P2").replace('"ok"', '"a\\ud800b"')),
        "quarantine",
        "lone surrogate",
        (2,),
        1,
    ),
    Case(
        "jsonl-nul-escape",
        "a \\u0000 escape in the text",
        POSTS,
        _jsonl(_post("P1", text="a\u0000b")),
        "quarantine",
        "control character U+0000",
        (1,),
        0,
    ),
    Case(
        "jsonl-object-as-number",
        "an object where a number belongs",
        POSTS,
        _jsonl(_post("P1", rating={"stars": 4})),
        "quarantine",
        "rating: cannot read",
        (1,),
        0,
    ),
    Case(
        "jsonl-nan",
        "a NaN token as a rating",
        POSTS,
        _jsonl(_post("P1").replace("4}", "NaN}")),
        "quarantine",
        "rating: cannot read",
        (1,),
        0,
    ),
    Case(
        "jsonl-infinity",
        "an Infinity token as a rating",
        POSTS,
        _jsonl(_post("P1").replace("4}", "Infinity}")),
        "quarantine",
        "rating: cannot read",
        (1,),
        0,
    ),
    Case(
        "jsonl-huge-exponent",
        "1e400 (beyond a double) as a rating",
        POSTS,
        _jsonl(_post("P1").replace("4}", "1e400}")),
        "quarantine",
        "rating: cannot read",
        (1,),
        0,
    ),
    Case(
        "jsonl-int-overflow",
        "reopen_count 2**70",
        TICKETS,
        _jsonl(_ticket("T1", reopen_count=2**70)),
        "quarantine",
        "reopen_count: beyond the 64-bit integer range",
        (1,),
        0,
        overrides=_col("tickets", "reopen_count", "{maximum: null}", "crm"),
    ),
    Case(
        "jsonl-bad-line-then-good",
        "malformed JSON between good lines",
        POSTS,
        _jsonl(_post("P1"), "{not json", _post("P2")),
        "quarantine",
        "malformed JSON",
        (2,),
        2,
    ),
    # ---- headers and personal data in messages
    Case(
        "headerless-customers",
        "customers.csv without its header row",
        CUSTOMERS,
        _csv(_customer("C1"), _customer("C2", "Anna Berg", "anna@example.se", "+46 709999999")),
        "error",
        "the file seems to have no header row",
        secrets=(NAME, EMAIL, PHONE, "Anna Berg", "anna@example.se"),
    ),
    Case(
        "headerless-single-row",
        "a one-row customers.csv without header (the row would be the header)",
        CUSTOMERS,
        (_customer("C1") + "\n").encode(),
        "error",
        "no header row",
        secrets=(NAME, EMAIL, PHONE),
    ),
    Case(
        "header-duplicate-data",
        "a header with two equal names that are not columns (drift, shown by position: the names may be data)",
        CUSTOMERS,
        _csv(CUSTOMERS_HEADER + f",{NAME},{NAME}", _customer("C1") + ",x,y"),
        "load",
        loaded=1,
        secrets=(NAME,),
        drift=("column 13", "column 14 (a repeated name)"),
    ),
    Case(
        "header-missing-required",
        "a header lacking a required column, with an e-mail address among its names",
        ORDERS,
        _csv(ORDERS_HEADER.replace("currency", EMAIL), _order("O1")),
        "error",
        "required column(s) currency missing",
        secrets=(EMAIL,),
    ),
    Case(
        "drift-name-is-data",
        "an extra column whose name is an e-mail address",
        ORDERS,
        _csv(ORDERS_HEADER + f",{EMAIL}", _order("O1") + ",x"),
        "load",
        loaded=1,
        secrets=(EMAIL,),
        drift=("column 13",),  # shown by position: the name may be data
    ),
    Case(
        "header-reserved-name",
        "a header column named _source_row",
        ORDERS,
        _csv(ORDERS_HEADER + ",_source_row", _order("O1") + ",7"),
        "error",
        "a name cxpipe keeps for itself",
    ),
    Case(
        "header-empty-name",
        "a header with an empty column name between two columns, and a value under it",
        ORDERS,
        _csv(ORDERS_HEADER.replace(",", ",,", 1), _order("O1").replace(",", ",x,", 1)),
        "load",
        loaded=1,
        values={"order_id": ["O1"], "channel": ["web"]},
        drift=("column 2 (no name)",),
    ),
    Case(
        "title-above-header",
        "a report title, a line of notes (with a comma) and a blank line above the header",
        ORDERS,
        _csv("Orders export", "generated 2026-11-01, all stores", "", ORDERS_HEADER, _order("O1"), _order("O2")),
        "load",
        loaded=2,
        values={"order_id": ["O1", "O2"]},
        above_header=3,
    ),
    Case(
        "sep-line-declared",
        "a spreadsheet's sep=; line above a semicolon header, delimiter: ';' declared",
        ORDERS,
        _csv("sep=;", ORDERS_HEADER.replace(",", ";"), _order("O1", ";")),
        "load",
        loaded=1,
        overrides="sources:\n  sales:\n    delimiter: ';'\n",
        above_header=1,
    ),
    Case(
        "sep-line-other",
        "a spreadsheet's sep=; line above a semicolon header, no delimiter declared",
        ORDERS,
        _csv("sep=;", ORDERS_HEADER.replace(",", ";"), _order("O1", ";")),
        "error",
        "line 1 declares the fields separated by semicolons (sep=;), not commas. Declare the source's delimiter in "
        'the contract overrides (sources: sales: delimiter: ";")',
    ),
    Case(
        "cr-line-endings-bad-row",
        "every line ends with a carriage return alone (classic Mac OS), one row with a wrong number of fields",
        ORDERS,
        _orders(_order("O1"), _order("O2") + ",x", _order("O3")).replace(b"\n", b"\r"),
        "quarantine",
        "line 3: expected 12 fields as in the header, found 13",
        (3,),
        2,
    ),
    Case(
        "title-only",
        "a title line and rows, but no header among the first lines",
        ORDERS,
        _csv("Orders export", _order("O1"), _order("O2")),
        "error",
        "line 1 (header): none of its 1 fields is a column of the contract",
    ),
    Case(
        "index-column",
        "an unnamed first column numbering the rows (a data frame's index, as pandas writes it)",
        ORDERS,
        _csv("," + ORDERS_HEADER, "0," + _order("O1"), "1," + _order("O2")),
        "load",
        loaded=2,
        values={"order_id": ["O1", "O2"]},
        drift=("column 1 (no name)",),
    ),
    Case(
        "trailing-delimiter",
        "every line ends with a delimiter (the header too): an unnamed last column of empty values, reported as drift",
        ORDERS,
        _csv(ORDERS_HEADER + ",", _order("O1") + ",", _order("O2") + ","),
        "load",
        loaded=2,
        values={"order_id": ["O1", "O2"], "currency": ["SEK", "SEK"]},
        drift=("column 13 (no name)",),
    ),
    Case(
        "trailing-delimiter-value",
        "the header ends with a delimiter and a row has a value in that unnamed column",
        ORDERS,
        _csv(ORDERS_HEADER + ",", _order("O1") + ",x", _order("O2") + ","),
        "load",
        loaded=2,
        values={"order_id": ["O1", "O2"]},
        drift=("column 13 (no name)",),
    ),
    Case(
        "header-aliases",
        "the export names columns its own way (Invoice No, Total), declared as the columns' aliases InvoiceNo "
        "and Total (compared without case and blanks)",
        ORDERS,
        _csv(ORDERS_HEADER.replace("order_id", "Invoice No").replace("order_total", "Total"), _order("O1")),
        "load",
        loaded=1,
        overrides=(
            "sources:\n  sales:\n    entities:\n      orders:\n        columns:\n"
            "          order_id: {aliases: [InvoiceNo]}\n          order_total: {aliases: [Total]}\n"
        ),
        values={"order_id": ["O1"], "order_total": [10.0]},
    ),
    Case(
        "header-alias-and-column",
        "a header with both order_id and order_id's alias InvoiceNo",
        ORDERS,
        _csv(ORDERS_HEADER + ",InvoiceNo", _order("O1") + ",O1"),
        "error",
        "column 13: column 'order_id' twice (also column 1)",
        overrides=(
            "sources:\n  sales:\n    entities:\n      orders:\n        columns:\n"
            "          order_id: {aliases: [InvoiceNo]}\n"
        ),
    ),
    Case(
        "jsonl-key-aliases",
        "JSON keys named the export's way (id; body on one line, text on another), declared as aliases",
        POSTS,
        _jsonl(
            json.dumps(
                {"id": "P1", "platform": "vk", "kind": "review", "posted_at": "2026-10-30T10:00:00Z", "body": "a"}
            ),
            _post("P2", text="b"),
        ),
        "load",
        loaded=2,
        overrides=(
            "sources:\n  social:\n    entities:\n      posts:\n        columns:\n"
            "          post_id: {aliases: [id]}\n          text: {aliases: [body]}\n"
        ),
        values={"text": ["a", "b"]},
    ),
    Case(
        "defaults-for-absent-columns",
        "a review export without platform and kind (constants of the source, declared as the columns' defaults), "
        "one line with an empty rating and one with an empty kind",
        POSTS,
        _jsonl(
            json.dumps({"post_id": "P1", "posted_at": "2026-10-30T10:00:00Z", "text": "ok", "rating": 4}),
            json.dumps({"post_id": "P2", "posted_at": "2026-10-30T10:00:00Z", "text": "meh", "kind": ""}),
            json.dumps({"post_id": "P3", "posted_at": "2026-10-30T10:00:00Z", "text": "hi", "kind": "post"}),
        ),
        "load",
        loaded=3,
        overrides=(
            "sources:\n  social:\n    entities:\n      posts:\n        columns:\n"
            "          platform: {default: amazon}\n          kind: {default: review}\n"
        ),
        values={"platform": ["amazon"] * 3, "kind": ["review", "review", "post"], "rating": [4, None, None]},
    ),
    Case(
        "jsonl-nested-aliases",
        "a tweet export: id_str, created_at in Twitter's format, full_text and the handle nested in user "
        "(alias user.screen_name), platform and kind as defaults",
        POSTS,
        _jsonl(
            json.dumps(
                {
                    "id_str": "T1",
                    "created_at": "Fri Oct 30 10:00:00 +0000 2026",
                    "full_text": "late again",
                    "user": {"screen_name": "anna_k", "followers": 12},
                }
            ),
            json.dumps(
                {"id_str": "T2", "created_at": "Fri Oct 30 11:30:00 +0100 2026", "full_text": "fine", "user": {}}
            ),
        ),
        "load",
        loaded=2,
        overrides=(
            "sources:\n  social:\n    timestamp_formats: ['%a %b %d %H:%M:%S %z %Y']\n    entities:\n      posts:\n"
            "        columns:\n          post_id: {aliases: [id_str]}\n          posted_at: {aliases: [created_at]}\n"
            "          text: {aliases: [full_text]}\n          handle: {aliases: [user.screen_name]}\n"
            "          platform: {default: twitter}\n          kind: {default: post}\n"
        ),
        values={
            "posted_at": ["2026-10-30 10:00:00+00:00", "2026-10-30 10:30:00+00:00"],
            "text": ["late again", "fine"],
            "platform": ["twitter", "twitter"],
        },
        drift=("user",),
    ),
    Case(
        "header-other-case",
        "a header in capitals with blanks for underscores (ORDER ID, …), read as the contract's names",
        ORDERS,
        _csv(",".join(c.upper().replace("_", " ") for c in ORDERS.column_names), _order("O1", city=LATIN)),
        "load",
        loaded=1,
        values={"order_id": ["O1"], "city": [LATIN]},
    ),
    Case(
        "header-column-twice-by-case",
        "order_id and Order-ID in one header",
        ORDERS,
        _csv(ORDERS_HEADER + ",Order-ID", _order("O1") + ",O1"),
        "error",
        "column 13: column 'order_id' twice (also column 1)",
    ),
    Case(
        "semicolon-delimited",
        "a file separated by semicolons (a spreadsheet's CSV where the comma is the decimal mark)",
        ORDERS,
        _csv(ORDERS_HEADER.replace(",", ";"), _order("O1").replace(",", ";")),
        "error",
        "line 1 (header): the fields are separated by semicolons, not commas. Declare the source's delimiter in "
        'the contract overrides (sources: sales: delimiter: ";")',
    ),
    Case(
        "tab-delimited",
        "a file separated by tabs",
        ORDERS,
        _csv(ORDERS_HEADER.replace(",", "\t"), _order("O1").replace(",", "\t")),
        "error",
        "line 1 (header): the fields are separated by tabs, not commas",
    ),
    Case(
        "semicolon-declared",
        "separated by semicolons with decimal commas, delimiter: ';' and decimal_mark: ',' declared for the source; "
        "a quoted value holds a semicolon",
        ORDERS,
        _csv(
            ORDERS_HEADER.replace(",", ";"),
            _order("O1", ";", order_total="12,50"),
            _order("O2", ";", order_total="-0,5", city='"Malmo; Västra hamnen"'),
            _order("O3", ";", order_total="1e3"),
        ),
        "load",
        loaded=3,
        overrides="sources:\n  sales:\n    delimiter: ';'\n    decimal_mark: ','\n",
        values={"order_total": [12.5, -0.5, 1000.0], "city": ["Malmo", "Malmo; Västra hamnen", "Malmo"]},
    ),
    Case(
        "decimal-comma-thousands-point",
        "1.234,50 and 12.50 in a number column with decimal_mark: ',' declared (a point may group thousands)",
        ORDERS,
        _csv(
            ORDERS_HEADER.replace(",", ";"),
            _order("O1", ";", order_total="1.234,50"),
            _order("O2", ";", order_total="12.50"),
            _order("O3", ";", order_total="7,25"),
        ),
        "quarantine",
        "order_total: cannot read",
        (2, 3),
        1,
        overrides="sources:\n  sales:\n    delimiter: ';'\n    decimal_mark: ','\n",
    ),
    Case(
        "thousands-comma-declared",
        'thousands_separator: "," declared: "1,234.50", "-1,000,000" and 1,234 read, "12,34,567" not',
        ORDERS,
        _orders(
            _order("O1", order_total='"1,234.50"'),
            _order("O2", order_total='"-1,000,000"'),
            _order("O3", order_total='"12,34,567"'),
            _order("O4", order_total="12.5"),
        ),
        "quarantine",
        "order_total: cannot read '12,34,567' as number",
        (4,),
        3,
        overrides="sources:\n  sales:\n    thousands_separator: ','\n",
        values={"order_total": [1234.5, -1000000.0, 12.5]},
    ),
    Case(
        "thousands-point-decimal-comma",
        "1.234,50 and 1 234,50 (a no-break space) with decimal_mark: ',' and thousands_separator '.' or ' '",
        ORDERS,
        _csv(
            ORDERS_HEADER.replace(",", ";"),
            _order("O1", ";", order_total="1.234,50"),
            _order("O2", ";", order_total="7,25"),
        ),
        "load",
        loaded=2,
        overrides="sources:\n  sales:\n    delimiter: ';'\n    decimal_mark: ','\n    thousands_separator: '.'\n",
        values={"order_total": [1234.5, 7.25]},
    ),
    Case(
        "thousands-blank",
        "1 234,50 with a no-break space, 2 000 with a blank, thousands_separator ' ' and decimal_mark ','",
        ORDERS,
        _csv(
            ORDERS_HEADER.replace(",", ";"),
            _order("O1", ";", order_total="1\u00a0234,50"),
            _order("O2", ";", order_total="2 000"),
        ),
        "load",
        loaded=2,
        overrides="sources:\n  sales:\n    delimiter: ';'\n    decimal_mark: ','\n    thousands_separator: ' '\n",
        values={"order_total": [1234.5, 2000.0]},
    ),
    Case(
        "decimal-comma-undeclared",
        '"12,50" (quoted) in a comma-separated file, no decimal_mark declared',
        ORDERS,
        _orders(_order("O1", order_total='"12,50"'), _order("O2")),
        "quarantine",
        "order_total: cannot read '12,50' as number",
        (2,),
        1,
    ),
    Case(
        "tab-declared",
        'separated by tabs, delimiter: "\\t" declared; a line of tabs only (a row of empty values, skipped)',
        ORDERS,
        _csv(ORDERS_HEADER.replace(",", "\t"), _order("O1", "\t"), "\t" * 11, _order("O2", "\t")),
        "load",
        loaded=2,
        overrides='sources:\n  sales:\n    delimiter: "\\t"\n',
    ),
    Case(
        "delimiter-declared-other-found",
        "a comma-separated file where the source declares delimiter: ';'",
        ORDERS,
        _orders(_order("O1")),
        "error",
        "line 1 (header): the fields are separated by commas, not semicolons, the delimiter the source declares",
        overrides="sources:\n  sales:\n    delimiter: ';'\n",
    ),
    # ---- the landing folder
    Case(
        "symlink-outside",
        "orders.csv is a link to a file outside landing",
        ORDERS,
        _orders(_order("O1")),
        "error",
        "is a symbolic link",
        setup=_symlink_outside,
        secrets=(NAME, EMAIL),
    ),
    Case(
        "symlink-inside",
        "orders.csv is a link to another file in landing",
        ORDERS,
        _orders(_order("O1")),
        "error",
        "is a symbolic link",
        setup=_symlink_inside,
    ),
    Case(
        "directory",
        "a directory named orders.csv",
        ORDERS,
        _orders(_order("O1")),
        "error",
        "is a directory, not a file",
        setup=_directory,
    ),
    Case(
        "fifo",
        "a named pipe named orders.csv",
        ORDERS,
        _orders(_order("O1")),
        "error",
        "not a regular file",
        setup=_fifo,
    ),
    Case(
        "linked-date-folder",
        "the date folder is a link to a folder outside landing",
        ORDERS,
        _orders(_order("O1")),
        "error",
        "lies outside",
        setup=_linked_date_folder,
    ),
    Case(
        "gzip-main-file",
        "orders.csv.gz (gzip-compressed) instead of orders.csv",
        ORDERS,
        _orders(_order("O1", city=LATIN), _order("O2")),
        "load",
        loaded=2,
        setup=_gzipped("orders.csv.gz"),
        values={"city": [LATIN, "Malmo"]},
    ),
    Case(
        "gzip-part",
        "orders.csv beside a gzip-compressed extra part orders.pos.csv.gz",
        ORDERS,
        _orders(_order("O1"), _order("O2")),
        "load",
        loaded=3,
        setup=_gzipped_part,
        values={"order_id": ["O1", "O2", "P1"], "city": ["Malmo", "Malmo", "Lund"]},
    ),
    Case(
        "gzip-not-gzip",
        "orders.csv.gz that is plain text, not gzip-compressed",
        ORDERS,
        _orders(_order("O1")),
        "error",
        "is named .gz but is not gzip-compressed",
        setup=lambda settings, main: main.rename(main.with_name("orders.csv.gz")),
    ),
    Case(
        "gzip-cut-off",
        "orders.csv.gz whose last 12 bytes are missing (a transfer cut off)",
        ORDERS,
        _orders(_order("O1"), _order("O2")),
        "error",
        "ends inside its gzip data (the file was cut off)",
        setup=_gzipped("orders.csv.gz", cut=12),
    ),
    Case(
        "stray-backup",
        "orders.csv.bak beside orders.csv",
        ORDERS,
        _orders(_order("O1")),
        "stray",
        "orders.csv.bak",
        loaded=1,
        setup=_stray("orders.csv.bak"),
    ),
    Case(
        "stray-copy",
        "orders (1).csv beside orders.csv",
        ORDERS,
        _orders(_order("O1")),
        "stray",
        "orders (1).csv",
        loaded=1,
        setup=_stray("orders (1).csv"),
    ),
    Case(
        "stray-case",
        "Orders.CSV beside orders.csv",
        ORDERS,
        _orders(_order("O1")),
        "stray",
        "Orders.CSV",
        loaded=1,
        setup=_stray("Orders.CSV"),
    ),
    Case(
        "stray-part-with-space",
        "orders.store export.csv (a part name with a space)",
        ORDERS,
        _orders(_order("O1")),
        "stray",
        "orders.store export.csv",
        loaded=1,
        setup=_stray("orders.store export.csv"),
    ),
    Case(
        "stray-only",
        "only orders (1).csv landed",
        ORDERS,
        _orders(_order("O1")),
        "error",
        "Not read because their names do not match: orders (1).csv",
        setup=_stray("orders (1).csv", False),
        policy="fail",
    ),
    Case(
        "valid-part",
        "orders.2.csv, an extra part, beside orders.csv",
        ORDERS,
        _orders(_order("O1")),
        "load",
        loaded=2,
        setup=_part,
    ),
    # ---- timestamps
    Case(
        "ts-now",
        "ordered_at = now",
        ORDERS,
        _orders(_order("O1"), _order("O2", ordered_at="now")),
        "quarantine",
        TS,
        (3,),
        1,
    ),
    Case(
        "ts-today", "ordered_at = today", ORDERS, _orders(_order("O1", ordered_at="today")), "quarantine", TS, (2,), 0
    ),
    Case(
        "ts-yesterday",
        "ordered_at = yesterday",
        ORDERS,
        _orders(_order("O1", ordered_at="yesterday")),
        "quarantine",
        TS,
        (2,),
        0,
    ),
    Case(
        "null-word-undeclared",
        "delivered_at = NULL (a database export's missing value), no null_values declared",
        ORDERS,
        _orders(_order("O1", delivered_at="NULL"), _order("O2")),
        "quarantine",
        "delivered_at: cannot read 'NULL' as timestamp",
        (2,),
        1,
    ),
    Case(
        "null-words-declared",
        "NULL and \\N for missing values, null_values: ['NULL', '\\N'] declared for the source",
        ORDERS,
        _orders(_order("O1", delivered_at="NULL", store_id="\\N"), _order("O2", store_id=" NULL ")),
        "load",
        loaded=2,
        overrides="sources:\n  sales:\n    null_values: ['NULL', '\\N']\n",
        values={"delivered_at": ["None", "None"], "store_id": [None, None]},
    ),
    Case(
        "null-word-key-declared",
        "order_id = NULL with null_values: ['NULL'] declared (the key is required)",
        ORDERS,
        _orders(_order("NULL"), _order("O2")),
        "quarantine",
        "order_id: required value is missing",
        (2,),
        1,
        overrides="sources:\n  sales:\n    null_values: ['NULL']\n",
    ),
    Case(
        "ts-slashes-undeclared",
        "03/04/2026 with no declared format",
        ORDERS,
        _orders(_order("O1", ordered_at="03/04/2026")),
        "quarantine",
        TS,
        (2,),
        0,
    ),
    Case(
        "ts-unix-seconds-declared",
        "posted_at as Unix time in seconds (a JSON number, and text with a fraction), unix_seconds declared for a "
        "source in Europe/Stockholm (Unix time is UTC)",
        POSTS,
        _jsonl(_post("P1", posted_at=1793354400), _post("P2", posted_at="1793354400.25")),
        "load",
        loaded=2,
        overrides="sources:\n  social:\n    timezone: Europe/Stockholm\n    timestamp_formats: [unix_seconds]\n",
        values={"posted_at": ["2026-10-30 10:00:00+00:00", "2026-10-30 10:00:00.250000+00:00"]},
    ),
    Case(
        "ts-unix-milliseconds-declared",
        "ordered_at as Unix time in milliseconds, unix_milliseconds declared, beside an ISO 8601 value and one with a "
        "fraction finer than a microsecond",
        ORDERS,
        _orders(_order("O1", ordered_at="1793354400123"), _order("O2"), _order("O3", ordered_at="1793354400123.4567")),
        "quarantine",
        "ordered_at: cannot read",
        (4,),
        2,
        overrides=FORMATS.format("unix_milliseconds"),
        values={"ordered_at": ["2026-10-30 10:00:00.123000+00:00", "2026-10-30 10:00:00+00:00"]},
    ),
    Case(
        "ts-utc-word",
        "2026-10-30 10:00:00 UTC and …10:00:00.5 GMT (how database exports write UTC) from a source in "
        "Europe/Stockholm; 10:00:00UTC without the blank is not ISO 8601",
        ORDERS,
        _orders(
            _order("O1", ordered_at="2026-10-30 10:00:00 UTC"),
            _order("O2", ordered_at="2026-10-30 10:00:00.5 GMT"),
            _order("O3", ordered_at="2026-10-30 10:00:00UTC"),
        ),
        "quarantine",
        "ordered_at: cannot read",
        (4,),
        2,
        overrides="sources:\n  sales:\n    timezone: Europe/Stockholm\n",
        values={"ordered_at": ["2026-10-30 10:00:00+00:00", "2026-10-30 10:00:00.500000+00:00"]},
    ),
    Case(
        "ts-unix-undeclared",
        "ordered_at = 1793354400 (Unix time) with no declared format",
        ORDERS,
        _orders(_order("O1", ordered_at="1793354400")),
        "quarantine",
        "ordered_at: cannot read",
        (2,),
        0,
    ),
    Case(
        "ts-ambiguous",
        "03/04/2026 10:00 under a day-first and a month-first format",
        ORDERS,
        _orders(_order("O1", ordered_at="03/04/2026 10:00")),
        "quarantine",
        "ordered_at: ambiguous",
        (2,),
        0,
        overrides=BOTH_FIRSTS,
    ),
    Case(
        "ts-unambiguous",
        "13/10/2026 10:00 under a day-first and a month-first format",
        ORDERS,
        _orders(_order("O1", ordered_at="13/10/2026 10:00")),
        "load",
        loaded=1,
        overrides=BOTH_FIRSTS,
        values={"ordered_at": ["2026-10-13 10:00:00+00:00"]},
    ),
    Case(
        "ts-day-first",
        "03/10/2026 10:00 under a declared day-first format",
        ORDERS,
        _orders(_order("O1", ordered_at="03/10/2026 10:00")),
        "load",
        loaded=1,
        overrides=DAY_FIRST,
        values={"ordered_at": ["2026-10-03 10:00:00+00:00"]},
    ),
    Case(
        "ts-now-declared-format",
        "ordered_at = now in a source with a declared format",
        ORDERS,
        _orders(_order("O1"), _order("O2", ordered_at="now")),
        "quarantine",
        TS,
        (3,),
        1,
        overrides=DAY_FIRST,
    ),
    Case(
        "ts-today-declared-format",
        "ordered_at = today in a source with a declared format",
        ORDERS,
        _orders(_order("O1", ordered_at="today"), _order("O2")),
        "quarantine",
        TS,
        (2,),
        1,
        overrides=DAY_FIRST,
    ),
    Case(
        "ts-nanoseconds",
        "2026-10-30T10:00:00.123456789Z (nine fractional digits; cut to microseconds)",
        ORDERS,
        _orders(_order("O1", ordered_at="2026-10-30T10:00:00.123456789Z"), _order("O2")),
        "load",
        loaded=2,
        values={"ordered_at": ["2026-10-30 10:00:00.123456+00:00", "2026-10-30 10:00:00+00:00"]},
    ),
    Case(
        "ts-comma-fraction",
        "2026-10-30T10:00:00,5+01:00 (ISO 8601's decimal comma)",
        ORDERS,
        _orders(_order("O1", ordered_at='"2026-10-30T10:00:00,5+01:00"')),
        "load",
        loaded=1,
        values={"ordered_at": ["2026-10-30 09:00:00.500000+00:00"]},
    ),
    Case(
        "ts-year-one-beside-nanoseconds",
        "ordered_at 0001-01-01 in a file whose other row has nine fractional digits",
        ORDERS,
        _orders(_order("O1", ordered_at="0001-01-01"), _order("O2", ordered_at="2026-10-30T10:00:00.123456789Z")),
        "quarantine",
        "ordered_at: before",
        (2,),
        1,
    ),
    Case(
        "ts-arabic-indic-digits",
        "ordered_at in Arabic-Indic digits (٢٠٢٦-١٠-٣٠)",
        ORDERS,
        _orders(_order("O1", ordered_at="\u0662\u0660\u0662\u0666-\u0661\u0660-\u0663\u0660T10:00:00Z"), _order("O2")),
        "quarantine",
        TS,
        (2,),
        1,
    ),
    Case(
        "ts-fullwidth-digits-declared-format",
        "ordered_at in fullwidth digits (０３/10/2026 10:00) under a declared format",
        ORDERS,
        _orders(_order("O1"), _order("O2", ordered_at="\uff10\uff13/10/2026 10:00")),
        "quarantine",
        TS,
        (3,),
        1,
        overrides=DAY_FIRST,
    ),
    Case(
        "ts-compact",
        "20261030 (ISO 8601 basic format)",
        ORDERS,
        _orders(_order("O1", ordered_at="20261030")),
        "quarantine",
        TS,
        (2,),
        0,
    ),
    Case(
        "ts-far-future",
        "ordered_at in 2099",
        ORDERS,
        _orders(_order("O1", ordered_at="2099-01-01T00:00:00Z")),
        "quarantine",
        "ordered_at: after 2026-11-02",
        (2,),
        0,
    ),
    Case(
        "ts-epoch",
        "ordered_at 1970-01-01 (an epoch placeholder)",
        ORDERS,
        _orders(_order("O1", ordered_at="1970-01-01T00:00:00Z")),
        "quarantine",
        "ordered_at: before",
        (2,),
        0,
    ),
    Case(
        "ts-year-zero",
        "ordered_at 0001-01-01",
        ORDERS,
        _orders(_order("O1", ordered_at="0001-01-01")),
        "quarantine",
        "ordered_at: before",
        (2,),
        0,
    ),
    Case(
        "ts-invalid-day",
        "2026-02-30",
        ORDERS,
        _orders(_order("O1", ordered_at="2026-02-30")),
        "quarantine",
        TS,
        (2,),
        0,
    ),
    Case(
        "ts-window-override",
        "delivered_at 30 days ahead, days_after_load: 7",
        ORDERS,
        _orders(_order("O1", delivered_at="2026-12-01T10:00:00Z")),
        "quarantine",
        "delivered_at: after 2026-11-08",
        (2,),
        0,
        overrides=_col("orders", "delivered_at", "{days_after_load: 7}"),
    ),
    Case(
        "date-promised-ahead",
        "promised_date 200 days ahead (within its 366)",
        ORDERS,
        _orders(_order("O1", promised_date="2027-05-20")),
        "load",
        loaded=1,
    ),
    # ---- numbers
    Case("num-inf", "order_total = inf", ORDERS, _orders(_order("O1", order_total="inf")), "quarantine", NUM, (2,), 0),
    Case("num-nan", "order_total = NaN", ORDERS, _orders(_order("O1", order_total="NaN")), "quarantine", NUM, (2,), 0),
    Case(
        "num-huge-exponent",
        "order_total = 1e400",
        ORDERS,
        _orders(_order("O1", order_total="1e400")),
        "quarantine",
        "order_total: not a finite number",
        (2,),
        0,
    ),
    Case(
        "num-arabic-indic-digits",
        "order_total in Arabic-Indic digits (١٢)",
        ORDERS,
        _orders(_order("O1"), _order("O2", order_total="\u0661\u0662")),
        "quarantine",
        NUM,
        (3,),
        1,
    ),
    Case(
        "num-fullwidth-digits",
        "order_total in fullwidth digits (１２.５)",
        ORDERS,
        _orders(_order("O1", order_total="\uff11\uff12.\uff15"), _order("O2")),
        "quarantine",
        NUM,
        (2,),
        1,
    ),
    Case(
        "num-underscore",
        "order_total = 1_000",
        ORDERS,
        _orders(_order("O1", order_total="1_000")),
        "quarantine",
        NUM,
        (2,),
        0,
    ),
    Case(
        "num-hex", "order_total = 0x10", ORDERS, _orders(_order("O1", order_total="0x10")), "quarantine", NUM, (2,), 0
    ),
    Case(
        "num-thousands",
        'order_total = "1,234.50"',
        ORDERS,
        _orders(_order("O1", order_total='"1,234.50"')),
        "quarantine",
        NUM,
        (2,),
        0,
    ),
    Case(
        "num-above-max",
        "order_total 10,000,001 (above the contract's maximum)",
        ORDERS,
        _orders(_order("O1", order_total="10000001")),
        "quarantine",
        "order_total: above 1e+07",
        (2,),
        0,
    ),
    Case(
        "num-max-override",
        "order_total 5,000 with maximum: 1000 in the overrides",
        ORDERS,
        _orders(_order("O1", order_total="5000"), _order("O2", order_total="999")),
        "quarantine",
        "order_total: above 1000",
        (2,),
        1,
        overrides=_col("orders", "order_total", "{maximum: 1000}"),
    ),
    Case(
        "int-overflow",
        "quantity 99999999999999999999",
        ORDER_LINES,
        _csv(LINES_HEADER, _line("L1", quantity="99999999999999999999")),
        "quarantine",
        "quantity: beyond the 64-bit integer range",
        (2,),
        0,
        overrides=_col("order_lines", "quantity", "{maximum: null}"),
    ),
    Case(
        "int64-max",
        "quantity 9223372036854775807 (without a maximum) loads exactly",
        ORDER_LINES,
        _csv(LINES_HEADER, _line("L1", quantity="9223372036854775807")),
        "load",
        loaded=1,
        overrides=_col("order_lines", "quantity", "{maximum: null}"),
        values={"quantity": [9223372036854775807]},
    ),
    Case(
        "int-fraction",
        "quantity 2.5",
        ORDER_LINES,
        _csv(LINES_HEADER, _line("L1", quantity="2.5")),
        "quarantine",
        "quantity: cannot read",
        (2,),
        0,
    ),
    Case(
        "int-arabic-indic-digits",
        "quantity in Arabic-Indic digits (٣)",
        ORDER_LINES,
        _csv(LINES_HEADER, _line("L1", quantity="\u0663"), _line("L2")),
        "quarantine",
        "quantity: cannot read",
        (2,),
        1,
    ),
    Case(
        "int-point-zero",
        "quantity 3.0",
        ORDER_LINES,
        _csv(LINES_HEADER, _line("L1", quantity="3.0")),
        "load",
        loaded=1,
        values={"quantity": [3]},
    ),
    # ---- control characters
    Case(
        "nul-in-city",
        "a NUL byte in city",
        ORDERS,
        _orders(_order("O1"), _order("O2", city="Mal\x00mo")),
        "quarantine",
        "city: control character U+0000",
        (3,),
        1,
    ),
    Case(
        "bell-in-key",
        "a BEL character in order_id",
        ORDERS,
        _orders(_order("O1\x07")),
        "quarantine",
        "order_id: control character U+0007",
        (2,),
        0,
    ),
    Case(
        "newline-in-city",
        "a quoted line break in city (not a free-text column)",
        ORDERS,
        _orders(_order("O1", city='"Mal\nmo"')),
        "quarantine",
        "city: control character U+000A",
        (2,),
        0,
    ),
    Case(
        "c1-control",
        "a C1 control character (U+0085) in city",
        ORDERS,
        _orders(_order("O1", city="Mal\x85mo")),
        "quarantine",
        "control character U+0085",
        (2,),
        0,
    ),
    Case(
        "del-char",
        "a DEL character in city",
        ORDERS,
        _orders(_order("O1", city="Mal\x7fmo")),
        "quarantine",
        "control character U+007F",
        (2,),
        0,
    ),
    Case(
        "tab-in-comment",
        "a tab in a free-text comment",
        RESPONSES,
        _csv(HEADER, _response("R1", "a\tb")),
        "load",
        loaded=1,
        values={"comment": ["a\tb"]},
    ),
    # ---- encodings
    Case(
        "latin1-detected",
        "a Latin-1 file, nothing declared",
        ORDERS,
        _orders(_order("O1", city=LATIN)).decode().encode("latin-1"),
        "load",
        loaded=1,
        values={"city": [LATIN]},
    ),
    Case(
        "latin1-declared",
        "a Latin-1 file, CX_ENCODING_SALES=latin-1",
        ORDERS,
        _orders(_order("O1", city=LATIN)).decode().encode("latin-1"),
        "load",
        loaded=1,
        values={"city": [LATIN]},
        encodings={"sales": "latin-1"},
    ),
    Case(
        "cp1250-declared-candidate",
        "a cp1250 file, CX_ENCODING_SALES=utf-8,cp1250",
        ORDERS,
        _orders(_order("O1", city=POLISH)).decode().encode("cp1250"),
        "load",
        loaded=1,
        values={"city": [POLISH]},
        encodings={"sales": ("utf-8", "cp1250")},
    ),
    Case(
        "utf8-declared-latin1",
        "a UTF-8 file declared latin-1 (would be mojibake)",
        ORDERS,
        _orders(_order("O1", city=LATIN)),
        "error",
        "mojibake",
        encodings={"sales": "latin-1"},
    ),
    Case(
        "utf16-bom",
        "a UTF-16 file with its byte-order mark and Windows line ends (a spreadsheet's Unicode text)",
        ORDERS,
        _orders(_order("O1", city=POLISH), _order("O2", city="上海")).decode().replace("\n", "\r\n").encode("utf-16"),
        "load",
        loaded=2,
        values={"city": [POLISH, "上海"]},
    ),
    Case(
        "utf16-bom-declared-latin1",
        "a UTF-16 file (byte-order mark) declared latin-1",
        ORDERS,
        _orders(_order("O1", city=LATIN)).decode().encode("utf-16"),
        "error",
        "starts with a UTF-16 byte-order mark, but its encoding is declared as latin-1",
        encodings={"sales": "latin-1"},
    ),
    Case(
        "mixed-utf8-latin1",
        "UTF-8 rows and one Latin-1 row in one file",
        ORDERS,
        _orders(_order("O1", city=LATIN), _order("O2", city=LATIN))
        + _order("O3", city=LATIN).encode("latin-1")
        + b"\n",
        "quarantine",
        "bytes that are not valid utf-8",
        (4,),
        2,
        values={"city": [LATIN, LATIN]},
    ),
    Case(
        "utf8-declared-bad-bytes",
        "invalid bytes in a file declared utf-8",
        ORDERS,
        _orders(_order("O1")) + _order("O2", city="Mal\udcffmo").encode("utf-8", "surrogateescape") + b"\n",
        "quarantine",
        "bytes that are not valid utf-8",
        (3,),
        1,
        encodings={"sales": "utf-8"},
    ),
    Case(
        "private-use-char",
        "a private-use character U+F741 in city, in a valid UTF-8 file",
        ORDERS,
        _orders(_order("O1"), _order("O2", city="Mal\uf741mo")),
        "quarantine",
        "city: private-use character U+F741",
        (3,),
        1,
    ),
    Case(
        "private-use-json-escape",
        "a \\uf741 escape (a private-use character) in a post's text",
        POSTS,
        _jsonl(_post("P1"), _post("P2", text="ok\uf741").replace("\uf741", "\\uf741")),
        "quarantine",
        "text: private-use character U+F741",
        (2,),
        1,
    ),
    Case(
        "private-use-char-and-bad-bytes",
        "a private-use character U+F741 on line 3 and an undecodable byte on line 4",
        ORDERS,
        _orders(_order("O1"), _order("O2", city="Mal\uf741mo"))
        + _order("O3", city="Mal\udcffmo").encode("utf-8", "surrogateescape")
        + b"\n",
        "quarantine",
        "bytes that are not valid utf-8",
        (3, 4),
        1,
        encodings={"sales": "utf-8"},
    ),
    Case(
        "empty-spreadsheet-rows",
        "a spreadsheet's empty rows saved as lines of delimiters only (,,,,), between rows and after the last",
        ORDERS,
        _orders(_order("O1"), "," * 11, _order("O2"), " , ,,,,,,,,,,", "," * 11, "," * 11),
        "load",
        loaded=2,
    ),
]


# ------------------------------------------------------------------ running a case


def _run_settings(settings: Settings, tmp_path: Path, case: Case) -> Settings:
    ingest = settings.ingest
    if case.overrides:
        path = tmp_path / "contract-overrides.yml"
        path.write_text(case.overrides, encoding="utf-8")
        ingest = dataclasses.replace(ingest, contract_overrides=path)
    if case.encodings:
        ingest = dataclasses.replace(ingest, encodings=FrozenMap(case.encodings))
    return dataclasses.replace(settings, ingest=ingest)


def _physical_lines(data: bytes, entity: Entity) -> int:
    """Physical lines after the header (a CSV header is the first line that is not blank)."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        data = data.decode("utf-16").encode("utf-8")  # a UTF-16 character's bytes may hold 0x0A
    if entity.file_format == "csv" and b"\r" in data and b"\n" not in data:
        data = data.replace(b"\r", b"\n")  # lines that end with a carriage return alone
    lines = data.count(b"\n") + (1 if data and not data.endswith(b"\n") else 0)
    if entity.file_format == "jsonl":
        return lines
    leading = len(data) - len(data.lstrip(b" \t\r\n"))
    return max(lines - data[:leading].count(b"\n") - 1, 0)


def _no_secrets(case: Case, *texts: str) -> None:
    for text in texts:
        for secret in case.secrets:
            assert secret not in text, f"{case.id}: row content {secret!r} shown"


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input(case: Case, settings: Settings, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    current = _run_settings(settings, tmp_path, case)
    main = landing_file(current, case.entity, DAY)
    main.parent.mkdir(parents=True, exist_ok=True)
    assert case.data is not None
    main.write_bytes(case.data)
    if case.setup is not None:
        case.setup(current, main)
    source = case.entity.source
    if case.outcome == "error":
        with pytest.raises(ContractError) as raised:
            ingest_source(current, source, DAY, policy=case.policy)
        message = str(raised.value)
        assert case.expect in message
        assert case.entity.file_name in message or main.parent.name in message  # names the file
        _no_secrets(case, message, caplog.text)
        assert not (current.lake_dir / source / case.entity.name).exists()  # nothing published
        return
    results = {r.entity: r for r in ingest_source(current, source, DAY, policy=case.policy)}
    result = results[case.entity.name]
    assert tuple(result.drift_columns) == case.drift
    assert result.rows_in == result.rows_loaded + result.rows_quarantined
    assert result.lines_in == result.lines_loaded + result.lines_quarantined + result.lines_blank
    own_lines = _physical_lines(case.data, case.entity) - case.above_header
    if case.outcome != "stray" and case.setup is None:
        assert result.lines_in == own_lines  # every physical line after the header is counted
    part = f"load_date={DAY}/part-0.parquet"
    quarantine = pq.read_table(current.quarantine_dir / source / case.entity.name / part).to_pylist()
    lake = pq.read_table(current.lake_dir / source / case.entity.name / part).to_pylist()
    assert tuple(q["source_row"] for q in quarantine) == case.lines
    assert all(case.expect in str(q["reason"]) for q in quarantine[:1]), quarantine[:1]
    if case.outcome == "quarantine" and case.expect:
        assert all(case.expect in str(q["reason"]) or "line" in str(q["reason"]) for q in quarantine)
    if case.loaded is not None:
        assert result.rows_loaded == case.loaded
    for column, values in case.values.items():
        shown = [str(r[column]) if column.endswith("_at") else r[column] for r in lake]
        assert shown == values
    if case.outcome == "stray":
        assert case.expect in result.stray_files
        assert not any(str(r["_source_file"]).startswith(("Orders", "orders.csv.", "orders (")) for r in lake)
        audit = pq.read_table(current.lake_dir / "_load_audit" / source / part).to_pylist()
        assert case.expect in next(a for a in audit if a["entity"] == case.entity.name)["stray_files"]
    audit = pq.read_table(current.lake_dir / "_load_audit" / source / part).to_pylist()
    _no_secrets(case, caplog.text, json.dumps(audit, default=str))


def test_the_suite_has_at_least_60_distinct_cases() -> None:
    assert len({c.id for c in CASES}) == len(CASES) >= 60
    assert {c.outcome for c in CASES} == {"error", "quarantine", "load", "stray"}


def test_a_stray_quote_does_not_empty_the_day(settings: Settings) -> None:
    """The reported incident: one quote on line 103 of 2,944 orders loaded 101 of them."""
    main = landing_file(settings, ORDERS, DAY)
    main.parent.mkdir(parents=True, exist_ok=True)
    main.write_bytes(_many(2944, 103, _order("O103", city='"Malmo')))
    (orders, *_) = ingest_source(settings, "sales", DAY, policy="skip")
    assert (orders.rows_in, orders.rows_loaded, orders.rows_quarantined) == (2944, 2943, 1)
    assert (orders.lines_in, orders.lines_loaded, orders.lines_quarantined) == (2944, 2943, 1)


# ------------------------------------------------------------------ reasons whatever the batch size

#: The batch sizes a file is read in: whole, and pieces of about 1,000 and 250 bytes.
_BATCH_SIZES = (1 << 30, 1000, 250)


def _private_use_orders(bad_bytes: bool) -> bytes:
    """60 orders, private-use characters on lines 5 (city) and 50 (order_total), an undecodable byte on 40."""
    rows = [_order(f"O{i}") for i in range(2, 62)]
    rows[5 - 2] = _order("O5", city="Mal\uf741mo")
    rows[50 - 2] = _order("O50", order_total="1\uf7002")
    data = _orders(*rows)
    return data.replace(b"O40,", b"O40\xff,") if bad_bytes else data


def _private_use_posts(bad_bytes: bool) -> bytes:
    """60 posts, \\uf7xx escapes on lines 3 and 45 (ASCII lines), an undecodable byte on line 30 (the other
    posts' non-ASCII text makes the file UTF-8 with one bad byte, not a file in another encoding)."""
    lines = [_post(f"P{i}", text=LATIN) for i in range(1, 61)]
    lines[3 - 1] = _post("P3", text="ok\uf741").replace("\uf741", "\\uf741")
    lines[45 - 1] = _post("P45", text="\uf7ff").replace("\uf7ff", "\\uf7ff")
    data = _jsonl(*lines)
    return data.replace(b'"P30"', b'"P30\xff"') if bad_bytes else data


@pytest.mark.parametrize(
    ("entity", "data", "lines", "reason"),
    [
        (ORDERS, _private_use_orders(True), (5, 40, 50), "bytes that are not valid utf-8"),
        (ORDERS, _private_use_orders(False), (5, 50), "private-use character U+F7"),
        (POSTS, _private_use_posts(True), (3, 30, 45), "bytes that are not valid utf-8"),
        (POSTS, _private_use_posts(False), (3, 45), "private-use character U+F7"),
    ],
    ids=["csv-bad-bytes", "csv-valid-utf8", "jsonl-bad-bytes", "jsonl-valid-utf8"],
)
def test_private_use_reasons_do_not_depend_on_the_batch_size(
    tmp_path: Path, entity: Entity, data: bytes, lines: tuple[int, ...], reason: str
) -> None:
    """A private-use character U+F700-U+F7FF (literal or a JSON escape) is reported alike whether the file is
    read whole or in pieces: as an undecodable byte in a file holding some, as itself in any other."""
    from conftest import settings_for  # (here: the module also runs as a script, to render the table)

    found = []
    for size in _BATCH_SIZES:
        run = settings_for(tmp_path / str(size))
        main = landing_file(run, entity, DAY)
        main.parent.mkdir(parents=True, exist_ok=True)
        main.write_bytes(data)
        results = {r.entity: r for r in ingest_source(run, entity.source, DAY, policy="skip", batch_bytes=size)}
        result = results[entity.name]
        assert result.rows_in == result.rows_loaded + result.rows_quarantined
        assert result.lines_in == result.lines_loaded + result.lines_quarantined + result.lines_blank == 60
        part = f"load_date={DAY}/part-0.parquet"
        quarantine = pq.read_table(run.quarantine_dir / entity.source / entity.name / part).to_pylist()
        assert tuple(q["source_row"] for q in quarantine) == lines
        assert all(reason in str(q["reason"]) and f"line {q['source_row']}," in str(q["reason"]) for q in quarantine)
        found.append([(q["source_row"], q["reason"]) for q in quarantine])
    assert found[1] == found[0] and found[2] == found[0]


# ------------------------------------------------------------------ any bytes: never a crash

_FRAGMENTS = [
    b'"',
    b",",
    b"\n",
    b"\r\n",
    b"\r",
    b"\x00",
    b"\xff",
    b"\xc3",
    b"\xe9",
    b" ",
    b"{",
    b"}",
    b"[",
    b":",
    b"inf",
    b"nan",
    b"now",
    b"1e400",
    b"99999999999999999999",
    b"2026-10-30T10:00:00Z",
    b"\\u0000",
    b"\\ud800",
    _order("O1").encode(),
    _order("O2").encode(),
    _post("P1").encode(),
    b'"text": "',
    b'"rating": ',
]
_BYTES = st.lists(st.one_of(st.sampled_from(_FRAGMENTS), st.binary(max_size=6)), max_size=40).map(b"".join)


def _any_bytes_outcome(settings: Settings, entity: Entity, header: bytes, body: bytes) -> None:
    main = landing_file(settings, entity, DAY)
    main.parent.mkdir(parents=True, exist_ok=True)
    data = header + body
    main.write_bytes(data)
    try:
        results = ingest_source(settings, entity.source, DAY, policy="skip")
    except ContractError as exc:  # a clear error naming the file
        assert entity.file_name in str(exc)
        return
    result = next(r for r in results if r.entity == entity.name)
    assert result.rows_in == result.rows_loaded + result.rows_quarantined
    assert result.lines_in == result.lines_loaded + result.lines_quarantined + result.lines_blank
    if result.encoding in ("utf-8", "utf-8-sig", "cp1252", "cp1251", "gb18030"):
        assert result.lines_in == _physical_lines(data, entity)


@hsettings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=_BYTES)
def test_any_bytes_in_a_csv_file_load_quarantine_or_fail_clearly(settings: Settings, body: bytes) -> None:
    _any_bytes_outcome(settings, ORDERS, (ORDERS_HEADER + "\n").encode(), body)


@hsettings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=_BYTES)
def test_any_bytes_in_a_jsonl_file_load_quarantine_or_fail_clearly(settings: Settings, body: bytes) -> None:
    _any_bytes_outcome(settings, POSTS, b"", body)


# ------------------------------------------------------------------ digits, spaces and times beyond ASCII

#: Timestamps and numbers near the edges of what is read: leap seconds, years 0000 and 10000, offsets.
_TIME_SEEDS = [
    "2026-10-30T10:00:00Z",
    "2026-10-30T23:59:60Z",
    "0000-01-01T00:00:00Z",
    "10000-01-01T00:00:00Z",
    "2026-10-30T10:00:00+14:00",
    "2026-10-30T10:00:00-12:00",
    "2026-10-30T10:00:00+0530",
    "2026-10-30T10:00:00+24:00",
    "2026-10-30T10:00:00.1234567891Z",
    "2026-10-30 10:00",
    "2026-10-30",
]
_NUMBER_SEEDS = ["10", "-12.50", "1e3", ".5", "3.0"]
#: Characters that are digits or blanks to Python's ``re`` or ``str`` but not ASCII (no field or line breaks).
_UNICODE_CHARS = st.characters(categories=("Nd", "No", "Zs", "Cf"), exclude_characters=',"\r\n')


def _with_unicode(seeds: list[str]) -> st.SearchStrategy[str]:
    """A seed with some of its characters replaced by, or with added, non-ASCII digits and blanks."""

    def edit(seed: str, changes: list[tuple[int, str, bool]]) -> str:
        text = list(seed)
        for position, char, replace in changes:
            at = position % (len(text) + 1)
            if replace and at < len(text):
                text[at] = char
            else:
                text.insert(at, char)
        return "".join(text)

    changes = st.lists(st.tuples(st.integers(0, 40), _UNICODE_CHARS, st.booleans()), max_size=3)
    return st.builds(edit, st.sampled_from(seeds), changes)


@hsettings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ordered_at=_with_unicode(_TIME_SEEDS), total=_with_unicode(_NUMBER_SEEDS))
def test_non_ascii_digits_and_blanks_in_times_and_numbers_are_never_read(
    settings: Settings, ordered_at: str, total: str
) -> None:
    """A timestamp or number holding a non-ASCII character inside it (``٣``, ``３``, a no-break space) is
    quarantined, never read as a value nor a reason to stop the load; edge values load or are quarantined."""
    main = landing_file(settings, ORDERS, DAY)
    main.parent.mkdir(parents=True, exist_ok=True)
    main.write_bytes(_orders(_order("O1", ordered_at=ordered_at, order_total=total), _order("O2")))
    (orders, *_) = ingest_source(settings, "sales", DAY, policy="skip")
    assert orders.rows_in == orders.rows_loaded + orders.rows_quarantined == 2
    assert orders.lines_in == orders.lines_loaded + orders.lines_quarantined + orders.lines_blank == 2
    if not (ordered_at.strip().isascii() and total.strip().isascii()):
        assert orders.rows_quarantined == 1
        (row,) = pq.read_table(
            settings.quarantine_dir / "sales" / "orders" / f"load_date={DAY}" / "part-0.parquet"
        ).to_pylist()
        assert row["source_row"] == 2


# ------------------------------------------------------------------ the table in docs/bad-input.md


def render_doc() -> str:
    outcome = {
        "error": "**error**: nothing of the source is loaded for the date",
        "quarantine": "**quarantined**",
        "load": "loads",
        "stray": "**reported** (`stray_files`), not read",
    }
    lines = [
        "# Bad input: what ingest does with it",
        "",
        "Generated from `tests/unit/ingest/test_bad_input.py` (`python tests/unit/ingest/test_bad_input.py >",
        "docs/bad-input.md`); each row is a test case that asserts the outcome, and a test keeps this table",
        "and the cases in step. In every case that is not an error, the load audit balances by record",
        "(`rows_in = rows_loaded + rows_quarantined`) and by physical line (`lines_in = lines_loaded +",
        "lines_quarantined + lines_blank`). Errors and logs name the file, line and column, never the",
        "row's content. Why: [decision 0017](decisions/0017-strict-ingest.md); how ingest reads files:",
        "[sources.md](sources.md).",
        "",
        "| # | case | input | outcome | message (excerpt) | quarantined lines |",
        "|---|---|---|---|---|---|",
    ]
    for number, case in enumerate(CASES, start=1):
        quarantined = ", ".join(map(str, case.lines[:5])) + (", …" if len(case.lines) > 5 else "")
        what = case.what.replace("|", "\\|")
        lines.append(
            f"| {number} | `{case.id}` | {what} ({case.entity.source}.{case.entity.name}) | {outcome[case.outcome]} "
            f"| {case.expect.replace('|', '')} | {quarantined} |"
        )
    return "\n".join(lines) + "\n"


def test_the_documented_table_is_the_case_list() -> None:
    assert DOC.read_text(encoding="utf-8") == render_doc(), "regenerate: python tests/unit/ingest/test_bad_input.py"


if __name__ == "__main__":
    sys.stdout.write(render_doc())
