"""cxpipe.ingest.validation: types, allowed values and ranges, duplicate keys within a landing date."""

import json

from ingest_helpers import DAY, GOOD, HEADER, _lake, _quarantine, _responses, _write

from cxpipe.contracts import ORDER_LINES, ORDERS, RESPONSES, TICKETS
from cxpipe.ingest import ingest_entity, ingest_source, landing_file
from cxpipe.settings import Settings


def test_out_of_range_and_unparseable_values_are_quarantined_with_row_and_reason(settings: Settings) -> None:
    _responses(
        settings,
        GOOD,
        "R2,C2,O2,delivery,web,2026-10-30T10:00:00Z,5,11,7,nps too high",
        "R3,C3,O3,delivery,web,not a date,5,9,7,bad timestamp",
        "R4,C4,O4,teleport,web,2026-10-30T10:00:00Z,x,9,7,bad touchpoint and csat",
    )
    (result,) = ingest_source(settings, "surveys", DAY)
    assert (result.rows_in, result.rows_loaded, result.rows_quarantined) == (4, 1, 3)
    # source_row is the physical line in the file: the header is line 1.
    rejected = {row["source_row"]: row for row in _quarantine(settings)}
    assert rejected[3]["reason"] == "nps: above 10"
    assert "responded_at: cannot read 'not a date' as timestamp" in str(rejected[4]["reason"])
    # touchpoint is an open list: 'teleport' is no reason to quarantine; the bad csat is
    assert str(rejected[5]["reason"]) == "csat: cannot read 'x' as integer"
    assert json.loads(str(rejected[3]["raw"]))["nps"] == "11"
    assert [row["response_id"] for row in _lake(settings, "surveys", "responses")] == ["R1"]


def test_orders_negative_amount_loads_as_a_credit_note(settings: Settings) -> None:
    path = landing_file(settings, ORDERS, DAY)
    row = "O1,C1,web,S1,SE,Malmo,2026-10-01T10:00:00Z,2026-10-05,2026-10-04T12:00:00Z,delivered,-5,SEK"
    _write(settings, path, ",".join(ORDERS.column_names) + "\n" + row + "\n")
    result = ingest_entity(settings, ORDERS, DAY, "fail")
    assert (result.rows_loaded, result.rows_quarantined) == (1, 0)
    assert _lake(settings, "sales", "orders")[0]["order_total"] == -5


def test_negative_quantities_and_prices_load(settings: Settings) -> None:
    path = landing_file(settings, ORDER_LINES, DAY)
    rows = ["L1,O1,P1,sofas,1,1,true,100,100,0", "L2,O1,P2,beds,-2,-2,true,50,-50,0"]
    _write(settings, path, ",".join(ORDER_LINES.column_names) + "\n" + "\n".join(rows) + "\n")
    result = ingest_entity(settings, ORDER_LINES, DAY, "fail")
    assert (result.rows_loaded, result.rows_quarantined) == (2, 0)
    line = {r["line_id"]: r for r in _lake(settings, "sales", "order_lines")}["L2"]
    assert (line["quantity"], line["qty_fulfilled"], line["unit_price"]) == (-2, -2, -50)


def test_duplicate_key_keeps_the_last_row_and_quarantines_the_earlier(settings: Settings) -> None:
    _responses(settings, GOOD, GOOD.replace("great", "changed my mind"))
    (result,) = ingest_source(settings, "surveys", DAY)
    assert (result.rows_loaded, result.rows_quarantined) == (1, 1)
    assert _lake(settings, "surveys", "responses")[0]["comment"] == "changed my mind"
    assert "duplicate key" in str(_quarantine(settings)[0]["reason"])


def test_duplicate_keys_across_files_of_a_day_keep_the_later_file(settings: Settings) -> None:
    _responses(settings, GOOD, GOOD.replace("R1", "R2"))
    extra = landing_file(settings, RESPONSES, DAY).with_name("responses.part2.csv")
    _write(settings, extra, HEADER + "\n" + GOOD.replace("great", "second file") + "\n")
    (result,) = ingest_source(settings, "surveys", DAY)
    assert (result.rows_in, result.rows_loaded, result.rows_quarantined, result.rows_duplicate) == (3, 2, 1, 1)
    lake = {r["response_id"]: r for r in _lake(settings, "surveys", "responses")}
    assert lake["R1"]["comment"] == "second file" and lake["R1"]["_source_file"] == "responses.part2.csv"
    (bad,) = _quarantine(settings)
    assert bad["reason"] == "response_id: duplicate key; superseded by responses.part2.csv line 2"
    assert str(bad["source_file"]).endswith("responses.csv")


