"""Decoded text -> string columns with each record's physical lines.

Both parsers return one row per record: the fields as strings, ``_source_row``
(the physical line where the record starts; the CSV header is line 1),
``_last_line`` (where it ends: a quoted value may hold line breaks) and
``_raw_error`` (empty, or why the record could not be read). Records that could
not be read keep their exact text in ``_raw`` so the quarantine shows what was
delivered.

Every physical line after the header is accounted for: it belongs to exactly one
record (loaded or quarantined) or is blank. The frame's ``attrs`` carry
``lines`` (physical lines after the header, counted from the text itself, not
from the parser) and ``blank_lines``, so the load audit can balance lines as
well as records.

A quote that never closes would swallow every following line into one value. A
record spanning several lines is only accepted when it has the header's number
of fields, spans at most :data:`MAX_RECORD_LINES` lines, closes its quotes and
none of its inner lines would be a complete record on its own; otherwise only
its first line is quarantined and reading resumes on the next line, so the other
lines are loaded or quarantined one by one.

Records of a CSV file without any quote character (and no carriage return but
before a line break) are split in Arrow, one record per physical line, which is
what the CSV reader returns for such text: by Arrow's CSV reader with quoting off
when every line is such a record, else by splitting the lines, where only the lines
with another number of fields, blank lines and a last line without a line break are
looked at one by one. A file with quotes is read by Arrow's CSV reader when its records, written
back with the fewest quotes and the file's line ending, give its text exactly and
its records over several lines pass the rules above (every record was then well
formed, so the CSV reader would return the same); any other file with quotes goes
through the CSV reader line by line as described above.

JSON Lines are read by Arrow's JSON reader when that provably gives what reading
line by line gives (:func:`_jsonl_by_arrow`: every line one flat object with every
key once, values strings, integers, booleans or null); any other text, such as a
piece holding one malformed line, is read line by line.

Error messages name the file, line and column position, never a value: a
headerless file's first line is a customer's row.
"""

from __future__ import annotations

import csv
import json
import json.scanner
import logging
import re
import sys
from collections import deque
from collections.abc import Collection, Iterator, Mapping

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
import pyarrow.json as pa_json

from cxpipe.contracts import ContractError

log = logging.getLogger(__name__)
csv.field_size_limit(min(sys.maxsize, 2**31 - 1))
#: CSV records parsed into Python lists before they become Arrow-backed columns.
_CHUNK_ROWS = 50_000
#: A CSV record (a quoted value with line breaks) may span at most this many physical lines.
MAX_RECORD_LINES = 200
#: Columns the parsers (and reading) add beside a file's own; a file may not use these names.
INTERNAL_COLUMNS = frozenset({"_source_file", "_source_row", "_last_line", "_raw_error", "_raw"})

_SURROGATE = re.compile("[\ud800-\udfff]")
_NO_LINE_END = (
    "the file ends inside this record without a line break; the export may have been cut off here, "
    "re-deliver the complete file"
)


def count_lines(text: str) -> int:
    """Physical lines of ``text``: line breaks, plus one for a last line without a break."""
    if not text:
        return 0
    return text.count("\n") + (0 if text.endswith("\n") else 1)


def _empty_frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "_source_row": pd.Series([], dtype="int64"),
            "_last_line": pd.Series([], dtype="int64"),
            "_raw_error": pd.Series([], dtype=object),
        }
    )


def _accounted(frame: pd.DataFrame, lines: int, blank: int) -> pd.DataFrame:
    frame.attrs["lines"] = lines
    frame.attrs["blank_lines"] = blank
    return frame


def _csv_accounted(frame: pd.DataFrame, lines: int, blank: int, header: list[str]) -> pd.DataFrame:
    """:func:`_accounted` for CSV records: a record whose every field is empty or white space (a
    spreadsheet's empty rows, saved as ``,,,,``) holds no value, so it is no record but blank lines
    (``attrs["empty_records"]`` counts them); every other record stays."""
    empty = pd.Series(bool(header), index=frame.index)
    if "_raw_error" in frame.columns:
        empty &= frame["_raw_error"].fillna("").eq("")
    for name in header:
        if not empty.any():
            break
        empty &= frame[name].fillna("").str.strip().eq("")
    records = int(empty.sum())
    if records:
        spans = frame.loc[empty, "_last_line"] - frame.loc[empty, "_source_row"] + 1
        blank += int(spans.sum())
        frame = frame.loc[~empty].reset_index(drop=True)
    frame.attrs["empty_records"] = records
    return _accounted(frame, lines, blank)


class _Lines:
    """The physical lines of a text, one at a time, numbered; lines can be handed back.

    ``taken`` holds the lines handed out since :meth:`mark`. At most ``limit`` lines are handed
    out between marks: then the iterator reports the end, so a quote that never closes cannot
    make the CSV reader swallow the rest of the file in one go (``capped`` says it happened).
    """

    def __init__(self, text: str, limit: int) -> None:
        self.text = text
        self.pos = 0
        self.number = 0  # the last line read from the text
        self.pushed: deque[tuple[int, str]] = deque()
        self.taken: list[tuple[int, str]] = []
        self.limit = limit
        self.capped = False

    def __iter__(self) -> Iterator[str]:
        return self

    def __next__(self) -> str:
        if len(self.taken) >= self.limit:
            self.capped = True
            raise StopIteration
        if self.pushed:
            number, line = self.pushed.popleft()
        else:
            if self.pos >= len(self.text):
                raise StopIteration
            end = self.text.find("\n", self.pos)
            end = len(self.text) if end < 0 else end + 1
            line = self.text[self.pos : end]
            self.pos = end
            self.number += 1
            number = self.number
        self.taken.append((number, line))
        return line

    def mark(self) -> None:
        self.taken = []
        self.capped = False

    def give_back(self, lines: list[tuple[int, str]]) -> None:
        self.pushed.extendleft(reversed(lines))

    def at_end(self, number: int) -> bool:
        """Whether line ``number`` is the last line of the text."""
        return not self.pushed and self.pos >= len(self.text) and number == self.number


