"""Landing files -> typed Parquet in the lake, with quarantine and a load audit.

For one source and one landing date, each entity's files are decoded (declared
or detected encoding), parsed with their physical line numbers, checked against
the contract (:mod:`cxpipe.contracts`) and split: rows that pass are typed, their
PII replaced by keyed hashes, and written to
``lake/<source>/<entity>/load_date=<date>/part-0.parquet``; rows that fail go to
``quarantine/…`` with their file, line number, raw content and reason. Every run
checks ``rows_in == rows_loaded + rows_quarantined`` and records it in
``lake/_load_audit``. All files of a source are first written beside their
targets and only renamed over them once every entity has passed, so a re-run
replaces a date's partitions and a crash leaves the previous ones.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import hmac
import io
import json
import logging
import os
import re
import sys
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

import charset_normalizer
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from cxpipe.config import Settings
from cxpipe.contracts import Column, ContractError, Entity, entities_of

log = logging.getLogger(__name__)

#: What to do when a source's file has not landed for a date. ``wait`` is carried out by the
#: ingest DAG (a sensor waits for :func:`landing_ready`); once the ingest task runs, ``wait``
#: behaves like ``fail``.
MISSING_FILE_POLICIES = ("wait", "skip", "fail")

_ARROW_TYPES: dict[str, pa.DataType] = {
    "string": pa.string(),
    "integer": pa.int64(),
    "number": pa.float64(),
    "timestamp": pa.timestamp("us", tz="UTC"),
    "date": pa.date32(),
    "boolean": pa.bool_(),
}
_INTERNAL_COLUMNS = frozenset({"_source_file", "_source_row", "_raw_error", "_raw"})
_TRUE = {"true", "t", "yes", "y", "1"}
_FALSE = {"false", "f", "no", "n", "0"}
#: Bytes that cannot be decoded are kept as private-use characters U+F700 + byte, so the
#: rows holding them can be found, quarantined and their raw bytes shown as ``\\xNN``.
_UNDECODABLE = re.compile("[\uf700-\uf7ff]")
_KEEP_BYTES = "cxpipe-keep-bytes"


def _keep_bytes(error: UnicodeError) -> tuple[str, int]:
    if not isinstance(error, UnicodeDecodeError):
        raise error
    bad = error.object[error.start : error.end]
    return "".join(chr(0xF700 + b) for b in bad), error.end


codecs.register_error(_KEEP_BYTES, _keep_bytes)

QUARANTINE_SCHEMA = pa.schema(
    [
        ("source_file", pa.string()),
        ("source_row", pa.int64()),
        ("raw", pa.string()),
        ("reason", pa.string()),
    ]
)

csv.field_size_limit(min(sys.maxsize, 2**31 - 1))
#: CSV records parsed into Python lists before they become Arrow-backed columns.
_CHUNK_ROWS = 50_000


@dataclass
class LoadResult:
    """What one entity's load did; one row of the load audit."""

    source: str
    entity: str
    load_date: str
    source_file: str
    rows_in: int = 0
    rows_loaded: int = 0
    rows_quarantined: int = 0
    drift_columns: list[str] = field(default_factory=list)
    status: str = "loaded"
    #: Encoding each file was read with (declared, BOM, UTF-8 or detected).
    encoding: str = ""
    #: Loaded rows whose event happened before the landing date (late arrivals).
    rows_late: int = 0
    #: Loaded rows whose key was already loaded on an earlier date; they supersede it downstream.
    rows_superseding_earlier: int = 0
    #: Rows quarantined because a later row of the same day carries the same key.
    rows_duplicate: int = 0

    def check_balance(self) -> None:
        if self.rows_in != self.rows_loaded + self.rows_quarantined:
            raise RuntimeError(
                f"{self.source_file}: {self.rows_in} rows in but {self.rows_loaded} loaded "
                f"+ {self.rows_quarantined} quarantined; rows were lost, nothing was published"
            )


def pseudonymise(values: pd.Series, key: str) -> pd.Series:
    """Replace each non-empty value by a keyed hash (HMAC-SHA256, 24 hex chars).

    Values are trimmed and lower-cased first, so ``A@X.com `` and ``a@x.com`` agree.
    """
    secret = key.encode()
    cache: dict[str, str] = {}

    def one(value: object) -> object:
        if value is None or value is pd.NA or (isinstance(value, float) and value != value) or value == "":
            return None
        text = str(value).strip().lower()
        digest = cache.get(text)
        if digest is None:
            digest = hmac.new(secret, text.encode(), hashlib.sha256).hexdigest()[:24]
            cache[text] = digest
        return digest

    return values.map(one).astype("string")