def test_an_invalid_later_row_does_not_evict_a_valid_earlier_one(settings: Settings) -> None:
    _responses(settings, GOOD, GOOD.replace(",5,10,7,", ",5,99,7,"))
    (result,) = ingest_source(settings, "surveys", DAY)
    assert (result.rows_loaded, result.rows_quarantined, result.rows_duplicate) == (1, 1, 0)
    assert _lake(settings, "surveys", "responses")[0]["nps"] == 10


def test_iso_8601_check_by_arrow_agrees_with_python_re_on_every_kind_of_value() -> None:
    import re

    import pandas as pd

    from cxpipe.ingest.validation import ISO_8601, _iso_8601

    values = [
        "2026-11-01",
        "2026-11-01T10:00:00Z",
        "2026-11-01 10:00:00 +01:00",
        "2026-11-01T10:00:00.123456789+0100",
        "2026-11-01T10:00\x1cZ",  # an ASCII separator: whitespace to Python's re, not to RE2's \s
        "2026-11-01T10:00\x0bZ",
        "2026-11-01T10:00\xa0Z",  # a no-break space: not ASCII, read by re
        "٢٠٢٦-١١-٠١",  # Arabic-Indic digits: \d to Python, but not ISO 8601's [0-9]
        "2026-11-01\n",
        "2026-11-1",
        "",
        "now",
    ]
    text = pd.Series(values * 2, dtype=str, index=range(5, 5 + 2 * len(values)))
    expected = [re.fullmatch(ISO_8601, v) is not None for v in text]
    assert _iso_8601(text).tolist() == expected
    assert list(_iso_8601(text).index) == list(text.index)
    assert expected[:7] == [True] * 7 and expected[7:12] == [False] * 5


def test_control_characters_are_searched_in_a_columns_bytes_as_the_pattern_finds_them() -> None:
    """:func:`may_hold` says False only when no value holds a character of the pattern (C0, DEL, C1;
    tabs and line breaks are text in free text), whole columns and slices of them alike."""
    import re

    import pandas as pd

    from cxpipe.ingest.validation import CONTROL, CONTROL_IN_TEXT, may_hold

    for forbidden in (CONTROL, CONTROL_IN_TEXT):
        pattern = re.compile(forbidden)
        for code in [*range(0x00, 0x250), 0x2028, 0xFFFD, 0x1F600]:
            values = pd.Series(["plain", f"a{chr(code)}b", None, "中文"], dtype="str")
            found = pattern.search(chr(code)) is not None
            assert may_hold(values, forbidden) is found, (forbidden, hex(code))
            assert may_hold(values.iloc[1:2], forbidden) is found
            assert may_hold(values.iloc[2:], forbidden) is False  # a slice leaves the value before it out


def test_a_value_with_a_control_character_in_a_later_batch_is_still_quarantined(settings: Settings) -> None:
    _responses(
        settings,
        GOOD,
        "R2,C2,O2,delivery,web,2026-10-30T10:00:00Z,5,9,7,fine",
        "R3,C3\x01,O3,delivery,web,2026-10-30T10:00:00Z,5,9,7,x",
    )
    (result,) = ingest_source(settings, "surveys", DAY, batch_bytes=64)
    assert (result.rows_loaded, result.rows_quarantined) == (2, 1)
    (row,) = _quarantine(settings)
    assert "control character U+0001" in str(row["reason"]) and row["source_row"] == 4


def test_stripping_and_presence_from_a_columns_bytes_agree_with_the_string_methods() -> None:
    """:func:`stripped` is ``str.strip()`` (and the column itself when no value's first or last byte could
    be whitespace); :func:`filled` is ``str.len() > 0``, for characters of every kind at either end."""
    import pandas as pd

    from cxpipe.ingest.validation import filled, stripped

    for code in [*range(0x00, 0x250), 0x1680, 0x2000, 0x2028, 0x202F, 0x3000, 0xFEFF, 0xFFFD, 0x1F600]:
        c = chr(code)
        values = pd.Series(["plain", f"{c}a", f"b{c}", f"{c}", "", "中 文", "x y"], dtype="str", index=range(3, 10))
        for column in (values, values.iloc[1:2], values.iloc[2:3], values.iloc[3:], values.iloc[5:]):
            expected = column.str.strip()
            assert stripped(column).tolist() == expected.tolist(), hex(code)
            assert list(stripped(column).index) == list(column.index)
            assert filled(column).tolist() == (column.str.len() > 0).tolist()
            assert list(filled(column).index) == list(column.index)
    clean = pd.Series(["a", "b c", "", "x中文x"], dtype="str")
    assert stripped(clean) is clean  # nothing to strip: no copy
    assert filled(pd.Series([], dtype="str")).tolist() == []
    with_missing = pd.Series([" a", None], dtype="str")  # a missing value: the string methods themselves
    assert stripped(with_missing).tolist()[0] == "a"


