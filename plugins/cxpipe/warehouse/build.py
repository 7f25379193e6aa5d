"""Getting the build warehouse (``cx.duckdb``) ready for a dbt build, and what this deployment's sources can feed."""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from datetime import date, datetime
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from cxpipe.contracts import EMPTY_DIR, tables_allowed_empty
from cxpipe.ingest.contract import load_contract
from cxpipe.ingest.lake import lake_schema
from cxpipe.settings import Settings

log = logging.getLogger(__name__)


def prepare_build(settings: Settings, full_refresh: bool) -> bool:
    """Make sure dbt can create the build warehouse; for a full refresh, remove it first. True if removed.

    DuckDB creates a database file but not its folder, so the warehouse folder is created here
    (a fresh deployment or a wiped data folder has none). The empty source files that dbt reads
    for the sources the deployment does not have are (re)written too (:func:`write_empty_sources`).
    Landing dates loaded again since the last build (a re-delivery) make the incremental models
    rebuild from the whole lake (:func:`rebuild_after_reloads`).
    """
    settings.warehouse_dir.mkdir(parents=True, exist_ok=True)
    write_empty_sources(settings)
    removed = False
    if full_refresh:
        for path in (settings.build_db, settings.build_db.with_name(settings.build_db.name + ".wal")):
            if path.exists():
                path.unlink()
                removed = True
        log.info("full refresh: build warehouse %s %s", settings.build_db, "removed" if removed else "was absent")
    rebuild_after_reloads(settings)
    return removed


# ------------------------------------------------------------------ re-delivered landing dates

#: Table of the build warehouse holding the load audit it was built from: one row per source and landing date.
BUILT_LOADS = "cxpipe_build.lake_loads"

Load = tuple[str, date]


def _partition_date(partition: Path) -> date | None:
    try:
        return date.fromisoformat(partition.name.removeprefix("load_date="))
    except ValueError:
        return None


def lake_loads(settings: Settings) -> dict[Load, datetime]:
    """When each (source, landing date) in the lake was last loaded: ``ingested_at`` of its load audit."""
    files = [
        path
        for path in sorted((settings.lake_dir / "_load_audit").glob("*/load_date=*/part-0.parquet"))
        if _partition_date(path.parent) is not None
    ]
    if not files:
        return {}
    with duckdb.connect() as con:
        rows = con.execute(
            "select filename, max(ingested_at) from read_parquet(?, filename = true, union_by_name = true) group by 1",
            [[str(f) for f in files]],
        ).fetchall()
    loads: dict[Load, datetime] = {}
    for filename, ingested_at in rows:
        partition = Path(filename).parent
        key = (partition.parent.name, _partition_date(partition) or date.min)
        loads[key] = max(ingested_at, loads.get(key, ingested_at))
    return loads


def reloaded(built: Mapping[Load, datetime], current: Mapping[Load, datetime]) -> list[str]:
    """What changed in the lake since the build that saw ``built``, beyond new landing dates.

    A date loaded again (a re-delivery), a date gone from the lake, and a date loaded after a
    newer date of the same source was built (a late backfill): each can change or remove rows
    that an incremental model holds and its lookback window may not re-read. New dates after a
    source's newest built date are what incremental runs are for, and are not listed.
    """
    newest: dict[str, date] = {}
    for source, day in built:
        newest[source] = max(day, newest.get(source, day))
    changes = []
    for (source, day), at in sorted(current.items()):
        if (source, day) in built:
            if built[(source, day)] != at:
                changes.append(f"{source} {day} loaded again")
        elif source in newest and day <= newest[source]:
            changes.append(f"{source} {day} loaded after {newest[source]} was built")
    gone = sorted(load for load in built if load not in current)
    changes += [f"{source} {day} removed from the lake" for source, day in gone]
    return changes


def incremental_relations(settings: Settings, tables: set[str]) -> list[str]:
    """The incremental dbt models among ``tables`` (``"schema"."table"``), by dbt's manifest.

    Without a manifest, every table of the ``staging`` and ``intermediate`` schemas (the staging
    models are incremental; the other tables of ``intermediate`` are rebuilt by every run anyway).
    """
    if not settings.manifest_path.exists():
        return sorted(t for t in tables if t.startswith(('"staging".', '"intermediate".')))
    nodes = json.loads(settings.manifest_path.read_text(encoding="utf-8")).get("nodes", {})
    incremental = {
        f'"{n["schema"]}"."{n.get("alias") or n["name"]}"'
        for n in nodes.values()
        if n.get("resource_type") == "model" and n.get("config", {}).get("materialized") == "incremental"
    }
    return sorted(incremental & tables)


