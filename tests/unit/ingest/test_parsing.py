"""cxpipe.ingest.parsing: CSV and JSON Lines shapes, physical line numbers, records that cannot be read."""

import json
import re

import pandas as pd
import pytest
from ingest_helpers import DAY, GOOD, HEADER, _lake, _quarantine, _responses, _write

from cxpipe.contracts import POSTS, ContractError
from cxpipe.ingest import ingest_source, landing_file
from cxpipe.settings import Settings


def test_quoted_newlines_and_delimiters_keep_physical_line_numbers(settings: Settings) -> None:
    _responses(
        settings,
        'R1,C1,O1,delivery,web,2026-10-30T10:00:00Z,5,10,7,"late, but\nthe driver was\nkind"',
        "R2,C2,O2,delivery,web,2026-10-30T10:00:00Z,5,11,7,nps too high",
        'R3,C3,O3,delivery,web,2026-10-30T10:00:00Z,4,8,6,"said ""fine"", ok"',
    )
    (result,) = ingest_source(settings, "surveys", DAY)
    assert (result.rows_in, result.rows_loaded, result.rows_quarantined) == (3, 2, 1)
    lake = _lake(settings, "surveys", "responses")
    assert [(r["_source_row"], r["comment"]) for r in lake] == [
        (2, "late, but\nthe driver was\nkind"),
        (6, 'said "fine", ok'),
    ]
    (bad,) = _quarantine(settings)
    assert (bad["source_row"], bad["reason"]) == (5, "nps: above 10")


def test_row_with_wrong_field_count_is_quarantined_with_its_exact_text(settings: Settings) -> None:
    ragged = "R2,C2,O2,delivery,web,2026-10-30T10:00:00Z,5,10,7,fast, cheap, friendly"
    _responses(settings, GOOD, ragged)
    (result,) = ingest_source(settings, "surveys", DAY)
    assert (result.rows_loaded, result.rows_quarantined) == (1, 1)
    (bad,) = _quarantine(settings)
    assert bad["source_row"] == 3
    assert bad["raw"] == ragged + "\n"
    assert str(bad["reason"]).startswith("line 3: expected 10 fields as in the header, found 12")


def test_unclosed_quote_sets_only_its_own_line_aside(settings: Settings) -> None:
    _responses(
        settings, GOOD, 'R2,C2,O2,delivery,web,2026-10-30T10:00:00Z,5,10,7,"never closed', GOOD.replace("R1", "R3")
    )
    (result,) = ingest_source(settings, "surveys", DAY)
    assert (result.rows_in, result.rows_loaded, result.rows_quarantined) == (3, 2, 1)
    assert (result.lines_in, result.lines_loaded, result.lines_quarantined) == (3, 2, 1)
    (bad,) = _quarantine(settings)
    assert bad["source_row"] == 3 and bad["raw"] == 'R2,C2,O2,delivery,web,2026-10-30T10:00:00Z,5,10,7,"never closed\n'
    assert str(bad["reason"]).startswith("line 3: a quote opened on this line does not close on it")
    assert [r["response_id"] for r in _lake(settings, "surveys", "responses")] == ["R1", "R3"]


def test_duplicate_header_name_fails_naming_the_column(settings: Settings) -> None:
    _responses(settings, GOOD + ",x", header=HEADER + ",comment")
    with pytest.raises(ContractError, match=r"line 1 \(header\), column 11: column 'comment' twice"):
        ingest_source(settings, "surveys", DAY)


def test_malformed_json_line_is_quarantined_and_the_rest_loaded(settings: Settings) -> None:
    path = landing_file(settings, POSTS, DAY)
    good = {"post_id": "P1", "platform": "vk", "kind": "post", "posted_at": "2026-10-30T10:00:00Z", "text": "ok"}
    _write(settings, path, json.dumps(good) + "\n{not json\n" + json.dumps({**good, "post_id": "P2"}) + "\n")
    (result,) = ingest_source(settings, "social", DAY)
    assert (result.rows_in, result.rows_loaded, result.rows_quarantined) == (3, 2, 1)
    (bad,) = _quarantine(settings, "posts", "social")
    assert bad["source_row"] == 2
    assert str(bad["reason"]).startswith("line 2: malformed JSON")
    assert bad["raw"] == "{not json"