_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_PHONE = re.compile(r"(?<![\w+])\+?\d[\d ()./-]{7,}\d(?!\w)")


def _mask_phone(match: re.Match[str]) -> str:
    digits = sum(ch.isdigit() for ch in match.group())
    return "<phone>" if digits >= 9 else match.group()


def mask_contact_details(values: pd.Series) -> pd.Series:
    """Mask e-mail addresses and phone numbers (9+ digits) in free text."""

    def one(value: object) -> object:
        if not isinstance(value, str) or not value:
            return value
        if "@" in value:
            value = _EMAIL.sub("<email>", value)
        return _PHONE.sub(_mask_phone, value) if sum(ch.isdigit() for ch in value) >= 9 else value

    return values.map(one).astype("string")


# --------------------------------------------------------------------------- decoding


def declared_encoding(source: str, entity: str) -> str | None:
    """``CX_ENCODING_<SOURCE>_<ENTITY>``, else ``CX_ENCODING_<SOURCE>``, else None (detect)."""
    for name in (f"CX_ENCODING_{source.upper()}_{entity.upper()}", f"CX_ENCODING_{source.upper()}"):
        value = os.environ.get(name)
        if value:
            try:
                codecs.lookup(value)
            except LookupError:
                raise ValueError(
                    f"{name}={value!r} is not an encoding Python knows (e.g. utf-8, gbk, cp1251)"
                ) from None
            return value
    return None


def decode(data: bytes, declared: str | None = None) -> tuple[str, str]:
    """Return the text of a landing file and the encoding it was read with.

    A declared encoding wins. Otherwise a UTF-8 byte-order mark means UTF-8; text
    that is valid UTF-8 (or UTF-8 with a few corrupt bytes among much valid
    non-ASCII text) is UTF-8; anything else is detected with charset-normalizer.
    Bytes that cannot be decoded are kept as private-use characters, so the rows
    holding them are quarantined rather than lost or silently altered.
    """
    if declared:
        body = data[len(codecs.BOM_UTF8) :] if data.startswith(codecs.BOM_UTF8) else data
        return body.decode(declared, errors=_KEEP_BYTES), declared
    if data.startswith(codecs.BOM_UTF8):
        return data[len(codecs.BOM_UTF8) :].decode("utf-8", errors=_KEEP_BYTES), "utf-8-sig"
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    lenient = data.decode("utf-8", errors=_KEEP_BYTES)
    undecodable = len(_UNDECODABLE.findall(lenient))
    non_ascii = len(lenient) - len(lenient.encode("ascii", errors="ignore")) - undecodable
    if non_ascii >= 10 * undecodable:
        return lenient, "utf-8"
    best = charset_normalizer.from_bytes(data).best()
    if best is None:
        return lenient, "utf-8"
    return data.decode(best.encoding, errors=_KEEP_BYTES), best.encoding


# --------------------------------------------------------------------------- parsing


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


# --------------------------------------------------------------------------- validation


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


class _Reasons:
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


def _validate(entity: Entity, frame: pd.DataFrame, encoding: str, lossy: bool) -> tuple[pd.DataFrame, _Reasons]:
    """Type every contract column; return the typed frame and each row's reasons.

    ``lossy`` says that some bytes could not be decoded: rows holding them are set aside.
    """
    reasons = _Reasons(frame["_raw_error"])
    typed = pd.DataFrame(index=frame.index)
    for column in entity.columns:
        text = frame[column.name].fillna("").astype(str).str.strip()
        if lossy:
            undecodable = text.str.contains(_UNDECODABLE)
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


def _deduplicate(entity: Entity, frame: pd.DataFrame, typed: pd.DataFrame, reasons: _Reasons) -> int:
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


# --------------------------------------------------------------------------- files


def _partition(root: Path, entity: Entity, load_date: date) -> Path:
    return root / entity.source / entity.name / f"load_date={load_date.isoformat()}" / "part-0.parquet"


def landing_file(settings: Settings, entity: Entity, load_date: date) -> Path:
    """The entity's main landing file for a date (``<source>/<date>/<entity>.<format>``)."""
    return settings.landing_dir / entity.source / load_date.isoformat() / entity.file_name


def landing_files(settings: Settings, entity: Entity, load_date: date) -> list[Path]:
    """Every file of the entity for a date: the main file, then extra parts
    ``<entity>.<anything>.<format>`` in name order (later files win on duplicate keys)."""
    main = landing_file(settings, entity, load_date)
    parts = sorted(main.parent.glob(f"{entity.name}.*.{entity.file_format}")) if main.parent.is_dir() else []
    return ([main] if main.exists() else []) + [p for p in parts if p.is_file()]


