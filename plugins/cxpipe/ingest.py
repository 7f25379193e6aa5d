"""Landing files -> typed Parquet in the lake, with quarantine and a load audit.

For one source and one landing date, each entity's file is read as text, checked
against its contract (:mod:`cxpipe.contracts`) and split: rows that pass are
typed, their PII replaced by keyed hashes, and written to
``lake/<source>/<entity>/load_date=<date>/part-0.parquet``; rows that fail go to
``quarantine/…`` with their file, row number, raw content and reason. Every run
checks ``rows_in == rows_loaded + rows_quarantined`` and records it in
``lake/_load_audit``. Files are written beside their target and renamed over it,
so a re-run replaces a date's partition and a crash leaves the previous one.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

import pandas as pd
import pyarrow as pa
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
_INTERNAL_COLUMNS = frozenset({"_source_row", "_raw_error", "_raw"})
_TRUE = {"true", "t", "yes", "y", "1"}
_FALSE = {"false", "f", "no", "n", "0"}

QUARANTINE_SCHEMA = pa.schema(
    [
        ("source_file", pa.string()),
        ("source_row", pa.int64()),
        ("raw", pa.string()),
        ("reason", pa.string()),
    ]
)


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

    def check_balance(self) -> None:
        if self.rows_in != self.rows_loaded + self.rows_quarantined:
            raise RuntimeError(
                f"{self.source_file}: {self.rows_in} rows in but {self.rows_loaded} loaded "
                f"+ {self.rows_quarantined} quarantined; rows were lost, nothing was published"
            )


def pseudonymise(values: pd.Series, key: str) -> pd.Series:
    """Replace each non-empty value by a keyed hash (HMAC-SHA256, 24 hex chars)."""
    secret = key.encode()

    def one(value: object) -> object:
        if pd.isna(value) or value == "":  # type: ignore[call-overload]
            return None
        return hmac.new(secret, str(value).strip().lower().encode(), hashlib.sha256).hexdigest()[:24]

    return values.map(one).astype("string")


def _read_csv(path: Path) -> pd.DataFrame:
    frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    frame.insert(0, "_source_row", range(1, len(frame) + 1))
    frame.insert(1, "_raw_error", "")
    return frame


def _read_jsonl(path: Path) -> pd.DataFrame:
    records: list[dict[str, object]] = []
    with path.open(encoding="utf-8-sig") as fh:
        for number, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                parsed = json.loads(line)
                if not isinstance(parsed, dict):
                    raise ValueError("a JSON line must hold an object")
            except ValueError as exc:
                records.append({"_source_row": number, "_raw_error": f"malformed JSON: {exc}", "_raw": line})
                continue
            record: dict[str, object] = {"_source_row": number, "_raw_error": ""}
            for name, value in parsed.items():
                if value is None:
                    record[name] = ""
                elif isinstance(value, bool):
                    record[name] = str(value).lower()
                else:
                    record[name] = str(value)
            records.append(record)
    return pd.DataFrame.from_records(records, columns=None if records else ["_source_row", "_raw_error"])


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
    values = lowered.map(lambda v: True if v in _TRUE else False if v in _FALSE else None)
    return values.astype("boolean"), present & values.isna()


def _validate(entity: Entity, frame: pd.DataFrame) -> tuple[pd.DataFrame, pd.Series]:
    """Type every contract column; return the typed frame and each row's reasons."""
    reasons = frame["_raw_error"].astype(str)

    def add(mask: pd.Series, message: str | pd.Series) -> None:
        nonlocal reasons
        text = message if isinstance(message, pd.Series) else pd.Series(message, index=frame.index)
        joined = reasons.where(reasons == "", reasons + "; ") + text
        reasons = reasons.where(~mask, joined)

    typed = pd.DataFrame(index=frame.index)
    for column in entity.columns:
        text = frame[column.name].fillna("").astype(str).str.strip()
        values, bad = _cast(column, text)
        add(bad, column.name + ": cannot read " + text.str.slice(0, 40).map(repr) + f" as {column.type}")
        if column.required:
            add(text.str.len() == 0, f"{column.name}: required value is missing")
        if column.allowed is not None:
            outside = (text.str.len() > 0) & ~text.isin(column.allowed)
            add(outside, column.name + ": " + text.map(repr) + f" not in {', '.join(column.allowed)}")
        if column.minimum is not None:
            add(values.lt(column.minimum).fillna(False).astype(bool), f"{column.name}: below {column.minimum:g}")
        if column.maximum is not None:
            add(values.gt(column.maximum).fillna(False).astype(bool), f"{column.name}: above {column.maximum:g}")
        typed[column.name] = values

    key = typed[entity.key]
    duplicated = key.notna() & key.duplicated(keep="last") & (reasons == "")
    add(duplicated, f"{entity.key}: duplicate key in file, a later row supersedes it")
    return typed, reasons