def test_json_lines_that_are_not_objects_or_have_bad_values_are_quarantined(settings: Settings) -> None:
    good = {"post_id": "P1", "platform": "vk", "kind": "review", "posted_at": "2026-10-30T10:00:00Z", "text": "ок"}
    lines = [
        json.dumps(good, ensure_ascii=False),
        "[1, 2]",
        json.dumps({**good, "post_id": "P2", "rating": "five"}),
        json.dumps({**good, "post_id": "P3", "kind": "story", "tags": ["a", "b"]}),
        # platform is an open list: a platform the contract does not know loads and is counted
        json.dumps({**good, "post_id": "P4", "platform": "myspace"}),
    ]
    _write(settings, landing_file(settings, POSTS, DAY), "\r\n".join(lines) + "\r\n")
    (result,) = ingest_source(settings, "social", DAY)
    assert (result.rows_in, result.rows_loaded, result.rows_quarantined) == (5, 2, 3)
    assert result.drift_columns == ["tags"]
    assert result.unknown_values == {"platform": {"myspace": 1}}
    reasons = {row["source_row"]: row["reason"] for row in _quarantine(settings, "posts", "social")}
    assert reasons[2] == "line 2: malformed JSON (expected a JSON object, found list)"
    assert reasons[3] == "rating: cannot read 'five' as integer"
    assert reasons[4] == "kind: 'story' not in post, review"
    assert _lake(settings, "social", "posts")[0]["text"] == "ок"


def test_parsing_in_chunks_gives_the_same_rows_as_in_one_piece(monkeypatch: pytest.MonkeyPatch) -> None:
    from cxpipe.ingest import parsing

    rows = [GOOD.replace("R1", f"R{n}") for n in range(1, 8)]
    rows[2] = rows[2].replace("great", '"multi\nline, quoted"')
    rows[4] = rows[4] + ",extra"
    rows.insert(6, 'R99,C1,O1,delivery,web,2026-10-30T10:00:00Z,5,10,7,"opens here')
    text = "\n".join([HEADER, *rows]) + "\n"
    whole = parsing.parse_csv(text, "x.csv")
    monkeypatch.setattr(parsing, "_CHUNK_ROWS", 2)
    chunked = parsing.parse_csv(text, "x.csv")
    assert chunked.fillna("").to_dict("records") == whole.fillna("").to_dict("records")
    assert list(whole["_source_row"]) == [2, 3, 4, 6, 7, 8, 9, 10]
    assert whole.loc[whole["_source_row"] == 9, "_raw"].item() == rows[6] + "\n"


UNQUOTED_BODIES = [
    "R1,a,b\nR2,c,d\n",
    "R1,a,b\r\n\r\nR2,c,d\r\n",  # CRLF, a blank line
    "R1,a,b\n  \t\nR2,c\nR3,d,e,f\nR4,g,h",  # blank, too few, too many fields, no line break at the end
    "\n\nR1,é,中\n,,\n\x0c\n",  # blank lines first, empty fields, a form feed alone is blank
    "R1,a,b\n   ",  # a last line of blanks without a line break is blank
    "",
]


@pytest.mark.parametrize("body", UNQUOTED_BODIES)
def test_records_without_quotes_read_as_the_csv_reader_reads_them(body: str) -> None:
    """Without quote characters the records are split in Arrow, not by the CSV reader; a quoted
    first field (the same value once unquoted) sends the same text through the reader."""
    from cxpipe.ingest import parsing

    text = "id,x,y\n" + body
    assert parsing._unquoted(text, len("id,x,y\n"), 3)
    quoted = "id,x,y\n" + body.replace("R1", '"R1"', 1) if "R1" in body else "id,x,y\n" + body + '"R9",a,b\n'
    split, reader = parsing.parse_csv(text, "x.csv"), parsing.parse_csv(quoted, "x.csv")
    if "R1" not in body:  # the reader's text has one record more at the end
        reader = reader[reader["_source_row"] <= len(body.split("\n"))]
    assert split.attrs["blank_lines"] == reader.attrs["blank_lines"]
    assert split.dtypes.to_dict() == reader.dtypes.to_dict()
    keep = [c for c in split.columns if c != "_raw"]
    raw = {"_raw": lambda s: s.fillna("").str.replace('"R1"', "R1")} if "_raw" in split.columns else {}
    assert split[keep].fillna("").to_dict("records") == reader[keep].fillna("").to_dict("records")
    if raw:
        assert list(split["_raw"].fillna("")) == list(raw["_raw"](reader["_raw"]))