@dataclass
class _Staged:
    """Files written beside their targets, renamed over them by :meth:`commit`."""

    moves: list[tuple[Path, Path]] = field(default_factory=list)

    def write(self, table: pa.Table, target: Path) -> None:
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
        self.moves.append((tmp, target))
        pq.write_table(table, tmp)
        with tmp.open("rb") as fh:
            os.fsync(fh.fileno())

    def commit(self) -> None:
        for tmp, target in self.moves:
            os.replace(tmp, target)
        self.moves.clear()

    def discard(self) -> None:
        for tmp, _ in self.moves:
            tmp.unlink(missing_ok=True)
        self.moves.clear()


def _raw_json(frame: pd.DataFrame) -> list[str]:
    columns = [c for c in frame.columns if not c.startswith("_")]
    records = frame[columns].fillna("").to_dict(orient="records")
    text = [json.dumps(r, ensure_ascii=False) for r in records]
    if "_raw" in frame.columns:
        text = [str(raw) if isinstance(raw, str) else j for raw, j in zip(frame["_raw"], text, strict=True)]
    # Undecodable bytes are shown as \xNN escapes of the original bytes.
    return [_UNDECODABLE.sub(lambda m: f"\\x{ord(m.group()) - 0xF700:02x}", t) for t in text]


def _read(entity: Entity, paths: list[Path]) -> tuple[pd.DataFrame, list[str], bool]:
    frames: list[pd.DataFrame] = []
    encodings: list[str] = []
    lossy = False
    declared = declared_encoding(entity.source, entity.name)
    for path in paths:
        text, encoding = decode(path.read_bytes(), declared)
        encodings.append(encoding)
        lossy = lossy or _UNDECODABLE.search(text) is not None
        frame = parse_csv(text, str(path)) if entity.file_format == "csv" else parse_jsonl(text, str(path))
        frame.insert(0, "_source_file", path.name)
        present = set(frame.columns) - _INTERNAL_COLUMNS
        missing = [c for c in entity.required_columns if c not in present]
        if missing and len(frame) > 0:
            raise ContractError(
                str(path),
                f"required column(s) {', '.join(missing)} missing (found: {', '.join(sorted(present))})",
                f"Fix the {entity.source} export so it has every column in docs/contracts.md "
                f"({entity.source}.{entity.name}); nothing of this source was loaded for this date.",
            )
        frames.append(frame)
    frame = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
    return frame, encodings, lossy


def _earlier_keys(settings: Settings, entity: Entity, load_date: date) -> pa.Array | None:
    root = settings.lake_dir / entity.source / entity.name
    parts = [
        p / "part-0.parquet"
        for p in sorted(root.glob("load_date=*"))
        if p.name.split("=", 1)[1] < load_date.isoformat() and (p / "part-0.parquet").exists()
    ]
    if not parts:
        return None
    chunks = [pq.read_table(p, columns=[entity.key]).column(0) for p in parts]
    return pa.chunked_array([c for chunk in chunks for c in chunk.chunks], type=pa.string()).combine_chunks()


