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
import os
import re
import tempfile
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

import numpy as np
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
from cxpipe.ingest.landing import (
    BATCH_BYTES,
    INTERNAL_COLUMNS,
    RESTART,
    Batch,
    format_hint,
    landing_file,
    landing_files,
    read_batches,
    stray_files,
)
from cxpipe.ingest.parsing import placeholder_reason
from cxpipe.ingest.validation import unknown_values_of_table, validate
from cxpipe.privacy import mask_contact_details_array, pseudonymise_array
from cxpipe.settings import MISSING_FILE_POLICIES, Settings

log = logging.getLogger(__name__)

# What to do when a source's file has not landed for a date (MISSING_FILE_POLICIES): ``wait``
# is carried out by the ingest DAG (a sensor waits for :func:`~cxpipe.ingest.landing.landing_ready`);
# once the ingest task runs, ``wait`` behaves like ``fail``.


def use_arrow_memory_pool() -> str:
    """Make jemalloc (else the system allocator) Arrow's default memory pool for this process, unless
    ``ARROW_DEFAULT_MEMORY_POOL`` names one; return the pool's name.

    Ingest allocates and frees each batch's columns (tens of MB at a time). Arrow's default, mimalloc,
    backs them with transparent huge pages and gives freed ones back to the kernel, which zeroes a whole
    2 MB page again when the next batch first touches it: at SF 10 that was about a fifth of ingest's CPU,
    all of it kernel time (decision 0037). Buffers keep the pool they came from, so switching while some
    are alive is safe."""
    if os.environ.get("ARROW_DEFAULT_MEMORY_POOL"):
        return str(pa.default_memory_pool().backend_name)
    if pa.default_memory_pool().backend_name == "mimalloc":
        try:
            pool = pa.jemalloc_memory_pool()
        except NotImplementedError:  # a build of Arrow without jemalloc
            pool = pa.system_memory_pool()
        pa.set_memory_pool(pool)
    return str(pa.default_memory_pool().backend_name)


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
    #: Lines holding nothing but blanks, and CSV rows of empty values only (a spreadsheet's empty rows).
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
    shown = []
    for n, name in extra:
        reason = placeholder_reason(name)
        shown.append(name if _SHOWN_NAME.fullmatch(name) else f"column {n} ({reason})" if reason else f"column {n}")
    return sorted(shown)


def _stage_entity(
    settings: Settings,
    entity: Entity,
    load_date: date,
    missing_file_policy: str,
    staged: Staged,
    batch_bytes: int = BATCH_BYTES,
) -> LoadResult:
    paths = landing_files(settings, entity, load_date)
    main = landing_file(settings, entity, load_date)
    result = LoadResult(entity.source, entity.name, load_date.isoformat(), ", ".join(map(str, paths)) or str(main))
    siblings = load_contract(settings).entities_of(entity.source)
    result.stray_files = stray_files(main.parent, siblings, entity)
    hints = sorted({hint for hint in (format_hint(name, [entity]) for name in result.stray_files) if hint})
    if result.stray_files:
        log.warning(
            "%s: files that look like %s files but do not match its file names (%s or %s.<part>.%s, each may end "
            "in .gz) were not read: %s",
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
                )
                + "".join(f" {hint[0].upper()}{hint[1:]}." for hint in hints),
            )
        log.warning("%s: no file for %s; skipped (missing-file policy: skip)", main, load_date)
        result.status = "no_file"
        return result

    declared = settings.ingest.encoding_for(entity.source, entity.name)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".ingest-", dir=settings.data_dir) as scratch:
        checked = _Checked(entity, settings.pseudonymisation_key(), load_date, Path(scratch))
        for batch in read_batches(entity, paths, declared, settings.landing_dir, batch_bytes):
            if batch is RESTART:
                checked.restart()
            else:
                assert isinstance(batch, Batch)
                checked.add(batch)
        table, quarantined, result.rows_duplicate = checked.finish(paths[0].parent)
    result.encoding = ", ".join(checked.encodings)
    result.rows_in = checked.rows
    result.lines_in, result.lines_blank = checked.lines, checked.blank
    if not checked.rows:
        result.status = "empty"
        log.warning("%s: no rows; the partition for %s is replaced by an empty one", result.source_file, load_date)
    result.drift_columns = drift_columns(entity, [c for c in checked.columns if c not in INTERNAL_COLUMNS])
    if result.drift_columns:
        log.warning(
            "%s: columns not in the contract (schema drift, loaded rows keep the contract columns): %s",
            result.source_file,
            ", ".join(result.drift_columns),
        )
    result.unknown_values = unknown_values_of_table(entity, table)
    for name, values in result.unknown_values.items():
        log.warning(
            "%s: %s has %d value(s) the contract does not know in %d row(s) (loaded; listed in the load "
            "audit's unknown_values; map them in dbt or add them with allowed_add in CX_CONTRACT_OVERRIDES)",
            result.source_file,
            name,
            len(values),
            sum(values.values()),
        )
    staged.write(table, partition(settings.lake_dir, entity, load_date))

    if entity.event_column is not None and table.num_rows:
        start = pa.scalar(datetime.combine(load_date, datetime.min.time(), UTC), type=ARROW_TYPES["timestamp"])
        result.rows_late = int(pc.sum(pc.less(table[entity.event_column], start)).as_py() or 0)
    earlier = earlier_keys(settings, entity, load_date)
    if earlier is not None and table.num_rows:
        result.rows_superseding_earlier = int(pc.sum(pc.is_in(table[entity.key], value_set=earlier)).as_py() or 0)

    staged.write(quarantined, partition(settings.quarantine_dir, entity, load_date))
    result.rows_loaded = table.num_rows
    result.rows_quarantined = quarantined.num_rows
    result.lines_loaded = checked.lines_loaded
    result.lines_quarantined = checked.lines_quarantined
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