def _line_fields(line: str, delimiter: str = ",") -> list[str]:
    """The fields of ``line`` read as a CSV record on its own (none when it cannot be read)."""
    try:
        return next(csv.reader([line], strict=False, delimiter=delimiter), [])
    except csv.Error:
        return []


def _one_record(line: str, delimiter: str = ",") -> int:
    """How many fields ``line`` has when read as a CSV record on its own."""
    return len(_line_fields(line, delimiter))


def name_key(name: str) -> str:
    """A column name compared without case, blanks, hyphens and underscores (``Order ID``, ``OrderId``)."""
    return _NAME_SEPARATORS.sub("", name.casefold())


_NAME_SEPARATORS = re.compile(r"[\s_-]+")
#: The delimiters a source may declare (``delimiter`` in the contract), as named in messages: a semicolon
#: where the comma is the decimal mark, a tab, a bar.
DELIMITERS = {",": "commas", ";": "semicolons", "\t": "tabs", "|": "vertical bars"}


def _blank(line: str, delimiter: str) -> bool:
    """Whether a physical line is blank: only white space, and no delimiter (a tab-separated record of
    empty values is white space, and is a record)."""
    return not line.strip() and delimiter not in line


#: How a header's column that cannot have its own name is read: no name (an export's index column, a header
#: that ends with a delimiter), or the name of an earlier column that is not a contract column. Not a contract
#: column, so its values are schema drift, reported by position (:func:`placeholder_reason`) and not loaded.
_PLACEHOLDER = re.compile(r"\((no name|a repeated name), column ([0-9]+)\)")


def placeholder_reason(name: str) -> str | None:
    """Why a header column has the placeholder name ``name`` (``no name``, ``a repeated name``), or None."""
    found = _PLACEHOLDER.fullmatch(name)
    return found.group(1) if found else None


def header_names(fields: list[str], expected: Collection[str] | Mapping[str, str] = ()) -> list[str]:
    """The column names of a header record: trimmed (a byte-order mark dropped), a name the contract gives a
    column (``expected``: the contract's column names, or each name a column has in files -> the column,
    :attr:`~cxpipe.contracts.Entity.names_in_files`) read as that column, and so is a name that is one of
    those when case, blanks, hyphens and underscores are ignored (``Order ID``, ``ORDER-ID`` for
    ``order_id``). Other names stay as written, but in a header with some name, an empty name and a
    repeated name that is no contract column get a placeholder (:data:`_PLACEHOLDER`)."""
    names = [field.strip().lstrip("\ufeff").strip() for field in fields]
    targets = dict(expected) if isinstance(expected, Mapping) else {column: column for column in expected}
    if targets:
        by_key: dict[str, set[str]] = {}
        for name, column in targets.items():
            by_key.setdefault(name_key(name), set()).add(column)
        for index, name in enumerate(names):
            if name in targets:
                names[index] = targets[name]
            elif len(match := by_key.get(name_key(name), set())) == 1:
                names[index] = next(iter(match))
    if any(names):
        columns = set(targets.values())
        seen: set[str] = set()
        for index, name in enumerate(names):
            if not name:
                names[index] = f"(no name, column {index + 1})"
            elif name in seen and name not in columns and name not in INTERNAL_COLUMNS:
                names[index] = f"(a repeated name, column {index + 1})"
            seen.add(name)
    return names


def _check_header(
    header: list[str], path: str, line: int, expected: Collection[str], delimiter: str = ",", source: str = "<source>"
) -> None:
    """Fail on a header that is no header (none of the contract's columns), a name cxpipe keeps, a contract column
    named twice, or empty names only (:func:`header_names` gives other empty and repeated names a placeholder).

    The message names positions only, and a name only when it is a contract column: the first
    line of a file without a header is a row of data. A header whose names are contract columns
    when split at another delimiter is named as such a file.
    """
    if expected and header and not set(header) & set(expected):
        joined = delimiter.join(header)
        for other, called in DELIMITERS.items():
            if (
                other != delimiter
                and other in joined
                and set(header_names(joined.split(other), expected)) & set(expected)
            ):
                declared = "" if delimiter == "," else ", the delimiter the source declares"
                raise ContractError(
                    path,
                    f"line {line} (header): the fields are separated by {called}, not {DELIMITERS[delimiter]}"
                    + declared,
                    f"Declare the source's delimiter in the contract overrides (sources: {source}: delimiter: "
                    f"{json.dumps(other)}), or re-export the file separated by {DELIMITERS[delimiter]}; "
                    "nothing of this file was loaded.",
                )
        raise ContractError(
            path,
            f"line {line} (header): none of its {len(header)} fields is a column of the contract, "
            "so the file seems to have no header row (its content is not shown, it may be personal data)",
            "Re-export the file with its header line (the column names in docs/contracts.md); nothing of "
            "this file was loaded.",
        )
    seen: dict[str, int] = {}
    for position, name in enumerate(header, start=1):
        if not name or name in seen or name in INTERNAL_COLUMNS:
            if not name:
                problem = "an empty column name"
            elif name in INTERNAL_COLUMNS:
                problem = f"{name!r} is a name cxpipe keeps for itself"
            else:  # a contract column: header_names gives other repeated names a placeholder
                problem = f"column {name!r} twice (also column {seen[name]})"
            raise ContractError(
                path, f"line {line} (header), column {position}: {problem}", "Give every column one unique name."
            )
        seen[name] = position


