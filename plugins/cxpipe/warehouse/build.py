"""Getting the build warehouse (``cx.duckdb``) ready for a dbt build, and what this deployment's sources can feed."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path

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
    """
    settings.warehouse_dir.mkdir(parents=True, exist_ok=True)
    write_empty_sources(settings)
    if not full_refresh:
        return False
    removed = False
    for path in (settings.build_db, settings.build_db.with_name(settings.build_db.name + ".wal")):
        if path.exists():
            path.unlink()
            removed = True
    log.info("full refresh: build warehouse %s %s", settings.build_db, "removed" if removed else "was absent")
    return removed


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
