"""Parsed string columns -> typed columns, and each row's reasons for quarantine.

Every contract column is typed and checked (required, allowed values, range);
rows holding undecodable bytes or a parse error are set aside; within one
landing date the last valid row of a key wins. A row is loaded only when it
has no reason at all.
"""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd

from cxpipe.contracts import Column, Entity
from cxpipe.ingest.decoding import UNDECODABLE

_TRUE = {"true", "t", "yes", "y", "1"}
_FALSE = {"false", "f", "no", "n", "0"}


def _cast(column: Column, text: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Return the typed values and a mask of values that could not be typed."""
    present = text.str.len() > 0
    if column.type == "string":
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
        stamps = pd.to_datetime(text.where(present, None), utc=True, errors="coerce", format="ISO8601")
        retry = present & stamps.isna()
        if retry.any():
            stamps = stamps.where(~retry, pd.to_datetime(text[retry], utc=True, errors="coerce", format="mixed"))
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
        values, bad = _cast(column, text)

        def unreadable(rows: pd.Index, c: Column = column, t: pd.Series = text) -> pd.Series:
            return c.name + ": cannot read " + t[rows].str.slice(0, 40).map(repr) + f" as {c.type}"

        reasons.add(bad, unreadable)
        if column.required:
            reasons.add(text.str.len() == 0, f"{column.name}: required value is missing")
        if column.allowed is not None:
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