def _write_atomically(table: pa.Table, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        pq.write_table(table, tmp)
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


def _partition(root: Path, entity: Entity, load_date: date) -> Path:
    return root / entity.source / entity.name / f"load_date={load_date.isoformat()}" / "part-0.parquet"


def landing_file(settings: Settings, entity: Entity, load_date: date) -> Path:
    return settings.landing_dir / entity.source / load_date.isoformat() / entity.file_name


def _raw_json(frame: pd.DataFrame) -> pd.Series:
    columns = [c for c in frame.columns if not c.startswith("_")]
    raws = frame[columns].to_dict(orient="records")
    text = pd.Series([json.dumps(r, ensure_ascii=False) for r in raws], index=frame.index, dtype=object)
    if "_raw" in frame.columns:
        text = frame["_raw"].where(frame["_raw"].notna(), text)
    return text


def ingest_entity(settings: Settings, entity: Entity, load_date: date, missing_file_policy: str) -> LoadResult:
    """Load one entity's landing file for ``load_date`` into the lake."""
    path = landing_file(settings, entity, load_date)
    result = LoadResult(entity.source, entity.name, load_date.isoformat(), str(path))
    if not path.exists():
        if missing_file_policy in ("fail", "wait"):
            raise ContractError(
                str(path),
                f"no {entity.name} file landed for {load_date}",
                "Drop the export there and re-run this date, or set "
                "CX_MISSING_FILE_POLICY=skip to load the other files without it.",
            )
        log.warning("%s: no file for %s; skipped (CX_MISSING_FILE_POLICY=skip)", path, load_date)
        result.status = "no_file"
        return result

    reader: Callable[[Path], pd.DataFrame] = _read_csv if entity.file_format == "csv" else _read_jsonl
    frame = reader(path)
    result.rows_in = len(frame)
    present = set(frame.columns) - _INTERNAL_COLUMNS
    missing = [c for c in entity.required_columns if c not in present]
    if missing and len(frame) > 0:
        raise ContractError(
            str(path),
            f"required column(s) {', '.join(missing)} missing (found: {', '.join(sorted(present))})",
            f"Fix the {entity.source} export so it has every column in docs/contracts.md "
            f"({entity.source}.{entity.name}); nothing of this file was loaded.",
        )
    result.drift_columns = sorted(present - set(entity.column_names))
    if result.drift_columns:
        log.warning("%s: columns not in the contract (schema drift): %s", path, ", ".join(result.drift_columns))
    for name in entity.column_names:
        if name not in frame.columns:
            frame[name] = ""

    typed, reasons = _validate(entity, frame)
    good = reasons == ""
    for column in entity.columns:
        if column.pii:
            typed[column.name] = pseudonymise(typed[column.name], settings.pii_key)
    loaded = typed[good].copy()
    loaded["_source_file"] = path.name
    loaded["_source_row"] = frame.loc[good, "_source_row"].astype("int64")
    schema = pa.schema(
        [(c.name, _ARROW_TYPES[c.type]) for c in entity.columns]
        + [("_source_file", pa.string()), ("_source_row", pa.int64())]
    )
    table = pa.Table.from_pandas(loaded, schema=schema, preserve_index=False)
    _write_atomically(table, _partition(settings.lake_dir, entity, load_date))

    bad = frame[~good]
    quarantined = pa.table(
        {
            "source_file": [str(path)] * len(bad),
            "source_row": bad["_source_row"].astype("int64").tolist(),
            "raw": _raw_json(bad).tolist(),
            "reason": reasons[~good].tolist(),
        },
        schema=QUARANTINE_SCHEMA,
    )
    _write_atomically(quarantined, _partition(settings.quarantine_dir, entity, load_date))
    result.rows_loaded = int(good.sum())
    result.rows_quarantined = len(bad)
    result.check_balance()
    log.info(
        "%s: %d rows in, %d loaded, %d quarantined", path, result.rows_in, result.rows_loaded, result.rows_quarantined
    )
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
    """True when every file ``source`` delivers has landed for ``day``."""
    return all(landing_file(settings, entity, day).exists() for entity in entities_of(source))


def ingest_source(settings: Settings, source: str, load_date: date, policy: str | None = None) -> list[LoadResult]:
    """Load every entity of ``source`` for ``load_date`` and write the load audit.

    ``policy`` overrides the source's configured :func:`missing_file_policy`.
    """
    policy = policy or missing_file_policy(source)
    if policy not in MISSING_FILE_POLICIES:
        raise ValueError(f"missing-file policy {policy!r}; expected one of {', '.join(MISSING_FILE_POLICIES)}")
    results = [ingest_entity(settings, entity, load_date, policy) for entity in entities_of(source)]
    audit = pd.DataFrame([asdict(r) for r in results])
    audit["drift_columns"] = audit["drift_columns"].map(lambda cols: ",".join(cols))
    audit["ingested_at"] = datetime.now(UTC)
    target = settings.lake_dir / "_load_audit" / source / f"load_date={load_date.isoformat()}" / "part-0.parquet"
    _write_atomically(pa.Table.from_pandas(audit, preserve_index=False), target)
    return results