def test_records_without_quotes_keep_their_lines_and_reasons() -> None:
    from cxpipe.ingest import parsing

    frame = parsing.parse_csv("id,x,y\r\nR1,a,b\r\n\r\nR2,c\r\nR3,d,e", "x.csv")
    assert list(frame["_source_row"]) == [2, 4, 5]
    assert list(frame["_raw_error"]) == [
        "",
        "line 4: expected 3 fields as in the header, found 2; quote values that contain the delimiter",
        f"line 5: {parsing._NO_LINE_END}",
    ]
    assert list(frame["_raw"].fillna("")) == ["", "R2,c\r\n", "R3,d,e"]
    assert (frame.attrs["lines"], frame.attrs["blank_lines"]) == (4, 1)


@pytest.mark.parametrize("body", ['R1,"a",b\n', "R1,a\rb,c\n", "R1,a,b\r"])
def test_quotes_and_lone_carriage_returns_go_through_the_csv_reader(body: str) -> None:
    from cxpipe.ingest import parsing

    assert not parsing._unquoted("id,x,y\n" + body, len("id,x,y\n"), 3)
    assert not parsing._unquoted("id\nR1\n", len("id\n"), 1)  # one column: a blank line has as many fields


def test_json_lines_keys_are_judged_per_key_set_even_when_lines_repeat_or_alternate_them() -> None:
    from cxpipe.ingest import parsing

    text = '{}\n{}\n{"a": "1", "a ": "2"}\n{"a": "1", "a ": "2"}\n{"a": 3}\n{}\n{"_raw": 1}\n{"a": 4}\n'
    frame = parsing.parse_jsonl(text, "x.jsonl")
    twice = "line {}: a key cxpipe keeps for itself (_source_row, _raw, …) or the same key twice"
    assert list(frame["_raw_error"]) == ["", "", twice.format(3), twice.format(4), "", "", twice.format(7), ""]
    assert list(frame["a"].fillna("-")) == ["-", "-", "-", "-", "3", "-", "-", "4"]


def test_json_lines_columns_follow_the_first_appearance_of_keys_and_records_keep_their_lines() -> None:
    from cxpipe.ingest import parsing

    text = (
        '{"b": "x", "a": 1.50}\n'
        "not json\n"
        '{"a": true, "c": {"k": [1, "é"]}}\n'
        "\n"
        '  {"b": null, "a": 12345678901234567890}  \n'
        '{"a": "last"}'
    )
    frame = parsing.parse_jsonl(text, "x.jsonl")
    assert list(frame.columns) == ["_source_row", "_last_line", "_raw_error", "b", "a", "_raw", "c"]
    assert list(frame["_source_row"]) == [1, 2, 3, 5, 6]
    assert list(frame["a"].fillna("-")) == ["1.5", "-", "true", "12345678901234567890", "last"]
    assert list(frame["b"].fillna("-")) == ["x", "-", "-", "", "-"]  # null reads as an empty value
    assert list(frame["c"].fillna("-")) == ["-", "-", '{"k": [1, "é"]}', "-", "-"]
    assert list(frame["_raw"].fillna("-")) == ["-", "not json", "-", "-", "-"]
    assert frame["_raw_error"][1].startswith("line 2: malformed JSON (Expecting value: line 1 column 1")
    assert (frame.attrs["lines"], frame.attrs["blank_lines"]) == (6, 1)


