"""Parsed string columns -> typed columns, and each row's reasons for quarantine.

Every contract column is typed and checked (required, closed lists, code standards,
range); rows holding undecodable bytes, control characters or a parse error are set
aside; within one landing date the last valid row of a key wins. A row is loaded only
when it has no reason at all. Open lists never reject a value: :func:`unknown_values`
counts the values they do not know, for the load audit.

Parsing is strict and explicit, so a bad value is quarantined rather than loaded as
plausible data:

* numbers are plain decimals (``-12.50``, ``1e3``), finite; ``inf``, ``nan``, ``1_000``,
  ``0x10`` are not numbers; integers must fit in 64 bits;
* timestamps are ISO 8601 (``2026-11-01``, ``2026-11-01T10:00:00+01:00``), or one of the
  source's declared ``timestamp_formats``; relative words (``now``, ``today``) are never
  read, nor digits other than ASCII ``0-9``; a fraction of a second beyond microseconds
  (``10:00:00.123456789``) is cut to microseconds, the lake's precision; a value that two
  declared formats read differently (``03/04/2026`` under a day-first and a month-first
  format) is ambiguous and quarantined. Values with an offset keep it;
  values without one are in the source's ``timezone``; all are stored in UTC;
* timestamps and dates must lie within the column's window around the load date
  (``days_before_load``, ``days_after_load``), so a far-future date cannot disable freshness;
* control characters (NUL, C0 and C1 controls, DEL) quarantine their row, and so do the
  private-use characters U+F700-U+F7FF, which stand for undecodable bytes (:mod:`~cxpipe.ingest.decoding`):
  in a file that holds undecodable bytes they are reported as such, in any other as themselves;
  free-text columns may hold tabs and line breaks.

Reasons name the column and line, never a value from a row that may be personal data
beyond the short unreadable value kept beside the row's raw content in the quarantine.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from cxpipe.contracts import EPOCH_FORMATS, STANDARDS, Column, Entity, country_code, standard_codes
from cxpipe.contracts.model import INTEGER, NUMBER
from cxpipe.ingest.decoding import UNDECODABLE
from cxpipe.privacy import redact_pii

_TRUE = {"true", "t", "yes", "y", "1"}
_FALSE = {"false", "f", "no", "n", "0"}
#: Digits are ASCII ``[0-9]`` in every pattern below, never ``\d``: Python's ``re`` reads ``\d`` as any Unicode
#: decimal digit (Arabic-Indic ``٣``, fullwidth ``３``), which Arrow's and pandas' readers then refuse.
#: A time of day followed by an offset or zone: such a value is not in the source's timezone.
_OFFSET = r"[0-9]:[0-9]{2}(?::[0-9]{2}(?:[.,][0-9]+)?)?\s*(?:[zZ]|UTC|GMT|[+-][0-9]{2}(?::?[0-9]{2})?)$"
#: ISO 8601 (extended format): a date, optionally a time of day and an offset; the offset may also be written
#: `` UTC`` or `` GMT`` after a blank, as database exports write it (``2026-10-30 10:00:00 UTC``).
ISO_8601 = (
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}"
    r"(?:[T ][0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:[.,][0-9]{1,9})?)?"
    r"(?:\s*(?:[zZ]|[+-][0-9]{2}(?::?[0-9]{2})?)|\s+(?:UTC|GMT))?)?"
)
#: The `` UTC`` or `` GMT`` that ends such a value, which pandas reads as ``Z``.
_ZONE_WORD = r"\s+(?:UTC|GMT)$"
#: Python's ``\s`` on ASCII text (``\t\n\v\f\r``, the separators U+001C-U+001F, space) as a class RE2 reads alike.
_ASCII_SPACE = "[" + "".join(f"\\x{i:02x}" for i in range(128) if re.fullmatch(r"\s", chr(i))) + "]"
#: :data:`ISO_8601` for Arrow's RE2 on ASCII values.
#: A second's fraction with more than six digits (the first six kept as group 1).
_SUB_MICROSECOND = r"([.,][0-9]{6})[0-9]+"
_ISO_8601_RE2 = "^(?:" + ISO_8601.replace(r"\s", _ASCII_SPACE) + ")$"
#: A source whose decimal mark is the comma: its numbers are read with the two marks swapped.
_SWAP_MARKS = str.maketrans({",": ".", ".": ","})
_INT64 = (-(2**63), 2**63 - 1)
#: Characters no column may hold (C0 and C1 controls, DEL; lone surrogates are refused by the JSON reader) ...
CONTROL = "[\x00-\x1f\x7f-\x9f]"
#: ... and those a free-text column may not hold (tabs and line breaks are text).
CONTROL_IN_TEXT = "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]"
COUNTRY = "iso3166-1-alpha-2"
#: :data:`CONTROL` and :data:`CONTROL_IN_TEXT` on the bytes of UTF-8 text: which single bytes are such a
#: character (a C0 control or DEL is its own byte, never part of another character's bytes); a C1
#: control (U+0080-U+009F) is the byte ``\xc2`` followed by ``\x80``-``\x9f`` (both patterns forbid them all).
_CONTROL_BYTES = {
    pattern: np.array([re.fullmatch(pattern, chr(byte)) is not None for byte in range(128)] + [False] * 128)
    for pattern in (CONTROL, CONTROL_IN_TEXT)
}

#: How many unknown values of an open list the load audit keeps per column (the most frequent).
UNKNOWN_VALUES_KEPT = 20

#: A check's problems: (rows, reason) pairs.
_Problems = list[tuple[pd.Series, str]]


def _value_bytes(text: pd.Series) -> Iterator[np.ndarray | None]:
    """For each Arrow chunk of ``text`` holding any bytes, its values' UTF-8 bytes as one array; None for a
    chunk that is not text (whose values cannot be looked through byte by byte)."""
    values = pa.array(text.array)
    for chunk in values.chunks if isinstance(values, pa.ChunkedArray) else [values]:
        if not pa.types.is_string(chunk.type) and not pa.types.is_large_string(chunk.type):
            yield None
            continue
        if not len(chunk) or chunk.buffers()[2] is None:
            continue
        offsets = _offsets(chunk)
        start, end = int(offsets[0]), int(offsets[-1])
        yield np.frombuffer(chunk.buffers()[2], dtype=np.uint8, count=end - start, offset=start)


def may_hold(text: pd.Series, forbidden: str) -> bool:
    """Whether some value of ``text`` holds a character of ``forbidden`` (:data:`CONTROL` or
    :data:`CONTROL_IN_TEXT`), found in the values' UTF-8 bytes all at once rather than value by value."""
    single = _CONTROL_BYTES[forbidden]
    for found in _value_bytes(text):
        if found is None:
            return True
        low = found[found < 0x20]  # the C0 controls, of which free text allows tabs and line breaks
        if single[low].any() or (found == 0x7F).any():
            return True
        lead = np.flatnonzero(found[:-1] == 0xC2) + 1
        if len(lead) and ((found[lead] >= 0x80) & (found[lead] <= 0x9F)).any():
            return True
    return False


