"""Parsed string columns -> typed columns, and each row's reasons for quarantine.

Every contract column is typed and checked (required, closed lists, code standards,
range); rows holding undecodable bytes or a parse error are set aside; within one
landing date the last valid row of a key wins. A row is loaded only when it has no
reason at all. Open lists never reject a value: :func:`unknown_values` counts the
values they do not know, for the load audit.

Timestamps are read as ISO 8601, then with the source's ``timestamp_formats`` in
order (without any, with pandas' guess). Values with an offset keep it; values
without one are in the source's ``timezone``; all are stored in UTC.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from cxpipe.contracts import STANDARDS, Column, Entity, country_code, standard_codes
from cxpipe.ingest.decoding import UNDECODABLE

_TRUE = {"true", "t", "yes", "y", "1"}
_FALSE = {"false", "f", "no", "n", "0"}
#: A time of day followed by an offset or zone: such a value is not in the source's timezone.
_OFFSET = r"\d:\d{2}(?::\d{2}(?:[.,]\d+)?)?\s*(?:[zZ]|UTC|GMT|[+-]\d{2}(?::?\d{2})?)$"
COUNTRY = "iso3166-1-alpha-2"

#: How many unknown values of an open list the load audit keeps per column (the most frequent).
UNKNOWN_VALUES_KEPT = 20


def _times(entity: Entity, column: Column, text: pd.Series, present: pd.Series) -> pd.Series:
    """Timestamps in UTC (NaT where unreadable): ISO 8601, then the source's formats, then its timezone."""
    stamps = pd.to_datetime(text.where(present, None), utc=True, errors="coerce", format="ISO8601")
    for fmt in entity.timestamp_formats or ("mixed",):
        retry = present & stamps.isna()
        if not retry.any():
            break
        stamps = stamps.where(~retry, pd.to_datetime(text[retry], utc=True, errors="coerce", format=fmt))
    if entity.timezone != "UTC" and column.type == "timestamp":
        naive = present & stamps.notna() & ~text.str.contains(_OFFSET, regex=True)
        if naive.any():
            wall = stamps[naive].dt.tz_localize(None)
            # A wall time that happens twice (clocks going back) is the first; one that does
            # not exist (clocks going forward) moves forward by the gap.
            first = np.ones(len(wall), dtype=bool)
            local = wall.dt.tz_localize(entity.timezone, ambiguous=first, nonexistent="shift_forward")
            stamps = stamps.where(~naive, local.dt.tz_convert("UTC"))
    return stamps