def test_a_well_formed_quoted_file_is_read_by_arrow_with_each_records_physical_lines() -> None:
    from cxpipe.ingest import parsing

    body = 'R1,"a, b",x\nR2,"line one\nline two",y\nR3,"say ""hi""",z\n'
    records = parsing._quoted_records(body, 2, ["id", "text", "other"])
    assert records is not None
    assert list(records["_source_row"]) == [2, 3, 5]
    assert list(records["_last_line"]) == [2, 4, 5]
    assert list(records["text"]) == ["a, b", "line one\nline two", 'say "hi"']
    frame = parsing.parse_csv("id,text,other\n" + body, "x.csv")
    assert list(frame["_source_row"]) == [2, 3, 5]
    assert list(frame["text"]) == ["a, b", "line one\nline two", 'say "hi"']
    assert (frame.attrs["lines"], frame.attrs["blank_lines"]) == (4, 0)


@pytest.mark.parametrize(
    "body",
    [
        'R1,"a",x\n',  # quotes the value does not need: not what Arrow's records would be written as
        'R1,"a, b",x\n\nR2,c,y\n',  # a blank line
        'R1,"a, b"\n',  # too few fields
        'R1,"a, b",x\nR2,"open,y\nR3,c,z\n',  # a quote that never closes
        'R1,"a\nR9,b,c\nd",x\n',  # a record over lines of which one would be a record on its own
        'R1,"a, b",x',  # no line break at the end
    ],
)
def test_quoted_files_that_arrow_may_read_otherwise_go_through_the_csv_reader(body: str) -> None:
    from cxpipe.ingest import parsing

    assert parsing._quoted_records(body, 2, ["id", "text", "other"]) is None


def test_a_file_with_every_value_quoted_is_read_by_arrow_as_the_csv_reader_reads_it() -> None:
    import csv
    import io

    from cxpipe.ingest import parsing

    out = io.StringIO()
    writer = csv.writer(out, quoting=csv.QUOTE_ALL, lineterminator="\r\n")
    writer.writerows([["id", "text"], ["R1", 'say "hi", then\r\nleave'], ["R2", ""]])
    body = out.getvalue().split("\r\n", 1)[1]
    records = parsing._quoted_records(body, 2, ["id", "text"])
    assert records is not None
    assert list(records["text"]) == ['say "hi", then\r\nleave', ""]
    assert (list(records["_source_row"]), list(records["_last_line"])) == ([2, 4], [3, 4])
    rows = list(csv.reader(io.StringIO(out.getvalue(), newline="")))[1:]
    assert list(parsing.parse_csv(out.getvalue(), "x.csv")["text"]) == [text for _, text in rows]


#: JSON Lines that Arrow's JSON reader reads as the line-by-line reader does (the fast path is taken).
ARROW_JSONL = [
    '{"id": "a", "n": 1, "ok": true, "x": null}\n{"id": "b", "n": -0, "ok": false, "x": "y"}\n',
    '{"a": "1", "b": "2"}\n{"b": "3", "a": "4"}\n',  # keys in another order: the first line's order
    '{"t": "2026-11-01T10:00:00Z", "n": null}\n{"t": null, "n": 7}\n',  # a time stays text; null, then a number
    '  {"a": "é, 中", "b": "x/y"}  \n{"a":"\\/", "b":""}\n',  # blanks around objects, an escaped slash
]
#: JSON Lines the fast path must leave to the line-by-line reader (each for the reason given).
LINE_BY_LINE_JSONL = [
    '{"a": "1", "b": null}\n{"a": "2"}\n',  # a missing key is not a null
    '{"a": "1"}\n{"a": oops}\n{"a": "3"}\n',  # a malformed line
    '{"a": 1.50}\n',  # a number Python writes as 1.5
    '{"a": {"k": [1]}}\n',  # nested
    '{"a": "say \\"hi\\""}\n',  # an escaped quote
    '{"a": "\\u00e9"}\n{"a": "\\ud800"}\n',  # \u escapes, a lone surrogate
    '{"a": "1"}\r\n{"a": "2"}\r\n',  # CRLF
    '{"a": "1"}\n\n{"a": "2"}\n',  # a blank line
    '{"a": "1"}\n{"a": "2"}',  # no line break at the end
    '{"a": "1"}{"a": "2"}\n\n',  # two objects on one line (and a blank line: as many rows as lines)
    '{"a": "1", "a": "2"}\n',  # a key twice
    '{"_raw": "1"}\n',  # a key cxpipe keeps for itself
    '{"a ": "1"}\n',  # blanks around a key
    '{"a": "1"}\n[1, 2]\n',  # not an object
    '{"a": "1"}\n{"a": 2}\n',  # a string, then a number
    '{"a" : "1"}\n',  # a key not followed by ":
    '{"a": NaN}\n',
    '\ufeff{"a": "1"}\n{"a": "2"}\n',  # a byte order mark (Arrow would skip it)
]