def may_hold_private_use(text: pd.Series) -> bool:
    """Whether some value of ``text`` may hold a character U+F700-U+F7FF (:data:`UNDECODABLE`), whose UTF-8
    bytes are ``\xef`` followed by ``\x9c``-``\x9f``: found in the values' bytes all at once."""
    for found in _value_bytes(text):
        if found is None:
            return True
        lead = np.flatnonzero(found[:-1] == 0xEF) + 1
        if len(lead) and ((found[lead] >= 0x9C) & (found[lead] <= 0x9F)).any():
            return True
    return False


def _text_chunks(text: pd.Series) -> list[pa.Array] | None:
    """The Arrow chunks of a text column without missing values (None for any other column)."""
    values = pa.array(text.array)
    chunks = values.chunks if isinstance(values, pa.ChunkedArray) else [values]
    for chunk in chunks:
        if not (pa.types.is_string(chunk.type) or pa.types.is_large_string(chunk.type)) or chunk.null_count:
            return None
    return chunks


def _offsets(chunk: pa.Array) -> np.ndarray:
    """Where each value of a text chunk starts in its data buffer, and where the last one ends."""
    if not len(chunk):
        return np.zeros(1, dtype="int64")
    width = "int64" if pa.types.is_large_string(chunk.type) else "int32"
    return np.frombuffer(chunk.buffers()[1], dtype=width)[chunk.offset : chunk.offset + len(chunk) + 1]