def test_integers_with_points_signs_and_many_digits_are_typed_as_before() -> None:
    import pandas as pd

    from cxpipe.contracts import ORDER_LINES
    from cxpipe.ingest.validation import _integers

    column = next(c for c in ORDER_LINES.columns if c.type == "integer")
    given = ["12", "+5", "5.000", "5.", "-0", "-00012", "+0.0", "9223372036854775807", "9223372036854775808",
             "-9223372036854775808", "0000000000000000000000001", "1.5", "x", ""]  # fmt: skip
    text = pd.Series(given, dtype="str")
    values, bad, problems = _integers(column, text, text.str.len() > 0)
    assert values.tolist()[:8] == [12, 5, 5, 5, 0, -12, 0, 2**63 - 1]
    assert pd.isna(values.iloc[8]) and values.iloc[9] == -(2**63) and values.iloc[10] == 1
    assert bad.tolist() == [False] * 11 + [True, True, False]
    assert problems[0][0].tolist() == [False] * 8 + [True] + [False] * 5
    # no point, no sign, no long value: the same values by the shorter way
    short = pd.Series(["1", "-2", "007", ""], dtype="str")
    assert _integers(column, short, short.str.len() > 0)[0].tolist()[:3] == [1, -2, 7]


def test_a_timestamp_reads_the_same_whatever_else_its_batch_holds() -> None:
    """Year 1 does not fit nanoseconds: a value with nine fractional digits beside it must not make pandas
    read the batch at nanoseconds, or year 1 would be unreadable in that batch and merely too early in others."""
    import pandas as pd

    from cxpipe.ingest.validation import _times

    column = ORDERS.column("ordered_at")
    alone = ["0001-01-01T00:00:00Z", "2026-10-30T10:00:00Z"]
    beside = [*alone, "2026-10-30T10:00:00.123456789Z", "2026-10-30 10:00:00,9999999+02:00"]
    read = {}
    for given in (alone, beside):
        text = pd.Series(given, dtype="str")
        stamps, _ = _times(ORDERS, column, text, text.str.len() > 0)
        assert pd.DatetimeIndex(stamps).unit == "us"
        read[len(given)] = [str(v) for v in stamps]
    assert read[2] == ["0001-01-01 00:00:00+00:00", "2026-10-30 10:00:00+00:00"]
    assert read[4] == [*read[2], "2026-10-30 10:00:00.123456+00:00", "2026-10-30 08:00:00.999999+00:00"]


def test_a_ticket_answered_or_resolved_before_it_was_created_is_quarantined(settings: Settings) -> None:
    def ticket(ticket_id: str, **times: str) -> str:
        row = {"ticket_id": ticket_id, "channel": "email", "created_at": "2026-10-31T10:00:00Z", "text": "late"}
        return json.dumps(row | times)

    lines = [
        ticket("T1", first_response_at="2026-10-31T11:00:00Z", resolved_at="2026-10-31T12:00:00Z"),
        ticket("T2", first_response_at="2026-10-31T09:59:00Z"),
        ticket("T3", first_response_at="2026-10-31T10:30:00Z", resolved_at="2026-10-30T23:00:00Z"),
        ticket("T4", resolved_at="2026-10-31T10:00:00Z"),  # resolved at once: not earlier
        ticket("T5", created_at="", resolved_at="2026-10-31T10:00:00Z"),  # missing creation: one reason
    ]
    _write(settings, landing_file(settings, TICKETS, DAY), "\n".join(lines) + "\n")
    result = ingest_entity(settings, TICKETS, DAY, "fail")
    assert (result.rows_loaded, result.rows_quarantined) == (2, 3)
    assert sorted(r["ticket_id"] for r in _lake(settings, "crm", "tickets")) == ["T1", "T4"]
    reasons = {json.loads(str(r["raw"]))["ticket_id"]: r["reason"] for r in _quarantine(settings, "tickets", "crm")}
    assert reasons == {
        "T2": "first_response_at: before created_at",
        "T3": "resolved_at: before created_at",
        "T5": "created_at: required value is missing",
    }