def _line_by_line(text: str, first_line: int = 1) -> "object":
    from cxpipe.ingest import parsing

    fast = parsing._jsonl_by_arrow
    parsing._jsonl_by_arrow = lambda *args: None  # type: ignore[assignment]
    try:
        return parsing.parse_jsonl(text, "x.jsonl", first_line)
    finally:
        parsing._jsonl_by_arrow = fast


@pytest.mark.parametrize("text", ARROW_JSONL)
def test_json_lines_arrow_reads_are_what_the_line_by_line_reader_returns(text: str) -> None:
    import pandas as pd

    from cxpipe.ingest import parsing

    assert parsing._jsonl_by_arrow(text, 5, parsing.count_lines(text)) is not None
    fast, slow = parsing.parse_jsonl(text, "x.jsonl", 5), _line_by_line(text, 5)
    pd.testing.assert_frame_equal(fast, slow, check_exact=True)
    assert fast.attrs == slow.attrs
    assert list(fast["_source_row"]) == [5, 6]


@pytest.mark.parametrize("text", LINE_BY_LINE_JSONL)
def test_json_lines_arrow_may_read_otherwise_go_line_by_line(text: str) -> None:
    import pandas as pd

    from cxpipe.ingest import parsing

    assert parsing._jsonl_by_arrow(text, 1, parsing.count_lines(text)) is None
    pd.testing.assert_frame_equal(parsing.parse_jsonl(text, "x.jsonl"), _line_by_line(text), check_exact=True)