def stripped(text: pd.Series) -> pd.Series:
    """``text.str.strip()``; ``text`` itself when no value begins or ends with a byte that could be part of
    whitespace. Every whitespace character is either ASCII at or below the space (``\\t\\n\\v\\f\\r``,
    U+001C-U+001F, the space) or beyond ASCII, whose UTF-8 bytes all lie at or above 0x80: a value whose
    first and last bytes are printable ASCII has nothing to strip. Only the first and last bytes are read."""
    chunks = _text_chunks(text)
    if chunks is None:
        return text.str.strip()
    for chunk in chunks:
        offsets = _offsets(chunk)
        starts, ends = offsets[:-1], offsets[1:]
        filled = starts < ends
        if not filled.any():
            continue
        data = np.frombuffer(chunk.buffers()[2], dtype=np.uint8)
        edges = np.concatenate((data[starts[filled]], data[ends[filled] - 1]))
        if ((edges <= 0x20) | (edges >= 0x7F)).any():
            return text.str.strip()
    return text


def filled(text: pd.Series) -> pd.Series:
    """``text.str.len() > 0``, from the values' byte lengths (a value has characters exactly when it has bytes)."""
    chunks = _text_chunks(text)
    if chunks is None:
        return text.str.len() > 0
    lengths = [np.diff(_offsets(chunk)) > 0 for chunk in chunks]
    return pd.Series(np.concatenate(lengths) if lengths else np.zeros(0, dtype=bool), index=text.index)


def _any_holds(text: pd.Series, part: str) -> bool:
    """Whether some value of ``text`` (missing values aside) holds ``part``."""
    found = pc.any(pc.match_substring(pa.array(text.array), part)).as_py()
    return bool(found)


def _iso_8601(text: pd.Series) -> pd.Series:
    """``text.str.fullmatch(ISO_8601)``, by Arrow's RE2 for ASCII values and Python's ``re`` for the others
    (pandas hands the whole column to ``re`` one value at a time, since RE2's ``\\s`` is narrower)."""
    values = pa.array(text.array)
    matched = pc.fill_null(pc.match_substring_regex(values, _ISO_8601_RE2), False).to_numpy(zero_copy_only=False)
    other = ~pc.fill_null(pc.string_is_ascii(values), True).to_numpy(zero_copy_only=False)
    if other.any():
        pattern = re.compile(ISO_8601)
        matched[other] = [pattern.fullmatch(value) is not None for value in text[other]]
    return pd.Series(matched, index=text.index)


