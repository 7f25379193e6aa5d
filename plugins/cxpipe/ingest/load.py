"""Load one landing date of a source: every entity staged, all renamed together, then the audit.

The contract is the deployment's (:func:`~cxpipe.ingest.contract.load_contract`: the base
contract with ``CX_CONTRACT_OVERRIDES``). Rows that pass are typed, their PII pseudonymised
and free text redacted (:mod:`cxpipe.privacy`); rows that fail go to the quarantine. Values
outside an open list load and are counted in the audit (``unknown_values``). Every entity
checks ``rows_in == rows_loaded + rows_quarantined`` and, by physical line,
``lines_in == lines_loaded + lines_quarantined + lines_blank`` before anything is renamed
(:class:`RowBalanceError` otherwise). Files beside an entity's that match no file-name
pattern are listed in ``stray_files`` and a warning, never read.
"""

from __future__ import annotations

import logging
import re
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from cxpipe.contracts import ContractError, Entity
from cxpipe.ingest.contract import load_contract
from cxpipe.ingest.lake import (
    ARROW_TYPES,
    QUARANTINE_SCHEMA,
    Staged,
    audit_partition,
    audit_table,
    earlier_keys,
    lake_schema,
    partition,
    quarantine_table,
)
from cxpipe.ingest.landing import INTERNAL_COLUMNS, landing_file, landing_files, read_landing, stray_files
from cxpipe.ingest.validation import deduplicate, unknown_values, validate
from cxpipe.privacy import mask_contact_details, pseudonymise
from cxpipe.settings import MISSING_FILE_POLICIES, Settings

log = logging.getLogger(__name__)

# What to do when a source's file has not landed for a date (MISSING_FILE_POLICIES): ``wait``
# is carried out by the ingest DAG (a sensor waits for :func:`~cxpipe.ingest.landing.landing_ready`);
# once the ingest task runs, ``wait`` behaves like ``fail``.


class RowBalanceError(RuntimeError):
    """Rows in != rows loaded + rows quarantined: rows would be lost, so nothing is written."""


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
    #: Loaded values outside an open list of the contract: ``{column: {value: count}}``, the 20 most frequent.
    unknown_values: dict[str, dict[str, int]] = field(default_factory=dict)
    #: Physical lines of the files after their headers, counted from the text.
    lines_in: int = 0
    #: Lines of loaded records (a record with a quoted line break spans several).
    lines_loaded: int = 0
    #: Lines of quarantined records.
    lines_quarantined: int = 0
    #: Lines holding nothing but blanks.
    lines_blank: int = 0
    #: Files beside the entity's that look like its files but match no file-name pattern; not read.
    stray_files: list[str] = field(default_factory=list)

    def check_balance(self) -> None:
        if self.rows_in != self.rows_loaded + self.rows_quarantined:
            raise RowBalanceError(
                f"{self.source_file}: {self.rows_in} rows in but {self.rows_loaded} loaded "
                f"+ {self.rows_quarantined} quarantined; rows were lost, nothing was published"
            )
        if self.lines_in != self.lines_loaded + self.lines_quarantined + self.lines_blank:
            raise RowBalanceError(
                f"{self.source_file}: {self.lines_in} lines in but {self.lines_loaded} loaded "
                f"+ {self.lines_quarantined} quarantined + {self.lines_blank} blank; lines were lost, "
                "nothing was published"
            )


#: A column name shown as it is in the audit and the log; others are shown by position (they may be data).
_SHOWN_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")


def drift_columns(entity: Entity, columns: list[str]) -> list[str]:
    """Columns not in the contract, by name when it looks like a column name, else ``column <n>``:
    the header of a file without one is a row of data and its names must not reach the audit."""
    extra = [(n, name) for n, name in enumerate(columns, start=1) if name not in entity.column_names]
    return sorted(name if _SHOWN_NAME.fullmatch(name) else f"column {n}" for n, name in extra)


def _lines(frame: pd.DataFrame, rows: pd.Series) -> int:
    """Physical lines of the records in ``rows`` (a mask): only the two line columns are read."""
    spans = frame["_last_line"] - frame["_source_row"] + 1
    return int(spans[rows].sum()) if rows.any() else 0