def test_a_malformed_json_line_in_a_piece_keeps_its_line_and_reason_and_the_other_pieces_take_arrow(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A piece holding a malformed line is read line by line (its line number and reason as before);
    the pieces around it are read by Arrow; the lake and quarantine are those of reading every line."""
    from cxpipe.ingest import parsing

    def post(n: int) -> str:
        return json.dumps(
            {
                "post_id": f"P{n}",
                "platform": "twitter",
                "kind": "post",
                "posted_at": "2026-10-30T10:00:00Z",
                "text": f"post {n}",
                "handle": f"@u{n}",
                "customer_id": None,
                "rating": n % 5 + 1,
            }
        )

    lines = [post(n) for n in range(1, 200)]
    lines[150] = '{"post_id": "P151", "platform": "twitter", oops}'
    _write(settings, landing_file(settings, POSTS, DAY), "\n".join(lines) + "\n")
    taken: list[bool] = []
    fast = parsing._jsonl_by_arrow

    def counted(*args: object) -> object:
        found = fast(*args)  # type: ignore[arg-type]
        taken.append(found is not None)
        return found

    monkeypatch.setattr(parsing, "_jsonl_by_arrow", counted)
    ingest_source(settings, "social", DAY, batch_bytes=4096)
    assert taken.count(False) == 1 and taken.count(True) >= 3  # only the malformed line's piece went line by line
    with_arrow = (_lake(settings, "social", "posts"), _quarantine(settings, "posts", "social"))
    monkeypatch.setattr(parsing, "_jsonl_by_arrow", lambda *args: None)
    ingest_source(settings, "social", DAY, batch_bytes=4096)
    line_by_line = (_lake(settings, "social", "posts"), _quarantine(settings, "posts", "social"))
    assert [{k: v for k, v in r.items() if k != "ingested_at"} for r in with_arrow[0]] == [
        {k: v for k, v in r.items() if k != "ingested_at"} for r in line_by_line[0]
    ]
    quarantined = with_arrow[1]
    assert [row["source_row"] for row in quarantined] == [151]
    assert str(quarantined[0]["reason"]).startswith("line 151: malformed JSON (")
    assert quarantined[0]["raw"] == lines[150]
    assert [{k: v for k, v in r.items() if k != "ingested_at"} for r in quarantined] == [
        {k: v for k, v in r.items() if k != "ingested_at"} for r in line_by_line[1]
    ]


@pytest.mark.parametrize(
    ("body", "by_arrow"),
    [
        ("R1,a,b\nR2,,é\n", True),
        ("R1,a,b\r\nR2,c,d\r\n", True),
        ("R1,a, b \nR2,\t,d\n", True),  # blanks inside fields are kept
        ("R1,a,b\r\n\r\nR2,c,d\r\n", False),  # an empty line
        ("\nR1,a,b\n", False),
        ("R1,a,b\n  \nR2,c,d\n", False),  # a line of blanks
        ("R1,a,b\nR2,c\n", False),  # too few fields
        ("R1,a,b\nR2,c,d,e\n", False),  # too many
        ("R1,a,b\nR2,c,d", False),  # no line break at the end
        ("R1,a,b\r\nR2,c,d\n", False),  # line endings differ
        ("\ufeffR1,a,b\nR2,c,d\n", False),  # a byte order mark (Arrow would skip it)
    ],
)
def test_records_without_quotes_read_by_arrow_are_those_split_line_by_line(body: str, by_arrow: bool) -> None:
    import pandas as pd

    from cxpipe.ingest import parsing

    header = ["id", "x", "y"]
    assert (parsing._unquoted_by_arrow(body, 2, header) is not None) is by_arrow
    fast = parsing.parse_csv_piece(body, 2, header)
    original = parsing._unquoted_by_arrow
    parsing._unquoted_by_arrow = lambda *args: None  # type: ignore[assignment]
    try:
        split = parsing.parse_csv_piece(body, 2, header)
    finally:
        parsing._unquoted_by_arrow = original
    assert fast is not None and split is not None
    pd.testing.assert_frame_equal(fast, split, check_exact=True)
    assert fast.attrs == split.attrs


@pytest.mark.parametrize("body", UNQUOTED_BODIES)
def test_a_csv_piece_read_from_its_bytes_is_the_piece_read_from_its_text(body: str) -> None:
    import pandas as pd

    from cxpipe.ingest import parsing

    header = ["id", "x", "y"]
    from_text = parsing.parse_csv_piece(body, 2, header)
    from_bytes = parsing.parse_csv_piece(body, 2, header, body.encode("utf-8"))
    assert from_text is not None and from_bytes is not None
    pd.testing.assert_frame_equal(from_bytes, from_text, check_exact=True)
    assert from_bytes.attrs == from_text.attrs


@pytest.mark.parametrize("text", ARROW_JSONL)
def test_json_lines_read_from_their_bytes_are_those_read_from_their_text(text: str) -> None:
    import pandas as pd

    from cxpipe.ingest import parsing

    from_bytes = parsing.parse_jsonl(text, "x.jsonl", 5, text.encode("utf-8"))
    pd.testing.assert_frame_equal(from_bytes, parsing.parse_jsonl(text, "x.jsonl", 5), check_exact=True)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('[{"a": "1"}, {"a": "2"}]', "line 1 begins a JSON array"),
        ('\n[\n  {"a": "1"}\n]\n', "line 2 begins a JSON array"),
        ('{\n  "a": "1"\n}\n{\n  "a": "2"\n}\n', "line 1 holds only '{'"),
    ],
)
def test_a_json_document_is_refused_as_json_lines(text: str, expected: str) -> None:
    from cxpipe.ingest import parsing

    with pytest.raises(ContractError, match=re.escape(expected)) as raised:
        parsing.parse_jsonl(text, "posts.jsonl")
    assert "one JSON object per line" in raised.value.hint
    # a piece further down a file is not its beginning: its lines are read one by one
    assert len(parsing.parse_jsonl(text, "posts.jsonl", first_line=7)) > 0


#: Comma-separated bodies (after the header ``id,x,y``) whose values hold no other delimiter: written with
#: another delimiter they are the same file, read through every path (Arrow without quotes, lines split
#: one by one, Arrow with quotes, the CSV reader).
DELIMITED_BODIES = [
    *UNQUOTED_BODIES,
    'R1,"a, b",x\nR2,"line one\nline two",y\nR3,"say ""hi""",z\n',  # read by Arrow with quotes
    'R1,"a",x\nR2,"open,y\nR3,c,z\nR4,d\n',  # needless quotes, a quote that never closes, too few fields
]