def _times(entity: Entity, column: Column, text: pd.Series, present: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Timestamps in UTC (NaT where unreadable) and a mask of values the declared formats read
    differently: ISO 8601, then the source's formats, then its timezone."""
    iso = present & _iso_8601(text)
    written = text.where(iso, None)
    # Digits beyond a second's sixth are cut off in the text (a floor: the fraction only adds to the
    # second), so pandas never reads a column at nanoseconds, where years before 1677 do not fit: how a
    # value reads does not depend on the other values of its batch.
    if pc.any(pc.match_substring_regex(pa.array(written.array), _SUB_MICROSECOND)).as_py():
        written = written.str.replace(_SUB_MICROSECOND, r"\1", regex=True)
    if _any_holds(written, "UTC") or _any_holds(written, "GMT"):
        written = written.str.replace(_ZONE_WORD, "Z", regex=True)
    if _any_holds(written, ","):  # ISO 8601's other decimal sign, which pandas does not read
        written = written.str.replace(r"(:[0-9]{2}),([0-9])", r"\1.\2", regex=True)
    stamps = pd.to_datetime(written, utc=True, errors="coerce", format="ISO8601")
    ambiguous = pd.Series(False, index=text.index)
    rest = present & ~iso
    if entity.timestamp_formats and rest.any():
        # pandas reads ``now`` and ``today`` as the current time whatever the format: a declared format
        # is tried only on values holding an ASCII digit (every date a format can read has some).
        rest &= pc.fill_null(pc.match_substring_regex(pa.array(text.array), "[0-9]"), False).to_numpy(
            zero_copy_only=False
        )
    epoch = pd.Series(False, index=text.index)  # read as Unix time: in UTC already
    if entity.timestamp_formats and rest.any():
        found: pd.Series | None = None
        for fmt in entity.timestamp_formats:
            if fmt in EPOCH_FORMATS:
                parsed = _unix_time(text[rest], EPOCH_FORMATS[fmt])
                epoch[rest] |= parsed.notna()
            else:
                parsed = pd.to_datetime(text[rest], utc=True, errors="coerce", format=fmt)
            if found is None:
                found = parsed
                continue
            ambiguous[rest] |= found.notna() & parsed.notna() & (found != parsed)
            found = found.where(found.notna(), parsed)
        if found is not None:
            stamps = stamps.where(~rest, found)
        stamps = stamps.where(~ambiguous)
    if entity.timezone != "UTC" and column.type == "timestamp":
        naive = present & stamps.notna() & ~epoch & ~text.str.contains(_OFFSET, regex=True)
        if naive.any():
            wall = stamps[naive].dt.tz_localize(None)
            # A wall time that happens twice (clocks going back) is the first; one that does
            # not exist (clocks going forward) moves forward by the gap.
            first = np.ones(len(wall), dtype=bool)
            local = wall.dt.tz_localize(entity.timezone, ambiguous=first, nonexistent="shift_forward")
            stamps = stamps.where(~naive, local.dt.tz_convert("UTC"))
    # The lake keeps microseconds: a declared format's digits beyond the sixth are cut off too, and every
    # batch's values are held at microseconds, whatever resolution pandas read them at.
    held = pd.DatetimeIndex(stamps)
    if held.unit == "ns" and (held.asi8[held.notna()] % 1000 != 0).any():
        stamps = stamps.dt.floor("us")
    if held.unit != "us":
        stamps = stamps.dt.as_unit("us")
    return stamps, ambiguous


#: The thousands separators a source may declare, each as a regular expression character class (a blank stands
#: for the no-break spaces too).
THOUSANDS_SEPARATORS = {",": "[,]", ".": "[.]", " ": "[ \u00a0\u202f]", "'": "[']"}


def grouped_number(separator: str, decimal_mark: str) -> str:
    """A number whose digits are grouped by thousands with ``separator`` (``1,234,567.50``), as a pattern."""
    group = THOUSANDS_SEPARATORS[separator]
    return f"[+-]?[0-9]{{1,3}}(?:{group}[0-9]{{3}})+(?:{re.escape(decimal_mark)}[0-9]*)?"


def _ungrouped(text: pd.Series, separator: str, decimal_mark: str) -> pd.Series:
    """Numbers whose digits are grouped by thousands with ``separator`` (``1,234,567.50``) without it; other
    values as they are (grouped otherwise, ``12,34,567``, they are not numbers)."""
    group = THOUSANDS_SEPARATORS[separator]
    if not any(_any_holds(text, c) for c in group.strip("[]")):
        return text
    grouped = text.str.fullmatch(grouped_number(separator, decimal_mark)).fillna(False).astype(bool)
    return text.where(~grouped, text.str.replace(group, "", regex=True))


#: Unix time in seconds (up to 11 digits, years to 5138) or milliseconds (14), with at most a microsecond's digits.
_UNIX = {"s": r"([+-]?)([0-9]{1,11})(?:\.([0-9]{1,6}))?", "ms": r"([+-]?)([0-9]{1,14})(?:\.([0-9]{1,3}))?"}


def _unix_time(text: pd.Series, unit: str) -> pd.Series:
    """Values that are Unix time in ``unit`` (``s``, ``ms``) as UTC timestamps, exactly to the microsecond
    (whole units and the fraction's digits are counted apart, not through a float); NaT elsewhere."""
    parts = text.astype(object).str.strip().str.extract(f"^{_UNIX[unit]}$")
    read = parts[1].notna()
    width = 6 if unit == "s" else 3
    whole = parts[1].where(read, "0").astype("int64")
    fraction = parts[2].fillna("").str.ljust(width, "0").where(read, "0").astype("int64")
    micros = whole * (1_000_000 if unit == "s" else 1_000) + fraction
    micros = micros.where(parts[0] != "-", -micros)
    stamps = pd.to_datetime(micros.where(read, 0).to_numpy(), unit="us", utc=True)
    return pd.Series(stamps, index=text.index).where(read)


def _integers(column: Column, text: pd.Series, present: pd.Series) -> tuple[pd.Series, pd.Series, _Problems]:
    form = present & text.str.fullmatch(INTEGER)
    digits = text.where(form, None)
    # (each step only where it can change a value: a fraction of zeros needs a point, a sign a plus)
    if _any_holds(digits, "."):
        digits = digits.str.replace(r"\.0*$", "", regex=True)
    if _any_holds(digits, "+"):
        digits = digits.str.removeprefix("+")
    over = pd.Series(False, index=text.index)
    longest = pc.max(pc.binary_length(pa.array(digits.array))).as_py()
    long = form & (digits.str.lstrip("-").str.lstrip("0").str.len() > 18) if (longest or 0) > 18 else over
    if long.any():
        outside = digits[long].map(lambda v: not _INT64[0] <= int(v) <= _INT64[1])
        over = outside.reindex(text.index, fill_value=False).astype(bool)
    # Arrow reads the checked digits exactly (no detour through floating point).
    values = digits.where(~over, None).astype("int64[pyarrow]").astype("Int64")
    problems = [(over, f"{column.name}: beyond the 64-bit integer range")]
    return values, present & ~form, problems


def _numbers(column: Column, text: pd.Series, present: pd.Series) -> tuple[pd.Series, pd.Series, _Problems]:
    form = present & text.str.fullmatch(NUMBER)
    numbers = text.where(form, None).astype("float64[pyarrow]").astype("float64")
    infinite = form & ~np.isfinite(numbers.fillna(0.0))
    return numbers.where(~infinite), present & ~form, [(infinite, f"{column.name}: not a finite number")]


def _window(column: Column, stamps: pd.Series, load_date: date | None) -> _Problems:
    if load_date is None:
        load_date = datetime.now(UTC).date()
    start = datetime.combine(load_date - timedelta(days=column.days_before_load), datetime.min.time(), UTC)
    end = datetime.combine(load_date + timedelta(days=column.days_after_load + 1), datetime.min.time(), UTC)
    later = (end - timedelta(days=1)).date().isoformat()
    return [
        (
            stamps < pd.Timestamp(start),
            f"{column.name}: before {start.date().isoformat()} "
            f"({column.days_before_load} days before the load date; days_before_load in the contract)",
        ),
        (
            stamps >= pd.Timestamp(end),
            f"{column.name}: after {later} "
            f"({column.days_after_load} day{'s' if column.days_after_load != 1 else ''} after the load date; "
            "days_after_load in the contract)",
        ),
    ]


def _cast(
    entity: Entity, column: Column, text: pd.Series, load_date: date | None = None, present: pd.Series | None = None
) -> tuple[pd.Series, pd.Series, _Problems]:
    """Return the typed values, a mask of values that could not be typed and further problems.
    ``present``: ``text.str.len() > 0`` when the caller has it already."""
    if present is None:
        present = text.str.len() > 0
    if column.type == "string":
        if column.standard == COUNTRY:
            # names and alpha-3 codes become alpha-2; a value no country has stays as given (reported)
            extra = set(column.allowed_extra)
            codes = {
                value: country_code(value) or (value.strip().upper() if value.strip().upper() in extra else value)
                for value in text[present].unique()
            }
            text = text.map(codes)  # values that are not present become missing, as they do below
        elif column.standard is not None:
            text = text.str.upper()
        return text.where(present, None).astype("string"), pd.Series(False, index=text.index), []
    if column.type in ("integer", "number"):
        in_csv = entity.file_format == "csv"  # (a JSON number has a point and no grouping)
        if in_csv and entity.thousands_separator is not None:
            text = _ungrouped(text, entity.thousands_separator, entity.decimal_mark)
        comma = entity.decimal_mark == "," and in_csv
        if comma and (_any_holds(text, ",") or _any_holds(text, ".")):
            # the marks swapped: a decimal comma reads as a point, and a point (a thousands separator,
            # or the wrong mark) becomes a comma, which no number has
            text = text.str.translate(_SWAP_MARKS)
        return (_integers if column.type == "integer" else _numbers)(column, text, present)
    if column.type in ("timestamp", "date"):
        stamps, ambiguous = _times(entity, column, text, present)
        bad = present & stamps.isna() & ~ambiguous
        problems = [
            (ambiguous, f"{column.name}: ambiguous, the declared timestamp_formats read it as different dates"),
            *_window(column, stamps, load_date),
        ]
        return (stamps.dt.date if column.type == "date" else stamps), bad, problems
    lowered = text.str.strip().str.lower()
    values = pd.Series(pd.NA, index=text.index, dtype="boolean")
    values[lowered.isin(_TRUE)] = True
    values[lowered.isin(_FALSE)] = False
    return values, present & values.isna(), []


class Reasons:
    """Each row's reasons for quarantine, joined by ``; ``."""

    def __init__(self, initial: pd.Series) -> None:
        self.text = initial.fillna("").astype(str)

    def add(self, mask: pd.Series, message: str | Callable[[pd.Index], pd.Series]) -> None:
        """Add ``message`` to the rows in ``mask``; a callable builds it for those rows only."""
        mask = mask.fillna(False).astype(bool)
        if not mask.any():
            return
        rows = mask[mask].index
        text = message(rows) if callable(message) else pd.Series(message, index=rows)
        current = self.text[rows]
        self.text.loc[rows] = current.where(current == "", current + "; ") + text

    @property
    def ok(self) -> pd.Series:
        return self.text == ""


def validate(
    entity: Entity, frame: pd.DataFrame, encoding: str, lossy: bool, load_date: date | None = None
) -> tuple[pd.DataFrame, Reasons]:
    """Type every contract column; return the typed frame and each row's reasons.

    ``lossy`` says that some bytes could not be decoded: rows holding them are set aside.
    ``load_date`` is the landing date timestamps and dates are checked against (default: today).
    """
    reasons = Reasons(frame["_raw_error"])
    typed = pd.DataFrame(index=frame.index)
    for column in entity.columns:
        given = frame[column.name].fillna("").astype(str)
        forbidden = CONTROL_IN_TEXT if column.free_text else CONTROL
        if may_hold(given, forbidden):
            controlled = given.str.contains(forbidden, regex=True)
        else:
            controlled = pd.Series(False, index=given.index)
        if controlled.any():
            control = given[controlled].str.extract(f"({forbidden})", expand=False)

            def control_reason(rows: pd.Index, name: str = column.name, found: pd.Series = control) -> pd.Series:
                lines: pd.Series = frame.loc[rows, "_source_row"].astype(str)
                codes = found[rows].map(lambda c: f"U+{ord(c):04X}")
                return "line " + lines + f", {name}: control character " + codes + " (not allowed in this column)"

            reasons.add(controlled, control_reason)
        text = stripped(given)
        if lossy:
            undecodable = text.str.contains(UNDECODABLE)
            hint = (
                f"bytes that are not valid {encoding}; declare the file's encoding with "
                f"CX_ENCODING_{entity.source.upper()}=<codec> or re-export it as UTF-8"
            )

            def undecoded(rows: pd.Index, name: str = column.name, hint: str = hint) -> pd.Series:
                lines: pd.Series = frame.loc[rows, "_source_row"].astype(str)
                return "line " + lines + f", {name}: {hint}"

            reasons.add(undecodable, undecoded)
            text = text.where(~undecodable, "")
        elif may_hold_private_use(text):
            # decoded without error, so the character is in the file itself: it is never loaded, since
            # the quarantine would show it as an undecodable byte
            private = text.str.contains(UNDECODABLE)
            found = text[private].str.extract(f"({UNDECODABLE.pattern})", expand=False)

            def private_use(rows: pd.Index, name: str = column.name, found: pd.Series = found) -> pd.Series:
                lines: pd.Series = frame.loc[rows, "_source_row"].astype(str)
                codes = found[rows].map(lambda c: f"U+{ord(c):04X}")
                return (
                    "line " + lines + f", {name}: private-use character " + codes + " (U+F700-U+F7FF are not "
                    "allowed: they stand for undecodable bytes)"
                )

            reasons.add(private, private_use)
            text = text.where(~private, "")
        if entity.null_values:
            text = text.where(~text.isin(entity.null_values), "")
        if column.default is not None:
            text = text.where(filled(text), column.default)
        present = filled(text)  # once per column: the cast, the required and the list checks use it
        values, bad, problems = _cast(entity, column, text, load_date, present)
        if controlled.any():
            values = values.where(~controlled)

        def unreadable(rows: pd.Index, c: Column = column, t: pd.Series = text) -> pd.Series:
            return c.name + ": cannot read " + t[rows].str.slice(0, 40).map(repr) + f" as {c.type}"

        reasons.add(bad, unreadable)
        for rows, problem in problems:
            reasons.add(rows, problem)
        if column.required:
            reasons.add(~present, f"{column.name}: required value is missing")
        if column.standard is not None and (column.standard != COUNTRY or column.allowed is not None):
            if column.allowed is not None:
                codes, rule = set(column.allowed), f"not in {', '.join(column.allowed)}"
            else:
                codes, rule = set(standard_codes(column.standard)), f"is not an {STANDARDS[column.standard]}"
            given = values.astype("string").fillna("") if column.standard == COUNTRY else text.str.upper()
            outside = present & ~given.isin(codes | set(column.allowed_extra))

            def not_a_code(rows: pd.Index, c: Column = column, t: pd.Series = text, r: str = rule) -> pd.Series:
                return c.name + ": " + t[rows].map(repr) + " " + r

            reasons.add(outside, not_a_code)
        elif column.allowed is not None:
            outside = present & ~text.isin(column.allowed)

            def not_allowed(rows: pd.Index, c: Column = column, t: pd.Series = text) -> pd.Series:
                return c.name + ": " + t[rows].map(repr) + f" not in {', '.join(c.allowed or ())}"

            reasons.add(outside, not_allowed)
        if column.minimum is not None:
            reasons.add(values.lt(column.minimum), f"{column.name}: below {column.minimum:g}")
        if column.maximum is not None:
            reasons.add(values.gt(column.maximum), f"{column.name}: above {column.maximum:g}")
        typed[column.name] = values
    for column in entity.columns:
        if column.not_before is not None:
            earlier = typed[column.name].lt(typed[column.not_before])
            reasons.add(earlier, f"{column.name}: before {column.not_before}")
    broken = frame["_raw_error"].fillna("") != ""
    if broken.any():
        reasons.text = reasons.text.where(~broken, frame["_raw_error"])
    return typed, reasons


def deduplicate(entity: Entity, frame: pd.DataFrame, typed: pd.DataFrame, reasons: Reasons) -> int:
    """Within one landing date the last valid row of a key wins (file order, then line order).

    Earlier rows are quarantined with the file and line of the row that superseded them.
    Returns how many rows were set aside.
    """
    key = typed[entity.key]
    candidates = reasons.ok & key.notna()
    keys = key[candidates]
    earlier = keys.duplicated(keep="last")
    if not earlier.any():
        return 0
    last = keys[~earlier]
    last = last[last.isin(keys[earlier])]  # only the keys that superseded a row are named
    where = frame.loc[last.index, "_source_file"] + " line " + frame.loc[last.index, "_source_row"].astype(str)
    winner = pd.Series(where.to_numpy(), index=last.to_numpy())
    mask = pd.Series(False, index=frame.index)
    mask[earlier[earlier].index] = True
    reasons.add(mask, lambda rows: f"{entity.key}: duplicate key; superseded by " + key[rows].map(winner).fillna(""))
    return int(mask.sum())


def _known_values(column: Column) -> frozenset[str] | tuple[str, ...] | None:
    """The values a column's audit counts as known (None: the column's values are not counted)."""
    if column.standard == COUNTRY and column.allowed is None:
        return standard_codes(COUNTRY) | set(column.allowed_extra)
    return column.known


def unknown_values(entity: Entity, typed: pd.DataFrame, loaded: pd.Series) -> dict[str, dict[str, int]]:
    """Per open-list column, the loaded values its ``known`` list lacks: ``{column: {value: count}}``.

    A country column counts values no ISO 3166 country has (``Channel Islands``, ``Unspecified``):
    they are loaded as given, reported here, and mapped to a region by the ``country_regions`` seed.

    Only the :data:`UNKNOWN_VALUES_KEPT` most frequent values of a column are kept (ties by value),
    each as :func:`shown_value` shows it (personal data redacted, long values cut).
    """
    found: dict[str, dict[str, int]] = {}
    for column in entity.columns:
        known = _known_values(column)
        if known is None:
            continue
        values = typed.loc[loaded, column.name].dropna()
        unknown = values[~values.isin(known)]
        if unknown.empty:
            continue
        counts = unknown.astype(str).map(shown_value).value_counts()
        ranked = sorted(counts.items(), key=lambda item: (-int(item[1]), str(item[0])))[:UNKNOWN_VALUES_KEPT]
        found[column.name] = {str(value): int(count) for value, count in ranked}
    return found


def unknown_values_of_table(entity: Entity, table: pa.Table) -> dict[str, dict[str, int]]:
    """:func:`unknown_values` of the loaded rows as the lake's table holds them (counted in Arrow)."""
    found: dict[str, dict[str, int]] = {}
    for column in entity.columns:
        known = _known_values(column)
        if known is None:
            continue
        values = table[column.name]
        outside = pc.invert(pc.is_in(values, value_set=pa.array(sorted(known), values.type)))
        unknown = pc.drop_null(values.filter(outside))
        if not len(unknown):
            continue
        counts: dict[str, int] = {}
        for item in pc.value_counts(unknown).to_pylist():
            shown = shown_value(str(item["values"]))
            counts[shown] = counts.get(shown, 0) + int(item["counts"])
        ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:UNKNOWN_VALUES_KEPT]
        found[column.name] = dict(ranked)
    return found


#: The longest unknown value the audit shows in full; longer ones are cut (a shifted free text is no status).
SHOWN_VALUE_CHARS = 40


def shown_value(value: str) -> str:
    """An unknown open-list value as the audit and the log show it: e-mail addresses, card and phone
    numbers replaced by their tokens (a shifted column must not carry them into the audit) and cut
    after :data:`SHOWN_VALUE_CHARS` characters."""
    text, _ = redact_pii(value)
    return text if len(text) <= SHOWN_VALUE_CHARS else text[:SHOWN_VALUE_CHARS] + "…"
