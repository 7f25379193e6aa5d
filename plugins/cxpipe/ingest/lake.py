"""What ingest writes: lake and quarantine partitions, staged and renamed together, and the load audit.

Every file is first written beside its target (fsynced) by :class:`Staged`; only
:meth:`Staged.commit` renames them over their targets, so a crash or a failing
entity leaves the previous partitions as they were.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from cxpipe.contracts import Entity
from cxpipe.ingest.decoding import show_undecodable
from cxpipe.settings import Settings

#: Arrow type of each contract column type in the lake.
ARROW_TYPES: dict[str, pa.DataType] = {
    "string": pa.string(),
    "integer": pa.int64(),
    "number": pa.float64(),
    "timestamp": pa.timestamp("us", tz="UTC"),
    "date": pa.date32(),
    "boolean": pa.bool_(),
}

QUARANTINE_SCHEMA = pa.schema(
    [
        ("source_file", pa.string()),
        ("source_row", pa.int64()),
        ("raw", pa.string()),
        ("reason", pa.string()),
    ]
)


def partition(root: Path, entity: Entity, load_date: date) -> Path:
    """``<root>/<source>/<entity>/load_date=<date>/part-0.parquet``."""
    return root / entity.source / entity.name / f"load_date={load_date.isoformat()}" / "part-0.parquet"


def audit_partition(settings: Settings, source: str, load_date: date) -> Path:
    """``lake/_load_audit/<source>/load_date=<date>/part-0.parquet``."""
    return settings.lake_dir / "_load_audit" / source / f"load_date={load_date.isoformat()}" / "part-0.parquet"


def lake_schema(entity: Entity) -> pa.Schema:
    """The contract columns, typed, then ``_source_file`` and ``_source_row``."""
    return pa.schema(
        [(c.name, ARROW_TYPES[c.type]) for c in entity.columns]
        + [("_source_file", pa.string()), ("_source_row", pa.int64())]
    )


@dataclass
class Staged:
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
    # each column's values as Python objects at once (what to_dict's records hold, without its per-value boxing)
    values = [frame[c].fillna("").tolist() for c in columns]
    records = [dict(zip(columns, row, strict=True)) for row in zip(*values, strict=True)] if columns else []
    text = [json.dumps(r, ensure_ascii=False) for r in records] if columns else ["{}"] * len(frame)
    if "_raw" in frame.columns:
        text = [str(raw) if isinstance(raw, str) else j for raw, j in zip(frame["_raw"], text, strict=True)]
    # Undecodable bytes are shown as \xNN escapes of the original bytes, lone surrogates as \udNNN.
    return [show_undecodable(t).encode("utf-8", "backslashreplace").decode("utf-8") for t in text]


def _landing_paths(folder: Path, names: list[str]) -> list[str]:
    """``str(folder / name)`` of each name, the path built once per distinct name."""
    paths = {name: str(folder / name) for name in dict.fromkeys(names)}
    return [paths[name] for name in names]


def quarantine_table(bad: pd.DataFrame, folder: Path, reasons: pd.Series) -> pa.Table:
    """The quarantined rows: landing file, physical line, raw content and reasons."""
    return pa.table(
        {
            "source_file": _landing_paths(folder, bad["_source_file"].tolist()),
            "source_row": bad["_source_row"].astype("int64").tolist(),
            "raw": _raw_json(bad),
            "reason": reasons.tolist(),
        },
        schema=QUARANTINE_SCHEMA,
    )


def audit_table(records: list[dict[str, object]]) -> pa.Table:
    """The load audit: one row per entity result, with the time of this run."""
    audit = pd.DataFrame(records)
    audit["drift_columns"] = audit["drift_columns"].map(lambda cols: ",".join(cols))
    audit["stray_files"] = audit["stray_files"].map(lambda names: ",".join(names))
    # {column: {value: count}} of open lists, as JSON text ("{}" when every value was known).
    audit["unknown_values"] = audit["unknown_values"].map(lambda found: json.dumps(found, ensure_ascii=False))
    audit["ingested_at"] = datetime.now(UTC)
    return pa.Table.from_pandas(audit, preserve_index=False)


def earlier_keys(settings: Settings, entity: Entity, load_date: date) -> pa.Array | None:
    """Every key of the entity loaded on a date before ``load_date``, or None if none was."""
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