@pytest.mark.parametrize(
    ("body", "delimiter"),
    [(body, d) for d in (";", "\t", "|") for body in DELIMITED_BODIES if d not in body],
)
def test_a_declared_delimiter_reads_a_file_as_the_comma_reads_it_written_with_commas(body: str, delimiter: str) -> None:
    from cxpipe.ingest import parsing

    def swapped(frame: pd.DataFrame, old: str, new: str) -> list[dict[str, object]]:
        text = [c for c in frame.columns if c not in ("_source_row", "_last_line", "_raw_error")]
        return (
            frame.fillna("").assign(**{c: frame[c].fillna("").str.replace(old, new) for c in text}).to_dict("records")
        )

    commas = parsing.parse_csv("id,x,y\n" + body, "x.csv", ["id", "x", "y"])
    other = "id,x,y\n".replace(",", delimiter) + body.replace(",", delimiter)
    read = parsing.parse_csv(other, "x.csv", ["id", "x", "y"], delimiter)
    assert swapped(read, delimiter, ",") == commas.fillna("").to_dict("records")
    assert (read.attrs["lines"], read.attrs["blank_lines"]) == (commas.attrs["lines"], commas.attrs["blank_lines"])
    # the same file read as a piece (ingest's batches), when it can be
    piece = parsing.parse_csv_piece(body.replace(",", delimiter), 2, ["id", "x", "y"], delimiter=delimiter)
    whole = parsing.parse_csv_piece(body, 2, ["id", "x", "y"])
    assert (piece is None) == (whole is None)
    if piece is not None and whole is not None:
        assert swapped(piece, delimiter, ",") == whole.fillna("").to_dict("records")


@pytest.mark.parametrize("delimiter", [",", "\t", ";"])
def test_a_row_of_empty_values_only_is_skipped_as_blank_lines(delimiter: str) -> None:
    """A spreadsheet saves its empty rows as lines of delimiters (``,,``); a quoted empty row too.
    They hold no value: counted as blank lines, every other record kept with its line number."""
    from cxpipe.ingest import parsing

    d = delimiter
    bodies = (
        f"R1{d}a{d}b\n{d}{d}\nR2{d}c{d}d\n {d} {d}\n{d}{d}\n",  # no quotes: split in Arrow
        f'R1{d}"a"{d}b\n{d}{d}\nR2{d}c{d}d\n {d} {d}\n{d}{d}\n',  # quotes: the CSV reader
        f'R1{d}a{d}b\n""{d}""{d}""\nR2{d}c{d}d\n {d} {d}\n{d}{d}\n',  # quotes Arrow reads
    )
    for body in bodies:
        frame = parsing.parse_csv(f"id{d}x{d}y\n" + body, "x.csv", ["id", "x", "y"], d)
        assert list(frame["_source_row"]) == [2, 4]
        assert list(frame["id"]) == ["R1", "R2"]
        assert (frame.attrs["lines"], frame.attrs["blank_lines"], frame.attrs["empty_records"]) == (5, 3, 3)
        piece = parsing.parse_csv_piece(body, 2, ["id", "x", "y"], delimiter=d)
        if piece is not None:
            assert list(piece["_source_row"]) == [2, 4]
            assert (piece.attrs["lines"], piece.attrs["blank_lines"]) == (5, 3)