#: How many physical lines a title or notes above a CSV header may take (:func:`_lines_above_header`).
MAX_LINES_ABOVE_HEADER = 20


def _lines_above_header(text: str, expected: Collection[str], delimiter: str) -> int:
    """How many physical lines stand above the header: 0, unless the first line that is not blank names no
    contract column while one of the next :data:`MAX_LINES_ABOVE_HEADER` lines, read as a record on its own,
    names at least two (a report's title, export notes or a blank line above the header). Those lines are
    not records: :func:`parse_csv` starts at the header and logs them."""
    if not expected:
        return 0
    names = set(expected)

    def named(line: str) -> int:
        return len(set(header_names(_line_fields(line, delimiter), expected)) & names)

    head = list(_Lines(text, MAX_LINES_ABOVE_HEADER + 1))
    first = next((n for n, line in enumerate(head) if not _blank(line, delimiter)), None)
    if first is None or named(head[first]):
        return 0
    return next((n for n in range(first + 1, len(head)) if named(head[n]) >= 2), 0)


def _check_sep_line(text: str, path: str, delimiter: str, source: str) -> None:
    """Fail when the file's first line declares another delimiter than the source's, as spreadsheet programs
    write it (``sep=;``); a ``sep=`` line naming the source's delimiter is a line above the header."""
    first = text[: text.find("\n") if "\n" in text else len(text)].lstrip("\ufeff").rstrip("\r")
    if not first.startswith("sep=") or len(first) != 5 or first[4] == delimiter:
        return
    called = DELIMITERS.get(first[4], repr(first[4]))
    raise ContractError(
        path,
        f"line 1 declares the fields separated by {called} ({first}), not {DELIMITERS[delimiter]}",
        f"Declare the source's delimiter in the contract overrides (sources: {source}: delimiter: "
        f"{json.dumps(first[4])}); nothing of this file was loaded.",
    )


def _skip_lines_above_header(
    lines: _Lines, text: str, path: str, expected: Collection[str], delimiter: str, source: str = "<source>"
) -> int:
    """Take the lines above the header (:func:`_lines_above_header`) from ``lines``, with a warning; how many."""
    _check_sep_line(text, path, delimiter, source)
    above = _lines_above_header(text, expected, delimiter)
    for _ in range(above):
        next(lines)
    if above:
        log.warning(
            "%s: line%s 1%s above the header %s not read (a title or notes, not records)",
            path,
            "s" if above > 1 else "",
            f"-{above}" if above > 1 else "",
            "are" if above > 1 else "is",
        )
    return above


def _unquoted(text: str, start: int, width: int) -> bool:
    """Whether the records from ``start`` on can be split without the CSV reader: no quote character, no
    carriage return but before a line break, and more than one column (a line holding no delimiter
    then is blank or has the wrong number of fields). Each physical line is then one record whose
    fields are the line split at the delimiters, which is what the reader would return."""
    if width < 2 or text.find('"', start) >= 0:
        return False
    return text.find("\r", start) < 0 or text.count("\r", start) == text.count("\r\n", start)


def _unquoted_records(
    body: str,
    first: int,
    header: list[str],
    breaks: int | None = None,
    data: bytes | None = None,
    delimiter: str = ",",
) -> tuple[pd.DataFrame, list[dict[str, object]], int]:
    """The records of ``body`` (no quotes, see :func:`_unquoted`), split in Arrow; ``first`` is the
    physical line number of its first line; ``breaks``: ``body.count("\\n")`` and ``data``: its UTF-8 bytes,
    when the caller has them.
    Returns the records with the header's number of fields
    (``_source_row``, ``_last_line`` and the header's columns), the lines set aside as
    :func:`parse_csv` sets them aside, and the number of blank lines. Only lines with another number
    of fields, and a last line without a line break, are looked at one by one in Python."""
    whole = _unquoted_by_arrow(body, first, header, breaks, data, delimiter)
    if whole is not None:
        return whole, [], 0
    width = len(header)
    crlf = body.count("\r\n")
    eol = "\r\n" if crlf and crlf == body.count("\n") else "\n"  # lines end alike: split at the whole ending
    pieces = pc.list_flatten(pc.split_pattern(pa.array([body], type=pa.large_string()), eol))
    ended = body.endswith("\n") or not body
    complete = pieces.slice(0, len(pieces) - 1) if ended else pieces
    fields = pc.split_pattern(
        complete if eol == "\r\n" or not crlf else pc.replace_substring(complete, "\r", ""), delimiter
    )
    counts = pc.list_value_length(fields).to_numpy(zero_copy_only=False)
    numbers = np.arange(first, first + len(complete), dtype="int64")
    fits = counts == width
    if not ended:
        fits[-1] = False
    aside: list[dict[str, object]] = []
    blank = 0
    for index in np.flatnonzero(~fits).tolist():
        number = int(numbers[index])
        line = complete[index].as_py() + (eol if ended or index < len(complete) - 1 else "")
        if _blank(line, delimiter):
            blank += 1
        elif not line.endswith("\n"):
            aside.append(_aside(number, line, f"line {number}: {_NO_LINE_END}"))
        else:
            aside.append(
                _aside(
                    number,
                    line,
                    f"line {number}: expected {width} fields as in the header, found {int(counts[index])}; "
                    "quote values that contain the delimiter",
                )
            )
    kept = fields if fits.all() else fields.filter(pa.array(fits))
    rows = numbers[fits]
    frame = pd.DataFrame(
        {
            "_source_row": pd.Series(rows, dtype="int64"),
            "_last_line": pd.Series(rows, dtype="int64"),
            **{name: pd.Series(pc.list_element(kept, j), dtype=str) for j, name in enumerate(header)},
        }
    )
    return frame, aside, blank