def rebuild_after_reloads(settings: Settings) -> list[str]:
    """Drop the incremental models when the lake changed under them; record the loads this build reads.

    Repairing a landing date means re-delivering its files and loading it again: ingest replaces
    the date's partitions, so rows may change or disappear. The incremental models (keyed
    replacement over a lookback window) would keep removed rows, and miss changed ones older than the window;
    dropping them makes this run's dbt build them from the whole lake, as a full refresh would,
    while everything else (the CRM snapshot's history included) stays. The load audit seen here is
    recorded in the build warehouse (:data:`BUILT_LOADS`) before dbt runs: whatever loads later is
    compared again by the next run. Returns the changes that caused a rebuild (empty if none).
    """
    from cxpipe.warehouse import release_inprocess_dbt

    current = lake_loads(settings)
    release_inprocess_dbt()
    with duckdb.connect(str(settings.build_db)) as con:
        schema, table = BUILT_LOADS.split(".")
        recorded = con.execute(
            "select count(*) from information_schema.tables where table_schema = ? and table_name = ?", [schema, table]
        ).fetchone()
        built_tables = {
            f'"{s}"."{t}"'
            for s, t in con.execute(
                "select table_schema, table_name from information_schema.tables where table_type = 'BASE TABLE'"
            ).fetchall()
        }
        if recorded and recorded[0]:
            built = {(s, d): at for s, d, at in con.execute(f"select * from {BUILT_LOADS}").fetchall()}
            changes = reloaded(built, current)
        else:  # a new warehouse, or one built before loads were recorded
            changes = ["no record of the loads the warehouse was built from"]
        dropped = incremental_relations(settings, built_tables) if changes else []
        con.begin()  # the drops and the new record together, or neither
        for relation in dropped:
            con.execute(f"drop table {relation}")
        con.execute(f"create schema if not exists {schema}")
        con.execute(f"create or replace table {BUILT_LOADS} (source varchar, load_date date, ingested_at timestamptz)")
        if current:
            con.executemany(f"insert into {BUILT_LOADS} values (?, ?, ?)", [[*k, v] for k, v in current.items()])
        con.commit()
    if dropped:
        log.warning(
            "the lake changed under the incremental models (%s): %s dropped, this build rebuilds them from the lake",
            "; ".join(changes),
            ", ".join(dropped),
        )
        return changes
    return []


def write_empty_sources(settings: Settings) -> list[Path]:
    """``lake/_empty/<source>/<entity>.parquet``: no rows, the lake schema of the deployment's contract
    plus ``load_date``, for every entity. dbt's sources read them for a source not in ``CX_SOURCES``
    (``models/staging/_sources.yml``), so every model builds with that source empty. They are outside
    the sources' partitions and the load audit: the lake claims no date for them."""
    written = []
    for entity in load_contract(settings).entities:
        schema = lake_schema(entity).append(pa.field("load_date", pa.date32()))
        path = settings.lake_dir / EMPTY_DIR / entity.source / f"{entity.name}.parquet"
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.tmp")
        pq.write_table(schema.empty_table(), tmp)
        tmp.replace(path)
        written.append(path)
    return written


def tables_expected_empty(settings: Settings, row_counts: Mapping[str, int] | None = None) -> dict[str, str]:
    """Reporting tables this deployment's sources cannot feed (or feed only through optional entities),
    with the reason; with ``row_counts``, only those of them that are empty in the build.

    The gate skips the row-count, freshness, share and drift checks of these tables, and publication
    records them in ``publication_log.skipped_tables`` (see docs/decisions/0015-partial-deployments.md).
    """
    contract = load_contract(settings)
    optional = [f"{e.source}.{e.name}" for e in contract.entities if e.optional]
    reasons = tables_allowed_empty(settings.ingest.sources, optional)
    if row_counts is None:
        return reasons
    return {table: reason for table, reason in reasons.items() if row_counts.get(table, 0) == 0}