def _stage_entity(
    settings: Settings, entity: Entity, load_date: date, missing_file_policy: str, staged: Staged
) -> LoadResult:
    paths = landing_files(settings, entity, load_date)
    main = landing_file(settings, entity, load_date)
    result = LoadResult(entity.source, entity.name, load_date.isoformat(), ", ".join(map(str, paths)) or str(main))
    result.stray_files = stray_files(main.parent, load_contract(settings).entities_of(entity.source), entity)
    if result.stray_files:
        log.warning(
            "%s: files that look like %s files but do not match its file names (%s or %s.<part>.%s) were not read: %s",
            main.parent,
            entity.name,
            entity.file_name,
            entity.file_stem,
            entity.file_format,
            ", ".join(result.stray_files),
        )
    if not paths and entity.optional:
        log.warning("%s: no file for %s; the entity is optional, loaded as empty", main, load_date)
        result.status = "empty"
        staged.write(lake_schema(entity).empty_table(), partition(settings.lake_dir, entity, load_date))
        staged.write(QUARANTINE_SCHEMA.empty_table(), partition(settings.quarantine_dir, entity, load_date))
        return result
    if not paths:
        if missing_file_policy in ("fail", "wait"):
            raise ContractError(
                str(main),
                f"no {entity.name} file landed for {load_date}",
                "Drop the export there and re-run this date, or set "
                f"CX_MISSING_FILE_POLICY_{entity.source.upper()}=skip to load the other files without it."
                + (
                    f" Not read because their names do not match: {', '.join(result.stray_files)}."
                    if result.stray_files
                    else ""
                ),
            )
        log.warning("%s: no file for %s; skipped (missing-file policy: skip)", main, load_date)
        result.status = "no_file"
        return result

    declared = settings.ingest.encoding_for(entity.source, entity.name)
    frame, encodings, lossy, (lines, blank) = read_landing(entity, paths, declared, settings.landing_dir)
    result.encoding = ", ".join(encodings)
    result.rows_in = len(frame)
    result.lines_in, result.lines_blank = lines, blank
    if not len(frame):
        result.status = "empty"
        log.warning("%s: no rows; the partition for %s is replaced by an empty one", result.source_file, load_date)
    result.drift_columns = drift_columns(entity, [c for c in frame.columns if c not in INTERNAL_COLUMNS])
    if result.drift_columns:
        log.warning(
            "%s: columns not in the contract (schema drift, loaded rows keep the contract columns): %s",
            result.source_file,
            ", ".join(result.drift_columns),
        )
    for name in entity.column_names:
        if name not in frame.columns:
            frame[name] = ""

    typed, reasons = validate(entity, frame, encodings[0], lossy, load_date)
    result.rows_duplicate = deduplicate(entity, frame, typed, reasons)
    good = reasons.ok
    for column in entity.columns:
        if column.pii:
            typed[column.name] = pseudonymise(typed[column.name], settings.pseudonymisation_key())
        elif column.free_text:
            typed[column.name] = mask_contact_details(typed[column.name])
    result.unknown_values = unknown_values(entity, typed, good)
    for name, values in result.unknown_values.items():
        log.warning(
            "%s: %s has %d value(s) the contract does not know in %d row(s) (loaded; listed in the load "
            "audit's unknown_values; map them in dbt or add them with allowed_add in CX_CONTRACT_OVERRIDES)",
            result.source_file,
            name,
            len(values),
            sum(values.values()),
        )
    loaded = typed[good]  # a new frame already; the typed and loaded frames are let go as soon as they are done
    del typed
    loaded["_source_file"] = frame.loc[good, "_source_file"]
    loaded["_source_row"] = frame.loc[good, "_source_row"].astype("int64")
    table = pa.Table.from_pandas(loaded, schema=lake_schema(entity), preserve_index=False)
    del loaded
    staged.write(table, partition(settings.lake_dir, entity, load_date))

    if entity.event_column is not None and table.num_rows:
        start = pa.scalar(datetime.combine(load_date, datetime.min.time(), UTC), type=ARROW_TYPES["timestamp"])
        result.rows_late = int(pc.sum(pc.less(table[entity.event_column], start)).as_py() or 0)
    earlier = earlier_keys(settings, entity, load_date)
    if earlier is not None and table.num_rows:
        result.rows_superseding_earlier = int(pc.sum(pc.is_in(table[entity.key], value_set=earlier)).as_py() or 0)

    bad = frame[~good]
    quarantined = quarantine_table(bad, paths[0].parent, reasons.text[~good])
    staged.write(quarantined, partition(settings.quarantine_dir, entity, load_date))
    result.rows_loaded = int(good.sum())
    result.rows_quarantined = len(bad)
    result.lines_loaded = _lines(frame, good)
    result.lines_quarantined = _lines(frame, ~good)
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
    """Load one entity's landing files for ``load_date`` into the lake, checked against ``entity`` as given
    (the deployment's version of an entity: ``load_contract(settings).entity(source, name)``)."""
    staged = Staged()
    try:
        result = _stage_entity(settings, entity, load_date, missing_file_policy, staged)
        staged.commit()
    finally:
        staged.discard()
    return result


def ingest_source(settings: Settings, source: str, load_date: date, policy: str | None = None) -> list[LoadResult]:
    """Load every entity of ``source`` for ``load_date`` and write the load audit.

    Partitions are replaced only when every entity of the source passed; if one
    fails, the lake keeps the previous state of all of them. ``policy``
    overrides the source's configured policy (``settings.ingest``).
    """
    policy = policy or settings.ingest.missing_file_policy_for(source)
    if policy not in MISSING_FILE_POLICIES:
        raise ValueError(f"missing-file policy {policy!r}; expected one of {', '.join(MISSING_FILE_POLICIES)}")
    entities = load_contract(settings).entities_of(source)
    staged = Staged()
    try:
        results = [_stage_entity(settings, entity, load_date, policy, staged) for entity in entities]
        staged.write(audit_table([asdict(r) for r in results]), audit_partition(settings, source, load_date))
        staged.commit()
    finally:
        staged.discard()
    return results