def _cast(entity: Entity, column: Column, text: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Return the typed values and a mask of values that could not be typed."""
    present = text.str.len() > 0
    if column.type == "string":
        if column.standard == COUNTRY:
            # names and alpha-3 codes become alpha-2; a value no country has stays as given (reported)
            extra = set(column.allowed_extra)
            codes = {
                value: country_code(value) or (value.strip().upper() if value.strip().upper() in extra else value)
                for value in text[present].unique()
            }
            text = text.map(lambda value: codes.get(value, value))
        elif column.standard is not None:
            text = text.str.upper()
        return text.where(present, None).astype("string"), pd.Series(False, index=text.index)
    if column.type in ("integer", "number"):
        numbers = pd.to_numeric(text.where(present, None), errors="coerce")
        bad = present & numbers.isna()
        if column.type == "integer":
            fractional = numbers.notna() & (numbers % 1 != 0)
            bad |= fractional
            numbers = numbers.where(~fractional).astype("Int64")
        return numbers, bad
    if column.type in ("timestamp", "date"):
        stamps = _times(entity, column, text, present)
        bad = present & stamps.isna()
        return (stamps.dt.date if column.type == "date" else stamps), bad
    lowered = text.str.strip().str.lower()
    values = pd.Series(pd.NA, index=text.index, dtype="boolean")
    values[lowered.isin(_TRUE)] = True
    values[lowered.isin(_FALSE)] = False
    return values, present & values.isna()


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


def validate(entity: Entity, frame: pd.DataFrame, encoding: str, lossy: bool) -> tuple[pd.DataFrame, Reasons]:
    """Type every contract column; return the typed frame and each row's reasons.

    ``lossy`` says that some bytes could not be decoded: rows holding them are set aside.
    """
    reasons = Reasons(frame["_raw_error"])
    typed = pd.DataFrame(index=frame.index)
    for column in entity.columns:
        text = frame[column.name].fillna("").astype(str).str.strip()
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
        values, bad = _cast(entity, column, text)

        def unreadable(rows: pd.Index, c: Column = column, t: pd.Series = text) -> pd.Series:
            return c.name + ": cannot read " + t[rows].str.slice(0, 40).map(repr) + f" as {c.type}"

        reasons.add(bad, unreadable)
        if column.required:
            reasons.add(text.str.len() == 0, f"{column.name}: required value is missing")
        if column.standard is not None and (column.standard != COUNTRY or column.allowed is not None):
            if column.allowed is not None:
                codes, rule = set(column.allowed), f"not in {', '.join(column.allowed)}"
            else:
                codes, rule = set(standard_codes(column.standard)), f"is not an {STANDARDS[column.standard]}"
            given = values.astype("string").fillna("") if column.standard == COUNTRY else text.str.upper()
            outside = (text.str.len() > 0) & ~given.isin(codes | set(column.allowed_extra))

            def not_a_code(rows: pd.Index, c: Column = column, t: pd.Series = text, r: str = rule) -> pd.Series:
                return c.name + ": " + t[rows].map(repr) + " " + r

            reasons.add(outside, not_a_code)
        elif column.allowed is not None:
            outside = (text.str.len() > 0) & ~text.isin(column.allowed)

            def not_allowed(rows: pd.Index, c: Column = column, t: pd.Series = text) -> pd.Series:
                return c.name + ": " + t[rows].map(repr) + f" not in {', '.join(c.allowed or ())}"

            reasons.add(outside, not_allowed)
        if column.minimum is not None:
            reasons.add(values.lt(column.minimum), f"{column.name}: below {column.minimum:g}")
        if column.maximum is not None:
            reasons.add(values.gt(column.maximum), f"{column.name}: above {column.maximum:g}")
        typed[column.name] = values
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
    last = keys[~keys.duplicated(keep="last")]
    where = frame.loc[last.index, "_source_file"] + " line " + frame.loc[last.index, "_source_row"].astype(str)
    winner = pd.Series(where.to_numpy(), index=last.to_numpy())
    mask = pd.Series(False, index=frame.index)
    mask[earlier[earlier].index] = True
    reasons.add(mask, lambda rows: f"{entity.key}: duplicate key; superseded by " + key[rows].map(winner).fillna(""))
    return int(mask.sum())


def unknown_values(entity: Entity, typed: pd.DataFrame, loaded: pd.Series) -> dict[str, dict[str, int]]:
    """Per open-list column, the loaded values its ``known`` list lacks: ``{column: {value: count}}``.

    A country column counts values no ISO 3166 country has (``Channel Islands``, ``Unspecified``):
    they are loaded as given, reported here, and mapped to a region by the ``country_regions`` seed.

    Only the :data:`UNKNOWN_VALUES_KEPT` most frequent values of a column are kept (ties by value).
    """
    found: dict[str, dict[str, int]] = {}
    for column in entity.columns:
        if column.standard == COUNTRY and column.allowed is None:
            known: frozenset[str] | tuple[str, ...] = standard_codes(COUNTRY) | set(column.allowed_extra)
        elif column.known is not None:
            known = column.known
        else:
            continue
        values = typed.loc[loaded, column.name].dropna()
        unknown = values[~values.isin(known)]
        if unknown.empty:
            continue
        counts = unknown.astype(str).value_counts()
        ranked = sorted(counts.items(), key=lambda item: (-int(item[1]), str(item[0])))[:UNKNOWN_VALUES_KEPT]
        found[column.name] = {str(value): int(count) for value, count in ranked}
    return found