@dataclass
class _Part:
    """What one batch left after its checks: the rows that passed so far and those set aside."""

    #: Rows that passed every check of their own (typed, PII pseudonymised): the lake's rows unless a
    #: later row of the date carries the same key.
    passed: pa.Table
    #: The batch's landing text (for the quarantine, should a later row supersede a passed row; in a
    #: file of the scratch folder once another batch follows), the passed rows' physical lines, and
    #: where they come in the date's records.
    texts: pd.DataFrame | Path
    #: Where the passed rows are in :attr:`texts`.
    passed_rows: np.ndarray
    spans: np.ndarray
    positions: np.ndarray
    #: Rows set aside, with their reasons and where they come in the date's records.
    bad: pd.DataFrame
    reasons: pd.Series
    bad_positions: np.ndarray
    bad_lines: int
    rows: int
    lines: int
    blank: int


class _Checked:
    """An entity's batches, checked one at a time; :meth:`finish` applies the date's duplicate rule
    (the last valid row of a key wins, across batches and files) and returns the lake's and the
    quarantine's tables, as :func:`~cxpipe.ingest.validation.validate` and
    :func:`~cxpipe.ingest.validation.deduplicate` on the date's records all at once would give.

    Only what the duplicate rule needs is kept beyond a batch: the passed rows (typed, and their
    landing text), and the set-aside rows."""

    def __init__(self, entity: Entity, secret: str, load_date: date, scratch: Path) -> None:
        self.entity = entity
        #: A folder for the passed rows' landing text until the duplicate rule has run.
        self.scratch = scratch
        self._spilled = 0
        self.secret = secret
        self.load_date = load_date
        self.parts: list[_Part] = []
        self.encodings: list[str] = []
        #: Columns of the records in the order they first appear (as concatenating the files' frames gives).
        self.columns: dict[str, None] = {}
        self._file: tuple[int, int, dict[str, None]] | None = None
        self._path: Path | None = None
        self.lines_loaded = 0
        self.lines_quarantined = 0

    def restart(self) -> None:
        """Drop the batches of the current file: it comes again, read whole."""
        assert self._file is not None
        parts, encodings, columns = self._file
        del self.parts[parts:]
        del self.encodings[encodings:]
        self.columns = dict(columns)
        self._path = None

    @property
    def rows(self) -> int:
        return sum(p.rows for p in self.parts)

    @property
    def lines(self) -> int:
        return sum(p.lines for p in self.parts)

    @property
    def blank(self) -> int:
        return sum(p.blank for p in self.parts)

    def add(self, batch: Batch) -> None:
        if batch.path != self._path:
            self._path = batch.path
            self._file = (len(self.parts), len(self.encodings), dict(self.columns))
            self.encodings.append(batch.encoding)
        entity = self.entity
        frame = batch.frame
        self.columns.update(dict.fromkeys(frame.columns))
        missing = [name for name in entity.column_names if name not in frame.columns]
        if missing:
            frame = frame.assign(**dict.fromkeys(missing, ""))
        offset = self.rows
        typed, reasons = validate(entity, frame, self.encodings[0], batch.lossy, self.load_date)
        ok = reasons.ok.to_numpy(dtype=bool)
        passed = ok  # loaded unless a later row of the date carries the same key
        loaded = self._loaded(typed, frame, passed)
        del typed
        spans = (frame["_last_line"] - frame["_source_row"] + 1).to_numpy(dtype="int64")
        if self.parts:
            self._spill(self.parts[-1])  # a batch follows it: its text waits on disk
        shown = [c for c in frame.columns if not c.startswith("_") or c in ("_source_file", "_source_row")]
        self.parts.append(
            _Part(
                passed=loaded,
                texts=frame[shown],  # the batch's frame as it is (no copy) until another batch follows
                passed_rows=np.flatnonzero(passed),
                spans=spans[passed],
                positions=offset + np.flatnonzero(passed),
                bad=frame[~passed],
                reasons=reasons.text[~passed],
                bad_positions=offset + np.flatnonzero(~passed),
                bad_lines=int(spans[~passed].sum()),
                rows=len(frame),
                lines=batch.lines,
                blank=batch.blank,
            )
        )

    def _loaded(self, typed: pd.DataFrame, frame: pd.DataFrame, passed: np.ndarray) -> pa.Table:
        """The lake's table of the rows of ``typed`` that ``passed``: PII pseudonymised, free text redacted,
        then ``_source_file`` and ``_source_row``. The typed frame becomes Arrow columns first and the rows
        are chosen there (one filter per column; pandas' row selection takes each column value by value),
        so the PII and free-text columns are worked on as Arrow arrays. The table carries the pandas
        metadata the whole frame's conversion gives (it only depends on the columns' types)."""
        entity = self.entity
        schema = lake_schema(entity)
        internal = pd.DataFrame(
            {
                "_source_file": frame["_source_file"].iloc[:0],
                "_source_row": frame["_source_row"].iloc[:0].astype("int64"),
            }
        )
        shape = pd.concat([typed.iloc[:0], internal], axis=1)
        metadata = pa.Table.from_pandas(shape, schema=schema, preserve_index=False).schema.metadata
        contract = pa.schema([schema.field(c.name) for c in entity.columns])
        table = pa.Table.from_pandas(typed, schema=contract, preserve_index=False)
        chosen = pa.array(passed, pa.bool_())
        if not passed.all():
            table = table.filter(chosen)
        for n, column in enumerate(entity.columns):
            if column.pii:
                table = table.set_column(n, schema.field(n), pseudonymise_array(table[n], self.secret))
            elif column.free_text:
                table = table.set_column(n, schema.field(n), mask_contact_details_array(table[n]))
        files = pc.cast(pa.array(frame["_source_file"].array), pa.string())
        rows = pa.array(frame["_source_row"].to_numpy(dtype="int64"), pa.int64())
        if not passed.all():
            files, rows = files.filter(chosen), rows.filter(chosen)
        table = table.append_column(schema.field("_source_file"), files)
        table = table.append_column(schema.field("_source_row"), rows)
        return table.replace_schema_metadata(metadata)

    def finish(self, folder: Path) -> tuple[pa.Table, pa.Table, int]:
        """The lake's table, the quarantine's and how many rows a later row of the same key superseded."""
        entity = self.entity
        parts = self.parts
        keys = pa.chunked_array(
            [c for p in parts for c in p.passed[entity.key].chunks], type=pa.string()
        ).combine_chunks()
        codes = pc.dictionary_encode(keys, null_encoding="encode").indices.to_numpy(zero_copy_only=False)
        valid = keys.is_valid().to_numpy(zero_copy_only=False)
        del keys
        order = np.arange(len(codes))
        winners = order
        if len(codes):
            # the last row of each key wins: the first of its code in reversed order
            found, first_reversed = np.unique(codes[::-1], return_index=True)
            winner = np.zeros(int(found.max()) + 1, dtype="int64")
            winner[found] = len(codes) - 1 - first_reversed
            winners = winner[codes]
        # rows without a key are never duplicates
        earlier = (winners != order) & valid
        del codes, order, valid
        self.lines_loaded = 0
        self.lines_quarantined = sum(p.bad_lines for p in parts)
        tables: list[pa.Table] = []
        bad: list[pd.DataFrame] = []
        reasons: list[pd.Series] = []
        positions: list[np.ndarray] = []
        start = 0
        where = self._where(parts, winners[earlier]) if earlier.any() else []
        said = 0
        for part in parts:
            size = part.passed.num_rows
            superseded = earlier[start : start + size]
            start += size
            if superseded.any():  # the part's rows are let go as soon as the kept ones are copied
                part.passed = part.passed.filter(pa.array(~superseded))
            tables.append(part.passed)
            self.lines_loaded += int(part.spans[~superseded].sum())
            bad.append(part.bad)
            reasons.append(part.reasons)
            positions.append(part.bad_positions)
            if superseded.any():
                count = int(superseded.sum())
                if isinstance(part.texts, Path):
                    with pa.memory_map(str(part.texts)) as source:
                        texts = pa.ipc.open_file(source).read_all()
                        duplicates = texts.take(part.passed_rows[superseded]).to_pandas()
                else:
                    duplicates = part.texts.iloc[part.passed_rows[superseded]]
                bad.append(duplicates)
                reasons.append(
                    pd.Series(
                        [f"{entity.key}: duplicate key; superseded by {w}" for w in where[said : said + count]],
                        index=duplicates.index,
                    )
                )
                said += count
                positions.append(part.positions[superseded])
                self.lines_quarantined += int(part.spans[superseded].sum())
        table = pa.concat_tables(tables) if tables else lake_schema(entity).empty_table()
        quarantined = self._quarantine(folder, bad, reasons, positions)
        return table, quarantined, int(earlier.sum())

    def _spill(self, part: _Part) -> None:
        """Write the landing text of ``part``'s batch to the scratch folder as it is (its Arrow columns, no
        copy of the passed rows first): only the rows a later row supersedes are read back."""
        if isinstance(part.texts, Path):
            return
        path = self.scratch / f"{self._spilled}.arrow"
        self._spilled += 1
        table = pa.Table.from_pandas(part.texts, preserve_index=False)
        with pa.OSFile(str(path), "wb") as sink, pa.ipc.new_file(sink, table.schema) as writer:
            writer.write_table(table)
        part.texts = path

    @staticmethod
    def _where(parts: list[_Part], winners: np.ndarray) -> list[str]:
        """``<file> line <n>`` of the rows at ``winners`` (indices among the passed rows), part by part."""
        ends = np.cumsum([p.passed.num_rows for p in parts])
        owner = np.searchsorted(ends, winners, side="right")
        shown = np.empty(len(winners), dtype=object)
        for number in np.unique(owner).tolist():
            mine = np.flatnonzero(owner == number)
            local = pa.array(winners[mine] - (ends[number] - parts[number].passed.num_rows))
            chosen = parts[number].passed.select(["_source_file", "_source_row"]).take(local)
            shown[mine] = [
                f"{f} line {n}"
                for f, n in zip(chosen["_source_file"].to_pylist(), chosen["_source_row"].to_pylist(), strict=True)
            ]
        return shown.tolist()

    def _quarantine(
        self, folder: Path, bad: list[pd.DataFrame], reasons: list[pd.Series], positions: list[np.ndarray]
    ) -> pa.Table:
        names = [c for c in self.columns if c not in ("_source_file", "_source_row", "_raw")]
        shown = [c for c in names if not c.startswith("_")]
        shown += [c for c in self.entity.column_names if c not in self.columns]
        extra = ["_raw"] if "_raw" in self.columns else []
        kept = [n for n, b in enumerate(bad) if len(b)]
        if not kept:
            return QUARANTINE_SCHEMA.empty_table()
        frame = pd.concat([bad[n] for n in kept], ignore_index=True)
        text = pd.concat([reasons[n] for n in kept], ignore_index=True)
        order = np.argsort(np.concatenate([positions[n] for n in kept]), kind="stable")
        frame = frame.iloc[order].reindex(columns=["_source_file", "_source_row", *extra, *shown])
        return quarantine_table(frame.reset_index(drop=True), folder, text.iloc[order].reset_index(drop=True))