#: The UTF-8 byte order mark.
_BOM = "\ufeff".encode()


def _unquoted_by_arrow(
    body: str,
    first: int,
    header: list[str],
    breaks: int | None = None,
    data: bytes | None = None,
    delimiter: str = ",",
) -> pd.DataFrame | None:
    """The records of ``body`` (no quotes, see :func:`_unquoted`) read by Arrow's CSV reader with
    quoting off, when every line ends alike (all ``\\n`` or all ``\\r\\n``), the last one too, and
    every line is a record with the header's number of fields: each physical line is then one
    record, split at the delimiters, as :func:`_unquoted_records` splits it. None otherwise (an empty
    line; a line of blanks or with another number of fields, which Arrow refuses: the lines are then
    split one by one). ``breaks``: ``body.count("\\n")`` and ``data``: ``body.encode("utf-8")``, when the
    caller has them (a piece of a UTF-8 file is decoded from its bytes).

    The values are read as ``large_string``, the type of the frame's text columns, so they need no
    copy into it."""
    crlf = body.count("\r\n") if "\r" in body else 0
    lines = body.count("\n") if breaks is None else breaks
    if not body.endswith("\n") or (crlf and crlf != lines):
        return None
    if body.startswith(("\n", "\r\n")) or "\n\n" in body or "\n\r\n" in body:
        return None  # an empty line (Arrow would read it as a record of empty fields)
    try:
        data = body.encode("utf-8") if data is None else data
        if _BOM in data:
            return None  # Arrow skips a byte order mark at the start, splitting the lines keeps it
        table = pa_csv.read_csv(
            pa.py_buffer(data),
            read_options=pa_csv.ReadOptions(column_names=header, use_threads=False),
            parse_options=pa_csv.ParseOptions(
                delimiter=delimiter,
                quote_char=False,
                double_quote=False,
                escape_char=False,
                newlines_in_values=False,
                ignore_empty_lines=False,
            ),
            convert_options=pa_csv.ConvertOptions(
                column_types=dict.fromkeys(header, pa.large_string()),
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
    except (UnicodeEncodeError, pa.ArrowException):
        return None
    if table.num_rows != lines:
        return None
    rows = np.arange(first, first + lines, dtype="int64")
    return pd.DataFrame(
        {
            "_source_row": pd.Series(rows, dtype="int64"),
            "_last_line": pd.Series(rows, dtype="int64"),
            **{name: pd.Series(table.column(j), dtype=str) for j, name in enumerate(header)},
        }
    )


def _needs_quotes(delimiter: str) -> str:
    """What a field that needs quotes holds (the delimiter, the quote, a line break), as written by
    :data:`csv.QUOTE_MINIMAL`: a regular expression."""
    return f'[{re.escape(delimiter)}"\r\n]'


def _writes_back(columns: list[pa.Array], eol: str, body: str, delimiter: str) -> bool:
    """Whether ``columns`` (each value as written in the file), joined by the delimiter and ``eol``, are ``body``."""
    records = pc.binary_join_element_wise(*columns, delimiter)
    return bool(eol.join(records.to_pylist()) + eol == body)


def _quoted_records(
    body: str, first: int, header: list[str], data: bytes | None = None, delimiter: str = ","
) -> pd.DataFrame | None:
    """The records of ``body`` read by Arrow's CSV reader, or None when the CSV reader of
    :func:`parse_csv` must read them line by line.

    Arrow's records are used only when they are what that reader would return: written back
    with the fewest quotes (:data:`csv.QUOTE_MINIMAL`, a value quoted only when it holds the
    delimiter, a quote or a line break; quotes doubled), or with every value quoted
    (:data:`csv.QUOTE_ALL`), and the file's line ending, they give ``body`` exactly, so every
    record was well formed and had the header's number of fields, and no line was blank. A
    record over several lines must also pass the reader's rules (:data:`MAX_RECORD_LINES`, no
    inner line that would be a record on its own). Each record's
    physical lines follow from the line breaks inside its values."""
    width = len(header)
    eol = "\r\n" if body.endswith("\r\n") else "\n"
    if width < 2 or not body.endswith("\n"):
        return None
    try:
        data = body.encode("utf-8") if data is None else data  # (``data``: the bytes, when given)
        table = pa_csv.read_csv(
            pa.py_buffer(data),
            read_options=pa_csv.ReadOptions(column_names=header, use_threads=False),
            parse_options=pa_csv.ParseOptions(
                delimiter=delimiter,
                quote_char='"',
                double_quote=True,
                escape_char=False,
                newlines_in_values=True,
                ignore_empty_lines=False,
            ),
            convert_options=pa_csv.ConvertOptions(
                column_types=dict.fromkeys(header, pa.string()),
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
    except (UnicodeEncodeError, pa.ArrowInvalid):
        return None
    columns = [table.column(j).combine_chunks() for j in range(width)]
    written = list(columns)
    breaks = np.zeros(table.num_rows, dtype="int64")  # line breaks inside each record's values
    for j, column in enumerate(columns):
        quoted = pc.match_substring_regex(column, _needs_quotes(delimiter))
        if not pc.any(quoted).as_py():
            continue  # no value of this column needs quotes (nor holds a line break)
        written[j] = pc.if_else(
            quoted, pc.binary_join_element_wise('"', pc.replace_substring(column, '"', '""'), '"', ""), column
        )
        breaks += pc.count_substring(column, "\n").to_numpy(zero_copy_only=False)
    if not _writes_back(written, eol, body, delimiter):
        every = [pc.binary_join_element_wise('"', pc.replace_substring(c, '"', '""'), '"', "") for c in columns]
        if not _writes_back(every, eol, body, delimiter):  # nor with every value quoted (csv.QUOTE_ALL)
            return None
    starts = first + np.concatenate(([0], np.cumsum(breaks + 1)[:-1])).astype("int64")
    if (breaks >= MAX_RECORD_LINES).any():
        return None
    long = np.flatnonzero(breaks > 1)
    if len(long):
        body_lines = body.split("\n")
        for index in long.tolist():
            start = int(starts[index]) - first
            inner = body_lines[start + 1 : start + int(breaks[index])]
            if any(_one_record(line + "\n", delimiter) >= width for line in inner):
                return None
    return pd.DataFrame(
        {
            "_source_row": pd.Series(starts, dtype="int64"),
            "_last_line": pd.Series(starts + breaks, dtype="int64"),
            **{name: pd.Series(column, dtype=str) for name, column in zip(header, columns, strict=True)},
        }
    )


def _aside(number: int, line: str, error: str) -> dict[str, object]:
    return {"_source_row": number, "_last_line": number, "_raw_error": error, "_raw": line}


#: What Python's csv module says about a carriage return inside a value without quotes.
_UNQUOTED_NEWLINE = "new-line character seen in unquoted field"


def _csv_error(exc: csv.Error) -> str:
    """The reason of a record the csv module cannot read, saying what to fix in the export."""
    if str(exc).startswith(_UNQUOTED_NEWLINE):
        return (
            "a carriage return inside a value without quotes; quote the value in the export "
            "(or remove the carriage return)"
        )
    return f"cannot parse CSV ({exc})"


def parse_csv(
    text: str, path: str, expected: Collection[str] = (), delimiter: str = ",", source: str = "<source>"
) -> pd.DataFrame:
    """Parse CSV text into string columns plus ``_source_row`` and ``_last_line`` (physical lines).

    Quoted values may hold delimiters and line breaks. A record with the wrong number of
    fields, one a never-closed quote ran on with, or a last record the file ends inside of
    (no line break: possibly cut off) is kept with ``_raw_error`` and its exact ``_raw``
    text; in a file whose lines all end with a carriage return alone, that is the line break.
    ``expected`` are the contract's column names: a header naming none of them is
    refused as a file without a header. ``delimiter``: the source's (``delimiter`` in the contract), and
    ``source`` its name, for messages.
    """
    if "\r" in text and "\n" not in text:
        text = text.replace("\r", "\n")  # lines that end with a carriage return alone (classic Mac OS)
    total = count_lines(text)
    lines = _Lines(text, MAX_RECORD_LINES)
    above = _skip_lines_above_header(lines, text, path, expected, delimiter, source)
    reader = csv.reader(lines, strict=False, delimiter=delimiter)
    blank = 0
    header: list[str] | None = None
    header_lines = 0
    while header is None:
        lines.mark()
        try:
            fields = next(reader)
        except StopIteration:
            return _accounted(_empty_frame(), 0, 0)
        except csv.Error as exc:
            raise ContractError(
                path, f"line {lines.taken[0][0]} (header): cannot parse CSV ({exc})", "Fix the header line."
            ) from None
        if len(lines.taken) == 1 and _blank(lines.taken[0][1], delimiter):
            continue  # blank lines before the header count with it
        header = header_names(fields, expected)
        header_lines = lines.taken[-1][0]
        _check_header(header, path, lines.taken[0][0], expected, delimiter, source)
    width = len(header)
    # Records are gathered in chunks of Python lists, each turned into Arrow-backed string
    # columns, so a large file never sits in memory as millions of Python strings.
    chunks: list[pd.DataFrame] = []
    good: list[list[str]] = []
    good_first: list[int] = []
    good_last: list[int] = []

    def flush() -> None:
        if good:
            chunk = pd.DataFrame(good, columns=header, dtype=str)
            chunk.insert(0, "_source_row", pd.Series(good_first, dtype="int64"))
            chunk.insert(1, "_last_line", pd.Series(good_last, dtype="int64"))
            chunks.append(chunk)
            good.clear()
            good_first.clear()
            good_last.clear()

    def keep(fields: list[str], first: int, last: int) -> None:
        good.append(fields)
        good_first.append(first)
        good_last.append(last)
        if len(good) >= _CHUNK_ROWS:
            flush()

    bad: list[dict[str, object]] = []

    def set_aside(taken: list[tuple[int, str]], error: str) -> None:
        bad.append(
            {
                "_source_row": taken[0][0],
                "_last_line": taken[-1][0],
                "_raw_error": error,
                "_raw": "".join(line for _, line in taken),
            }
        )

    split = _unquoted(text, lines.pos, width)
    if split:
        records, aside, blank_after = _unquoted_records(
            text[lines.pos :], header_lines + 1, header, delimiter=delimiter
        )
        chunks.append(records)
        bad.extend(aside)
        blank += blank_after
    elif (quoted := _quoted_records(text[lines.pos :], header_lines + 1, header, delimiter=delimiter)) is not None:
        chunks.append(quoted)
        split = True
    while not split:
        lines.mark()
        try:
            fields = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:  # e.g. a value beyond the field size limit
            taken = lines.taken
            set_aside(taken[:1], f"line {taken[0][0]}: {_csv_error(exc)}")
            lines.give_back(taken[1:])
            continue
        taken = lines.taken
        first, last = taken[0][0], taken[-1][0]
        if len(taken) == 1:
            line = taken[0][1]
            if _blank(line, delimiter):
                blank += 1
            elif not line.endswith("\n"):
                set_aside(taken, f"line {first}: {_NO_LINE_END}")
            elif lines.at_end(first) and any("\n" in f for f in fields):  # EOF inside a quoted value
                set_aside(taken, f"line {first}: a quote opened on this line never closes (the file ends first)")
            elif len(fields) != width:
                set_aside(
                    taken,
                    f"line {first}: expected {width} fields as in the header, found {len(fields)}; "
                    "quote values that contain the delimiter",
                )
            else:
                keep(fields, first, last)
            continue
        # A record over several lines: a quoted value with line breaks, or a quote that never closes.
        raw = "".join(line for _, line in taken)
        swallowed = (
            lines.capped
            or len(fields) != width
            or (raw.count('"') % 2 == 1 and lines.at_end(last))
            or any(_one_record(line, delimiter) >= width for _, line in taken[1:-1])
        )
        if swallowed:
            set_aside(
                taken[:1],
                f"line {first}: a quote opened on this line does not close on it (it would run on over "
                f"line{'s' if last > first + 1 else ''} {first + 1}{f'-{last}' if last > first + 1 else ''}); "
                "this line is set aside, the next lines are read on their own; fix the quoting and re-deliver it",
            )
            lines.give_back(taken[1:])
        elif not taken[-1][1].endswith("\n"):
            set_aside(taken, f"line {first}: {_NO_LINE_END}")
        else:
            keep(fields, first, last)
    flush()
    frame = _csv_accounted(_csv_frame(chunks, bad, header), total - header_lines, blank, header)
    frame.attrs["above_header"] = above
    return frame


def _csv_frame(chunks: list[pd.DataFrame], bad: list[dict[str, object]], header: list[str]) -> pd.DataFrame:
    """The records read (``chunks``) and those set aside (``bad``) as one frame in line order."""
    if chunks:
        frame = pd.concat(chunks, ignore_index=True) if len(chunks) > 1 else chunks[0]
    else:
        frame = pd.DataFrame(
            {
                "_source_row": pd.Series([], dtype="int64"),
                "_last_line": pd.Series([], dtype="int64"),
                **{h: pd.Series([], dtype=str) for h in header},
            }
        )
    frame.insert(2, "_raw_error", "")
    if bad:
        frame = pd.concat([frame, pd.DataFrame(bad)], ignore_index=True).sort_values("_source_row", kind="stable")
        frame = frame.reset_index(drop=True)
    return frame


def csv_header(
    text: str, path: str, expected: Collection[str] = (), delimiter: str = ",", source: str = "<source>"
) -> tuple[list[str], int, int] | None:
    """The header of CSV ``text`` as :func:`parse_csv` reads it: (names, its last physical line, where the
    records start in ``text``), or None when ``text`` holds no header followed by a record (the first
    piece of a file that :func:`parse_csv` must read whole). A header that is no header raises
    :class:`ContractError` as in :func:`parse_csv`."""
    lines = _Lines(text, MAX_RECORD_LINES)
    _skip_lines_above_header(lines, text, path, expected, delimiter, source)
    reader = csv.reader(lines, strict=False, delimiter=delimiter)
    while True:
        lines.mark()
        try:
            fields = next(reader)
        except (StopIteration, csv.Error):
            return None
        if len(lines.taken) == 1 and _blank(lines.taken[0][1], delimiter):
            continue
        if lines.capped or lines.pos >= len(text) or not lines.taken[-1][1].endswith("\n"):
            return None
        header = header_names(fields, expected)
        _check_header(header, path, lines.taken[0][0], expected, delimiter, source)
        return header, lines.taken[-1][0], lines.pos


def parse_csv_piece(
    body: str, first_line: int, header: list[str], data: bytes | None = None, delimiter: str = ","
) -> pd.DataFrame | None:
    """Records of ``body``, a piece of a CSV file after its header cut at a record boundary, whose
    first line is physical line ``first_line``: what :func:`parse_csv` returns for them when they
    need no reading line by line (no quotes, or quotes that Arrow's reader reads and that write back
    to the text exactly), else None (then the file is read whole by :func:`parse_csv`). The frame's
    ``attrs`` count the piece's lines and blank lines. ``data``: ``body.encode("utf-8")`` when the caller has it."""
    if _unquoted(body, 0, len(header)):
        breaks = body.count("\n")
        records, aside, blank = _unquoted_records(body, first_line, header, breaks, data, delimiter)
        lines = breaks + (0 if body.endswith("\n") or not body else 1)  # count_lines(body)
        return _csv_accounted(_csv_frame([records], aside, header), lines, blank, header)
    quoted = _quoted_records(body, first_line, header, data, delimiter)
    if quoted is None:
        return None
    return _csv_accounted(_csv_frame([quoted], [], header), count_lines(body), 0, header)


def _as_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def json_path_values(texts: pd.Series, path: str) -> pd.Series:
    """The values at ``path`` (keys joined by dots, ``user.screen_name``) inside the JSON objects a JSON Lines
    column holds as text (a nested object is read as its JSON text), as text the way a top-level value is
    read; missing where a value is no object or lacks the path."""

    def pick(text: object) -> str | None:
        if not isinstance(text, str) or not text.startswith("{"):
            return None
        try:
            value = json.loads(text)
        except ValueError:
            return None
        for key in path.split("."):
            if not isinstance(value, dict) or key not in value:
                return None
            value = value[key]
        return _as_text(value)

    return texts.map(pick).astype(object)


def _unique_keys(pairs: list[tuple[str, object]]) -> dict[str, object]:
    record: dict[str, object] = {}
    for key, value in pairs:
        if key in record:
            raise ValueError("a key appears twice in the object")
        record[key] = value
    return record


#: The JSON decoder's scanner: one value read from a position, without the checks :func:`json.loads`
#: makes around it (leading and trailing blanks, a byte order mark), which a line that starts with
#: ``{`` and ends where the object ends does not need; other lines go to :func:`json.loads` itself,
#: so a malformed line fails with its message.
_SCAN_OBJECT = json.scanner.make_scanner(json.JSONDecoder())  # type: ignore[arg-type]  # typeshed names the C type


class _KeySet:
    """The records of one set of key names: where each sits in the frame and its values, as parsed."""

    def __init__(self, names: list[str]) -> None:
        self.names = names
        self.rows: list[int] = []
        self.values: list[tuple[object, ...]] = []


def _refuse_json_document(text: str, path: str) -> None:
    """Fail a file whose first record shows it is one JSON document rather than JSON Lines: a line that
    begins an array (``[{…}, {…}]``), or a line holding only ``{`` (objects spread over several lines)."""
    for number, line in enumerate(text.split("\n"), start=1):
        first = line.strip()
        if not first:
            continue
        if first.startswith("["):
            found = "begins a JSON array: the file seems to be one JSON document"
        elif first == "{":
            found = "holds only '{': the objects seem to be spread over several lines (indented JSON)"
        else:
            return
        raise ContractError(
            path,
            f"line {number} {found}, not JSON Lines (one object per line)",
            "Re-export the file with one JSON object per line (e.g. `jq -c '.[]' file.json`); nothing of this "
            "source was loaded.",
        )


def parse_jsonl(text: str, path: str, first_line: int = 1, data: bytes | None = None) -> pd.DataFrame:
    """Parse JSON Lines into string columns; a malformed line is kept with ``_raw_error``.

    ``first_line`` is the physical line number of the text's first line (a piece of a larger
    file, cut at a line break, starts further down); ``data``: ``text.encode("utf-8")`` when the caller has it.

    A line must hold one JSON object with each key once. A last line without a line break is
    loaded only when it is a complete object (its closing brace shows it was not cut off).

    Records are gathered by their set of keys (lines mostly repeat one) and turned into columns
    per set; the columns come in the order their keys first appear, after ``_source_row``,
    ``_last_line`` and ``_raw_error`` (and ``_raw`` where the first malformed line comes).
    """
    total = count_lines(text)
    fast = _jsonl_by_arrow(text, first_line, total, data)
    if fast is not None:
        return _accounted(fast, total, 0)
    if first_line == 1:
        _refuse_json_document(text, path)
    blank = 0
    numbers: list[int] = []
    errors: dict[int, tuple[str, str]] = {}  # position in the frame -> (error, raw line)
    columns: dict[str, None] = dict.fromkeys(("_source_row", "_last_line", "_raw_error"))
    key_sets: dict[tuple[str, ...], _KeySet] = {}
    # The keys of the last object and what they map to: lines mostly repeat them.
    last_keys: tuple[str, ...] | None = None
    last_set: _KeySet | None = None

    def set_aside(number: int, error: str, line: str) -> None:
        errors[len(numbers)] = (error, line)
        numbers.append(number)
        columns.setdefault("_raw")

    shift = first_line - 1
    for at, line in enumerate(text.split("\n"), start=1):
        if at > total:
            break
        number = at + shift
        line = line.rstrip("\r")
        if not line.strip():
            blank += 1
            continue
        try:
            parsed = None
            if line[0] == "{":
                try:
                    parsed, end = _SCAN_OBJECT(line, 0)
                except (StopIteration, ValueError):
                    parsed = None
                else:
                    if end != len(line):
                        parsed = None
            if parsed is None:
                parsed = json.loads(line)
            if not isinstance(parsed, dict):
                raise ValueError(f"expected a JSON object, found {type(parsed).__name__}")
            if line.count('":') > len(parsed):  # perhaps a key twice (or nested objects): read it strictly
                json.loads(line, object_pairs_hook=_unique_keys)
        except ValueError as exc:
            problem = f"malformed JSON ({exc})"
            if at == total and not text.endswith("\n"):
                problem += f"; {_NO_LINE_END}"
            set_aside(number, f"line {number}: {problem}", line)
            continue
        keys = tuple(parsed)
        if keys != last_keys:
            last_keys = keys
            names = [str(name).strip() for name in parsed]
            usable = not INTERNAL_COLUMNS.intersection(names) and len(set(names)) == len(names)
            last_set = key_sets.setdefault(tuple(names), _KeySet(names)) if usable else None
        if last_set is None:
            problem = "a key cxpipe keeps for itself (_source_row, _raw, …) or the same key twice"
            set_aside(number, f"line {number}: {problem}", line)
            continue
        values = tuple(parsed.values())
        if "\\u" in line:
            text_values = [value if type(value) is str else _as_text(value) for value in values]
            if _SURROGATE.search("".join(last_set.names) + "".join(text_values)):
                problem = "a \\u escape that is half of a character (a lone surrogate)"
                set_aside(number, f"line {number}: {problem}", line)
                continue
        if not last_set.rows:
            columns.update(dict.fromkeys(last_set.names))
        last_set.rows.append(len(numbers))
        last_set.values.append(values)
        numbers.append(number)
    if not numbers:
        return _accounted(_empty_frame(), total, blank)
    return _accounted(_jsonl_frame(numbers, errors, columns, key_sets), total, blank)


#: Arrow types whose values :func:`parse_jsonl` writes as Arrow casts them to text (``str`` of an
#: integer, ``true``/``false``); a JSON null is the empty text.
_ARROW_JSON_TYPES = (pa.string(), pa.int64(), pa.bool_(), pa.null())


def _read_json(data: bytes, first: dict[str, object]) -> pa.Table | None:
    """JSON Lines ``data`` read by Arrow in one block, values as the file gives them: the keys whose
    value on the first line (``first``) is a string are read as strings, and a string Arrow takes
    for a timestamp is read again as a string. None when Arrow cannot read it."""
    options = pa_json.ReadOptions(use_threads=False, block_size=len(data) + 1)
    given = pa.schema([(name, pa.string()) for name, value in first.items() if type(value) is str])
    try:
        table = pa_json.read_json(
            pa.py_buffer(data), read_options=options, parse_options=pa_json.ParseOptions(explicit_schema=given)
        )
        if any(pa.types.is_timestamp(field.type) for field in table.schema):
            schema = pa.schema(
                [(f.name, pa.string() if pa.types.is_timestamp(f.type) else f.type) for f in table.schema]
            )
            parse = pa_json.ParseOptions(explicit_schema=schema)
            table = pa_json.read_json(pa.py_buffer(data), read_options=options, parse_options=parse)
    except pa.ArrowException:
        return None
    return table


def _jsonl_by_arrow(text: str, first_line: int, total: int, data: bytes | None = None) -> pd.DataFrame | None:
    """The records of JSON Lines ``text`` read by Arrow's JSON reader, or None when :func:`parse_jsonl`
    must read them line by line.

    Arrow's records are used only when they are what the line-by-line reader would return: the text
    ends with a line break and holds no carriage return, no escaped quote and no ``\\u`` escape;
    Arrow reads it without an error (a malformed line, a line that is no object, a key twice, a
    lone surrogate all fail it) into one row per physical line, every value a string, an integer,
    a boolean or null; the keys are unique names cxpipe does not keep for itself, without blanks
    around them; and every line holds exactly as many ``":`` as there are keys in all. Without an
    escaped quote, each ``":`` ends a key, so every line then holds every key once, in the order
    of the first line: a JSON null is then a null of the file (the empty text), never a missing key.
    """
    if not text.endswith("\n"):
        return None
    try:
        data = text.encode("utf-8") if data is None else data
    except UnicodeEncodeError:
        return None
    if b"\r" in data or b'\\"' in data or b"\\u" in data or _BOM in data:
        return None  # (Arrow skips a byte order mark at the start, the line-by-line reader does not)
    try:
        first = json.loads(text[: text.index("\n")])
    except ValueError:
        return None
    table = _read_json(data, first) if isinstance(first, dict) else None
    if table is None:
        return None
    names = table.column_names
    if (
        table.num_rows != total
        or not names
        or len(set(names)) != len(names)
        or INTERNAL_COLUMNS.intersection(names)
        or any(name != name.strip() for name in names)
        or any(field.type not in _ARROW_JSON_TYPES for field in table.schema)
    ):
        return None
    lines = pc.list_flatten(pc.split_pattern(pa.array([data], type=pa.large_binary()), b"\n"))
    del data
    keys = pc.count_substring(lines.slice(0, total), '":')
    if pc.min_max(keys).as_py() != {"min": len(names), "max": len(names)}:
        return None
    if sorted(first) != sorted(names):
        return None
    names = list(first)  # the order of the first line's keys (an explicit schema's keys come first in Arrow's)
    table = table.select(names)
    numbers = np.arange(first_line, first_line + total, dtype="int64")
    frame: dict[str, object] = {
        "_source_row": numbers,
        "_last_line": numbers.copy(),
        "_raw_error": pd.Series(np.full(total, "", dtype=object), dtype="str"),
    }
    for name, column in zip(names, table.columns, strict=True):
        values = column if column.type == pa.string() else pc.cast(column, pa.string())
        frame[name] = pd.Series(pc.fill_null(values, ""), dtype="str")
    return pd.DataFrame(frame)


def _jsonl_frame(
    numbers: list[int],
    errors: dict[int, tuple[str, str]],
    columns: dict[str, None],
    key_sets: dict[tuple[str, ...], _KeySet],
) -> pd.DataFrame:
    """The frame of :func:`parse_jsonl`'s records: values as text, missing where a record lacks a key."""
    size = len(numbers)
    data: dict[str, object] = {"_source_row": numbers, "_last_line": numbers}
    failed = np.fromiter(errors, dtype="int64", count=len(errors))
    for name in list(columns)[2:]:
        column = np.full(size, "" if name == "_raw_error" else None, dtype=object)
        if name in ("_raw_error", "_raw"):
            column[failed] = [error if name == "_raw_error" else raw for error, raw in errors.values()]
        data[name] = column
    for key_set in key_sets.values():
        if not key_set.rows:
            continue
        whole = len(key_set.rows) == size  # every record has these keys: its values are the column
        rows = np.array(key_set.rows, dtype="int64")
        for name, values in zip(key_set.names, zip(*key_set.values, strict=True), strict=True):
            if set(map(type, values)) != {str}:
                values = tuple(value if type(value) is str else _as_text(value) for value in values)
            if whole:
                data[name] = values
                continue
            filled = data[name]
            assert isinstance(filled, np.ndarray)
            filled[rows] = values
    # every column but the line numbers is text (missing where a record lacks a key)
    return pd.DataFrame(
        {name: v if name in ("_source_row", "_last_line") else pd.Series(v, dtype="str") for name, v in data.items()}
    )