def _stage_entity(
    settings: Settings, entity: Entity, load_date: date, missing_file_policy: str, staged: _Staged
) -> LoadResult:
    paths = landing_files(settings, entity, load_date)
    main = landing_file(settings, entity, load_date)
    result = LoadResult(entity.source, entity.name, load_date.isoformat(), ", ".join(map(str, paths)) or str(main))
    if not paths:
        if missing_file_policy in ("fail", "wait"):
            raise ContractError(
                str(main),
                f"no {entity.name} file landed for {load_date}",
                "Drop the export there and re-run this date, or set "
                f"CX_MISSING_FILE_POLICY_{entity.source.upper()}=skip to load the other files without it.",
            )
        log.warning("%s: no file for %s; skipped (missing-file policy: skip)", main, load_date)
        result.status = "no_file"
        return result

    frame, encodings, lossy = _read(entity, paths)
    result.encoding = ", ".join(encodings)
    result.rows_in = len(frame)
    if not len(frame):
        result.status = "empty"
        log.warning("%s: no rows; the partition for %s is replaced by an empty one", result.source_file, load_date)
    present = set(frame.columns) - _INTERNAL_COLUMNS
    result.drift_columns = sorted(present - set(entity.column_names))
    if result.drift_columns:
        log.warning(
            "%s: columns not in the contract (schema drift, loaded rows keep the contract columns): %s",
            result.source_file,
            ", ".join(result.drift_columns),
        )
    for name in entity.column_names:
        if name not in frame.columns:
            frame[name] = ""

    typed, reasons = _validate(entity, frame, encodings[0], lossy)
    result.rows_duplicate = _deduplicate(entity, frame, typed, reasons)
    good = reasons.ok
    for column in entity.columns:
        if column.pii:
            typed[column.name] = pseudonymise(typed[column.name], settings.pii_key)
        elif column.free_text:
            typed[column.name] = mask_contact_details(typed[column.name])
    loaded = typed[good].copy()
    loaded["_source_file"] = frame.loc[good, "_source_file"]
    loaded["_source_row"] = frame.loc[good, "_source_row"].astype("int64")
    schema = pa.schema(
        [(c.name, _ARROW_TYPES[c.type]) for c in entity.columns]
        + [("_source_file", pa.string()), ("_source_row", pa.int64())]
    )
    table = pa.Table.from_pandas(loaded, schema=schema, preserve_index=False)
    staged.write(table, _partition(settings.lake_dir, entity, load_date))

    if entity.event_column is not None and table.num_rows:
        start = pa.scalar(datetime.combine(load_date, datetime.min.time(), UTC), type=_ARROW_TYPES["timestamp"])
        result.rows_late = int(pc.sum(pc.less(table[entity.event_column], start)).as_py() or 0)
    earlier = _earlier_keys(settings, entity, load_date)
    if earlier is not None and table.num_rows:
        result.rows_superseding_earlier = int(pc.sum(pc.is_in(table[entity.key], value_set=earlier)).as_py() or 0)

    bad = frame[~good]
    folder = paths[0].parent
    quarantined = pa.table(
        {
            "source_file": [str(folder / name) for name in bad["_source_file"]],
            "source_row": bad["_source_row"].astype("int64").tolist(),
            "raw": _raw_json(bad),
            "reason": reasons.text[~good].tolist(),
        },
        schema=QUARANTINE_SCHEMA,
    )
    staged.write(quarantined, _partition(settings.quarantine_dir, entity, load_date))
    result.rows_loaded = int(good.sum())
    result.rows_quarantined = len(bad)
    result.check_balance()
    log.info(
        "%s: %d rows in, %d loaded, %d quarantined (%d duplicates), %d late, %d superseding earlier dates",
        result.source_file,
        result.rows_in,
        result.rows_loaded,
        result.rows_quarantined,
        result.rows_duplicate,
        result.rows_late,
        result.rows_superseding_earlier,
    )
    return result


def ingest_entity(settings: Settings, entity: Entity, load_date: date, missing_file_policy: str) -> LoadResult:
    """Load one entity's landing files for ``load_date`` into the lake."""
    staged = _Staged()
    try:
        result = _stage_entity(settings, entity, load_date, missing_file_policy, staged)
        staged.commit()
    finally:
        staged.discard()
    return result


def missing_file_policy(source: str) -> str:
    """``CX_MISSING_FILE_POLICY_<SOURCE>``, else ``CX_MISSING_FILE_POLICY``, else ``fail``."""
    specific = f"CX_MISSING_FILE_POLICY_{source.upper()}"
    policy = os.environ.get(specific) or os.environ.get("CX_MISSING_FILE_POLICY") or "fail"
    if policy not in MISSING_FILE_POLICIES:
        raise ValueError(
            f"{specific} / CX_MISSING_FILE_POLICY={policy!r}; expected one of {', '.join(MISSING_FILE_POLICIES)}"
        )
    return policy


def landing_ready(settings: Settings, source: str, day: date) -> bool:
    """True when every entity ``source`` delivers has at least one file for ``day``."""
    return all(landing_files(settings, entity, day) for entity in entities_of(source))


def ingest_source(settings: Settings, source: str, load_date: date, policy: str | None = None) -> list[LoadResult]:
    """Load every entity of ``source`` for ``load_date`` and write the load audit.

    Partitions are replaced only when every entity of the source passed; if one
    fails, the lake keeps the previous state of all of them. ``policy``
    overrides the source's configured :func:`missing_file_policy`.
    """
    policy = policy or missing_file_policy(source)
    if policy not in MISSING_FILE_POLICIES:
        raise ValueError(f"missing-file policy {policy!r}; expected one of {', '.join(MISSING_FILE_POLICIES)}")
    staged = _Staged()
    try:
        results = [_stage_entity(settings, entity, load_date, policy, staged) for entity in entities_of(source)]
        audit = pd.DataFrame([asdict(r) for r in results])
        audit["drift_columns"] = audit["drift_columns"].map(lambda cols: ",".join(cols))
        audit["ingested_at"] = datetime.now(UTC)
        target = settings.lake_dir / "_load_audit" / source / f"load_date={load_date.isoformat()}" / "part-0.parquet"
        staged.write(pa.Table.from_pandas(audit, preserve_index=False), target)
        staged.commit()
    finally:
        staged.discard()
    return results