def test_a_row_with_one_value_or_set_aside_is_no_empty_row() -> None:
    from cxpipe.ingest import parsing

    frame = parsing.parse_csv("id,x,y\n,,b\n,\n", "x.csv", ["id", "x", "y"])
    assert list(frame["_source_row"]) == [2, 3]
    assert list(frame["_raw_error"].fillna("").str.contains("expected 3 fields")) == [False, True]
    assert (frame.attrs["blank_lines"], frame.attrs["empty_records"]) == (0, 0)


@pytest.mark.parametrize(
    ("declared", "header", "found"),
    [(",", "id;x;y", "semicolons, not commas"), (";", "id,x,y", "commas, not semicolons, the delimiter the source")],
)
def test_a_header_separated_by_another_delimiter_names_it_and_the_override(
    declared: str, header: str, found: str
) -> None:
    from cxpipe.ingest import parsing

    with pytest.raises(ContractError) as error:
        parsing.parse_csv(header + "\nR1,a,b\n", "x.csv", ["id", "x", "y"], declared)
    assert f"separated by {found}" in str(error.value)
    other = ";" if declared == "," else ","
    assert f'delimiter: "{other}"' in str(error.value)


@pytest.mark.parametrize(
    ("top", "above"),
    [
        ("", 0),  # the header first
        ("\n\n", 0),  # blank lines before the header count with it, as before
        ("Orders export\n", 1),
        ('"Report, all stores\n', 1),  # a quote that does not close on its line
        ("Sales report\ngenerated 2026-11-01, all stores\n\n", 3),
        ("title\n" * 20, 20),
        ("title\n" * 21, None),  # more lines than a title takes: no header found
    ],
)
def test_lines_above_the_header_are_skipped_only_when_a_header_follows(
    top: str, above: int | None, caplog: pytest.LogCaptureFixture
) -> None:
    from cxpipe.ingest import parsing

    text = top + "id,x,y\nR1,a,b\n"
    if above is None:
        with pytest.raises(ContractError, match="line 1 \\(header\\): none of its 1 fields"):
            parsing.parse_csv(text, "x.csv", ["id", "x", "y"])
        return
    frame = parsing.parse_csv(text, "x.csv", ["id", "x", "y"])
    assert list(frame["id"]) == ["R1"]
    assert list(frame["_source_row"]) == [text.count("\n")]
    assert frame.attrs["above_header"] == above
    assert ("above the header" in caplog.text) == bool(above)
    assert parsing.csv_header(text, "x.csv", ["id", "x", "y"]) == (["id", "x", "y"], text.count("\n") - 1, len(top) + 7)


def test_a_first_line_naming_one_contract_column_is_the_header() -> None:
    from cxpipe.ingest import parsing

    frame = parsing.parse_csv("id\nid,x,y\nR1,a,b\n", "x.csv", ["id", "x", "y"])
    assert frame.attrs["above_header"] == 0
    assert [reason.split(";")[0] for reason in frame["_raw_error"]] == [
        "line 2: expected 1 fields as in the header, found 3",
        "line 3: expected 1 fields as in the header, found 3",
    ]


def test_a_path_into_nested_json_objects_reads_values_as_top_level_values_are_read() -> None:
    from cxpipe.ingest import parsing

    frame = parsing.parse_jsonl(
        '{"user": {"screen_name": "anna", "n": 1.50, "ok": true, "tags": ["a"], "none": null}}\n'
        '{"user": {}}\n{"user": "plain"}\n{"other": 1}\n',
        "x.jsonl",
    )

    def at(path: str) -> list[str | None]:
        return [None if pd.isna(v) else v for v in parsing.json_path_values(frame["user"], path)]

    assert at("screen_name") == ["anna", None, None, None]
    assert at("n") == ["1.5", None, None, None]
    assert at("ok") == ["true", None, None, None]
    assert at("tags") == ['["a"]', None, None, None]
    assert at("none") == ["", None, None, None]  # null: an empty value, as at the top level
    assert at("screen_name.first") == [None] * 4
