"""Decoded text -> string columns with each record's physical line number.

Both parsers return one row per record: the fields as strings, ``_source_row``
(the line where the record starts; the CSV header is line 1) and ``_raw_error``
(empty, or why the record could not be read). Records that could not be read
keep their exact text in ``_raw`` so the quarantine shows what was delivered.
"""

from __future__ import annotations

import csv
import io
import json
import sys

import pandas as pd

from cxpipe.contracts import ContractError

csv.field_size_limit(min(sys.maxsize, 2**31 - 1))
#: CSV records parsed into Python lists before they become Arrow-backed columns.
_CHUNK_ROWS = 50_000


def _empty_frame() -> pd.DataFrame:
    return pd.DataFrame({"_source_row": pd.Series([], dtype="int64"), "_raw_error": pd.Series([], dtype=object)})


def parse_csv(text: str, path: str) -> pd.DataFrame:
    """Parse CSV text into string columns plus ``_source_row`` (physical start line).

    Quoted values may hold delimiters and newlines. A record with the wrong number
    of fields, or one a never-closed quote ran on with, is kept with ``_raw_error``
    and its exact ``_raw`` text.
    """
    reader = csv.reader(io.StringIO(text, newline=""), strict=False)
    try:
        header = next(reader)
    except StopIteration:
        return _empty_frame()
    header = [h.strip().lstrip("\ufeff").strip() for h in header]
    seen: set[str] = set()
    for position, name in enumerate(header, start=1):
        if not name or name in seen:
            problem = "an empty column name" if not name else f"column {name!r} twice"
            raise ContractError(
                path, f"line 1 (header), column {position}: {problem}", "Give every column one unique name."
            )
        seen.add(name)
    width = len(header)
    # Records are gathered in chunks of Python lists, each turned into Arrow-backed string
    # columns, so a large file never sits in memory as millions of Python strings.
    chunks: list[pd.DataFrame] = []
    good: list[list[str]] = []
    good_lines: list[int] = []
    loaded = 0

    def flush() -> None:
        if good:
            chunk = pd.DataFrame(good, columns=header, dtype=str)
            chunk.insert(0, "_source_row", pd.Series(good_lines, dtype="int64"))
            chunks.append(chunk)
            good.clear()
            good_lines.clear()

    spans: list[tuple[int, int, int]] = []  # (position among good records, first line, last line)
    dropped: set[int] = set()
    bad: list[dict[str, object]] = []
    next_line = reader.line_num + 1
    try:
        for fields in reader:
            start, next_line = next_line, reader.line_num + 1
            if len(fields) == width:
                if next_line - 1 > start:
                    spans.append((loaded, start, next_line - 1))
                good.append(fields)
                good_lines.append(start)
                loaded += 1
                if len(good) >= _CHUNK_ROWS:
                    flush()
            elif fields and "".join(fields).strip():
                bad.append(
                    {
                        "_source_row": start,
                        "_last_line": next_line - 1,
                        "_raw_error": (
                            f"line {start}: expected {width} fields as in the header, found {len(fields)}; "
                            "quote values that contain the delimiter"
                        ),
                    }
                )
    except csv.Error as exc:
        raise ContractError(
            path,
            f"line {next_line}: cannot parse CSV ({exc})",
            "Check the quoting from that line on (a quote that never closes); nothing of this file was loaded.",
        ) from exc
    if spans or bad:
        lines = io.StringIO(text, newline="").readlines()
        for index, first, last in spans:
            raw = "".join(lines[first - 1 : last])
            if raw.count('"') % 2:
                dropped.add(index)
                bad.append(
                    {
                        "_source_row": first,
                        "_last_line": last,
                        "_raw_error": (
                            f"line {first}: a quote opened here does not close before line {last}; "
                            f"lines {first}-{last} are set aside, fix the quoting and re-deliver them"
                        ),
                    }
                )
        for row in bad:
            row["_raw"] = "".join(lines[int(str(row["_source_row"])) - 1 : int(str(row.pop("_last_line")))])
    flush()
    if chunks:
        frame = pd.concat(chunks, ignore_index=True) if len(chunks) > 1 else chunks[0]
    else:
        frame = pd.DataFrame(
            {"_source_row": pd.Series([], dtype="int64"), **{h: pd.Series([], dtype=str) for h in header}}
        )
    if dropped:
        frame = frame.drop(index=sorted(dropped)).reset_index(drop=True)
    frame.insert(1, "_raw_error", "")
    if bad:
        frame = pd.concat([frame, pd.DataFrame(bad)], ignore_index=True).sort_values("_source_row", kind="stable")
        frame = frame.reset_index(drop=True)
    return frame


def _as_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def parse_jsonl(text: str, path: str) -> pd.DataFrame:
    """Parse JSON Lines into string columns; a malformed line is kept with ``_raw_error``."""
    records: list[dict[str, object]] = []
    for number, line in enumerate(text.split("\n"), start=1):
        line = line.rstrip("\r")
        if not line.strip():
            continue
        try:
            parsed = json.loads(line)
            if not isinstance(parsed, dict):
                raise ValueError(f"expected a JSON object, found {type(parsed).__name__}")
        except ValueError as exc:
            records.append(
                {"_source_row": number, "_raw_error": f"line {number}: malformed JSON ({exc})", "_raw": line}
            )
            continue
        record: dict[str, object] = {"_source_row": number, "_raw_error": ""}
        for name, value in parsed.items():
            record[str(name).strip()] = _as_text(value)
        records.append(record)
    if not records:
        return _empty_frame()
    return pd.DataFrame.from_records(records)