def ingest_entity(
    settings: Settings, entity: Entity, load_date: date, missing_file_policy: str, batch_bytes: int = BATCH_BYTES
) -> LoadResult:
    """Load one entity's landing files for ``load_date`` into the lake, checked against ``entity`` as given
    (the deployment's version of an entity: ``load_contract(settings).entity(source, name)``).
    ``batch_bytes``: how much landing text is parsed and checked at a time (the result does not depend on it)."""
    use_arrow_memory_pool()
    staged = Staged()
    try:
        result = _stage_entity(settings, entity, load_date, missing_file_policy, staged, batch_bytes)
        staged.commit()
    finally:
        staged.discard()
    return result


def ingest_source(
    settings: Settings, source: str, load_date: date, policy: str | None = None, batch_bytes: int = BATCH_BYTES
) -> list[LoadResult]:
    """Load every entity of ``source`` for ``load_date`` and write the load audit.

    Partitions are replaced only when every entity of the source passed; if one
    fails, the lake keeps the previous state of all of them. ``policy``
    overrides the source's configured policy (``settings.ingest``). Each entity's files are parsed
    and checked in batches of about ``batch_bytes`` of text; the result does not depend on it.
    """
    policy = policy or settings.ingest.missing_file_policy_for(source)
    if policy not in MISSING_FILE_POLICIES:
        raise ValueError(f"missing-file policy {policy!r}; expected one of {', '.join(MISSING_FILE_POLICIES)}")
    entities = load_contract(settings).entities_of(source)
    use_arrow_memory_pool()
    staged = Staged()
    try:
        results = [_stage_entity(settings, entity, load_date, policy, staged, batch_bytes) for entity in entities]
        staged.write(audit_table([asdict(r) for r in results]), audit_partition(settings, source, load_date))
        staged.commit()
    finally:
        staged.discard()
    return results
